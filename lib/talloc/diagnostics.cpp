#include "diagnostics.hpp"

#include "pool.hpp"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace tal {

namespace {

LogFn g_log_fn = nullptr;
LogFn g_abort_fn = nullptr;

void log_to_stderr(const char *message) { fputs(message, stderr); }

}  // namespace

void set_log_fn(LogFn fn) { g_log_fn = fn; }
void set_log_stderr() { g_log_fn = log_to_stderr; }
void set_abort_fn(LogFn fn) { g_abort_fn = fn; }
bool has_log_fn() { return g_log_fn != nullptr; }

void log(const char *fmt, ...) {
    LogFn fn = g_log_fn;
    if (fn == nullptr) return;
    // Formatted with libc, not talloc: logging must not change the hierarchy
    // it may be reporting on.
    char *message = nullptr;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&message, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    fn(message);
    free(message);
}

void abort_with(const char *reason) {
    log("%s\n", reason);
    LogFn fn = g_abort_fn;
    if (fn == nullptr) abort();
    fn(reason);
}

void internal_check_failed(const char *what, const char *file, int line) {
    fprintf(stderr, "talloc: internal check failed: %s (%s:%d)\n", what, file, line);
    abort();
}

namespace {

// Bad chunks reported so far.  A program whose abort function returns goes
// on after each report; one that meets this many is more likely guessing the
// check word (each guess is right one time in 2^32) than running into its own
// bugs, and is stopped as the reference stops without an abort function.
std::atomic<uint32_t> g_bad_chunk_reports{0};
constexpr uint32_t kMaxBadChunkReports = 256;

void count_bad_chunk_report() {
    if (g_bad_chunk_reports.fetch_add(1, std::memory_order_relaxed) + 1 < kMaxBadChunkReports) return;
    log("talloc: %u bad chunks reported in this process: aborting (a program going on after that many "
        "could be guessing the check word)\n", kMaxBadChunkReports);
    abort();
}

}  // namespace

// Metadata that is not a chunk header (a pool header, a slab, an Ext) with
// a wrong check word: reported as the reference reports a damaged chunk.
void report_bad_metadata() {
    count_bad_chunk_report();
    abort_with("Bad talloc magic value - unknown value");
}

PoolHeader *report_bad_pool() {
    report_bad_metadata();
    return nullptr;
}

Chunk *report_bad_chunk(const Chunk *tc) {
    count_bad_chunk_report();
    if (is_freed_stamp(tc)) {
        // A freed chunk keeps the location of its free in the name slot.
        const char *where = tc->has(kFlagExt) ? nullptr : static_cast<const char *>(tc->name_or_ext);
        log("talloc: access after free error - first free may be at %s\n", where ? where : "(unknown)");
        abort_with("Bad talloc magic value - access after free");
        return nullptr;
    }
    abort_with("Bad talloc magic value - unknown value");
    return nullptr;
}

}  // namespace tal
