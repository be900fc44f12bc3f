/* talloc benchmark matrix for the side-by-side runner (tools/bench/run.py).
 *
 * Built once against Debian's talloc headers; the runner runs the same binary
 * on the reference library and, through LD_LIBRARY_PATH, on ours.  Every row
 * is one shape of work with its parameters in its name; it prints
 *
 *     name seconds checksum
 *
 * The checksum is computed from what the library hands back (sizes, string
 * contents, parents, names, return codes), never from addresses, so it is the
 * same on both libraries when both did the same work, and the compiler cannot
 * drop the work.  Rows named "malloc_..." do the same shape with plain glibc
 * malloc/free (the floor the tree loop is compared with).  "heap_..." rows
 * print bytes instead of seconds.
 *
 * usage: talloc_bench [SCALE [SUBSTRING]]   rows whose name contains SUBSTRING
 *        talloc_bench list                  row names
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

#include "matrix.h"
#include <time.h>



/* mixes a value into a checksum (order matters, as in FNV) */
static inline sum_t mix(sum_t h, uint64_t v)
{
	return (h ^ v) * 1099511628211ull;
}

static sum_t mix_string(sum_t h, const char *s)
{
	for (; *s; s++) h = mix(h, (unsigned char)*s);
	return h;
}

static void *top;            /* every row works under this context */

/* A fixed sequence of sizes 0..300 for the mixed-size rows. */
static const size_t mixed_sizes[16] = {0, 24, 300, 8, 112, 40, 256, 1, 64, 200, 16, 96, 280, 32, 150, 4};
static const char *const mixed_strings[4] = {"smb.conf", "a much longer string of some fifty characters here", "x", "share"};

/* ---- allocation sizes ------------------------------------------------- */

/* allocate and free one chunk of `size` bytes, n times */
static sum_t alloc_one(long n, long size, long unused)
{
	(void)unused;
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		void *p = talloc_size(top, size);
		h += talloc_get_size(p);
		talloc_free(p);
	}
	return h;
}

static void *(*volatile sys_malloc)(size_t) = malloc;
static void (*volatile sys_free)(void *) = free;
static char *(*volatile sys_strdup)(const char *) = strdup;

static sum_t malloc_one(long n, long size, long unused)
{
	(void)unused;
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		void *p = sys_malloc(size);
		h += size;
		sys_free(p);
	}
	return h;
}

/* `batch` chunks of `size` under one parent, then the parent freed */
static sum_t alloc_batch(long n, long size, long batch)
{
	sum_t h = 0;
	for (long i = 0; i < n / batch; i++) {
		void *parent = talloc_new(top);
		for (long j = 0; j < batch; j++) h += talloc_get_size(talloc_size(parent, size));
		h += talloc_free(parent) == 0;
	}
	return h;
}

/* ---- the tree loop ------------------------------------------------------ */

/* a parent, three children of 16, 32 and 48 bytes, the parent freed */
static sum_t tree_3(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		void *p = talloc_named_const(top, 0, "parent");
		h += talloc_get_size(talloc_size(p, 16));
		h += talloc_get_size(talloc_size(p, 32));
		h += talloc_get_size(talloc_size(p, 48));
		talloc_free(p);
	}
	return h;
}

static sum_t malloc_tree_3(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		void *p = sys_malloc(1), *a = sys_malloc(16), *b = sys_malloc(32), *c = sys_malloc(48);
		h += 96;
		sys_free(a); sys_free(b); sys_free(c); sys_free(p);
	}
	return h;
}

/* issue 17's shape: under a parent (in `ctx`), two chunks of mixed sizes
 * 0..300 and one strdup, then the parent freed */
static sum_t mixed_3_under(void *ctx, long n)
{
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		void *p = talloc_new(ctx);
		h += talloc_get_size(talloc_size(p, mixed_sizes[i & 15]));
		h += talloc_get_size(talloc_size(p, mixed_sizes[(i + 5) & 15]));
		h = mix_string(h, talloc_strdup(p, mixed_strings[i & 3]));
		talloc_free(p);
	}
	return h;
}

