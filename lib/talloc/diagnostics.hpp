// Logging, aborting and pointer validation: how talloc reports misuse.
#pragma once

#include "chunk.hpp"

#define TAL_PRINTF(a, b) __attribute__((format(__printf__, a, b)))
#define TAL_LIKELY(x) __builtin_expect(!!(x), 1)
#define TAL_UNLIKELY(x) __builtin_expect(!!(x), 0)

namespace tal {

using LogFn = void (*)(const char *message);

void set_log_fn(LogFn fn);
void set_log_stderr();
void set_abort_fn(LogFn fn);
bool has_log_fn();

// Formats and hands a message to the log function, if one is set.
void log(const char *fmt, ...) TAL_PRINTF(1, 2);

// Logs the reason, then calls the abort function (or abort()).  Returns only
// when a user abort function returns; callers then fail gracefully.
void abort_with(const char *reason);

// TALLOC_FREE_FILL: when the environment names a byte value, freed payloads
// (and the tail cut off by a shrinking realloc) are overwritten with it, as
// the reference does, so use of stale memory shows.
struct FreeFill {
    bool enabled;
    unsigned char value;
};
extern TAL_HIDDEN FreeFill g_free_fill;

inline void fill_freed(void *from, size_t len) {
    if (TAL_UNLIKELY(g_free_fill.enabled)) __builtin_memset(from, g_free_fill.value, len);
}

// Reports metadata that is not a chunk header (a pool header, a slab, an
// Ext record) whose check word is wrong, as a damaged chunk is reported.
void report_bad_metadata();

// The chunk behind a user pointer, or nullptr (after reporting) when the
// pointer is not a live talloc chunk.  NULL yields nullptr without a report:
// where the reference would dereference it and crash, callers fail softly.
inline Chunk *checked(const void *ptr) {
    if (TAL_UNLIKELY(ptr == nullptr)) return nullptr;
    Chunk *tc = Chunk::from_payload(ptr);
    if (TAL_LIKELY(chunk_intact(tc))) return tc;
    return report_bad_chunk(tc);
}

}  // namespace tal
