/*
 * Attack suite: talloc's heap metadata probed as an attacker would.
 *
 * Built once against Debian's talloc.h and libtalloc (the reference) and
 * run unchanged on both libraries (ours through LD_LIBRARY_PATH, see
 * tools/attack-matrix.py).  Every case runs in a forked child, so a crash
 * or a corrupted heap stays there; the child tells the parent what happened
 * through a pipe, and the parent prints one line per case:
 *
 *   case <TAB> kind <TAB> attack <TAB> parameter <TAB> OUTCOME <TAB> detail
 *
 * Outcomes:
 *   REPORTED     talloc called the abort function (the reason is the detail)
 *   EXPLOITED    a value the attacker forged was used: a forged destructor
 *                ran or the program jumped to a forged destructor pointer, a
 *                getter returned the forged name/size/parent, a pointer into
 *                attacker memory was handed out, or talloc wrote through a
 *                forged pointer into attacker memory (seen by comparing the
 *                attacker's buffer with its snapshot)
 *   CRASHED      the child died of a signal (SIGABRT raised by glibc, say
 *                "free(): invalid size", or SIGSEGV), with talloc silent
 *   UNNOTICED    the operation returned and nothing of the above happened
 *   NOT-ADJACENT no allocation of B right behind A was found, so the
 *                overflow case could not be set up on this library
 *   LAYOUT-UNKNOWN the header layout table does not match this library
 *   FOUND / NOT-FOUND  the secret in freed-then-reused memory (the scan)
 *   MEASURED     the entropy of the secret (how many values, which bits)
 *
 * When several things happen, EXPLOITED wins over REPORTED (the attacker
 * already had control), which wins over CRASHED.
 *
 * Layouts: the forged-pointer cases and the secret reads need to know where
 * a header keeps its fields.  The offsets of both libraries are in the
 * table below, picked by talloc_version_minor() (4: Debian's 2.4.0, 5:
 * ours), and checked against a live chunk at start-up; when the check fails
 * (the layout changed) the cases that depend on it print LAYOUT-UNKNOWN.
 *
 * Internal modes (the program execs itself for what needs a fresh process,
 * since fork() keeps the secret): --print-magic, --guess VALUE.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <talloc.h>

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

/* ---- header layouts -------------------------------------------------------- */

#define NOFF (-9999) /* the library has no such field */

struct layout {
	const char *name;
	long hdr;        /* header start to payload */
	long flags;      /* 32-bit word holding the magic */
	uint32_t mask;   /* bits of that word that are not magic */
	long next, prev, parent, child, refs, destructor, name_off, size, limit, pool;
	int size_bytes;
	int prev_tags_parent; /* the first child's prev slot holds parent|1 */
	long guard;      /* pool member: keyed guard word (relative to the header) */
	long prefix;     /* pool member: bytes of metadata in front of the header */
	int keyed;       /* the check word depends on the chunk's address */
};

/* Debian's 2.4.0: struct talloc_chunk { unsigned flags; next, prev, parent,
 * child, refs, destructor, name; size_t size; limit; pool; }, 96 bytes with
 * the alignment padding; the magic is flags & ~0xf. */
static const struct layout layout_ref = {
	"reference-2.4", 96, 0, 0x0f,
	8, 16, 24, 32, 40, 48, 56, 64, 72, 80,
	8, 0, NOFF, 0, 0,
};

/* Ours (lib/talloc/chunk.hpp, pool.hpp): uint32 check word (keyed with the
 * chunk's address, all 32 bits secret), uint32 size, next, prev_link
 * (parent|1 on the first child), child, name_or_ext, destructor in the low
 * 48 bits of the last word with the flags in its upper 16; a pool member
 * has 48 bytes in front of the header: guard word, 24 spare bytes, owner
 * PoolHeader*, padding. */
static const struct layout layout_ours = {
	"ours-2.5", 48, 0, 0,
	8, 16, NOFF, 24, NOFF, 40, 32, 4, NOFF, -16,
	4, 1, -48, 48, 1,
};

static const struct layout *L;
static int layout_ok;
static char lib_path[512];

static char *hdr_of(const void *p) { return (char *)p - L->hdr; }

static void put_word(char *h, long off, uintptr_t v)
{
	if (off != NOFF) memcpy(h + off, &v, sizeof(v));
}

static uintptr_t get_word(const char *h, long off)
{
	uintptr_t v = 0;
	if (off != NOFF) memcpy(&v, h + off, sizeof(v));
	return v;
}

static uint32_t get_flags(const void *p)
{
	uint32_t v;
	memcpy(&v, hdr_of(p) + L->flags, sizeof(v));
	return v;
}

static uint32_t magic_of(const void *p) { return get_flags(p) & ~L->mask; }

static int probe_destructor(void *p) { (void)p; return 0; }

/* Checks the table against live chunks: a named chunk with a destructor,
 * its two children (next, first-child parent link, child slot). */