static sum_t tree_mixed_3(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	return mixed_3_under(top, n);
}

static sum_t malloc_tree_mixed_3(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		void *p = sys_malloc(1);
		void *a = sys_malloc(mixed_sizes[i & 15]);
		void *b = sys_malloc(mixed_sizes[(i + 5) & 15]);
		char *s = sys_strdup(mixed_strings[i & 3]);
		h += mixed_sizes[i & 15] + mixed_sizes[(i + 5) & 15];
		h = mix_string(h, s);
		sys_free(s); sys_free(b); sys_free(a); sys_free(p);
	}
	return h;
}

/* the same under a long-lived pool of `pool_size` bytes */
static sum_t pool_mixed_3(long n, long pool_size, long unused)
{
	(void)unused;
	void *pool = talloc_pool(top, pool_size);
	sum_t h = mixed_3_under(pool, n);
	talloc_free(pool);
	return h;
}

/* a long-lived pool: a parent in it, `k` members of `size` bytes, the
 * parent freed (members that do not fit come from the heap) */
static sum_t pool_members(long n, long pool_size, long size)
{
	void *pool = talloc_pool(top, pool_size);
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		void *p = talloc_new(pool);
		for (int j = 0; j < 4; j++) h += talloc_get_size(talloc_size(p, size));
		talloc_free(p);
	}
	talloc_free(pool);
	return h;
}

/* a pool per request (Samba's tevent_req state): create a pool of
 * `pool_size`, four members of `size`, free the pool */
static sum_t pool_per_request(long n, long pool_size, long size)
{
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		void *pool = talloc_pool(top, pool_size);
		for (int j = 0; j < 4; j++) h += talloc_get_size(talloc_size(pool, size));
		talloc_free(pool);
	}
	return h;
}

/* ---- hierarchies ---------------------------------------------------------- */


enum { FREE_ONLY = 1, CHAIN = 2 };

/* `count` chunks under a new top, freed with it; repeated so that about n
 * chunks are made.  Wide (flags without CHAIN): 32-byte children of the top;
 * deep (CHAIN): a chain of 16-byte chunks, each the child of the one before.
 * FREE_ONLY: the row times the free alone (its own timer), else it is timed
 * whole. */
static sum_t build_free(long n, long count, long flags)
{
	sum_t h = 0;
	long reps = n / count > 0 ? n / count : 1;
	size_t size = flags & CHAIN ? 16 : 32;
	timed_part = 0;
	for (long r = 0; r < reps; r++) {
		void *root = talloc_new(top), *p = root;
		for (long j = 0; j < count; j++) {
			void *c = talloc_size(flags & CHAIN ? p : root, size);
			h += talloc_get_size(c);
			p = c;
		}
		double t1 = flags & FREE_ONLY ? now() : 0;
		h += talloc_free(root) == 0;
		if (flags & FREE_ONLY) timed_part += now() - t1;
	}
	return h;
}

/* a 3-level tree, `width` children each with `width` grandchildren */
static sum_t tree_2level(long n, long width, long unused)
{
	(void)unused;
	sum_t h = 0;
	long reps = n / (width * width) > 0 ? n / (width * width) : 1;
	for (long r = 0; r < reps; r++) {
		void *root = talloc_new(top);
		for (long i = 0; i < width; i++) {
			void *c = talloc_size(root, 24);
			for (long j = 0; j < width; j++) h += talloc_get_size(talloc_size(c, 40));
		}
		h += talloc_total_blocks(root);
		talloc_free(root);
	}
	return h;
}

