/* Allocation-failure injection over the talloc API.
 *
 * Each scenario is run with the 1st, 2nd, ... allocation failing until the
 * call completes without hitting the failure (faults.c).  On failure a call
 * must return its documented failure value and leave the hierarchy exactly
 * as it was (same blocks, same bytes, same contents); on success the result
 * must be right.  After each run every block is back with malloc and no
 * descriptor is open (checked by the runner). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "faults.h"

#define BLOCKS(c) talloc_total_blocks(c)
#define BYTES(c) talloc_total_size(c)

static const char long_text[] =
    "a string long enough that formatting it does not fit in any small "
    "stack buffer a printf implementation might use before it allocates; "
    "the quick brown fox jumps over the lazy dog, again and again and again";

/* ---- allocation ----------------------------------------------------------- */

static bool sc_size(void *ctx, long n) {
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    void *p = talloc_size(ctx, 100);
    long f = fault_disarm();
    if (p == NULL) {
        fault_check(f > 0);
        fault_check(BLOCKS(ctx) == b);
    } else {
        fault_check(talloc_get_size(p) == 100 && talloc_parent(p) == ctx);
    }
    return f == 0;
}

static bool sc_zero_array(void *ctx, long n) {
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    int *p = talloc_zero_array(ctx, int, 300);
    long f = fault_disarm();
    if (p == NULL) {
        fault_check(f > 0);
        fault_check(BLOCKS(ctx) == b);
    } else {
        bool zero = true;
        for (int i = 0; i < 300; i++) zero = zero && p[i] == 0;
        fault_check(zero && talloc_array_length(p) == 300);
    }
    return f == 0;
}

static bool sc_named(void *ctx, long n) {
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    void *p = talloc_named(ctx, 10, "named %s", long_text);
    long f = fault_disarm();
    if (p == NULL) {
        /* The chunk made before its name failed must be gone again. */
        fault_check(f > 0);
        fault_check(BLOCKS(ctx) == b);
    } else {
        fault_check(strncmp(talloc_get_name(p), "named a string", 14) == 0);
        fault_check(BLOCKS(ctx) == b + 2);  /* the chunk and its name */
    }
    return f == 0;
}

static bool sc_init(void *ctx, long n) {
    (void)ctx;
    fault_arm(n);
    void *p = talloc_init("init %d", 42);
    long f = fault_disarm();
    if (p == NULL) {
        fault_check(f > 0);
    } else {
        fault_check(strcmp(talloc_get_name(p), "init 42") == 0);
        talloc_free(p);
    }
    return f == 0;
}

static bool sc_memdup(void *ctx, long n) {
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    char *p = talloc_memdup(ctx, long_text, sizeof(long_text));
    long f = fault_disarm();
    if (p == NULL) {
        fault_check(f > 0);
        fault_check(BLOCKS(ctx) == b);
    } else {
        fault_check(memcmp(p, long_text, sizeof(long_text)) == 0);
    }
    return f == 0;
}

static bool sc_pool(void *ctx, long n) {
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    void *pool = talloc_pool(ctx, 4096);
    void *in = pool != NULL ? talloc_size(pool, 100) : NULL;
    long f = fault_disarm();
    if (pool == NULL) {
        fault_check(f > 0);
        fault_check(BLOCKS(ctx) == b);
    } else {
        /* Carving from the pool does not allocate: it cannot fail. */
        fault_check(in != NULL && talloc_parent(in) == pool);
    }
    return f == 0;
}

struct with_strings {
    char *a;
    char *b;
};

static bool sc_pooled_object(void *ctx, long n) {
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    struct with_strings *o = talloc_pooled_object(ctx, struct with_strings, 2, 64);
    long f = fault_disarm();
    if (o == NULL) {
        fault_check(f > 0);
        fault_check(BLOCKS(ctx) == b);
    } else {
        fault_check(strcmp(talloc_get_name(o), "struct with_strings") == 0);
        fault_arm(1);  /* the object's pool holds both: no allocation */
        o->a = talloc_strdup(o, "first");
        o->b = talloc_strdup(o, "second");
        fault_check(fault_disarm() == 0);
        fault_check(o->a != NULL && o->b != NULL);
    }
    return f == 0;
}

