/*
 * The backend registry as leak reports show it: every libtevent registers
 * its four built-in backends, on first use, as four top-level talloc
 * chunks "struct tevent_ops_list" of 32 bytes (the reference's list
 * entries, never freed), and one more per backend a program registers.
 * smbclient --leak-report and ctdb's exit report print them; a drop-in
 * must print the same.  Its own program: the registration happens once
 * per process, and null tracking must be on before it.
 */
#include "common.h"

/* What talloc_report_full(NULL) says about registry entries. */
struct entries {
	int count;	/* lines naming struct tevent_ops_list */
	int top_level;	/* of those, direct children of the NULL context */
	int wrong_size;	/* of those, not "32 bytes in 1 blocks" */
};

static struct entries report_entries(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	talloc_report_full(NULL, f);
	assert_int_equal(fclose(f), 0);

	struct entries e = {0};
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		char *name = strstr(line, "struct tevent_ops_list");
		if (name == NULL) {
			continue;
		}
		e.count++;
		/* talloc indents by four spaces per level; the NULL
		 * context's line itself is not indented. */
		if (name - line == 4) {
			e.top_level++;
		}
		unsigned long bytes = 0, blocks = 0;
		if (sscanf(name, "struct tevent_ops_list contains %lu bytes in %lu blocks", &bytes, &blocks) != 2 ||
		    bytes != 32 || blocks != 1) {
			e.wrong_size++;
		}
	}
	free(text);
	return e;
}

static int nop_init(struct tevent_context *ev)
{
	(void)ev;
	return 0;
}

static const struct tevent_ops nop_ops = {.context_init = nop_init};

static void test_registry_chunks(void **state)
{
	(void)state;
	talloc_enable_null_tracking();

	/* Nothing before first use. */
	struct entries e = report_entries();
	assert_int_equal(e.count, 0);

	/* A program's own backend registered first: one chunk; the built-ins
	 * follow on first use, so it stays last in the list. */
	assert_true(tevent_register_backend("nop", &nop_ops));
	assert_int_equal(report_entries().count, 1);

	struct tevent_context *ev = tevent_context_init(NULL);
	assert_non_null(ev);
	e = report_entries();
	assert_int_equal(e.count, 5);
	assert_int_equal(e.top_level, 5);
	assert_int_equal(e.wrong_size, 0);

	const char **list = tevent_backend_list(NULL);
	assert_non_null(list);
	const char *expect[] = {"standard", "epoll", "poll_mt", "poll", "nop", NULL};
	for (int i = 0; expect[i] != NULL; i++) {
		assert_non_null(list[i]);
		assert_string_equal(list[i], expect[i]);
	}
	assert_null(list[5]);
	talloc_free(list);

	/* Once per process, however many contexts come and go. */
	talloc_free(ev);
	ev = tevent_context_init_byname(NULL, "poll");
	assert_non_null(ev);
	talloc_free(ev);
	assert_int_equal(report_entries().count, 5);

	/* One more per name registered; a name registered again is not. */
	assert_true(tevent_register_backend("nop", &nop_ops));
	assert_true(tevent_register_backend("nop2", &nop_ops));
	e = report_entries();
	assert_int_equal(e.count, 6);
	assert_int_equal(e.top_level, 6);
	assert_int_equal(e.wrong_size, 0);

	talloc_disable_null_tracking();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry_chunks),
	};
	return cmocka_run_group_tests_name("tevent backend registry (" TT_IMPL ")", tests, NULL, NULL);
}