static int check_layout(void)
{
	void *p = talloc_named_const(NULL, 1237, "layout-probe");
	void *c1 = talloc_size(p, 8), *c2 = talloc_size(p, 8);
	char *h = hdr_of(p), *h1 = hdr_of(c1), *h2 = hdr_of(c2);
	size_t size = 0;
	int ok;

	talloc_set_destructor(p, probe_destructor);
	memcpy(&size, h + L->size, (size_t)L->size_bytes);
	ok = get_word(h, L->destructor) == (uintptr_t)probe_destructor &&
	     get_word(h, L->name_off) == (uintptr_t)talloc_get_name(p) &&
	     size == 1237 &&
	     get_word(h, L->child) == (uintptr_t)h2 &&
	     get_word(h2, L->next) == (uintptr_t)h1 &&
	     get_word(h1, L->prev) == (uintptr_t)h2 &&
	     (L->keyed ? magic_of(c1) != magic_of(c2) :
			 magic_of(c1) == magic_of(c2) && magic_of(p) == magic_of(c1));
	if (L->prev_tags_parent)
		ok = ok && get_word(h2, L->prev) == ((uintptr_t)h | 1);
	else
		ok = ok && get_word(h2, L->parent) == (uintptr_t)h && get_word(h2, L->prev) == 0;
	talloc_set_destructor(p, NULL);
	talloc_free(p);
	return ok;
}

static void pick_layout(void)
{
	Dl_info info;
	L = talloc_version_minor() >= 5 ? &layout_ours : &layout_ref;
	layout_ok = check_layout();
	if (dladdr((void *)talloc_named_const, &info) != 0 && info.dli_fname != NULL)
		snprintf(lib_path, sizeof(lib_path), "%s", info.dli_fname);
	else
		snprintf(lib_path, sizeof(lib_path), "?");
}

/* ---- the attacker's memory ------------------------------------------------- */

/*
 * One page-aligned buffer the attacker owns.  W, the value the overflows
 * spray, is the payload address of a fake chunk F (whose header sits in
 * front of W) and at the same time the address of a fake header G (for the
 * slots that hold header addresses: next, prev, parent, child).  Both fakes
 * carry the attacker's destructor and name, a forged size, and a flags word
 * of 0 (the attacker does not know the secret).  G's parent is a third fake,
 * P; a fake pool header Q describes a pool area inside the buffer.
 */
#define REGION_BYTES 32768
static char region[REGION_BYTES] __attribute__((aligned(4096)));
static char region_snapshot[REGION_BYTES];
#define W_AT 4096
#define P_AT 12288
#define Q_AT 20480
#define FORGED_SIZE 0x41414141u
static const char attacker_name[] = "ATTACKER-NAME";

static int evfd = -1;          /* child -> parent events */
static int abort_returns;      /* the guessing loop's abort function returns */
static volatile unsigned long *loop_counter;

