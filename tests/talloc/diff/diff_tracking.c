/* Differential transcript: null tracking, the autofree context and the leak
 * report printed at exit (on stderr, compared by the runner too).
 *
 * usage: diff_tracking [plain|full|autofree]
 */
#include "diff_common.h"

static int exit_destructor(void *ptr)
{
	/* runs from an exit handler: write unbuffered to stdout */
	char line[128];
	int n = snprintf(line, sizeof(line), "exit destructor: %s\n", talloc_get_name(ptr));
	if (write(1, line, (size_t)n) != n) {
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "plain";
	void *a, *b, *nc, *af;

	diff_init();

	say("== null tracking\n");
	a = talloc_named_const(NULL, 1, "untracked");
	say("parent of untracked: %s, total_blocks(NULL)=%zu\n",
	    talloc_parent(a) ? "set" : "none", talloc_total_blocks(NULL));
	talloc_report(NULL, stdout);
	talloc_enable_null_tracking();
	b = talloc_named_const(NULL, 5, "tracked");
	nc = talloc_parent(b);
	say("null context: name=%s size=%zu\n", talloc_get_name(nc), talloc_get_size(nc));
	totals("NULL", NULL);
	talloc_report_full(NULL, stdout);
	talloc_steal(NULL, a);
	say("after steal to NULL: parent=%s\n", talloc_parent_name(a));
	talloc_disable_null_tracking();
	say("disabled: parent of tracked %s, total_blocks(NULL)=%zu\n",
	    talloc_parent(b) ? "set" : "none", talloc_total_blocks(NULL));
	talloc_free(a);
	talloc_free(b);

	if (strcmp(mode, "full") == 0) {
		talloc_enable_leak_report_full();
	} else {
		talloc_enable_leak_report();
	}
	af = talloc_autofree_context();
	say("autofree: name=%s parent=%s same=%d\n", talloc_get_name(af),
	    talloc_parent_name(af) ? talloc_parent_name(af) : "(none)",
	    af == talloc_autofree_context());
	talloc_set_destructor(af, exit_destructor);
	a = talloc_named_const(af, 3, "autofreed child");
	talloc_set_destructor(a, exit_destructor);

	/* leaks */
	a = talloc_named_const(NULL, 10, "leaked parent");
	talloc_named_const(a, 7, "leaked child");
	talloc_strdup(NULL, "leaked string");
	talloc_free(talloc_named_const(NULL, 100, "not leaked"));
	if (strcmp(mode, "autofree") == 0) {
		/* leaks hung off the autofree context are freed, not reported */
		talloc_steal(af, a);
	}
	say("== exiting\n");
	return 0;
}