/* talloc_total_size over a tree of `width` children, n/width times */
static sum_t total_size(long n, long width, long unused)
{
	(void)unused;
	void *root = talloc_new(top);
	for (long i = 0; i < width; i++) talloc_size(root, i & 63);
	sum_t h = 0;
	for (long r = 0; r < n / width; r++) h += talloc_total_size(root);
	talloc_free(root);
	return h;
}

/* ---- strings -------------------------------------------------------------- */

/* talloc_asprintf, `appends` times talloc_asprintf_append_buffer (buffer
 * set) or talloc_asprintf_append (which finds the end with strlen), free */
static sum_t asprintf_appends(long n, long appends, long buffer)
{
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		char *s = talloc_asprintf(top, "%s-%ld", "value", i & 1023);
		for (long j = 0; j < appends; j++)
			s = buffer ? talloc_asprintf_append_buffer(s, ":%ld", j) : talloc_asprintf_append(s, ":%ld", j);
		h += strlen(s);
		h = mix(h, (unsigned char)s[strlen(s) - 1]);
		talloc_free(s);
	}
	return h;
}

/* talloc_strdup + `appends` talloc_strdup_append_buffer, free */
static sum_t strdup_appends(long n, long appends, long unused)
{
	(void)unused;
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		char *s = talloc_strdup(top, mixed_strings[i & 3]);
		for (long j = 0; j < appends; j++) s = talloc_strdup_append_buffer(s, "/component");
		h += strlen(s);
		talloc_free(s);
	}
	return h;
}

static sum_t strndup_free(long n, long len, long unused)
{
	(void)unused;
	static const char text[] = "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789"
		"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789";
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		char *s = talloc_strndup(top, text + (i & 7), len);
		h = mix(h, strlen(s));
		talloc_free(s);
	}
	return h;
}

/* ---- realloc -------------------------------------------------------------- */

/* an int array grown by one element at a time to `len`, n/len times */
static sum_t realloc_grow(long n, long len, long unused)
{
	(void)unused;
	sum_t h = 0;
	long reps = n / len > 0 ? n / len : 1;
	for (long r = 0; r < reps; r++) {
		int *a = NULL;
		for (long k = 1; k <= len; k++) {
			a = talloc_realloc(top, a, int, k);
			a[k - 1] = (int)k;
		}
		h += talloc_get_size(a);
		h += a[len / 2];
		talloc_free(a);
	}
	return h;
}

/* an int array of `len` shrunk by one element at a time to one */
static sum_t realloc_shrink(long n, long len, long unused)
{
	(void)unused;
	sum_t h = 0;
	long reps = n / len > 0 ? n / len : 1;
	for (long r = 0; r < reps; r++) {
		int *a = talloc_array(top, int, len);
		for (long k = 0; k < len; k++) a[k] = (int)k;
		for (long k = len - 1; k >= 1; k--) {
			a = talloc_realloc(top, a, int, k);
			h += a[k - 1];
		}
		talloc_free(a);
	}
	return h;
}

/* an array doubled from 16 bytes to `len` bytes, n times */
static sum_t realloc_double(long n, long len, long unused)
{
	(void)unused;
	sum_t h = 0;
	for (long r = 0; r < n; r++) {
		char *a = talloc_size(top, 16);
		a[0] = 1;
		for (long sz = 32; sz <= len; sz *= 2) a = talloc_realloc_size(top, a, sz);
		h += talloc_get_size(a) + a[0];
		talloc_free(a);
	}
	return h;
}

/* ---- references ------------------------------------------------------------ */

/* a reference from another owner, removed by talloc_unlink */
static sum_t ref_add_unlink(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	void *owner = talloc_new(top), *obj = talloc_named_const(top, 16, "obj");
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		h += talloc_reference(owner, obj) == obj;
		h += talloc_unlink(owner, obj) == 0;
	}
	talloc_free(owner);
	talloc_free(obj);
	return h;
}