/* ---- strings -------------------------------------------------------------- */

static bool sc_strdup(void *ctx, long n) {
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    char *s = talloc_strdup(ctx, long_text);
    char *t = s != NULL ? talloc_strndup(ctx, long_text, 20) : NULL;
    long f = fault_disarm();
    if (s == NULL) {
        fault_check(f > 0);
        fault_check(BLOCKS(ctx) == b);
    } else if (t == NULL) {
        fault_check(f > 0);
        fault_check(BLOCKS(ctx) == b + 1);
    } else {
        fault_check(strcmp(s, long_text) == 0 && strncmp(t, long_text, 20) == 0 && strlen(t) == 20);
    }
    return f == 0;
}

static bool sc_asprintf(void *ctx, long n) {
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    char *s = talloc_asprintf(ctx, "%s|%d|%s", long_text, 7, long_text);
    long f = fault_disarm();
    if (s == NULL) {
        fault_check(f > 0);
        fault_check(BLOCKS(ctx) == b);
    } else {
        fault_check(strlen(s) == 2 * strlen(long_text) + 3);
        fault_check(strcmp(talloc_get_name(s), s) == 0);
    }
    return f == 0;
}

/* The append family keeps the old string (still attached) when growing
 * fails, as the reference does. */
enum append_kind { APP_STRDUP, APP_STRDUP_BUF, APP_STRNDUP, APP_STRNDUP_BUF, APP_PRINTF, APP_PRINTF_BUF };

static bool append_case(void *ctx, long n, enum append_kind k) {
    char *s = talloc_strdup(ctx, "start:");
    size_t b = BLOCKS(ctx), bytes = BYTES(ctx);
    fault_arm(n);
    char *r = NULL;
    switch (k) {
    case APP_STRDUP: r = talloc_strdup_append(s, long_text); break;
    case APP_STRDUP_BUF: r = talloc_strdup_append_buffer(s, long_text); break;
    case APP_STRNDUP: r = talloc_strndup_append(s, long_text, 50); break;
    case APP_STRNDUP_BUF: r = talloc_strndup_append_buffer(s, long_text, 50); break;
    case APP_PRINTF: r = talloc_asprintf_append(s, "%s", long_text); break;
    case APP_PRINTF_BUF: r = talloc_asprintf_append_buffer(s, "%s", long_text); break;
    }
    long f = fault_disarm();
    if (r == NULL) {
        fault_check(f > 0);
        fault_check(strcmp(s, "start:") == 0);
        fault_check(BLOCKS(ctx) == b && BYTES(ctx) == bytes);
    } else {
        size_t add = (k == APP_STRNDUP || k == APP_STRNDUP_BUF) ? 50 : strlen(long_text);
        fault_check(strlen(r) == 6 + add && strncmp(r + 6, long_text, add) == 0);
        fault_check(BLOCKS(ctx) == b);
    }
    return f == 0;
}

static bool sc_strdup_append(void *ctx, long n) { return append_case(ctx, n, APP_STRDUP); }
static bool sc_strdup_append_buffer(void *ctx, long n) { return append_case(ctx, n, APP_STRDUP_BUF); }
static bool sc_strndup_append(void *ctx, long n) { return append_case(ctx, n, APP_STRNDUP); }
static bool sc_strndup_append_buffer(void *ctx, long n) { return append_case(ctx, n, APP_STRNDUP_BUF); }
static bool sc_asprintf_append(void *ctx, long n) { return append_case(ctx, n, APP_PRINTF); }
static bool sc_asprintf_append_buffer(void *ctx, long n) { return append_case(ctx, n, APP_PRINTF_BUF); }

