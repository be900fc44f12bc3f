// A plain model of a talloc hierarchy, driven by random operations that are
// applied to the library and to the model alike; check() compares parents,
// sizes, names, reference counts and totals.  Operations: allocate (plain,
// pool, pooled object), name, steal, move, reparent (by parent or by a
// reference's holder), realloc, reference, unlink, free, free_children,
// destructors that refuse or that free another chunk, memory limits.  Shared by the Catch2 model test
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
    bool pool = false;            // talloc_pool or talloc_pooled_object: no realloc
    const char *name = nullptr;   // set by talloc_set_name_const, checked
    bool refuses = false;         // destructor returns -1
    int victim = -1;              // destructor frees this (a chunk in the holders' tree)
    bool limited = false;         // has a memory limit of its own
};

// Destructors of the model's chunks.  A freeing destructor finds its victim
// here (keyed by the chunk's current address).
inline std::map<void *, void *> &victims() {
    static std::map<void *, void *> m;
    return m;
}
inline int refusing_destructor(void *) { return -1; }
inline int freeing_destructor(void *p) {
    auto it = victims().find(p);
    if (it == victims().end()) abort();
    void *v = it->second;
    victims().erase(it);
    return talloc_free(v) == 0 ? 0 : -1;
}

template <class Chooser>
class Model {
public:
    explicit Model(Chooser chooser) : chooser_(chooser) {
        roots_[0] = add(talloc_named_const(nullptr, 0, "tree"), -1, 0);
        roots_[1] = add(talloc_named_const(nullptr, 0, "holders"), -1, 0);
        for (int i = 0; i < 4; i++) holders_.push_back(add(talloc_named_const(ptr(roots_[1]), 0, "holder"), roots_[1], 0));
    }

    ~Model() {
        // Refusing destructors would keep their chunks (and move them to
        // the null context): lift them first.
        // Freeing destructors too: a chunk moved to a reference's holder
        // would go after its victim, which lives in the same tree.
        for (auto &[id, n] : nodes_) {
            if (n.refuses || n.victim >= 0) talloc_set_destructor(n.ptr, nullptr);
        }
        talloc_free(ptr(roots_[0]));
        talloc_free(ptr(roots_[1]));
        for (void *p : orphans_) talloc_free(p);
        victims().clear();
    }