/* an object with a parent and a reference.  order 0: unlink the parent
 * first (the reference takes over), then the reference; 1: the reference
 * first, then the parent; 2: talloc_free (refused while referenced), then
 * the reference, then talloc_free; 3: the parent context freed, then the
 * reference unlinked */
static sum_t ref_orders(long n, long order, long unused)
{
	(void)unused;
	void *owner = talloc_new(top);
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		void *parent = talloc_new(top);
		void *obj = talloc_size(parent, 32);
		h += talloc_reference(owner, obj) == obj;
		h += talloc_reference_count(obj);
		switch (order) {
		case 0:
			h += talloc_unlink(parent, obj) == 0;
			h += talloc_parent(obj) == owner;
			h += talloc_unlink(owner, obj) == 0;
			talloc_free(parent);
			break;
		case 1:
			h += talloc_unlink(owner, obj) == 0;
			h += talloc_unlink(parent, obj) == 0;
			talloc_free(parent);
			break;
		case 2:
			h += talloc_free(obj) == -1;
			h += talloc_unlink(owner, obj) == 0;
			h += talloc_free(obj) == 0;
			talloc_free(parent);
			break;
		default:
			talloc_free(parent);
			h += talloc_parent(obj) == owner;
			h += talloc_unlink(owner, obj) == 0;
			break;
		}
	}
	h += talloc_total_blocks(owner);
	talloc_free(owner);
	return h;
}

/* ---- steal / move ----------------------------------------------------------- */

/* a chunk (with `kids` children) stolen back and forth between two trees */
static sum_t steal_between(long n, long kids, long unused)
{
	(void)unused;
	void *a = talloc_new(top), *b = talloc_new(top);
	void *obj = talloc_size(a, 64);
	for (long k = 0; k < kids; k++) talloc_size(obj, 16);
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		void *to = (i & 1) ? a : b;
		h += talloc_steal(to, obj) == obj;
		h += talloc_parent(obj) == to;
	}
	talloc_free(a);
	talloc_free(b);
	return h;
}

struct moved {
	long value;
};

/* talloc_move of an object to a new parent and back, through pointers */
static sum_t move_between(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	void *a = talloc_new(top), *b = talloc_new(top);
	struct moved *m = talloc(a, struct moved), *tmp;
	m->value = 7;
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		tmp = talloc_move(b, &m);
		h += m == NULL;
		m = talloc_move(a, &tmp);
		h += m->value;
	}
	talloc_free(a);
	talloc_free(b);
	return h;
}

/* talloc_reparent between two parents */
static sum_t reparent_between(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	void *a = talloc_new(top), *b = talloc_new(top);
	void *obj = talloc_size(a, 16);
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		void *from = (i & 1) ? b : a, *to = (i & 1) ? a : b;
		h += talloc_reparent(from, to, obj) == obj;
	}
	talloc_free(a);
	talloc_free(b);
	return h;
}

/* ---- names and types ---------------------------------------------------------- */

struct typed {
	int x;
};

static sum_t get_type_abort(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	struct typed *t = talloc(top, struct typed);
	t->x = 3;
	void *volatile anon = t;
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		struct typed *back = talloc_get_type_abort(anon, struct typed);
		h += back->x;
	}
	talloc_free(t);
	return h;
}

static sum_t typed_alloc_free(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		struct typed *t = talloc_zero(top, struct typed);
		h += t->x + (talloc_get_type(t, struct typed) == t);
		talloc_free(t);
	}
	return h;
}

static sum_t set_name_const(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	void *p = talloc_size(top, 8);
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		talloc_set_name_const(p, mixed_strings[i & 3]);
		h += strlen(talloc_get_name(p));
	}
	talloc_free(p);
	return h;
}

static sum_t set_name_format(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	void *p = talloc_size(top, 8);
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		talloc_set_name(p, "name-%ld", i & 255);
		h += strlen(talloc_get_name(p));
	}
	talloc_free(p);
	return h;
}

