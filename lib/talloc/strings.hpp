// The string family: duplicates, printf-style formatting and appending.
// Every string chunk is named after its own contents, as in the reference.
#pragma once

#include <cstdarg>
#include <cstddef>

namespace tal {

char *str_dup(const void *ctx, const char *p);
char *str_ndup(const void *ctx, const char *p, size_t n);
char *str_append(char *s, const char *a, size_t alen_max, bool use_buffer_length);
char *str_vformat(const void *ctx, const char *fmt, va_list ap);
char *str_vformat_append(char *s, const char *fmt, va_list ap, bool use_buffer_length);
void str_addbuf(char **ps, const char *sep, const char *fmt, va_list ap);

}  // namespace tal
