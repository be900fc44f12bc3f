/* talloc workloads for the side-by-side benchmark (tools/bench/run.py).
 * Built once against Debian's talloc headers; the runner runs the same binary
 * on the reference library and, through LD_LIBRARY_PATH, on ours.
 * Prints one "name value unit" line per workload: seconds, or bytes. */
#define _GNU_SOURCE
#include <malloc.h>
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static volatile void *sink;

static void alloc_free(void *top, long n)
{
	for (long i = 0; i < n; i++) {
		void *p = talloc_named_const(top, 0, "parent");
		sink = talloc_size(p, 16);
		sink = talloc_size(p, 32);
		sink = talloc_size(p, 48);
		talloc_free(p);
	}
}

/* Called through volatile pointers so the compiler cannot elide the pairs. */
static void *(*volatile sys_malloc)(size_t) = malloc;
static void (*volatile sys_free)(void *) = free;

static void malloc_free(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = sys_malloc(16), *a = sys_malloc(16), *b = sys_malloc(32), *c = sys_malloc(48);
		sys_free(a); sys_free(b); sys_free(c); sys_free(p);
	}
}

/* Threads that allocate side by side.  When there are no more of them than
 * usable CPUs, thread i runs on the i-th of those.  Each starts its work
 * only when all of them are running, and the time is from that start to
 * the last one's end.  Otherwise the scheduler sometimes leaves two threads
 * on one CPU for tens of milliseconds (seen here: either library's two
 * threads then take twice as long), which weighs more the shorter the run,
 * i.e. the faster the library; and starting threads costs the same with
 * both. */
struct thread_run {
	long n;
	int k;
	atomic_int ready;
	atomic_int go;
	double end[64];
};

/* Counts the caller as running, then waits for the start signal (yielding,
 * so that threads not yet running get a CPU when there are more threads
 * than CPUs). */
static void wait_for_start(struct thread_run *run)
{
	atomic_fetch_add(&run->ready, 1);
	while (!atomic_load(&run->go)) sched_yield();
}

struct thread_arg {
	struct thread_run *run;
	int index;
};

/* Binds the calling thread, one of k, to the index-th CPU it may run on;
 * more threads than CPUs are left to the scheduler to spread. */
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

static void *thread_alloc_free(void *p)
{
	struct thread_arg *arg = p;
	bind_to_cpu(arg->index, arg->run->k);
	wait_for_start(arg->run);
	void *top = talloc_named_const(NULL, 0, "thread top");
	alloc_free(top, arg->run->n);
	talloc_free(top);
	arg->run->end[arg->index] = now();
	return NULL;
}

/* Runs alloc_free on k threads, each on its own hierarchy; the wall time. */
static double threads_alloc_free(int k, long n)
{
	pthread_t th[64];
	struct thread_arg args[64];
	struct thread_run run = {.n = n, .k = k};
	atomic_init(&run.ready, 0);
	atomic_init(&run.go, 0);
	for (int i = 0; i < k; i++) {
		args[i] = (struct thread_arg){.run = &run, .index = i};
		pthread_create(&th[i], NULL, thread_alloc_free, &args[i]);
	}
	while (atomic_load(&run.ready) < k) sched_yield();
	double start = now();
	atomic_store(&run.go, 1);
	for (int i = 0; i < k; i++) pthread_join(th[i], NULL);
	double last = start;
	for (int i = 0; i < k; i++)
		if (run.end[i] > last) last = run.end[i];
	return last - start;
}

/* "threads K [SCALE]": K threads, each running alloc_free on its own
 * hierarchy; prints the wall time (for the scaling curve). */
static int threads_mode(int k, double scale)
{
	if (k < 1 || k > 64) return 2;
	printf("threads_%d %.6f s\n", k, threads_alloc_free(k, (long)(1000000 * scale)));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "threads") == 0) {
		talloc_disable_null_tracking();
		return threads_mode(atoi(argv[2]), argc > 3 ? atof(argv[3]) : 1.0);
	}
	double scale = argc > 1 ? atof(argv[1]) : 1.0;
	long n = (long)(1000000 * scale);
	double t;
	void *top = talloc_named_const(NULL, 0, "top");

	talloc_disable_null_tracking();

	t = now(); alloc_free(top, n); printf("alloc_free %.6f s\n", now() - t);
	t = now(); malloc_free(n); printf("malloc_free %.6f s\n", now() - t);

	void *pool = talloc_pool(top, 64 * 1024);
	t = now(); alloc_free(pool, n); printf("pool_alloc_free %.6f s\n", now() - t);
	talloc_free(pool);

	void *wide = talloc_named_const(top, 0, "wide");
	for (long i = 0; i < 1000000 * scale; i++) sink = talloc_size(wide, 16);
	t = now(); talloc_free(wide); printf("free_1m_children %.6f s\n", now() - t);

	void *deep = talloc_named_const(top, 0, "deep"), *p = deep;
	for (long i = 0; i < 100000; i++) p = talloc_size(p, 16);
	t = now(); talloc_free(deep); printf("free_100k_deep %.6f s\n", now() - t);

	t = now();
	for (long i = 0; i < n / 4; i++) {
		char *s = talloc_asprintf(top, "%s-%ld", "value", i);
		for (int j = 0; j < 8; j++) s = talloc_asprintf_append_buffer(s, ":%d", j);
		talloc_free(s);
	}
	printf("asprintf_append %.6f s\n", now() - t);

	t = now();
	for (long i = 0; i < n / 100; i++) {
		int *a = NULL;
		for (int len = 1; len <= 200; len++) {
			a = talloc_realloc(top, a, int, len);
			a[len - 1] = len;
		}
		talloc_free(a);
	}
	printf("realloc_growth %.6f s\n", now() - t);

	void *owner = talloc_named_const(top, 0, "owner");
	void *obj = talloc_named_const(top, 16, "obj");
	t = now();
	for (long i = 0; i < n; i++) {
		talloc_reference(owner, obj);
		talloc_unlink(owner, obj);
	}
	printf("reference_unlink %.6f s\n", now() - t);

	printf("two_threads %.6f s\n", threads_alloc_free(2, n));

	/* heap bytes per 16-byte chunk, as malloc accounts them */
	void *heap = talloc_named_const(top, 0, "heap");
	struct mallinfo2 before = mallinfo2();
	for (int i = 0; i < 100000; i++) sink = talloc_size(heap, 16);
	struct mallinfo2 after = mallinfo2();
	printf("heap_per_16b_chunk %.1f bytes\n", (double)(after.uordblks - before.uordblks) / 100000.0);
	talloc_free(heap);

	talloc_free(top);
	return 0;
}