static void ev(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void ev(const char *fmt, ...)
{
	char buf[600];
	int n;
	va_list ap;
	if (evfd < 0) return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0) return;
	if (n > (int)sizeof(buf) - 2) n = (int)sizeof(buf) - 2;
	/* one line per event: flatten the library's newlines */
	for (int i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\t') buf[i] = ' ';
	buf[n++] = '\n';
	if (write(evfd, buf, (size_t)n) < 0) _exit(99);
}

static int attacker_destructor(void *p)
{
	ev("E forged destructor ran (on %p)", p);
	return 0;
}

static uintptr_t W(void) { return (uintptr_t)(region + W_AT); }

static int in_region(const void *p)
{
	return (const char *)p >= region && (const char *)p < region + REGION_BYTES;
}

static void fake_header(char *h, uint32_t flags)
{
	memset(h - L->prefix, 0, (size_t)(L->hdr + L->prefix));
	memcpy(h + L->flags, &flags, sizeof(flags));
	put_word(h, L->destructor, (uintptr_t)attacker_destructor);
	put_word(h, L->name_off, (uintptr_t)attacker_name);
	if (L->size_bytes == 8) put_word(h, L->size, FORGED_SIZE);
	else memcpy(h + L->size, &(uint32_t){FORGED_SIZE}, 4);
}

static void build_region(void)
{
	char *w = region + W_AT, *p = region + P_AT, *q = region + Q_AT;
	memset(region, 0, sizeof(region));
	fake_header(w - L->hdr, 0);   /* F, payload at W */
	fake_header(p, 0);            /* P */
	fake_header(w, 0);            /* G, header at W */
	if (L->prev_tags_parent) put_word(w, L->prev, (uintptr_t)p | 1);
	else put_word(w, L->parent, (uintptr_t)p);
	/* Q: a pool header whose free area lies in the buffer */
	if (L == &layout_ours) {
		/* PoolHeader { u32 check; u32 count; char *end; self; limit },
		 * the check word 0 (the attacker does not know the secret) */
		uint32_t count = 2;
		memcpy(q + 4, &count, 4);
		put_word(q, 8, (uintptr_t)(q + 256));
		put_word(q, 16, (uintptr_t)q);
		put_word(q, 24, (uintptr_t)(q + 256 + 4096));
	} else {
		/* talloc_pool_hdr { void *end; unsigned count; size_t poolsize; },
		 * 32 bytes, then the pool's chunk header */
		put_word(q, 0, (uintptr_t)(q + 32 + 96 + 64));
		unsigned count = 2;
		memcpy(q + 8, &count, 4);
		put_word(q, 16, 4096);
	}
	memcpy(region_snapshot, region, sizeof(region));
}

/* Reports writes into the attacker's buffer (async-signal-safe). */
static int region_written(void)
{
	for (size_t i = 0; i < sizeof(region); i++)
		if (region[i] != region_snapshot[i]) {
			ev("E write through a forged pointer into attacker memory (+%zu)", i);
			return 1;
		}
	return 0;
}

/* ---- the child's side ------------------------------------------------------ */

static unsigned long abort_calls;

static void on_abort(const char *reason)
{
	/* a returning abort function is called once per guess: one event */
	/* what the library wrote through forged pointers before it noticed */
	if (!abort_returns) region_written();
	if (!abort_returns || abort_calls++ == 0) ev("R %s", reason);
	if (abort_returns) return;
	_exit(0);
}

static void on_log(const char *msg)
{
	ev("L %s", msg);
}

static void on_signal(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	uintptr_t pc = 0;
#if defined(__x86_64__)
	pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
	pc = (uintptr_t)uc->uc_mcontext.pc;
#else
	(void)uc;
#endif
	(void)si;
	if (in_region((void *)pc))
		ev("E jumped to a forged destructor pointer (pc=%p)", (void *)pc);
	region_written();
	if (loop_counter != NULL)
		ev("G stopped after %lu guesses", *loop_counter);
	ev("S %d", sig);
	/* SA_RESETHAND: the default action ends the process */
	if (sig == SIGABRT || sig == SIGALRM) raise(sig);
}

static void child_setup(int fd)
{
	static char altstack[65536];
	stack_t st = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa;
	evfd = fd;
	sigaltstack(&st, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	talloc_set_abort_fn(on_abort);
	talloc_set_log_fn(on_log);
	alarm(20);
}

/* ---- running one case -------------------------------------------------------- */

struct result {
	char outcome[16];
	char detail[400];
	char reason[200];   /* first abort reason, if any */
	char guesses[80];
};

static void append(char *dst, size_t cap, const char *s)
{
	size_t n = strlen(dst);
	if (n + 3 >= cap) return;
	snprintf(dst + n, cap - n, "%s%s", n ? "; " : "", s);
}

static void classify(const char *events, const char *err, int status, struct result *r)
{
	const char *line = events;
	char exploited[200] = "", adjacency[100] = "", done[200] = "", found[20] = "";
	int reported = 0, not_adjacent = 0, layout_unknown = 0, reported_first = 0;

	memset(r, 0, sizeof(*r));
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[600];
		if (len >= sizeof(buf)) len = sizeof(buf) - 1;
		memcpy(buf, line, len);
		buf[len] = 0;
		if (len < 2) buf[1] = 0, buf[2] = 0; /* an event without text */
		switch (buf[0]) {
		case 'E': if (!exploited[0]) snprintf(exploited, sizeof(exploited), "%s", buf + 2); break;
		case 'R':
			if (!reported++) snprintf(r->reason, sizeof(r->reason), "%s", buf + 2);
			if (!exploited[0]) reported_first = 1;
			break;
		case 'N': not_adjacent = 1; snprintf(adjacency, sizeof(adjacency), "%s", buf + 2); break;
		case 'U': layout_unknown = 1; break;
		case 'G': snprintf(r->guesses, sizeof(r->guesses), "%s", buf + 2); break;
		case 'D': snprintf(done, sizeof(done), "%s", buf + 2); break;
		case 'F': snprintf(found, sizeof(found), "%s", buf + 2); break;
		case 'A': append(r->detail, sizeof(r->detail), buf + 2); break;
		default: break;
		}
		line = end ? end + 1 : line + len;
	}
	if (exploited[0]) {
		snprintf(r->outcome, sizeof(r->outcome), "EXPLOITED");
		append(r->detail, sizeof(r->detail), exploited);
		if (reported) {
			char s[260];
			snprintf(s, sizeof(s), "%s: %s", reported_first ? "after reports" : "then reported", r->reason);
			append(r->detail, sizeof(r->detail), s);
		}
	} else if (reported) {
		snprintf(r->outcome, sizeof(r->outcome), "REPORTED");
		append(r->detail, sizeof(r->detail), r->reason);
		if (WIFSIGNALED(status)) {
			/* an abort function that returned, and the library went on */
			char s[40];
			snprintf(s, sizeof(s), "then %s", WTERMSIG(status) == SIGSEGV ? "SIGSEGV" :
				 WTERMSIG(status) == SIGABRT ? "SIGABRT" : strsignal(WTERMSIG(status)));
			append(r->detail, sizeof(r->detail), s);
		}
	} else if (found[0] && WIFEXITED(status)) {
		/* the scan of freed memory: FOUND / NOT-FOUND */
		snprintf(r->outcome, sizeof(r->outcome), "%s", found);
	} else if (not_adjacent) {
		snprintf(r->outcome, sizeof(r->outcome), "NOT-ADJACENT");
		append(r->detail, sizeof(r->detail), adjacency);
	} else if (layout_unknown) {
		snprintf(r->outcome, sizeof(r->outcome), "LAYOUT-UNKNOWN");
	} else if (WIFSIGNALED(status)) {
		char s[300];
		int sig = WTERMSIG(status);
		char msg[200] = "";
		/* glibc's own message (malloc_printerr), first line */
		snprintf(msg, sizeof(msg), "%s", err);
		msg[strcspn(msg, "\n")] = 0;
		snprintf(r->outcome, sizeof(r->outcome), "CRASHED");
		snprintf(s, sizeof(s), "%s%s%s", sig == SIGABRT ? "SIGABRT" : sig == SIGSEGV ? "SIGSEGV" :
			 sig == SIGALRM ? "SIGALRM (hang)" : strsignal(sig), msg[0] ? ": " : "", msg);
		append(r->detail, sizeof(r->detail), s);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		char s[40];
		snprintf(r->outcome, sizeof(r->outcome), "CRASHED");
		snprintf(s, sizeof(s), "exit %d", WEXITSTATUS(status));
		append(r->detail, sizeof(r->detail), s);
	} else {
		snprintf(r->outcome, sizeof(r->outcome), "UNNOTICED");
		if (done[0]) append(r->detail, sizeof(r->detail), done);
	}
}

/* Forks, runs fn(arg) in the child, collects its events and stderr. */
static void run_case(void (*fn)(long), long arg, struct result *r)
{
	int evp[2], errp[2], status = 0;
	static char events[65536], err[4096];
	size_t nev = 0, nerr = 0;
	pid_t pid;

	if (pipe(evp) != 0 || pipe(errp) != 0) { perror("pipe"); exit(1); }
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) { perror("fork"); exit(1); }
	if (pid == 0) {
		close(evp[0]);
		close(errp[0]);
		dup2(errp[1], 2);
		close(errp[1]);
		child_setup(evp[1]);
		fn(arg);
		ev("D");
		_exit(0);
	}
	close(evp[1]);
	close(errp[1]);
	{
		struct pollfd fds[2] = { { evp[0], POLLIN, 0 }, { errp[0], POLLIN, 0 } };
		int open_fds = 2;
		while (open_fds > 0) {
			if (poll(fds, 2, -1) < 0) { if (errno == EINTR) continue; break; }
			for (int i = 0; i < 2; i++) {
				char *buf = i == 0 ? events : err;
				size_t *n = i == 0 ? &nev : &nerr;
				size_t cap = i == 0 ? sizeof(events) : sizeof(err);
				ssize_t got;
				char sink[4096];
				if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
				if (*n + 1 < cap) got = read(fds[i].fd, buf + *n, cap - 1 - *n);
				else got = read(fds[i].fd, sink, sizeof(sink));
				if (got <= 0) { close(fds[i].fd); fds[i].fd = -1; open_fds--; continue; }
				if (*n + 1 < cap) *n += (size_t)got;
			}
		}
	}
	events[nev] = 0;
	err[nerr] = 0;
	waitpid(pid, &status, 0);
	classify(events, err, status, r);
}

