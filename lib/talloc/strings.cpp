#include "strings.hpp"

#include <cstdio>
#include <cstring>

#include "core.hpp"
#include "diagnostics.hpp"

namespace tal {

namespace {

char *dup_len(const void *ctx, const char *p, size_t len) {
    auto *s = static_cast<char *>(allocate(ctx, len + 1, nullptr));
    if (s == nullptr) return nullptr;
    memcpy(s, p, len);
    s[len] = '\0';
    Chunk::from_payload(s)->set_raw_name(s);
    return s;
}

// Where appending starts: strlen, or the buffer's length minus its NUL.
size_t append_offset(char *s, bool use_buffer_length) {
    if (!use_buffer_length) return strlen(s);
    Chunk *tc = checked(s);
    size_t len = tc != nullptr ? tc->size : 0;
    return len > 0 ? len - 1 : 0;
}

char *grow_for_append(char *s, size_t new_len) {
    return static_cast<char *>(reallocate(nullptr, s, new_len + 1, "char"));
}

// Formats into a stack buffer first: most results are short, and then
// vsnprintf runs once instead of once to measure and once to write.
struct Formatted {
    char buf[256];
    int len;   // < 0 on a formatting error

    Formatted(const char *fmt, va_list ap) {
        va_list probe;
        va_copy(probe, ap);
        len = vsnprintf(buf, sizeof(buf), fmt, probe);
        va_end(probe);
    }
    // Writes the result (len bytes and a NUL) to dst.
    void copy_to(char *dst, const char *fmt, va_list ap) const {
        if (static_cast<size_t>(len) < sizeof(buf)) {
            memcpy(dst, buf, size_t(len) + 1);
            return;
        }
        va_list out;
        va_copy(out, ap);
        vsnprintf(dst, size_t(len) + 1, fmt, out);
        va_end(out);
    }
};

}  // namespace

char *str_dup(const void *ctx, const char *p) {
    if (p == nullptr) return nullptr;
    return dup_len(ctx, p, strlen(p));
}

char *str_ndup(const void *ctx, const char *p, size_t n) {
    if (p == nullptr) return nullptr;
    return dup_len(ctx, p, strnlen(p, n));
}

char *str_append(char *s, const char *a, size_t alen_max, bool use_buffer_length) {
    if (s == nullptr) return str_ndup(nullptr, a, alen_max);
    if (a == nullptr) return s;
    size_t slen = append_offset(s, use_buffer_length);
    size_t alen = strnlen(a, alen_max);
    char *r = grow_for_append(s, slen + alen);
    if (r == nullptr) return nullptr;
    memcpy(r + slen, a, alen);
    r[slen + alen] = '\0';
    Chunk::from_payload(r)->set_raw_name(r);
    return r;
}

char *str_vformat(const void *ctx, const char *fmt, va_list ap) {
    Formatted f(fmt, ap);
    if (f.len < 0) return nullptr;
    auto *s = static_cast<char *>(allocate(ctx, size_t(f.len) + 1, nullptr));
    if (s == nullptr) return nullptr;
    f.copy_to(s, fmt, ap);
    Chunk::from_payload(s)->set_raw_name(s);
    return s;
}

char *str_vformat_append(char *s, const char *fmt, va_list ap, bool use_buffer_length) {
    if (s == nullptr) return str_vformat(nullptr, fmt, ap);
    size_t slen = append_offset(s, use_buffer_length);
    Formatted f(fmt, ap);
    // Nothing to add (or a formatting error): the reference hands back the
    // string unchanged, and callers rely on never getting NULL here.
    if (f.len <= 0) return s;
    char *r = grow_for_append(s, slen + size_t(f.len));
    if (r == nullptr) return nullptr;
    f.copy_to(r + slen, fmt, ap);
    Chunk::from_payload(r)->set_raw_name(r);
    return r;
}

void str_addbuf(char **ps, const char *sep, const char *fmt, va_list ap) {
    if (ps == nullptr) return;
    char *s = *ps;
    if (s == nullptr) return;
    if (sep != nullptr && s[0] != '\0') {
        s = str_append(s, sep, strlen(sep), true);
        if (s == nullptr) {
            free_ptr(*ps, "talloc_asprintf_addsep");
            *ps = nullptr;
            return;
        }
        *ps = s;
    }
    char *t = str_vformat_append(s, fmt, ap, true);
    if (t == nullptr) {
        free_ptr(s, "talloc_asprintf_addbuf");   // tell the next caller it failed
        *ps = nullptr;
        return;
    }
    *ps = t;
}

}  // namespace tal
