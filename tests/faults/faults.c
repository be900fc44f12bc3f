/* The malloc interposer and the case runner behind faults.h. */
#include "faults.h"

#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>

#include <talloc.h>

/* glibc's own entry points: the definitions below replace malloc & co. for
 * the whole process (libtalloc and libtevent included) and forward here. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void __libc_free(void *ptr);

static __thread long t_countdown;   /* >0: allocations left before the failing one */
static __thread long t_allocs;      /* allocations since fault_arm() */
static __thread long t_failures;    /* injected failures since fault_arm() */
static __thread bool t_armed;
static __thread bool t_track;

/* ---- live-block table ------------------------------------------------------
 * Open addressing with tombstones; cleared whenever it empties, so the
 * tombstones of one scenario never pile up into the next. */
#define SLOT_BITS 18
#define SLOTS (1u << SLOT_BITS)
#define TOMB ((void *)1)

static void *g_slots[SLOTS];
static size_t g_used;     /* slots not empty (live or tombstone) */
static size_t g_live;     /* live tracked blocks */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(const void *p) {
    return (size_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull >> (64 - SLOT_BITS));
}

static void table_add(void *p) {
    pthread_mutex_lock(&g_lock);
    if (g_live == 0 && g_used > 0) {
        memset(g_slots, 0, sizeof(g_slots));
        g_used = 0;
    }
    if (g_used >= SLOTS / 2) {
        /* A scenario is a handful of calls; this many blocks means the
         * harness itself is broken. */
        static const char msg[] = "faults: live-block table full\n";
        fwrite(msg, 1, sizeof(msg) - 1, stderr);
        abort();
    }
    size_t i = slot_of(p);
    while (g_slots[i] != NULL && g_slots[i] != TOMB) i = (i + 1) & (SLOTS - 1);
    if (g_slots[i] == NULL) g_used++;
    g_slots[i] = p;
    g_live++;
    pthread_mutex_unlock(&g_lock);
}

/* Forgets p if it is tracked; blocks allocated untracked are not there. */
static void table_remove(void *p) {
    if (__atomic_load_n(&g_live, __ATOMIC_RELAXED) == 0) return;
    pthread_mutex_lock(&g_lock);
    for (size_t i = slot_of(p); g_slots[i] != NULL; i = (i + 1) & (SLOTS - 1)) {
        if (g_slots[i] == p) {
            g_slots[i] = TOMB;
            g_live--;
            break;
        }
    }
    pthread_mutex_unlock(&g_lock);
}

/* Decides whether this allocation is the one that fails. */
static bool inject(void) {
    if (!t_armed) return false;
    t_allocs++;
    if (t_countdown > 0 && --t_countdown == 0) {
        t_failures++;
        return true;
    }
    return false;
}

void *malloc(size_t size) {
    if (inject()) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = __libc_malloc(size);
    if (p != NULL && t_track) table_add(p);
    return p;
}

void *calloc(size_t n, size_t size) {
    if (inject()) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = __libc_calloc(n, size);
    if (p != NULL && t_track) table_add(p);
    return p;
}

void *realloc(void *ptr, size_t size) {
    if (ptr == NULL) return malloc(size);
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    if (inject()) {
        errno = ENOMEM;
        return NULL;  /* ptr stays valid, as with a real failing realloc */
    }
    void *p = __libc_realloc(ptr, size);
    if (p != NULL) {
        /* The block keeps being tracked if it was; a block grown by a
         * tracking thread starts being tracked. */
        bool was = false;
        if (__atomic_load_n(&g_live, __ATOMIC_RELAXED) != 0) {
            pthread_mutex_lock(&g_lock);
            for (size_t i = slot_of(ptr); g_slots[i] != NULL; i = (i + 1) & (SLOTS - 1)) {
                if (g_slots[i] == ptr) {
                    g_slots[i] = TOMB;
                    g_live--;
                    was = true;
                    break;
                }
            }
            pthread_mutex_unlock(&g_lock);
        }
        if (was || t_track) table_add(p);
    }
    return p;
}

void free(void *ptr) {
    if (ptr == NULL) return;
    table_remove(ptr);
    __libc_free(ptr);
}

void fault_arm(long n) {
    t_countdown = n;
    t_allocs = 0;
    t_failures = 0;
    t_armed = true;
}

long fault_disarm(void) {
    t_armed = false;
    t_countdown = 0;
    return t_failures;
}