static void print_case(const char *kind, const char *attack, const char *param, const struct result *r)
{
	printf("case\t%s\t%s\t%s\t%s\t%s\n", kind, attack, param, r->outcome, r->detail);
	fflush(stdout);
}

/* ---- storage kinds ----------------------------------------------------------- */

/* small-odd: the first few chunks of a size whose payload does not end on
 * 16 bytes (20), in a process that made no others of its size */
enum kind { K_PLAIN, K_SMALL, K_SMALL_ODD, K_CACHED, K_POOL, K_POOLED, K_REF, K_EXT, K_COUNT };
static const char *const kind_names[K_COUNT] = {
	"plain", "small", "small-odd", "cached", "pool-member", "pooled-object", "referenced", "extension",
};
static const size_t kind_size[K_COUNT] = { 1000, 16, 20, 100, 32, 32, 1000, 1000 };

struct scene {
	void *top;      /* everything hangs below it */
	void *parent;   /* parent of A and B */
	void *a, *b;    /* A right in front of B */
	void *other;    /* a second context (steal target, reference holder) */
	size_t size;
	long gap;       /* bytes between the end of A's payload and B's metadata */
	const char *genuine_name;
	void *genuine_parent;
};

static long metadata_prefix(enum kind k)
{
	return (k == K_POOL || k == K_POOLED) ? L->prefix : 0;
}

struct pooled_type { char bytes[64]; };

/* Makes A and B of the kind, B right behind A: 0, or -1 (reported as
 * NOT-ADJACENT) when no pair within reach was found in a few tries. */
