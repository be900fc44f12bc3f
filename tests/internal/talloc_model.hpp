// A plain model of a talloc hierarchy, driven by random operations that are
// applied to the library and to the model alike; check() compares parents,
// sizes, reference counts and totals.  Shared by the Catch2 model test
// (choices from a seeded PRNG) and the libFuzzer harness (choices from the
// fuzzer's bytes).  The includer defines MODEL_REQUIRE(condition).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

#include "talloc.h"

namespace talloc_model {

struct Node {
    void *ptr = nullptr;
    int parent = -1;              // model id of the parent, -1 for a root
    size_t size = 0;
    std::vector<int> children;    // youngest last
    std::vector<int> ref_owners;  // holders of references, newest last
    bool pool = false;
};

template <class Chooser>
class Model {
public:
    explicit Model(Chooser chooser) : chooser_(chooser) {
        roots_[0] = add(talloc_named_const(nullptr, 0, "tree"), -1, 0);
        roots_[1] = add(talloc_named_const(nullptr, 0, "holders"), -1, 0);
        for (int i = 0; i < 4; i++) holders_.push_back(add(talloc_named_const(ptr(roots_[1]), 0, "holder"), roots_[1], 0));
    }

    ~Model() {
        talloc_free(ptr(roots_[0]));
        talloc_free(ptr(roots_[1]));
    }

    void step() {
        switch (pick(9)) {
        case 0:
        case 1:
        case 2:
            do_alloc();
            break;
        case 3:
            do_free();
            break;
        case 4:
            do_steal();
            break;
        case 5:
            do_realloc();
            break;
        case 6:
            do_reference();
            break;
        case 7:
            do_unlink();
            break;
        case 8:
            if (pick(8) == 0) do_free_children();
            else do_alloc();
            break;
        }
    }

    void check() {
        size_t blocks[2] = {0, 0}, bytes[2] = {0, 0};
        size_t handles = 0;
        for (auto &[id, n] : nodes_) {
            MODEL_REQUIRE(talloc_get_size(n.ptr) == n.size);
            MODEL_REQUIRE(talloc_reference_count(n.ptr) == n.ref_owners.size());
            void *expected_parent = n.parent < 0 ? nullptr : ptr(n.parent);
            MODEL_REQUIRE(talloc_parent(n.ptr) == expected_parent);
            int tree = in_tree(id) ? 0 : 1;
            blocks[tree]++;
            bytes[tree] += n.size;
            handles += n.ref_owners.size();
        }
        MODEL_REQUIRE(talloc_total_blocks(ptr(roots_[0])) == blocks[0]);
        MODEL_REQUIRE(talloc_total_size(ptr(roots_[0])) == bytes[0]);
        // The holders' tree also has one handle block per reference.
        MODEL_REQUIRE(talloc_total_blocks(ptr(roots_[1])) == blocks[1] + handles);
        MODEL_REQUIRE(talloc_total_size(ptr(roots_[1])) == bytes[1]);
    }

private:
    int add(void *p, int parent, size_t size) {
        int id = next_id_++;
        Node &n = nodes_[id];
        n.ptr = p;
        n.parent = parent;
        n.size = size;
        if (parent >= 0) nodes_[parent].children.push_back(id);
        return id;
    }

    void *ptr(int id) { return nodes_.at(id).ptr; }
    size_t pick(size_t n) { return chooser_(n); }

    bool in_tree(int id) {
        while (nodes_.at(id).parent >= 0) id = nodes_.at(id).parent;
        return id == roots_[0];
    }

    // A random live node of the main tree (root included when allowed).
    int random_node(bool allow_root) {
        std::vector<int> ids;
        for (auto &[id, n] : nodes_) {
            if (in_tree(id) && (allow_root || id != roots_[0])) ids.push_back(id);
        }
        if (ids.empty()) return -1;
        return ids[pick(ids.size())];
    }

    bool is_descendant(int id, int ancestor) {
        for (; id >= 0; id = nodes_.at(id).parent) {
            if (id == ancestor) return true;
        }
        return false;
    }

    void detach(int id) {
        Node &n = nodes_.at(id);
        if (n.parent >= 0) {
            auto &siblings = nodes_.at(n.parent).children;
            siblings.erase(std::find(siblings.begin(), siblings.end(), id));
        }
        n.parent = -1;
    }