static sum_t check_name(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	void *p = talloc_named_const(top, 8, "struct smbd_server_connection");
	sum_t h = 0;
	for (long i = 0; i < n; i++) h += talloc_check_name(p, (i & 1) ? "struct smbd_server_connection" : "other") != NULL;
	talloc_free(p);
	return h;
}

/* ---- other calls ------------------------------------------------------------- */

static long destructor_calls;

static int count_destructor(void *p)
{
	(void)p;
	destructor_calls++;
	return 0;
}

static sum_t destructor_free(long n, long unused1, long unused2)
{
	(void)unused1; (void)unused2;
	destructor_calls = 0;
	for (long i = 0; i < n; i++) {
		void *p = talloc_size(top, 32);
		talloc_set_destructor(p, count_destructor);
		talloc_free(p);
	}
	return destructor_calls;
}

static sum_t zero_memdup(long n, long size, long unused)
{
	(void)unused;
	static const char src[1024] = "memdup source";
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		char *z = talloc_zero_size(top, size);
		char *d = talloc_memdup(z, src, size);
		h += z[size - 1] + d[0];
		talloc_free(z);
	}
	return h;
}

static sum_t array_free(long n, long count, long unused)
{
	(void)unused;
	sum_t h = 0;
	for (long i = 0; i < n; i++) {
		uint32_t *a = talloc_array(top, uint32_t, count);
		a[count - 1] = 5;
		h += talloc_array_length(a) + a[count - 1];
		talloc_free(a);
	}
	return h;
}

/* ---- threads ------------------------------------------------------------------ */

/* Threads that allocate side by side.  When there are no more of them than
 * usable CPUs, thread i runs on the i-th of those.  Each starts its work only
 * when all of them are running, and the time is from that start to the last
 * one's end (otherwise the scheduler sometimes leaves two threads on one CPU
 * for tens of milliseconds, which weighs more the faster the library). */
struct thread_run {
	long n;
	int k, mixed;
	atomic_int ready;
	atomic_int go;
	double end[64];
	sum_t sums[64];
};

struct thread_arg {
	struct thread_run *run;
	int index;
};

static void bind_to_cpu(int index, int k)
{
	cpu_set_t allowed, one;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0 || k > CPU_COUNT(&allowed)) return;
	int want = index;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &allowed) || want-- != 0) continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
		return;
	}
}

static void *thread_body(void *p)
{
	struct thread_arg *arg = p;
	struct thread_run *run = arg->run;
	bind_to_cpu(arg->index, run->k);
	atomic_fetch_add(&run->ready, 1);
	while (!atomic_load(&run->go)) sched_yield();
	void *own = talloc_named_const(NULL, 0, "thread top");
	sum_t h = 0;
	if (run->mixed) {
		h = mixed_3_under(own, run->n);
	} else {
		for (long i = 0; i < run->n; i++) {
			void *q = talloc_named_const(own, 0, "parent");
			h += talloc_get_size(talloc_size(q, 16));
			h += talloc_get_size(talloc_size(q, 32));
			h += talloc_get_size(talloc_size(q, 48));
			talloc_free(q);
		}
	}
	talloc_free(own);
	run->sums[arg->index] = h;
	run->end[arg->index] = now();
	return NULL;
}

/* k threads, each a hierarchy of its own doing n loops; times the part
 * from the common start to the last end */
static sum_t threads(long n, long k, long mixed)
{
	pthread_t th[64];
	struct thread_arg args[64];
	struct thread_run run = {.n = n, .k = (int)k, .mixed = (int)mixed};
	atomic_init(&run.ready, 0);
	atomic_init(&run.go, 0);
	for (int i = 0; i < k; i++) {
		args[i] = (struct thread_arg){.run = &run, .index = i};
		pthread_create(&th[i], NULL, thread_body, &args[i]);
	}
	while (atomic_load(&run.ready) < k) sched_yield();
	double start = now();
	atomic_store(&run.go, 1);
	for (int i = 0; i < k; i++) pthread_join(th[i], NULL);
	double last = start;
	sum_t h = 0;
	for (int i = 0; i < k; i++) {
		if (run.end[i] > last) last = run.end[i];
		h += run.sums[i];
	}
	timed_part = last - start;
	return h;
}

