#include "report.hpp"

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

void file_line(const void *ptr, int depth, int max_depth, int is_ref, void *private_data) {
    auto *f = static_cast<FILE *>(private_data);
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
    if (depth == 0) {
        fprintf(f, "%stalloc report on '%s' (total %6lu bytes in %3lu blocks)\n", max_depth < 0 ? "full " : "", name,
                static_cast<unsigned long>(total_size(ptr)), static_cast<unsigned long>(total_blocks(ptr)));
        return;
    }
    fprintf(f, "%*s%-30s contains %6lu bytes in %3lu blocks (ref %d) %p\n", depth * 4, "", name,
            static_cast<unsigned long>(total_size(ptr)), static_cast<unsigned long>(total_blocks(ptr)),
            static_cast<int>(reference_count(ptr)), ptr);
}

}  // namespace

void report_to_file(const void *ptr, int depth, int max_depth, FILE *f) {
    if (f == nullptr) return;
    report_depth_cb(ptr, depth, max_depth, file_line, f);
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