long fault_count(void) { return t_allocs; }

void fault_track(bool on) { t_track = on; }

size_t fault_tracked_live(void **first) {
    pthread_mutex_lock(&g_lock);
    size_t live = g_live;
    if (first != NULL) {
        *first = NULL;
        for (size_t i = 0; i < SLOTS && live > 0; i++) {
            if (g_slots[i] != NULL && g_slots[i] != TOMB) {
                *first = g_slots[i];
                break;
            }
        }
    }
    pthread_mutex_unlock(&g_lock);
    return live;
}

int fault_open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') n++;
    }
    closedir(d);
    return n - 1;  /* the directory's own descriptor */
}

/* ---- the runner ------------------------------------------------------------ */

static const char *g_case;
static long g_n;
static int g_failures;

void fault_check_at(bool ok, const char *what, const char *file, int line) {
    if (ok) return;
    __atomic_add_fetch(&g_failures, 1, __ATOMIC_RELAXED);
    fprintf(stderr, "FAIL %s (n=%ld): %s at %s:%d\n", g_case, g_n, what, file, line);
}

struct run_args {
    const struct fault_case *c;
    long n;
    void *(*make_ctx)(void);
    void (*free_ctx)(void *);
    bool track;
    bool done;
};

static void *run_thread(void *arg) {
    struct run_args *a = arg;
    fault_track(a->track);
    void *ctx = a->make_ctx();
    a->done = a->c->run(ctx, a->n);
    a->free_ctx(ctx);
    fault_track(false);
    return NULL;
}

/* The thread's exit releases its talloc block cache, so it only counts as
 * freed once the thread is joined. */
static bool run_once(struct run_args *a) {
    pthread_t t;
    if (pthread_create(&t, NULL, run_thread, a) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        abort();
    }
    pthread_join(t, NULL);
    return a->done;
}

int fault_run_cases(const struct fault_case *cases, size_t ncases,
                    void *(*make_ctx)(void), void (*free_ctx)(void *)) {
    for (size_t i = 0; i < ncases; i++) {
        const struct fault_case *c = &cases[i];
        g_case = c->name;
        /* Warm-up without failures or tracking: lazily created globals
         * (stdio buffers, registries) are not leaks of the call. */
        struct run_args warm = {c, 0, make_ctx, free_ctx, false, false};
        g_n = 0;
        if (!run_once(&warm)) fault_check_at(false, "completes without injected failures", __FILE__, __LINE__);
        int fds = fault_open_fds();
        long n;
        for (n = 1; n < 100000; n++) {
            g_n = n;
            /* FAULT_TRACE=1 names each run before it starts (to find a hang). */
            if (getenv("FAULT_TRACE") != NULL) {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                fprintf(stderr, "%ld.%03ld run %s n=%ld\n", (long)ts.tv_sec, ts.tv_nsec / 1000000, c->name, n);
            }
            struct run_args a = {c, n, make_ctx, free_ctx, true, false};
            bool done = run_once(&a);
            void *first;
            size_t live = fault_tracked_live(&first);
            if (live != 0) {
                fprintf(stderr, "FAIL %s (n=%ld): %zu blocks leaked (first %p)\n", c->name, n, live, first);
                g_failures++;
                /* Forget them so the next run starts clean. */
                pthread_mutex_lock(&g_lock);
                memset(g_slots, 0, sizeof(g_slots));
                g_used = g_live = 0;
                pthread_mutex_unlock(&g_lock);
            }
            int now = fault_open_fds();
            if (now != fds) {
                fprintf(stderr, "FAIL %s (n=%ld): %d descriptors open, %d before\n", c->name, n, now, fds);
                g_failures++;
            }
            if (done) break;
        }
        printf("%-40s %ld allocation points\n", c->name, n - 1);
        fflush(stdout);
    }
    return g_failures;
}

/* Both fault programs give each run a fresh named talloc context: what the
 * scenario allocates hangs off it and goes with it. */
static void *make_talloc_ctx(void) { return talloc_named_const(NULL, 0, "fault ctx"); }
static void free_talloc_ctx(void *ctx) { talloc_free(ctx); }

int fault_main(const struct fault_case *cases, size_t ncases) {
    int failures = fault_run_cases(cases, ncases, make_talloc_ctx, free_talloc_ctx);
    printf("%d failed checks\n", failures);
    return failures == 0 ? 0 : 1;
}