static int make_scene(enum kind k, struct scene *s)
{
	void *junk;
	long last_gap = 0;
	memset(s, 0, sizeof(*s));
	s->size = kind_size[k];
	s->top = talloc_named_const(NULL, 0, "top");
	s->other = talloc_named_const(s->top, 0, "other");
	junk = talloc_named_const(NULL, 0, "junk"); /* failed tries stay allocated here */

	if (k == K_SMALL) {
		/* a program's many chunks of the size before the pair */
		for (int i = 0; i < 80; i++) talloc_size(junk, s->size);
	}
	for (int attempt = 0; attempt < 8; attempt++) {
		void *parent, *a, *b;
		switch (k) {
		case K_POOL:
			parent = talloc_pool(s->top, 4096);
			break;
		case K_POOLED:
			parent = talloc_pooled_object(s->top, struct pooled_type, 2, 2 * s->size);
			break;
		default:
			parent = talloc_named_const(s->top, 0, "parent");
			break;
		}
		if (k == K_CACHED) {
			/* two blocks freed and allocated again (LIFO on both) */
			void *x1 = talloc_size(parent, s->size), *x2 = talloc_size(parent, s->size);
			talloc_free(x2);
			talloc_free(x1);
		}
		a = talloc_size(parent, s->size);
		b = talloc_size(parent, s->size);
		if (a != NULL && b != NULL) {
			long gap = (long)((char *)b - L->hdr - metadata_prefix(k) - ((char *)a + s->size));
			if (gap >= 0 && gap < 64) {
				s->parent = parent;
				s->a = a;
				s->b = b;
				s->gap = gap;
				break;
			}
			last_gap = gap;
		}
		talloc_steal(junk, parent);
	}
	if (s->b == NULL) {
		ev("N not in 8 tries (last: B metadata %+ld bytes from the end of A)", last_gap);
		return -1;
	}
	talloc_set_name_const(s->a, "A");
	talloc_set_name_const(s->b, "B");
	if (k == K_REF) talloc_reference(s->other, s->b);
	if (k == K_EXT) {
		talloc_set_name(s->b, "%s", "B-with-extension");
		talloc_set_memlimit(s->b, 1 << 20);
	}
	s->genuine_name = talloc_get_name(s->b);
	s->genuine_parent = talloc_parent(s->b);
	return 0;
}

/* ---- operations on B ----------------------------------------------------------- */

enum op { O_FREE, O_FREE_PARENT, O_NAME, O_SIZE, O_PARENT, O_STEAL, O_CHILD, O_REPORT, O_COUNT };
static const char *const op_names[O_COUNT] = {
	"free", "free-parent", "get-name", "get-size", "parent", "steal", "child", "report-full",
};

static void do_op(enum op o, struct scene *s)
{
	switch (o) {
	case O_FREE:
		ev("A talloc_free=%d", talloc_free(s->b));
		break;
	case O_FREE_PARENT:
		ev("A talloc_free=%d", talloc_free(s->parent));
		break;
	case O_NAME: {
		const char *n = talloc_get_name(s->b);
		if (in_region(n) || n == attacker_name)
			ev("E talloc_get_name returned the attacker's pointer %p", (const void *)n);
		else if (n != s->genuine_name)
			ev("A name pointer changed");
		break;
	}
	case O_SIZE: {
		size_t n = talloc_get_size(s->b);
		if (n != s->size) ev("E talloc_get_size returned the forged size %#zx", n);
		break;
	}
	case O_PARENT: {
		void *p = talloc_parent(s->b);
		if (in_region(p)) ev("E talloc_parent returned the attacker's pointer %p", p);
		else if (p != s->genuine_parent) ev("A talloc_parent returned %s", p ? "another chunk" : "NULL");
		break;
	}
	case O_STEAL: {
		void *r = talloc_steal(s->other, s->b);
		if (r != s->b) ev("A talloc_steal returned %s", r ? "another pointer" : "NULL");
		break;
	}
	case O_CHILD: {
		char *c = talloc_size(s->b, 16);
		if (c != NULL) {
			if (in_region(c)) ev("E talloc_size(B, 16) returned attacker memory %p", (void *)c);
			memset(c, 0x5a, 16); /* the program uses what it got */
		} else {
			ev("A talloc_size(B, 16) returned NULL");
		}
		break;
	}
	case O_REPORT: {
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		talloc_report_full(s->parent, f);
		fclose(f);
		if (text != NULL && strstr(text, attacker_name) != NULL)
			ev("E the report followed a forged pointer (printed the attacker's name)");
		free(text);
		break;
	}
	default:
		break;
	}
	region_written();
}

/* ---- linear overflows ------------------------------------------------------------ */

static enum kind cur_kind;
static enum op cur_op;

/* n bytes from the end of A's payload; every 8-byte word they cover holds W,
 * a partial word the matching bytes of it. */
static void overflow(struct scene *s, size_t n)
{
	uintptr_t w = W();
	unsigned char *from = (unsigned char *)s->a + s->size;
	for (size_t i = 0; i < n; i++)
		from[i] = ((unsigned char *)&w)[(uintptr_t)(from + i) % sizeof(w)];
}

/* Where B's check word is and which of its bits the library verifies: the
 * guard word of a pool member (ours), else the flags word with the magic
 * and the free bit. */
static char *check_word(enum kind k, void *b, uint64_t *verified)
{
	if ((k == K_POOL || k == K_POOLED) && L->guard != NOFF) {
		*verified = ~(uint64_t)0;
		return hdr_of(b) + L->guard;
	}
	*verified = (uint64_t)(~L->mask | 1u);
	return hdr_of(b) + L->flags;
}