    void step() {
        switch (pick(16)) {
        case 9:
            do_name();
            break;
        case 10:
            do_steal(pick(2) == 0);  // talloc_move
            break;
        case 11:
            do_reparent();
            break;
        case 12:
            do_destructor();
            break;
        case 13:
            do_memlimit();
            break;
        case 14:
            do_free();
            break;
        case 15:
            do_alloc();
            break;
        case 0:
        case 1:
        case 2:
            do_alloc();
            break;
        case 3:
            do_free();
            break;
        case 4:
            do_steal(false);
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
        size_t handles = orphan_handles_;
        for (auto &[id, n] : nodes_) {
            MODEL_REQUIRE(talloc_get_size(n.ptr) == n.size);
            MODEL_REQUIRE(talloc_reference_count(n.ptr) == n.ref_owners.size());
            void *expected_parent = n.parent < 0 ? nullptr : ptr(n.parent);
            MODEL_REQUIRE(talloc_parent(n.ptr) == expected_parent);
            if (n.name != nullptr) MODEL_REQUIRE(talloc_get_name(n.ptr) == n.name);
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
    // reference, or refuses (its destructor returns -1) and goes with its
    // subtree to `rescue` (the parent of the chunk the free started at),
    // or is freed with its own children.
    void model_free_children(int id, int rescue) {
        std::vector<int> kids = nodes_.at(id).children;
        for (auto it = kids.rbegin(); it != kids.rend(); ++it) {
            Node &c = nodes_.at(*it);
            if (!c.ref_owners.empty()) {
                int owner = c.ref_owners.back();
                c.ref_owners.pop_back();
                detach(*it);
                attach(*it, owner);
            } else if (c.refuses) {
                detach(*it);
                if (rescue >= 0) {
                    attach(*it, rescue);
                } else {
                    orphan(*it);
                }
            } else {
                model_free_children(*it, rescue);
                drop(*it);
            }
        }
    }

    // A subtree that went to the null context leaves the model; its
    // destructors are lifted so the destructor can free it at the end.
    void orphan(int id) {
        orphans_.push_back(ptr(id));
        std::vector<int> stack{id};
        while (!stack.empty()) {
            int cur = stack.back();
            stack.pop_back();
            Node &n = nodes_.at(cur);
            for (int c : n.children) stack.push_back(c);
            if (n.refuses || n.victim >= 0) talloc_set_destructor(n.ptr, nullptr);
            victims().erase(n.ptr);
            // Its references' handles stay with their holders.
            orphan_handles_ += n.ref_owners.size();
            nodes_.erase(cur);
        }
    }

    // A chunk goes; its destructor may take its victim with it.
    void drop(int id) {
        int victim = nodes_.at(id).victim;
        detach(id);
        nodes_.erase(id);
        if (victim >= 0) {
            detach(victim);
            nodes_.erase(victim);
        }
    }

    // An allocation under a memory limit may fail; anywhere else it may not.
    bool under_limit(int id) {
        for (; id >= 0; id = nodes_.at(id).parent) {
            if (nodes_.at(id).limited) return true;
        }
        return false;
    }

    void do_alloc() {
        int parent = random_node(true);
        size_t size = pick(4) == 0 ? pick(3000) : pick(64);
        void *p;
        int kind = pick(20);
        bool pool = kind < 3;
        if (kind < 2) {
            p = talloc_pool(ptr(parent), 256 + pick(2048));
            size = 0;
        } else if (kind == 2) {
            // An object with room for a few children in its own pool.
            size = 8 + pick(64);
            p = _talloc_pooled_object(ptr(parent), size, "pooled", 1 + pick(4), pick(400));
        } else {
            p = talloc_size(ptr(parent), size);
        }
        if (p == nullptr) {
            MODEL_REQUIRE(under_limit(parent));
            return;
        }
        int id = add(p, parent, size);
        nodes_[id].pool = pool;
    }

    void do_free() {
        int id = random_node(false);
        if (id < 0) return;
        Node &n = nodes_.at(id);
        int rc = talloc_free(n.ptr);
        if (!n.ref_owners.empty() || n.refuses) {
            MODEL_REQUIRE(rc == -1);
            return;
        }
        MODEL_REQUIRE(rc == 0);
        // Children whose destructor refuses go to the freed chunk's parent
        // if the chunk was its parent's youngest child (the only one that
        // keeps a parent link in the reference's lists), else to the null
        // context.
        const std::vector<int> &siblings = nodes_.at(n.parent).children;
        int rescue = siblings.back() == id ? n.parent : -1;
        model_free_children(id, rescue);
        drop(id);
    }

    void do_free_children() {
        // Not on the root: chunks whose destructor refuses would go to its
        // parent, the null context, out of the model's sight.
        int id = random_node(false);
        if (id < 0) return;
        talloc_free_children(ptr(id));
        model_free_children(id, nodes_.at(id).parent);
    }

    void do_steal(bool move) {
        int id = random_node(false);
        int to = random_node(true);
        if (id < 0 || is_descendant(to, id)) return;
        if (!nodes_.at(id).ref_owners.empty()) return;  // would log a warning; covered elsewhere
        void *p = ptr(id);
        if (move) {
            void *handle = p;
            MODEL_REQUIRE(talloc_move(ptr(to), &handle) == p);
            MODEL_REQUIRE(handle == nullptr);
        } else {
            MODEL_REQUIRE(talloc_steal(ptr(to), p) == p);
        }
        detach(id);
        attach(id, to);
    }

    // talloc_reparent(old, new, p): moves p itself when old is its parent,
    // else the newest of its references that old holds.
    void do_reparent() {
        int id = random_node(false);
        if (id < 0) return;
        Node &n = nodes_.at(id);
        if (!n.ref_owners.empty() && pick(2) == 0) {
            size_t which = pick(n.ref_owners.size());
            int from = n.ref_owners[which];
            int to = holders_[pick(holders_.size())];
            MODEL_REQUIRE(talloc_reparent(ptr(from), ptr(to), n.ptr) == n.ptr);
            for (size_t i = n.ref_owners.size(); i-- > 0;) {
                if (n.ref_owners[i] == from) {
                    n.ref_owners[i] = to;
                    break;
                }
            }
            return;
        }
        int to = random_node(true);
        if (is_descendant(to, id) || !n.ref_owners.empty()) return;
        MODEL_REQUIRE(talloc_reparent(ptr(n.parent), ptr(to), n.ptr) == n.ptr);
        detach(id);
        attach(id, to);
    }

    void do_name() {
        static const char *const names[] = {"alpha", "beta", "gamma"};
        int id = random_node(false);
        if (id < 0) return;
        Node &n = nodes_.at(id);
        n.name = names[pick(3)];
        talloc_set_name_const(n.ptr, n.name);
        MODEL_REQUIRE(talloc_check_name(n.ptr, n.name) == n.ptr);
    }

    void do_destructor() {
        int id = random_node(false);
        if (id < 0) return;
        Node &n = nodes_.at(id);
        if (n.victim >= 0) return;  // keeps its victim until it goes
        switch (pick(3)) {
        case 0:
            n.refuses = true;
            talloc_set_destructor(n.ptr, refusing_destructor);
            break;
        case 1:
            n.refuses = false;
            talloc_set_destructor(n.ptr, nullptr);
            break;
        case 2: {
            // The victim lives in the holders' tree, where no random
            // operation reaches it.
            void *v = talloc_named_const(ptr(roots_[1]), 1, "victim");
            MODEL_REQUIRE(v != nullptr);
            int vid = add(v, roots_[1], 1);
            Node &m = nodes_.at(id);
            m.refuses = false;
            m.victim = vid;
            victims()[m.ptr] = v;
            talloc_set_destructor(m.ptr, freeing_destructor);
            break;
        }
        }
    }

    // A limit somewhat above what the subtree holds: later allocations
    // below it may fail, which do_alloc/do_realloc accept only there.
    void do_memlimit() {
        int id = random_node(false);
        if (id < 0) return;
        Node &n = nodes_.at(id);
        size_t have = talloc_total_size(n.ptr) + 96 * talloc_total_blocks(n.ptr);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        MODEL_REQUIRE(talloc_set_memlimit(n.ptr, have + pick(8000)) == 0);
#pragma GCC diagnostic pop
        n.limited = true;
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
        if (p == nullptr) {
            MODEL_REQUIRE(under_limit(id));
            MODEL_REQUIRE(talloc_get_size(n.ptr) == n.size);
            return;
        }
        if (n.victim >= 0 && p != n.ptr) {
            victims().erase(n.ptr);
            victims()[p] = ptr(n.victim);
        }
        n.name = nullptr;  // talloc_realloc names the chunk after the call site
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
    std::vector<void *> orphans_;  // subtrees moved to the null context
    size_t orphan_handles_ = 0;    // their references' handles, still held
    int roots_[2];
    int next_id_ = 0;
};

}  // namespace talloc_model