/* addbuf/addsep: on failure *ps is freed and set to NULL (documented), so
 * a chain of calls needs one check at the end. */
static bool sc_addbuf(void *ctx, long n) {
    char *s = talloc_strdup(ctx, "x");
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    talloc_asprintf_addbuf(&s, "%s", long_text);
    talloc_asprintf_addsep(&s, ", ", "%d", 12345);
    talloc_asprintf_addbuf(&s, "%s", long_text);
    long f = fault_disarm();
    if (s == NULL) {
        fault_check(f > 0);
        fault_check(BLOCKS(ctx) == b - 1);
    } else {
        fault_check(strlen(s) == 1 + 2 * strlen(long_text) + 7);
        fault_check(BLOCKS(ctx) == b);
    }
    return f == 0;
}

static bool sc_set_name(void *ctx, long n) {
    void *p = talloc_named_const(ctx, 8, "old");
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    const char *name = talloc_set_name(p, "new %s", long_text);
    long f = fault_disarm();
    if (name == NULL) {
        /* The reference drops the old name too: the chunk is unnamed. */
        fault_check(f > 0);
        fault_check(strcmp(talloc_get_name(p), "UNNAMED") == 0);
        fault_check(BLOCKS(ctx) == b);
    } else {
        fault_check(name == talloc_get_name(p) && strncmp(name, "new a string", 12) == 0);
        fault_check(BLOCKS(ctx) == b + 1);
    }
    return f == 0;
}

/* ---- realloc --------------------------------------------------------------- */

static bool sc_realloc_grow(void *ctx, long n) {
    char *p = talloc_array(ctx, char, 16);
    memcpy(p, "0123456789abcde", 16);
    void *child = talloc_size(p, 5);  /* children follow the moved chunk */
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    char *q = talloc_realloc(ctx, p, char, 100000);
    long f = fault_disarm();
    if (q == NULL) {
        fault_check(f > 0);
        fault_check(memcmp(p, "0123456789abcde", 16) == 0 && talloc_get_size(p) == 16);
        fault_check(BLOCKS(ctx) == b && talloc_parent(child) == p);
    } else {
        fault_check(memcmp(q, "0123456789abcde", 16) == 0 && talloc_get_size(q) == 100000);
        fault_check(BLOCKS(ctx) == b && talloc_parent(child) == q);
    }
    return f == 0;
}

/* a block of its own (not a slab cell) grown twice, then grown by realloc()
 * under faults: on failure it is as it was, named and linked */
static bool sc_realloc_grow_block(void *ctx, long n) {
    char *p = talloc_array(ctx, char, 600);
    memset(p, 'x', 600);
    p = talloc_realloc(ctx, p, char, 700);
    if (p == NULL) return true;   /* a fault before the arm: nothing to see */
    talloc_set_name_const(p, "grown");
    void *child = talloc_size(p, 5);
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    char *q = talloc_realloc_size(ctx, p, 200000);
    long f = fault_disarm();
    char *at = q != NULL ? q : p;   /* p is still live when q is NULL */
    if (q == NULL) fault_check(f > 0);
    fault_check(at[0] == 'x' && at[599] == 'x' && talloc_get_size(at) == (q != NULL ? 200000u : 700u));
    fault_check(BLOCKS(ctx) == b && talloc_parent(child) == at && talloc_parent(at) == ctx);
    if (q == NULL) fault_check(strcmp(talloc_get_name(at), "grown") == 0);
    return f == 0;
}

static bool sc_realloc_pool_member(void *ctx, long n) {
    void *pool = talloc_pool(ctx, 1024);
    char *p = talloc_array(pool, char, 100);
    memset(p, 'p', 100);
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    /* Too big for the pool: the member moves to malloc. */
    char *q = talloc_realloc(pool, p, char, 5000);
    long f = fault_disarm();
    if (q == NULL) {
        fault_check(f > 0);
        fault_check(talloc_get_size(p) == 100 && p[99] == 'p' && BLOCKS(ctx) == b);
    } else {
        fault_check(talloc_get_size(q) == 5000 && q[0] == 'p' && q[99] == 'p' && BLOCKS(ctx) == b);
    }
    return f == 0;
}