static uint64_t load_check_word(enum kind k, void *b)
{
	uint64_t v = 0, verified;
	char *at = check_word(k, b, &verified);
	memcpy(&v, at, verified == ~(uint64_t)0 ? 8 : 4);
	return v & verified;
}

static void overflow_case(long n)
{
	struct scene s;
	uint64_t before;
	build_region();
	if (make_scene(cur_kind, &s) != 0) return;
	before = load_check_word(cur_kind, s.b);
	overflow(&s, (size_t)n);
	/* hit=1: the overflow changed verified bits of B's check word */
	ev("A gap=%ld hit=%d", s.gap, load_check_word(cur_kind, s.b) != before);
	do_op(cur_op, &s);
}

/* ---- forged pointers (an 8-byte write, no overflow) ------------------------------ */

enum forge { F_CHILD_FREE, F_CHILD_FREE_PARENT, F_NEXT_FREE_PARENT, F_PARENT_PARENT,
	     F_PARENT_STEAL, F_POOL_CHILD, F_COUNT };
static const char *const forge_names[F_COUNT] = {
	"forge-child/free", "forge-child/free-parent", "forge-next/free-parent",
	"forge-parent/parent", "forge-parent/steal", "forge-pool/child",
};
static enum forge cur_forge;
static int forge_leaked; /* the fakes carry the live magic (an attacker with an info leak) */

static void forge_case(long unused)
{
	struct scene s;
	char *h;
	(void)unused;
	if (!layout_ok) { ev("U"); return; }
	build_region();
	if (make_scene(cur_kind, &s) != 0) return;
	if (forge_leaked) {
		/* copied from a live chunk's header, as a leak would give it */
		uint32_t flags = magic_of(s.a);
		memcpy(region + W_AT - L->hdr + L->flags, &flags, 4);
		memcpy(region + W_AT + L->flags, &flags, 4);
		memcpy(region + P_AT + L->flags, &flags, 4);
		memcpy(region_snapshot, region, sizeof(region));
	}
	h = hdr_of(s.b);
	switch (cur_forge) {
	case F_CHILD_FREE:
	case F_CHILD_FREE_PARENT:
		put_word(h, L->child, W());
		do_op(cur_forge == F_CHILD_FREE ? O_FREE : O_FREE_PARENT, &s);
		break;
	case F_NEXT_FREE_PARENT:
		put_word(h, L->next, W());
		do_op(O_FREE_PARENT, &s);
		break;
	case F_PARENT_PARENT:
	case F_PARENT_STEAL:
		/* B is its parent's youngest child, the one that stores the parent */
		if (L->prev_tags_parent) put_word(h, L->prev, W() | 1);
		else put_word(h, L->parent, W());
		do_op(cur_forge == F_PARENT_PARENT ? O_PARENT : O_STEAL, &s);
		break;
	case F_POOL_CHILD:
		put_word(h, L->pool, (uintptr_t)(region + Q_AT));
		do_op(O_CHILD, &s);
		break;
	default:
		break;
	}
}

/* ---- upstream's case ---------------------------------------------------------- */

static int member_destructor(int *p)
{
	(void)p;
	ev("E the overwritten member's destructor ran");
	return 0;
}

/* testsuite.c test_magic_protection: two 4-byte members of a pool, 32 zero
 * bytes written from the first, the pool freed. */
static void upstream_case(long unused)
{
	void *pool = talloc_pool(NULL, 1024);
	int *p1 = talloc(pool, int), *p2 = talloc(pool, int);
	(void)unused;
	*p1 = 6;
	*p2 = 9;
	talloc_set_destructor(p2, member_destructor);
	memset(p1, 0, 32);
	ev("A talloc_free=%d", talloc_free(pool));
}

/* ---- forged chunk with a guessed check value ------------------------------------ */

static char *guess_fake(uint32_t flags)
{
	char *h = region + W_AT;
	memset(region, 0, sizeof(region));
	fake_header(h, flags);
	memcpy(region_snapshot, region, sizeof(region));
	return h + L->hdr;
}

static void guess_name(long value)
{
	const char *n = talloc_get_name(guess_fake((uint32_t)value));
	if (n == attacker_name) ev("E accepted: talloc_get_name returned the forged name");
}

static void guess_free(long value)
{
	talloc_free(guess_fake((uint32_t)value));
}

/* --guess VALUE, in a fresh process: one guess each through
 * talloc_get_name and talloc_free; prints "name=OUTCOME free=OUTCOME". */
static int guess_main(uint32_t value)
{
	struct result r1, r2;
	run_case(guess_name, (long)value, &r1);
	run_case(guess_free, (long)value, &r2);
	printf("name=%s free=%s\n", r1.outcome, r2.outcome);
	return 0;
}

/* A loop of guesses in one process whose abort function returns. */
static void guess_loop(long limit)
{
	unsigned shift = (unsigned)__builtin_ctz(~L->mask);
	if (limit > (1L << (32 - shift))) limit = 1L << (32 - shift);
	abort_returns = 1;
	talloc_set_log_fn(NULL); /* one event per guess would flood the pipe */
	for (unsigned long k = 0; k < (unsigned long)limit; k++) {
		uint32_t v = (uint32_t)(k << shift);
		const char *n;
		*loop_counter = k + 1;
		n = talloc_get_name(guess_fake(v));
		if (n == attacker_name) {
			ev("E accepted after %lu guesses", k + 1);
			return;
		}
	}
	ev("G %lu guesses, none accepted, never stopped (%lu reports)", *loop_counter, abort_calls);
}