/* ---- the matrix ---------------------------------------------------------------- */

static void build_matrix(double scale)
{
	char name[48];
	long M = (long)(1000000 * scale);
	if (M < 1000) M = 1000;
	/* every slab class boundary (payloads 0..80 in 16-byte steps), every
	 * cache class boundary (payloads to 464) and beyond, to 64 KiB */
	static const long sizes[] = {0, 1, 16, 17, 32, 48, 64, 80, 81, 96, 128, 256, 464, 465, 512, 1024, 4096, 16384, 65536};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "alloc_free_%ld", sizes[i]);
		add(name, alloc_one, sizes[i] > 4096 ? M / 4 : M, sizes[i], 0, 0);
	}
	add("malloc_free_16", malloc_one, M, 16, 0, 0);
	static const long batch_sizes[] = {0, 16, 32, 80, 81, 256, 465, 4096};
	for (size_t i = 0; i < sizeof(batch_sizes) / sizeof(batch_sizes[0]); i++) {
		snprintf(name, sizeof(name), "batch1000_%ld", batch_sizes[i]);
		add(name, alloc_batch, batch_sizes[i] >= 4096 ? M / 20 : M, batch_sizes[i], 1000, 0);
	}
	add("tree_3_16_32_48", tree_3, M, 0, 0, 0);
	add("malloc_tree_3_16_32_48", malloc_tree_3, M, 0, 0, 0);
	add("tree_mixed_3", tree_mixed_3, M, 0, 0, 0);
	add("malloc_tree_mixed_3", malloc_tree_mixed_3, M, 0, 0, 0);
	static const long pools[] = {1024, 16384, 65536, 1048576};
	for (size_t i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "pool%ld_mixed_3", pools[i]);
		add(name, pool_mixed_3, M, pools[i], 0, 0);
	}
	static const long members[] = {16, 100, 1000};
	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < 3; j++) {
			snprintf(name, sizeof(name), "pool%ld_members4x%ld", pools[i], members[j]);
			add(name, pool_members, M / 2, pools[i], members[j], 0);
		}
	static const long req_pools[] = {256, 1024, 8192};
	for (size_t i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "pool_per_request%ld_4x%ld", req_pools[i], req_pools[i] / 8);
		add(name, pool_per_request, M / 2, req_pools[i], req_pools[i] / 8, 0);
	}
	static const long widths[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
	for (size_t i = 0; i < 7; i++) {
		snprintf(name, sizeof(name), "wide%ld_alloc_free", widths[i]);
		add(name, build_free, M, widths[i], 0, 0);
	}
	add("wide1000000_free_only", build_free, M, 1000000, FREE_ONLY, OWN);
	static const long depths[] = {1, 10, 100, 1000, 10000, 100000};
	for (size_t i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "deep%ld_alloc_free", depths[i]);
		add(name, build_free, M / 2, depths[i], CHAIN, 0);
	}
	add("deep100000_free_only", build_free, 100000, 100000, CHAIN | FREE_ONLY, OWN);
	add("tree_2level_30x30", tree_2level, M / 2, 30, 0, 0);
	add("total_size_1000", total_size, M * 10, 1000, 0, 0);
	static const long appends[] = {0, 1, 8, 64};
	for (size_t i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "asprintf_append_buffer_%ld", appends[i]);
		add(name, asprintf_appends, appends[i] >= 64 ? M / 32 : M / 4, appends[i], 1, 0);
	}
	add("asprintf_append_1", asprintf_appends, M / 4, 1, 0, 0);
	add("asprintf_append_8", asprintf_appends, M / 8, 8, 0, 0);
	add("strdup_append_buffer_0", strdup_appends, M, 0, 0, 0);
	add("strdup_append_buffer_1", strdup_appends, M / 2, 1, 0, 0);
	add("strdup_append_buffer_16", strdup_appends, M / 16, 16, 0, 0);
	add("strndup_free_20", strndup_free, M, 20, 0, 0);
	add("strndup_free_120", strndup_free, M, 120, 0, 0);
	add("realloc_grow_200", realloc_grow, M * 2, 200, 0, 0);
	add("realloc_grow_1m", realloc_grow, M, 1000000, 0, 0);
	add("realloc_shrink_200", realloc_shrink, M * 2, 200, 0, 0);
	add("realloc_shrink_100k", realloc_shrink, M / 4, 100000, 0, 0);
	add("realloc_double_64k", realloc_double, M / 50, 65536, 0, 0);
	add("realloc_double_1m", realloc_double, M / 1000, 1048576, 0, 0);
	add("ref_add_unlink", ref_add_unlink, M, 0, 0, 0);
	add("ref_parent_first", ref_orders, M / 2, 0, 0, 0);
	add("ref_reference_first", ref_orders, M / 2, 1, 0, 0);
	add("ref_free_refused", ref_orders, M / 2, 2, 0, 0);
	add("ref_parent_freed", ref_orders, M / 2, 3, 0, 0);
	add("steal_leaf", steal_between, M * 2, 0, 0, 0);
	add("steal_with_100_children", steal_between, M * 2, 100, 0, 0);
	add("move_back_and_forth", move_between, M, 0, 0, 0);
	add("reparent", reparent_between, M * 2, 0, 0, 0);
	add("get_type_abort", get_type_abort, M * 10, 0, 0, 0);
	add("typed_zero_alloc_free", typed_alloc_free, M, 0, 0, 0);
	add("set_name_const", set_name_const, M * 4, 0, 0, 0);
	add("set_name_format", set_name_format, M / 2, 0, 0, 0);
	add("check_name", check_name, M * 4, 0, 0, 0);
	add("destructor_free", destructor_free, M, 0, 0, 0);
	add("zero_memdup_64", zero_memdup, M, 64, 0, 0);
	add("zero_memdup_1024", zero_memdup, M / 2, 1024, 0, 0);
	add("array_free_10", array_free, M, 10, 0, 0);
	add("array_free_1000", array_free, M / 4, 1000, 0, 0);
	for (int k = 1; k <= 4; k++) {
		snprintf(name, sizeof(name), "threads%d_tree_3", k);
		add(name, threads, M / 2, k, 0, WALL);
	}
	add("threads2_mixed_3", threads, M / 2, 2, 1, WALL);
}

int main(int argc, char **argv)
{
	double scale = argc > 1 && strcmp(argv[1], "list") != 0 ? atof(argv[1]) : 1.0;
	const char *filter = argc > 2 ? argv[2] : "";
	build_matrix(scale);
	if (argc > 1 && strcmp(argv[1], "list") == 0) {
		list_rows();
		return 0;
	}
	talloc_disable_null_tracking();
	top = talloc_named_const(NULL, 0, "top");
	run_rows(filter);

	/* heap bytes per 16-byte chunk, as malloc accounts them */
	if (row_selected("heap_per_16b_chunk", filter)) {
		void *heap = talloc_named_const(top, 0, "heap");
		struct mallinfo2 before = mallinfo2();
		for (int i = 0; i < 100000; i++) talloc_size(heap, 16);
		struct mallinfo2 after = mallinfo2();
		printf("heap_per_16b_chunk %.1f %zu\n", (double)(after.uordblks - before.uordblks) / 100000.0,
		       talloc_total_size(heap));
		talloc_free(heap);
	}
	talloc_free(top);
	return 0;
}