static bool sc_realloc_array_zero(void *ctx, long n) {
    int *p = talloc_zero_array(ctx, int, 4);
    p[3] = 7;
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    int *q = talloc_realloc_zero(ctx, p, int, 4000);
    long f = fault_disarm();
    if (q == NULL) {
        fault_check(f > 0);
        fault_check(talloc_array_length(p) == 4 && p[3] == 7 && BLOCKS(ctx) == b);
    } else {
        bool zero = true;
        for (int i = 4; i < 4000; i++) zero = zero && q[i] == 0;
        fault_check(zero && q[3] == 7 && BLOCKS(ctx) == b);
    }
    return f == 0;
}

static bool sc_realloc_fn(void *ctx, long n) {
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    void *p = talloc_realloc_fn(ctx, NULL, 300);  /* NULL ptr: allocates */
    long f = fault_disarm();
    if (p == NULL) {
        fault_check(f > 0 && BLOCKS(ctx) == b);
    } else {
        fault_check(talloc_get_size(p) == 300 && BLOCKS(ctx) == b + 1);
    }
    return f == 0;
}

/* ---- references, limits, destructors -------------------------------------- */

static bool sc_reference(void *ctx, long n) {
    void *a = talloc_new(ctx), *holder = talloc_new(ctx);
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    void *r = talloc_reference(holder, a);
    int inc = r != NULL ? talloc_increase_ref_count(a) : -1;
    long f = fault_disarm();
    if (r == NULL) {
        fault_check(f > 0 && talloc_reference_count(a) == 0 && BLOCKS(ctx) == b);
    } else if (inc != 0) {
        fault_check(f > 0 && inc == -1 && talloc_reference_count(a) == 1 && BLOCKS(ctx) == b + 1);
    } else {
        /* increase_ref_count's reference is held by the null context. */
        fault_check(r == a && talloc_reference_count(a) == 2 && BLOCKS(ctx) == b + 1);
        /* Unlinking has no failure to report: with the first allocation
         * failing (the thread's block cache cannot be created) it still
         * works. */
        fault_arm(1);
        fault_check(talloc_unlink(NULL, a) == 0);
        fault_check(talloc_unlink(holder, a) == 0);
        fault_disarm();
        fault_check(talloc_reference_count(a) == 0 && BLOCKS(ctx) == b);
    }
    return f == 0;
}

static bool sc_memlimit(void *ctx, long n) {
    void *limited = talloc_new(ctx);
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    int rc = talloc_set_memlimit(limited, 2000);
    long f = fault_disarm();
    if (rc != 0) {
        /* The reference returns 1 here (its documentation says -1). */
        fault_check(f > 0 && rc == 1 && BLOCKS(ctx) == b);
        /* No limit took effect. */
        fault_check(talloc_size(limited, 5000) != NULL);
    } else {
        fault_check(talloc_size(limited, 5000) == NULL);
        fault_check(talloc_size(limited, 100) != NULL);
    }
    return f == 0;
}

/* Moving subtrees between limited contexts keeps the books; none of it may
 * need an allocation that could fail halfway. */
static bool sc_steal_limits(void *ctx, long n) {
    void *l1 = talloc_new(ctx), *l2 = talloc_new(ctx);
    talloc_set_memlimit(l1, 10000);
    talloc_set_memlimit(l2, 10000);
    void *a = talloc_size(l1, 3000);
    talloc_size(a, 1000);
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    void *s = talloc_steal(l2, a);
    void *r = talloc_reparent(l2, l1, a);
    void *m = talloc_move(l2, &a);
    long f = fault_disarm();
    fault_check(s != NULL && r != NULL && m != NULL && a == NULL);
    fault_check(talloc_parent(m) == l2 && BLOCKS(ctx) == b);
    /* l1 was credited when the subtree left: room for 6000 bytes again. */
    fault_check(talloc_size(l1, 6000) != NULL);
    return f == 0;
}