/* ---- fresh processes ------------------------------------------------------------- */

/* Runs this program again with args; its first stdout line in out. */
static int run_self(char *const args[], char *out, size_t cap)
{
	int p[2], status;
	pid_t pid;
	ssize_t n;
	size_t got = 0;
	if (pipe(p) != 0) return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0) return -1;
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv("/proc/self/exe", args);
		_exit(127);
	}
	close(p[1]);
	while (got + 1 < cap && (n = read(p[0], out + got, cap - 1 - got)) > 0) got += (size_t)n;
	out[got] = 0;
	close(p[0]);
	waitpid(pid, &status, 0);
	out[strcspn(out, "\n")] = 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static uint32_t live_magic(void)
{
	void *p = talloc_size(NULL, 16);
	uint32_t m = magic_of(p);
	talloc_free(p);
	return m;
}

static void one_guess_per_process(const char *mode, int processes)
{
	int name_ok = 0, free_ok = 0, runs = 0, name_rep = 0, free_rep = 0;
	char value[32], out[256], param[64], detail[300];
	struct result r;
	/* "other": the secret of another process, this one */
	snprintf(value, sizeof(value), "%u", strcmp(mode, "zero") == 0 ? 0u : live_magic());
	for (int i = 0; i < processes; i++) {
		char *args[] = { (char *)"attack", (char *)"--guess", value, NULL };
		if (run_self(args, out, sizeof(out)) != 0) continue;
		runs++;
		name_ok += strstr(out, "name=EXPLOITED") != NULL;
		free_ok += strstr(out, "free=EXPLOITED") != NULL;
		name_rep += strstr(out, "name=REPORTED") != NULL;
		free_rep += strstr(out, "free=REPORTED") != NULL;
	}
	snprintf(param, sizeof(param), "%s/%d", mode, processes);
	memset(&r, 0, sizeof(r));
	snprintf(r.outcome, sizeof(r.outcome), "%s", name_ok + free_ok ? "EXPLOITED" :
		 name_rep == runs && free_rep == runs && runs > 0 ? "REPORTED" : "UNNOTICED");
	snprintf(detail, sizeof(detail),
		 "accepted %d/%d by talloc_get_name, %d/%d by talloc_free; reported %d/%d, %d/%d",
		 name_ok, runs, free_ok, runs, name_rep, runs, free_rep, runs);
	snprintf(r.detail, sizeof(r.detail), "%s", detail);
	print_case("forged-chunk", "guess-one-per-process", param, &r);
}

/* ---- secret in freed memory ------------------------------------------------------ */

/* Reads the secret-bearing words of live chunks (the flags word with the
 * magic; a pool member's guard word too), frees them, mallocs blocks of
 * the sizes the freed ones had and scans them for those values. */
static void scan_case(long size)
{
	enum { K = 32 };
	void *ctx = talloc_named_const(NULL, 0, "scan");
	void *chunks[K];
	uint32_t flags = 0;
	uint64_t guards[K];
	int nguards = 0, found32 = 0, found64 = 0;
	size_t scanned = 0;
	if (!layout_ok) { ev("U"); return; }
	for (int i = 0; i < K; i++) {
		chunks[i] = talloc_size(ctx, (size_t)size);
		memset(chunks[i], 0, (size_t)size);
	}
	flags = get_flags(chunks[K - 1]);
	{
		/* a pool of the same size (at least 512 bytes) with one member */
		size_t poolsize = size < 512 ? 512 : (size_t)size;
		char *pool = talloc_pool(ctx, poolsize);
		char *m = talloc_size(pool, 8);
		if (m != NULL && L->guard != NOFF && m > pool && m < pool + poolsize)
			memcpy(&guards[nguards++], hdr_of(m) + L->guard, 8);
	}
	talloc_free(ctx);
	/* freed-then-reused: what malloc hands out next */
	long extra[] = { 0, 48, 96, 112, 128 };
	for (size_t e = 0; e < sizeof(extra) / sizeof(extra[0]); e++) {
		for (int i = 0; i < K; i++) {
			size_t bytes = (size_t)size + (size_t)extra[e];
			unsigned char *m = malloc(bytes);
			if (m == NULL) continue;
			bytes = bytes & ~(size_t)7;
			for (size_t off = 0; off + 4 <= bytes; off += 4) {
				uint32_t v;
				memcpy(&v, m + off, 4);
				/* the live word, or the same with the free bit */
				if (v == flags || v == (flags | 1u)) found32++;
			}
			for (size_t off = 0; off + 8 <= bytes; off += 8) {
				uint64_t v;
				memcpy(&v, m + off, 8);
				for (int g = 0; g < nguards; g++)
					if (v == guards[g]) found64++;
			}
			scanned += bytes;
			/* kept allocated: the next malloc reaches further blocks */
		}
	}
	ev("A magic word %d times, guard word %d times in %zu bytes", found32, found64, scanned);
	ev("F %s", found32 + found64 ? "FOUND" : "NOT-FOUND");
}