    void attach(int id, int parent) {
        nodes_.at(id).parent = parent;
        nodes_.at(parent).children.push_back(id);
    }

    void erase_subtree(int id) {
        std::vector<int> stack{id};
        while (!stack.empty()) {
            int cur = stack.back();
            stack.pop_back();
            for (int c : nodes_.at(cur).children) stack.push_back(c);
            nodes_.erase(cur);
        }
    }

    // What talloc_free does to the children of a chunk being freed: each
    // child, youngest first, either goes to the holder of its newest
    // reference or is freed with its own children.
    void model_free_children(int id) {
        std::vector<int> kids = nodes_.at(id).children;
        for (auto it = kids.rbegin(); it != kids.rend(); ++it) {
            Node &c = nodes_.at(*it);
            if (!c.ref_owners.empty()) {
                int owner = c.ref_owners.back();
                c.ref_owners.pop_back();
                detach(*it);
                attach(*it, owner);
            } else {
                model_free_children(*it);
                detach(*it);
                nodes_.erase(*it);
            }
        }
    }

    void do_alloc() {
        int parent = random_node(true);
        size_t size = pick(4) == 0 ? pick(3000) : pick(64);
        void *p;
        bool pool = pick(10) == 0;
        if (pool) {
            p = talloc_pool(ptr(parent), 256 + pick(2048));
            size = 0;
        } else {
            p = talloc_size(ptr(parent), size);
        }
        MODEL_REQUIRE(p != nullptr);
        int id = add(p, parent, size);
        nodes_[id].pool = pool;
    }

    void do_free() {
        int id = random_node(false);
        if (id < 0) return;
        Node &n = nodes_.at(id);
        int rc = talloc_free(n.ptr);
        if (!n.ref_owners.empty()) {
            MODEL_REQUIRE(rc == -1);
            return;
        }
        MODEL_REQUIRE(rc == 0);
        model_free_children(id);
        detach(id);
        nodes_.erase(id);
    }

    void do_free_children() {
        int id = random_node(true);
        talloc_free_children(ptr(id));
        model_free_children(id);
    }

    void do_steal() {
        int id = random_node(false);
        int to = random_node(true);
        if (id < 0 || is_descendant(to, id)) return;
        if (!nodes_.at(id).ref_owners.empty()) return;  // would log a warning; covered elsewhere
        MODEL_REQUIRE(talloc_steal(ptr(to), ptr(id)) == ptr(id));
        detach(id);
        attach(id, to);
    }

    void do_realloc() {
        int id = random_node(false);
        if (id < 0) return;
        Node &n = nodes_.at(id);
        if (n.pool || !n.ref_owners.empty()) {
            MODEL_REQUIRE(talloc_realloc_size(nullptr, n.ptr, 10) == nullptr);
            return;
        }
        size_t size = 1 + (pick(3) == 0 ? pick(5000) : pick(100));
        void *p = talloc_realloc_size(nullptr, n.ptr, size);
        MODEL_REQUIRE(p != nullptr);
        // Fill so stale bytes from another chunk would show as corruption.
        memset(p, 0x5a, size);
        n.ptr = p;
        n.size = size;
    }

    void do_reference() {
        int id = random_node(false);
        if (id < 0) return;
        int holder = holders_[pick(holders_.size())];
        MODEL_REQUIRE(talloc_reference(ptr(holder), ptr(id)) == ptr(id));
        nodes_.at(id).ref_owners.push_back(holder);
    }

    void do_unlink() {
        int id = random_node(false);
        if (id < 0) return;
        Node &n = nodes_.at(id);
        if (n.ref_owners.empty()) return;
        size_t which = pick(n.ref_owners.size());
        int holder = n.ref_owners[which];
        MODEL_REQUIRE(talloc_unlink(ptr(holder), n.ptr) == 0);
        // The newest reference held by that holder goes.
        for (size_t i = n.ref_owners.size(); i-- > 0;) {
            if (n.ref_owners[i] == holder) {
                n.ref_owners.erase(n.ref_owners.begin() + long(i));
                break;
            }
        }
    }

    Chooser chooser_;
    std::map<int, Node> nodes_;
    std::vector<int> holders_;
    int roots_[2];
    int next_id_ = 0;
};

}  // namespace talloc_model