static int g_destructor_calls;
static int count_destructor(void *p) {
    (void)p;
    g_destructor_calls++;
    return 0;
}
static int refuse_destructor(void *p) {
    (void)p;
    g_destructor_calls++;
    return -1;
}

static bool sc_destructors(void *ctx, long n) {
    void *a = talloc_new(ctx), *refuser = talloc_new(ctx);
    size_t b = BLOCKS(ctx);
    g_destructor_calls = 0;
    fault_arm(n);
    talloc_set_destructor(a, count_destructor);
    talloc_set_destructor(refuser, refuse_destructor);
    int rc_refuse = talloc_free(refuser);
    int rc = talloc_free(a);
    long f = fault_disarm();
    /* Setting a destructor has no failure to report, so it must not need
     * memory; both destructors ran. */
    fault_check(rc == 0 && rc_refuse == -1 && g_destructor_calls == 2);
    fault_check(BLOCKS(ctx) == b - 1);
    talloc_set_destructor(refuser, NULL);
    return f == 0;
}

static bool sc_null_tracking(void *ctx, long n) {
    (void)ctx;
    fault_arm(n);
    talloc_enable_null_tracking();
    void *top = talloc_new(NULL);
    long f = fault_disarm();
    if (top != NULL) {
        /* Tracking is on (the null context is the parent) or enabling it
         * failed for want of memory (no parent). */
        void *parent = talloc_parent(top);
        fault_check(parent == NULL || strcmp(talloc_get_name(parent), "null_context") == 0);
        talloc_free(top);
    } else {
        fault_check(f > 0);
    }
    talloc_disable_null_tracking();
    return f == 0;
}

/* ---- whole-tree walks: free, totals, reports --------------------------------
 * These walk with a path on the heap and fall back to sibling links when
 * that allocation fails: same answers, nothing left behind. */

static void *make_tree(void *ctx, int depth, int width) {
    void *top = talloc_named_const(ctx, 0, "top");
    void *cur = top;
    for (int d = 0; d < depth; d++) {
        for (int w = 0; w < width; w++) talloc_named_const(cur, (size_t)w, "leaf");
        cur = talloc_named_const(cur, 1, "level");
    }
    return top;
}

static bool sc_free_tree(void *ctx, long n) {
    void *top = make_tree(ctx, 300, 3);
    void *keep = talloc_new(ctx);
    size_t b = BLOCKS(ctx);
    fault_arm(n);
    int rc = talloc_free(top);
    long f = fault_disarm();
    fault_check(rc == 0 && BLOCKS(ctx) == b - 1201 && talloc_parent(keep) == ctx);
    return f == 0;
}

static bool sc_free_children(void *ctx, long n) {
    void *top = make_tree(ctx, 300, 3);
    fault_arm(n);
    talloc_free_children(top);
    long f = fault_disarm();
    fault_check(talloc_total_blocks(top) == 1);
    return f == 0;
}

static bool sc_totals(void *ctx, long n) {
    void *top = make_tree(ctx, 300, 3);
    size_t b0 = BLOCKS(top), s0 = BYTES(top);
    fault_arm(n);
    size_t b = BLOCKS(top), s = BYTES(top);
    long f = fault_disarm();
    fault_check(b == b0 && s == s0 && b == 1201);
    return f == 0;
}

/* report_depth_cb: the visit order and depths are recorded and compared. */
struct visits {
    int count;
    long sum;   /* order-sensitive checksum of (index, depth, is_ref) */
};

static void record_visit(const void *ptr, int depth, int max_depth, int is_ref, void *priv) {
    (void)ptr;
    (void)max_depth;
    struct visits *v = priv;
    v->count++;
    v->sum = v->sum * 31 + depth * 2 + is_ref;
}

