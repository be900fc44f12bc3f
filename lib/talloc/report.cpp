#include "report.hpp"

#include <cstdint>
#include <cstdlib>

#include "core.hpp"
#include "diagnostics.hpp"
#include "memlimit.hpp"
#include "tree.hpp"

namespace tal {

void report_depth_cb(const void *ptr, int depth, int max_depth, ReportCallback cb, void *private_data) {
    ptr = effective_ctx(ptr);
    if (ptr == nullptr || cb == nullptr) return;
    Chunk *root = checked(ptr);
    if (root == nullptr) return;
    const int base = depth;
    walk(root, depth, [&](Chunk *c, int d) {
        if (d > base && c->raw_name() == kReferenceName) {
            // A handle is reported as what it references, never descended.
            cb(static_cast<RefHandle *>(c->payload())->ptr, d, max_depth, 1, private_data);
            return false;
        }
        cb(c->payload(), d, max_depth, 0, private_data);
        return !(max_depth >= 0 && d >= max_depth);
    });
}

namespace {

// A growable array on malloc (the library uses no C++ runtime library).
template <class T>
class Array {
public:
    Array() = default;
    Array(const Array &) = delete;
    Array &operator=(const Array &) = delete;
    ~Array() { free(data_); }

    bool push(const T &v) {
        if (size_ == cap_) {
            size_t cap = cap_ == 0 ? 64 : cap_ * 2;
            T *grown = static_cast<T *>(realloc(data_, cap * sizeof(T)));
            if (grown == nullptr) return false;
            data_ = grown;
            cap_ = cap;
        }
        data_[size_++] = v;
        return true;
    }
    T &operator[](size_t i) { return data_[i]; }
    T &back() { return data_[size_ - 1]; }
    void pop() { size_--; }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

private:
    T *data_ = nullptr;
    size_t size_ = 0;
    size_t cap_ = 0;
};

size_t own_size(const Chunk *c) { return c->raw_name() == kReferenceName ? 0 : c->size; }

struct SubtreeTotals {
    const Chunk *chunk;
    size_t size;
    size_t blocks;
};

// Every line of a file report shows its chunk's subtree totals.  Counting
// them line by line costs the square of the depth (a million-deep chain
// would never finish), so one pass first adds them all up, bottom-up, and
// keeps those of the chunks that get a line and have children, in the
// order the report prints them.  It walks as walk() does (same order, same
// chunks skipped), so the report finds them in sequence.
bool compute_totals(Chunk *root, int base, int max_depth, Array<SubtreeTotals> &out) {
    if (root->has(kFlagLoop)) return true;  // walk() visits nothing either
    struct Frame {
        Chunk *c;
        Chunk *next_child;
        size_t slot;      // in `out`, or SIZE_MAX
        size_t size;
        size_t blocks;
        int depth;
        bool descended;   // does the report print its children?
    };
    Array<Frame> path;
    auto enter = [&](Chunk *c, int d, bool printed) {
        bool plain_line = printed && !(d > base && c->raw_name() == kReferenceName);
        size_t slot = SIZE_MAX;
        if (plain_line && c->child != nullptr) {
            slot = out.size();
            if (!out.push(SubtreeTotals{c, 0, 0})) return false;
        }
        bool descended = plain_line && !(max_depth >= 0 && d >= max_depth);
        if (!path.push(Frame{c, c->child, slot, own_size(c), 1, d, descended})) return false;
        c->flags |= kFlagLoop;
        return true;
    };
    bool ok = enter(root, base, true);
    while (ok && !path.empty()) {
        Frame &top = path.back();
        if (Chunk *c = top.next_child) {
            if (!linked_ok(c)) {   // damaged: reported, the list ends there
                top.next_child = nullptr;
                continue;
            }
            top.next_child = c->next;
            if (!c->has(kFlagLoop)) ok = enter(c, top.depth + 1, top.descended);
            continue;
        }
        Frame done = top;
        path.pop();
        done.c->flags &= ~kFlagLoop;
        if (done.slot != SIZE_MAX) {
            out[done.slot].size = done.size;
            out[done.slot].blocks = done.blocks;
        }
        if (!path.empty()) {
            path.back().size += done.size;
            path.back().blocks += done.blocks;
        }
    }
    for (; !path.empty(); path.pop()) path.back().c->flags &= ~kFlagLoop;
    return ok;
}

struct FileReport {
    FILE *f;
    Array<SubtreeTotals> totals;
    bool have_totals;
    size_t next;   // the next entry of `totals` the report reaches
};

void totals_of(FileReport *r, Chunk *tc, size_t *size, size_t *blocks) {
    if (tc->child == nullptr) {
        *size = own_size(tc);
        *blocks = 1;
        return;
    }
    if (r->have_totals && r->next < r->totals.size() && r->totals[r->next].chunk == tc) {
        *size = r->totals[r->next].size;
        *blocks = r->totals[r->next].blocks;
        r->next++;
        return;
    }
    // Not computed ahead (out of memory): counted here.
    *size = total_size(tc->payload());
    *blocks = total_blocks(tc->payload());
}

void file_line(const void *ptr, int depth, int max_depth, int is_ref, void *private_data) {
    auto *r = static_cast<FileReport *>(private_data);
    FILE *f = r->f;
    Chunk *tc = Chunk::from_payload(ptr);
    const char *name = name_of(tc);
    if (is_ref) {
        fprintf(f, "%*sreference to: %s\n", depth * 4, "", name);
        return;
    }
    if (MemLimit *l = owned_limit(tc)) {
        fprintf(f, "%*s%-30s is a memlimit context (max_size = %lu bytes, cur_size = %lu bytes)\n", depth * 4, "",
                name, static_cast<unsigned long>(l->max_size), static_cast<unsigned long>(l->cur_size));
    }
    size_t size, blocks;
    totals_of(r, tc, &size, &blocks);
    if (depth == 0) {
        fprintf(f, "%stalloc report on '%s' (total %6lu bytes in %3lu blocks)\n", max_depth < 0 ? "full " : "", name,
                static_cast<unsigned long>(size), static_cast<unsigned long>(blocks));
        return;
    }
    fprintf(f, "%*s%-30s contains %6lu bytes in %3lu blocks (ref %d) %p\n", depth * 4, "", name,
            static_cast<unsigned long>(size), static_cast<unsigned long>(blocks),
            static_cast<int>(reference_count(ptr)), ptr);
}

}  // namespace

void report_to_file(const void *ptr, int depth, int max_depth, FILE *f) {
    if (f == nullptr) return;
    const void *ctx = effective_ctx(ptr);
    if (ctx == nullptr) return;
    Chunk *root = checked(ctx);
    if (root == nullptr) return;
    FileReport r{f, {}, false, 0};
    r.have_totals = compute_totals(root, depth, max_depth, r.totals);
    report_depth_cb(ctx, depth, max_depth, file_line, &r);
    fflush(f);
}

void show_parents(const void *ptr, FILE *f) {
    if (f == nullptr) return;
    if (ptr == nullptr) {
        fprintf(f, "talloc no parents for NULL\n");
        return;
    }
    Chunk *tc = checked(ptr);
    if (tc == nullptr) return;
    fprintf(f, "talloc parents of '%s'\n", name_of(tc));
    for (; tc != nullptr; tc = parent_of(tc)) fprintf(f, "\t'%s'\n", name_of(tc));
    fflush(f);
}

}  // namespace tal
