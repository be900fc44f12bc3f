/* Differential transcript: the string functions, with buffer sizes, names
 * and the exact bytes of each buffer. */
#include "diff_common.h"

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wformat-zero-length"
#endif

static void show(const char *what, const char *s)
{
	size_t n;
	if (s == NULL) {
		say("%s: NULL\n", what);
		return;
	}
	n = talloc_get_size(s);
	say("%s: size=%zu strlen=%zu name=[%s] bytes=", what, n, strlen(s), talloc_get_name(s));
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= 32 && s[i] < 127) {
			say("%c", s[i]);
		} else {
			say("\\x%02x", (unsigned char)s[i]);
		}
	}
	say(" parent=%s\n", talloc_parent_name(s) ? talloc_parent_name(s) : "(none)");
}

static char *holey(void *ctx, const char *text, size_t cut)
{
	char *s = talloc_strdup(ctx, text);
	s[cut] = '\0';
	return s;
}

static void addbuf_chain(void *ctx)
{
	char *s = talloc_strdup(ctx, "");
	for (int i = 0; i < 5; i++) {
		talloc_asprintf_addbuf(&s, "[%d]", i);
	}
	show("addbuf chain", s);
	s = NULL;
	talloc_asprintf_addbuf(&s, "x");
	show("addbuf NULL", s);
}

int main(void)
{
	void *ctx, *lim;
	char *s;

	diff_init();
	ctx = talloc_named_const(NULL, 0, "strings");

	show("strdup", talloc_strdup(ctx, "hello"));
	show("strdup empty", talloc_strdup(ctx, ""));
	show("strdup NULL", talloc_strdup(ctx, NULL));
	show("strndup", talloc_strndup(ctx, "abcdef", 3));
	show("strndup long n", talloc_strndup(ctx, "abc", 99));
	show("strndup 0", talloc_strndup(ctx, "abc", 0));
	show("asprintf", talloc_asprintf(ctx, "%s|%5d|%-4s|%x|%%", "a", 42, "b", 255));
	show("asprintf empty", talloc_asprintf(ctx, "%s", ""));
	show("asprintf long", talloc_asprintf(ctx, "%0300d", 5));

	s = talloc_strdup(ctx, "abc");
	s = talloc_strdup_append(s, "def");
	show("strdup_append", s);
	show("strdup_append NULL arg", talloc_strdup_append(s, NULL));
	show("strdup_append to NULL", talloc_strdup_append(NULL, "fresh"));
	show("strdup_append_buffer to NULL", talloc_strdup_append_buffer(NULL, "fresh"));

	show("append on holey", talloc_strdup_append(holey(ctx, "hello world", 5), "!"));
	show("append_buffer on holey", talloc_strdup_append_buffer(holey(ctx, "hello world", 5), "!"));
	show("strndup_append on holey", talloc_strndup_append(holey(ctx, "abcdef", 2), "XYZ", 2));
	show("strndup_append_buffer on holey", talloc_strndup_append_buffer(holey(ctx, "abcdef", 2), "XYZ", 2));
	show("asprintf_append on holey", talloc_asprintf_append(holey(ctx, "12345", 1), "<%d>", 9));
	show("asprintf_append_buffer on holey", talloc_asprintf_append_buffer(holey(ctx, "12345", 1), "<%d>", 9));
	show("append empty", talloc_asprintf_append(talloc_strdup(ctx, "x"), "%s", ""));
	show("append_buffer empty", talloc_asprintf_append_buffer(talloc_strdup(ctx, "x"), "%s", ""));

	/* a buffer of size 0 */
	s = talloc_size(ctx, 0);
	show("append_buffer on size 0", talloc_strdup_append_buffer(s, "zz"));
	s = talloc_array(ctx, char, 1);
	s[0] = 0;
	show("append_buffer on size 1", talloc_strdup_append_buffer(s, "zz"));

	addbuf_chain(ctx);

	/* failures under a memory limit */
	lim = talloc_named_const(ctx, 0, "lim");
	talloc_set_memlimit(lim, 500);
	s = talloc_strdup(lim, "start");
	talloc_asprintf_addbuf(&s, "%0400d", 1);
	show("addbuf failure", s);
	say("lim blocks after failure: %zu\n", talloc_total_blocks(lim));
	s = talloc_strdup(lim, "again");
	show("append failure", talloc_asprintf_append(s, "%0400d", 1));
	show("after failed append", s);
	show("strdup failure", talloc_strdup(lim, "this will fail? no, it is short"));
	show("asprintf failure", talloc_asprintf(lim, "%0400d", 1));

	talloc_report_full(ctx, stdout);
	talloc_free(ctx);
	say("== done\n");
	return 0;
}