static bool sc_report_cb(void *ctx, long n) {
    void *top = make_tree(ctx, 200, 2);
    talloc_reference(top, talloc_named_const(ctx, 1, "referenced"));
    struct visits want = {0, 0}, got = {0, 0};
    talloc_report_depth_cb(top, 0, -1, record_visit, &want);
    fault_arm(n);
    talloc_report_depth_cb(top, 0, -1, record_visit, &got);
    long f = fault_disarm();
    fault_check(got.count == want.count && got.sum == want.sum && want.count == 602);
    return f == 0;
}

/* Reads back a report written to a temporary file (with a buffer given
 * before arming, so stdio itself needs no memory while armed). */
static char g_iobuf[1 << 16];

static size_t report_into(FILE *f, char *out, size_t cap) {
    fflush(f);
    rewind(f);
    size_t len = fread(out, 1, cap - 1, f);
    out[len] = '\0';
    return len;
}

static bool sc_report_full(void *ctx, long n) {
    void *top = make_tree(ctx, 100, 2);
    talloc_reference(top, talloc_named_const(ctx, 1, "referenced"));
    static char want[1 << 17], got[1 << 17];
    FILE *f = tmpfile();
    setvbuf(f, g_iobuf, _IOFBF, sizeof(g_iobuf));
    talloc_report_full(top, f);
    size_t wlen = report_into(f, want, sizeof(want));
    FILE *g = tmpfile();
    setvbuf(g, g_iobuf, _IOFBF, sizeof(g_iobuf));
    fclose(f);
    fault_arm(n);
    talloc_report_full(top, g);
    talloc_show_parents(talloc_find_parent_byname(top, "top"), g);
    long fl = fault_disarm();
    size_t glen = report_into(g, got, sizeof(got));
    fclose(g);
    fault_check(glen > wlen && memcmp(want, got, wlen) == 0);
    fault_check(strstr(got + wlen, "talloc parents of 'top'") != NULL);
    return fl == 0;
}

static const struct fault_case cases[] = {
    {"talloc_size", sc_size},
    {"talloc_zero_array", sc_zero_array},
    {"talloc_named", sc_named},
    {"talloc_init", sc_init},
    {"talloc_memdup", sc_memdup},
    {"talloc_pool", sc_pool},
    {"talloc_pooled_object", sc_pooled_object},
    {"talloc_strdup/strndup", sc_strdup},
    {"talloc_asprintf", sc_asprintf},
    {"talloc_strdup_append", sc_strdup_append},
    {"talloc_strdup_append_buffer", sc_strdup_append_buffer},
    {"talloc_strndup_append", sc_strndup_append},
    {"talloc_strndup_append_buffer", sc_strndup_append_buffer},
    {"talloc_asprintf_append", sc_asprintf_append},
    {"talloc_asprintf_append_buffer", sc_asprintf_append_buffer},
    {"talloc_asprintf_addbuf/addsep", sc_addbuf},
    {"talloc_set_name", sc_set_name},
    {"talloc_realloc grow", sc_realloc_grow},
    {"talloc_realloc grow a block of its own", sc_realloc_grow_block},
    {"talloc_realloc pool member", sc_realloc_pool_member},
    {"talloc_realloc_zero", sc_realloc_array_zero},
    {"talloc_realloc_fn", sc_realloc_fn},
    {"talloc_reference/increase_ref_count", sc_reference},
    {"talloc_set_memlimit", sc_memlimit},
    {"talloc_steal/reparent/move limits", sc_steal_limits},
    {"talloc_set_destructor/free", sc_destructors},
    {"talloc_enable_null_tracking", sc_null_tracking},
    {"talloc_free deep tree", sc_free_tree},
    {"talloc_free_children deep tree", sc_free_children},
    {"talloc_total_blocks/size", sc_totals},
    {"talloc_report_depth_cb", sc_report_cb},
    {"talloc_report_full/show_parents", sc_report_full},
};

int main(void) { return fault_main(cases, sizeof(cases) / sizeof(cases[0])); }