/* ---- entropy ------------------------------------------------------------------- */

static void entropy(int processes)
{
	uint32_t *v = calloc((size_t)processes, sizeof(uint32_t));
	int n = 0, distinct = 0;
	uint32_t varying = 0;
	char out[64];
	struct result r;
	for (int i = 0; i < processes; i++) {
		char *args[] = { (char *)"attack", (char *)"--print-magic", NULL };
		if (run_self(args, out, sizeof(out)) != 0) continue;
		v[n++] = (uint32_t)strtoul(out, NULL, 16);
	}
	for (int i = 0; i < n; i++) {
		int seen = 0;
		for (int j = 0; j < i && !seen; j++) seen = v[j] == v[i];
		distinct += !seen;
		varying |= v[i] ^ v[0];
	}
	memset(&r, 0, sizeof(r));
	snprintf(r.outcome, sizeof(r.outcome), "%s", n > 0 ? "MEASURED" : "CRASHED");
	snprintf(r.detail, sizeof(r.detail), "%d distinct values in %d processes; %d bits vary (mask %#010x)",
		 distinct, n, __builtin_popcount(varying), varying);
	printf("case\tsecret\tentropy\t%d\t%s\t%s\n", processes, r.outcome, r.detail);
	free(v);
}

/* ---- main ----------------------------------------------------------------------- */

static int want(const char *only, const char *kind, const char *attack)
{
	char both[128];
	if (only == NULL) return 1;
	snprintf(both, sizeof(both), "%s/%s", kind, attack);
	return strncmp(both, only, strlen(only)) == 0;
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	int guesses = 2000, entropy_runs = 200;
	long loop_limit = 1L << 20;
	struct result r;
	char param[32];

	pick_layout();
	if (argc == 2 && strcmp(argv[1], "--print-magic") == 0) {
		if (!layout_ok) return 1;
		printf("%08x\n", live_magic());
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--guess") == 0)
		return guess_main((uint32_t)strtoul(argv[2], NULL, 10));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
		else if (strcmp(argv[i], "--guesses") == 0 && i + 1 < argc) guesses = atoi(argv[++i]);
		else if (strcmp(argv[i], "--entropy") == 0 && i + 1 < argc) entropy_runs = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: %s [--only KIND/ATTACK-prefix] [--guesses N] [--entropy N]\n", argv[0]);
			return 2;
		}
	}

	printf("library\t%s\t%s\tversion %d.%d\tlayout %s\n", lib_path, L->name,
	       talloc_version_major(), talloc_version_minor(), layout_ok ? "checked" : "UNKNOWN");

	if (want(only, "upstream", "pool-member-overflow")) {
		run_case(upstream_case, 0, &r);
		print_case("upstream", "pool-member-overflow", "32", &r);
	}
	for (int k = 0; k < K_COUNT; k++) {
		for (int o = 0; o < O_COUNT; o++) {
			if (!want(only, kind_names[k], op_names[o])) continue;
			cur_kind = (enum kind)k;
			cur_op = (enum op)o;
			for (long n = 1; n <= 64; n++) {
				run_case(overflow_case, n, &r);
				snprintf(param, sizeof(param), "%ld", n);
				print_case(kind_names[k], op_names[o], param, &r);
			}
		}
	}
	for (int k = 0; k < K_COUNT; k++) {
		for (int f = 0; f < F_COUNT; f++) {
			if (f == F_POOL_CHILD && k != K_POOL && k != K_POOLED) continue;
			if (!want(only, kind_names[k], forge_names[f])) continue;
			cur_kind = (enum kind)k;
			cur_forge = (enum forge)f;
			for (forge_leaked = 0; forge_leaked < 2; forge_leaked++) {
				run_case(forge_case, 0, &r);
				print_case(kind_names[k], forge_names[f],
					   forge_leaked ? "fake-with-leaked-magic" : "fake-with-magic-0", &r);
			}
		}
	}
	if (want(only, "forged-chunk", "guess-one-per-process") && layout_ok && guesses > 0) {
		one_guess_per_process("zero", guesses);
		one_guess_per_process("other", guesses);
	}
	if (want(only, "forged-chunk", "guess-loop") && layout_ok) {
		loop_counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		run_case(guess_loop, loop_limit, &r);
		if (r.guesses[0] && strcmp(r.outcome, "EXPLOITED") != 0) append(r.detail, sizeof(r.detail), r.guesses);
		print_case("forged-chunk", "guess-loop", "returning-abort-fn", &r);
		loop_counter = NULL;
	}
	{
		long sizes[] = { 16, 4000, 100000 };
		for (size_t i = 0; i < 3; i++) {
			snprintf(param, sizeof(param), "%ld", sizes[i]);
			if (!want(only, "secret", "freed-scan")) continue;
			run_case(scan_case, sizes[i], &r);
			print_case("secret", "freed-scan", param, &r);
		}
	}
	if (want(only, "secret", "entropy") && layout_ok && entropy_runs > 0) entropy(entropy_runs);
	return 0;
}
