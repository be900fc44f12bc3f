/*
 * tevent.h - public interface of libtevent 0.17.2 (C++ reimplementation).
 *
 * An event loop built on talloc: file descriptor, timer, immediate and
 * signal events are talloc objects (freeing one removes it from its loop),
 * plus the tevent_req asynchronous request helpers and tevent_queue.
 *
 * Source and binary compatible with upstream tevent 0.17.2: same types,
 * same macros, same exported functions.  Usable from C and C++.
 */
#ifndef __TEVENT_H__
#define __TEVENT_H__

#include <stdint.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/time.h>
#include <sys/types.h>
#include <talloc.h>

#ifndef __has_attribute
#define __has_attribute(x) 0
#endif

#ifndef PRINTF_ATTRIBUTE
#if __has_attribute(format) || (__GNUC__ >= 3)
#define PRINTF_ATTRIBUTE(a1, a2) __attribute__((format(__printf__, a1, a2)))
#else
#define PRINTF_ATTRIBUTE(a1, a2)
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Types
 * ====================================================================== */

struct tevent_context;
struct tevent_ops;
struct tevent_fd;
struct tevent_timer;
struct tevent_immediate;
struct tevent_signal;
struct tevent_thread_proxy;
struct tevent_threaded_context;

/* Called when the descriptor is ready; flags says for what (TEVENT_FD_*). */
typedef void (*tevent_fd_handler_t)(struct tevent_context *ev,
				    struct tevent_fd *fde,
				    uint16_t flags,
				    void *private_data);

/* Called instead of close() when the fd event is freed. */
typedef void (*tevent_fd_close_fn_t)(struct tevent_context *ev,
				     struct tevent_fd *fde,
				     int fd,
				     void *private_data);

/* Called once when the deadline has passed; the timer is freed afterwards. */
typedef void (*tevent_timer_handler_t)(struct tevent_context *ev,
				       struct tevent_timer *te,
				       struct timeval current_time,
				       void *private_data);

/* Called on the next loop iteration after tevent_schedule_immediate(). */
typedef void (*tevent_immediate_handler_t)(struct tevent_context *ctx,
					   struct tevent_immediate *im,
					   void *private_data);

/*
 * Called from the loop (never from the signal handler itself) with the
 * number of times the signal arrived since the last call; siginfo is a
 * siginfo_t * when SA_SIGINFO was requested, else NULL.
 */
typedef void (*tevent_signal_handler_t)(struct tevent_context *ev,
					struct tevent_signal *se,
					int signum,
					int count,
					void *siginfo,
					void *private_data);

/* ======================================================================
 * Contexts and backends
 * ====================================================================== */

/* A context on the default backend ("standard" unless changed). */
struct tevent_context *tevent_context_init(TALLOC_CTX *mem_ctx);

/* A context on the named backend; NULL if there is no such backend. */
struct tevent_context *tevent_context_init_byname(TALLOC_CTX *mem_ctx, const char *name);

/* A context driven by a custom tevent_ops table. */
struct tevent_context *tevent_context_init_ops(TALLOC_CTX *mem_ctx,
					       const struct tevent_ops *ops,
					       void *additional_data);

/* NULL-terminated talloc array of the registered backend names. */
const char **tevent_backend_list(TALLOC_CTX *mem_ctx);

/* The backend tevent_context_init() uses from now on. */
void tevent_set_default_backend(const char *backend);

/* ======================================================================
 * fd events
 * ====================================================================== */

struct tevent_fd *_tevent_add_fd(struct tevent_context *ev,
				 TALLOC_CTX *mem_ctx,
				 int fd,
				 uint16_t flags,
				 tevent_fd_handler_t handler,
				 void *private_data,
				 const char *handler_name,
				 const char *location);
#define tevent_add_fd(ev, mem_ctx, fd, flags, handler, private_data) \
	_tevent_add_fd(ev, mem_ctx, fd, flags, handler, private_data, \
		       #handler, __location__)

void tevent_fd_set_tag(struct tevent_fd *fde, uint64_t tag);
uint64_t tevent_fd_get_tag(const struct tevent_fd *fde);

/* ======================================================================
 * Timers
 * ====================================================================== */

struct tevent_timer *_tevent_add_timer(struct tevent_context *ev,
				       TALLOC_CTX *mem_ctx,
				       struct timeval next_event,
				       tevent_timer_handler_t handler,
				       void *private_data,
				       const char *handler_name,
				       const char *location);
#define tevent_add_timer(ev, mem_ctx, next_event, handler, private_data) \
	_tevent_add_timer(ev, mem_ctx, next_event, handler, private_data, \
			  #handler, __location__)

/* Moves a pending timer to a new deadline. */
void tevent_update_timer(struct tevent_timer *te, struct timeval next_event);

void tevent_timer_set_tag(struct tevent_timer *te, uint64_t tag);
uint64_t tevent_timer_get_tag(const struct tevent_timer *te);

/* ======================================================================
 * Immediates
 * ====================================================================== */

struct tevent_immediate *_tevent_create_immediate(TALLOC_CTX *mem_ctx,
						  const char *location);
#define tevent_create_immediate(mem_ctx) \
	_tevent_create_immediate(mem_ctx, __location__)

/*
 * Runs handler on a following loop iteration.  Scheduling a pending
 * immediate again replaces its handler; a NULL handler cancels it.
 */
void _tevent_schedule_immediate(struct tevent_immediate *im,
				struct tevent_context *ctx,
				tevent_immediate_handler_t handler,
				void *private_data,
				const char *handler_name,
				const char *location);
#define tevent_schedule_immediate(im, ctx, handler, private_data) \
	_tevent_schedule_immediate(im, ctx, handler, private_data, \
				   #handler, __location__)

/* Undoes tevent_schedule_immediate(): the immediate is no longer pending. */
void tevent_reset_immediate(struct tevent_immediate *im);

void tevent_immediate_set_tag(struct tevent_immediate *im, uint64_t tag);
uint64_t tevent_immediate_get_tag(const struct tevent_immediate *fde);

/* ======================================================================
 * Signals
 * ====================================================================== */

struct tevent_signal *_tevent_add_signal(struct tevent_context *ev,
					 TALLOC_CTX *mem_ctx,
					 int signum,
					 int sa_flags,
					 tevent_signal_handler_t handler,
					 void *private_data,
					 const char *handler_name,
					 const char *location);
#define tevent_add_signal(ev, mem_ctx, signum, sa_flags, handler, private_data) \
	_tevent_add_signal(ev, mem_ctx, signum, sa_flags, handler, private_data, \
			   #handler, __location__)

void tevent_signal_set_tag(struct tevent_signal *se, uint64_t tag);
uint64_t tevent_signal_get_tag(const struct tevent_signal *se);

/* Signal numbers must be below this. */
size_t tevent_num_signals(void);
/* How many siginfo_t a SA_SIGINFO signal event buffers between two runs. */
size_t tevent_sa_info_queue_count(void);

/* ======================================================================
 * The loop
 * ====================================================================== */

/* One iteration: runs at most one handler (after waiting if needed). */
int _tevent_loop_once(struct tevent_context *ev, const char *location);
#define tevent_loop_once(ev) \
	_tevent_loop_once(ev, __location__)

/* Iterates until no event is left (or an iteration fails). */
int _tevent_loop_wait(struct tevent_context *ev, const char *location);
#define tevent_loop_wait(ev) \
	_tevent_loop_wait(ev, __location__)

/*
 * How long (seconds) one iteration may sleep when no timer is pending;
 * the default is 30.  0 polls: tevent_loop_once() fails with EAGAIN when
 * nothing was ready.  UINT32_MAX waits without limit.  Returns the
 * previous value.
 */
uint32_t tevent_context_set_wait_timeout(struct tevent_context *ev, uint32_t secs);

void tevent_fd_set_close_fn(struct tevent_fd *fde, tevent_fd_close_fn_t close_fn);
/* close() the descriptor when the fd event is freed. */
void tevent_fd_set_auto_close(struct tevent_fd *fde);
uint16_t tevent_fd_get_flags(struct tevent_fd *fde);
void tevent_fd_set_flags(struct tevent_fd *fde, uint16_t flags);

bool tevent_signal_support(struct tevent_context *ev);

/* Replaces abort() for fatal misuse; the function may return. */
void tevent_set_abort_fn(void (*abort_fn)(const char *reason));

/* fd event flags */
#define TEVENT_FD_READ 1
#define TEVENT_FD_WRITE 2
/*
 * Report errors and hang-ups: the handler is called with TEVENT_FD_ERROR
 * set when the descriptor is in an error or hang-up state, even when
 * neither reading nor writing was asked for.
 */
#define TEVENT_FD_ERROR 4

#define TEVENT_FD_WRITEABLE(fde) \
	tevent_fd_set_flags(fde, tevent_fd_get_flags(fde) | TEVENT_FD_WRITE)
#define TEVENT_FD_READABLE(fde) \
	tevent_fd_set_flags(fde, tevent_fd_get_flags(fde) | TEVENT_FD_READ)
#define TEVENT_FD_WANTERROR(fde) \
	tevent_fd_set_flags(fde, tevent_fd_get_flags(fde) | TEVENT_FD_ERROR)

#define TEVENT_FD_NOT_WRITEABLE(fde) \
	tevent_fd_set_flags(fde, tevent_fd_get_flags(fde) & ~TEVENT_FD_WRITE)
#define TEVENT_FD_NOT_READABLE(fde) \
	tevent_fd_set_flags(fde, tevent_fd_get_flags(fde) & ~TEVENT_FD_READ)
#define TEVENT_FD_NOT_WANTERROR(fde) \
	tevent_fd_set_flags(fde, tevent_fd_get_flags(fde) & ~TEVENT_FD_ERROR)

/* ======================================================================
 * Debugging
 * ====================================================================== */

enum tevent_debug_level {
	TEVENT_DEBUG_FATAL,
	TEVENT_DEBUG_ERROR,
	TEVENT_DEBUG_WARNING,
	TEVENT_DEBUG_TRACE
};

typedef void (*tevent_debug_fn)(void *context,
				enum tevent_debug_level level,
				const char *fmt,
				va_list ap) PRINTF_ATTRIBUTE(3, 0);

int tevent_set_debug(struct tevent_context *ev,
		     tevent_debug_fn debug,
		     void *context);

/* Messages up to TEVENT_DEBUG_WARNING go to stderr. */
int tevent_set_debug_stderr(struct tevent_context *ev);

/* Messages above max_level are dropped unformatted; returns the old one. */
enum tevent_debug_level tevent_set_max_debug_level(struct tevent_context *ev,
						   enum tevent_debug_level max_level);

/* ======================================================================
 * Tracing
 * ====================================================================== */

enum tevent_trace_point {
	TEVENT_TRACE_BEFORE_WAIT,
	TEVENT_TRACE_AFTER_WAIT,
#define TEVENT_HAS_LOOP_ONCE_TRACE_POINTS 1
	TEVENT_TRACE_BEFORE_LOOP_ONCE,
	TEVENT_TRACE_AFTER_LOOP_ONCE,
};

typedef void (*tevent_trace_callback_t)(enum tevent_trace_point,
					void *private_data);

void tevent_set_trace_callback(struct tevent_context *ev,
			       tevent_trace_callback_t cb,
			       void *private_data);
void tevent_get_trace_callback(struct tevent_context *ev,
			       tevent_trace_callback_t *cb,
			       void *private_data);

enum tevent_event_trace_point {
	TEVENT_EVENT_TRACE_ATTACH,
	TEVENT_EVENT_TRACE_DETACH,
	TEVENT_EVENT_TRACE_BEFORE_HANDLER,
};

typedef void (*tevent_trace_fd_callback_t)(struct tevent_fd *fde,
					   enum tevent_event_trace_point,
					   void *private_data);
typedef void (*tevent_trace_signal_callback_t)(struct tevent_signal *se,
					       enum tevent_event_trace_point,
					       void *private_data);
typedef void (*tevent_trace_timer_callback_t)(struct tevent_timer *te,
					      enum tevent_event_trace_point,
					      void *private_data);
typedef void (*tevent_trace_immediate_callback_t)(struct tevent_immediate *im,
						  enum tevent_event_trace_point,
						  void *private_data);

void tevent_set_trace_fd_callback(struct tevent_context *ev,
				  tevent_trace_fd_callback_t cb,
				  void *private_data);
void tevent_get_trace_fd_callback(struct tevent_context *ev,
				  tevent_trace_fd_callback_t *cb,
				  void *p_private_data);
void tevent_set_trace_signal_callback(struct tevent_context *ev,
				      tevent_trace_signal_callback_t cb,
				      void *private_data);
void tevent_get_trace_signal_callback(struct tevent_context *ev,
				      tevent_trace_signal_callback_t *cb,
				      void *p_private_data);
void tevent_set_trace_timer_callback(struct tevent_context *ev,
				     tevent_trace_timer_callback_t cb,
				     void *private_data);
void tevent_get_trace_timer_callback(struct tevent_context *ev,
				     tevent_trace_timer_callback_t *cb,
				     void *p_private_data);
void tevent_set_trace_immediate_callback(struct tevent_context *ev,
					 tevent_trace_immediate_callback_t cb,
					 void *private_data);
void tevent_get_trace_immediate_callback(struct tevent_context *ev,
					 tevent_trace_immediate_callback_t *cb,
					 void *p_private_data);

/* ======================================================================
 * Requests
 * ====================================================================== */

enum tevent_req_state {
	TEVENT_REQ_INIT,
	TEVENT_REQ_IN_PROGRESS,
	TEVENT_REQ_DONE,
	TEVENT_REQ_USER_ERROR,
	TEVENT_REQ_TIMED_OUT,
	TEVENT_REQ_NO_MEMORY,
	TEVENT_REQ_RECEIVED
};

struct tevent_req;

typedef void (*tevent_req_fn)(struct tevent_req *subreq);

void _tevent_req_set_callback(struct tevent_req *req,
			      tevent_req_fn fn,
			      const char *fn_name,
			      void *pvt);
#define tevent_req_set_callback(req, fn, pvt) \
	_tevent_req_set_callback(req, fn, #fn, pvt)

void *_tevent_req_callback_data(struct tevent_req *req);
#define tevent_req_callback_data(_req, _type) \
	talloc_get_type_abort(_tevent_req_callback_data(_req), _type)
#define tevent_req_callback_data_void(_req) \
	_tevent_req_callback_data(_req)

void *_tevent_req_data(struct tevent_req *req);
#define tevent_req_data(_req, _type) \
	talloc_get_type_abort(_tevent_req_data(_req), _type)

typedef char *(*tevent_req_print_fn)(struct tevent_req *req, TALLOC_CTX *ctx);

void tevent_req_set_print_fn(struct tevent_req *req, tevent_req_print_fn fn);
char *tevent_req_default_print(struct tevent_req *req, TALLOC_CTX *mem_ctx);
char *tevent_req_print(TALLOC_CTX *mem_ctx, struct tevent_req *req);

typedef bool (*tevent_req_cancel_fn)(struct tevent_req *req);

void _tevent_req_set_cancel_fn(struct tevent_req *req,
			       tevent_req_cancel_fn fn,
			       const char *fn_name);
#define tevent_req_set_cancel_fn(req, fn) \
	_tevent_req_set_cancel_fn(req, fn, #fn)

bool _tevent_req_cancel(struct tevent_req *req, const char *location);
#define tevent_req_cancel(req) \
	_tevent_req_cancel(req, __location__)

typedef void (*tevent_req_cleanup_fn)(struct tevent_req *req,
				      enum tevent_req_state req_state);

void _tevent_req_set_cleanup_fn(struct tevent_req *req,
				tevent_req_cleanup_fn fn,
				const char *fn_name);
#define tevent_req_set_cleanup_fn(req, fn) \
	_tevent_req_set_cleanup_fn(req, fn, #fn)

struct tevent_req *_tevent_req_create(TALLOC_CTX *mem_ctx,
				      void *pstate,
				      size_t state_size,
				      const char *type,
				      const char *location);
struct tevent_req *__tevent_req_create(TALLOC_CTX *mem_ctx,
				       void *pstate,
				       size_t state_size,
				       const char *type,
				       const char *func,
				       const char *location);
#define tevent_req_create(_mem_ctx, _pstate, _type) \
	__tevent_req_create((_mem_ctx), (_pstate), sizeof(_type), \
			    #_type, __func__, __location__)

bool tevent_req_set_endtime(struct tevent_req *req,
			    struct tevent_context *ev,
			    struct timeval endtime);
void tevent_req_reset_endtime(struct tevent_req *req);

void _tevent_req_notify_callback(struct tevent_req *req, const char *location);
#define tevent_req_notify_callback(req) \
	_tevent_req_notify_callback(req, __location__)

void _tevent_req_done(struct tevent_req *req, const char *location);
#define tevent_req_done(req) \
	_tevent_req_done(req, __location__)

bool _tevent_req_error(struct tevent_req *req,
		       uint64_t error,
		       const char *location);
#define tevent_req_error(req, error) \
	_tevent_req_error(req, error, __location__)

bool _tevent_req_nomem(const void *p,
		       struct tevent_req *req,
		       const char *location);
#define tevent_req_nomem(p, req) \
	_tevent_req_nomem(p, req, __location__)

void _tevent_req_oom(struct tevent_req *req, const char *location);
#define tevent_req_oom(req) \
	_tevent_req_oom(req, __location__)

struct tevent_req *tevent_req_post(struct tevent_req *req,
				   struct tevent_context *ev);
void tevent_req_defer_callback(struct tevent_req *req,
			       struct tevent_context *ev);
bool tevent_req_is_in_progress(struct tevent_req *req);
bool tevent_req_poll(struct tevent_req *req, struct tevent_context *ev);
bool tevent_req_is_error(struct tevent_req *req,
			 enum tevent_req_state *state,
			 uint64_t *error);
void tevent_req_received(struct tevent_req *req);

/* ---- profiles ---- */

struct tevent_req_profile;

bool tevent_req_set_profile(struct tevent_req *req);
const struct tevent_req_profile *tevent_req_get_profile(struct tevent_req *req);
struct tevent_req_profile *tevent_req_move_profile(struct tevent_req *req,
						   TALLOC_CTX *mem_ctx);
void tevent_req_profile_get_name(const struct tevent_req_profile *profile,
				 const char **req_name);
void tevent_req_profile_get_start(const struct tevent_req_profile *profile,
				  const char **start_location,
				  struct timeval *start_time);
void tevent_req_profile_get_stop(const struct tevent_req_profile *profile,
				 const char **stop_location,
				 struct timeval *stop_time);
void tevent_req_profile_get_status(const struct tevent_req_profile *profile,
				   pid_t *pid,
				   enum tevent_req_state *state,
				   uint64_t *user_error);
const struct tevent_req_profile *tevent_req_profile_get_subprofiles(
	const struct tevent_req_profile *profile);
const struct tevent_req_profile *tevent_req_profile_next(
	const struct tevent_req_profile *profile);
struct tevent_req_profile *tevent_req_profile_create(TALLOC_CTX *mem_ctx);
bool tevent_req_profile_set_name(struct tevent_req_profile *profile,
				 const char *name);
bool tevent_req_profile_set_start(struct tevent_req_profile *profile,
				  const char *start_location,
				  struct timeval start_time);
bool tevent_req_profile_set_stop(struct tevent_req_profile *profile,
				 const char *stop_location,
				 struct timeval stop_time);
void tevent_req_profile_set_status(struct tevent_req_profile *profile,
				   pid_t pid,
				   enum tevent_req_state state,
				   uint64_t user_error);
void tevent_req_profile_append_sub(struct tevent_req_profile *parent_profile,
				   struct tevent_req_profile **sub_profile);

/* ---- a request that completes at a given time ---- */

struct tevent_req *tevent_wakeup_send(TALLOC_CTX *mem_ctx,
				      struct tevent_context *ev,
				      struct timeval wakeup_time);
bool tevent_wakeup_recv(struct tevent_req *req);

/* ======================================================================
 * timeval helpers
 * ====================================================================== */

int tevent_timeval_compare(const struct timeval *tv1, const struct timeval *tv2);
struct timeval tevent_timeval_zero(void);
struct timeval tevent_timeval_current(void);
struct timeval tevent_timeval_set(uint32_t secs, uint32_t usecs);
/* tv2 - tv1, or zero when tv2 is not after tv1. */
struct timeval tevent_timeval_until(const struct timeval *tv1, const struct timeval *tv2);
bool tevent_timeval_is_zero(const struct timeval *tv);
struct timeval tevent_timeval_add(const struct timeval *tv, uint32_t secs, uint32_t usecs);
struct timeval tevent_timeval_current_ofs(uint32_t secs, uint32_t usecs);

/* getpid(), cached per process. */
pid_t tevent_cached_getpid(void);

/* ======================================================================
 * Call-flow tracking
 * ====================================================================== */

enum tevent_thread_call_depth_cmd {
	TEVENT_CALL_FLOW_REQ_RESET,
	TEVENT_CALL_FLOW_REQ_CREATE,
	TEVENT_CALL_FLOW_REQ_CANCEL,
	TEVENT_CALL_FLOW_REQ_CLEANUP,
	TEVENT_CALL_FLOW_REQ_NOTIFY_CB,
	TEVENT_CALL_FLOW_REQ_QUEUE_ENTER,
	TEVENT_CALL_FLOW_REQ_QUEUE_TRIGGER,
	TEVENT_CALL_FLOW_REQ_QUEUE_LEAVE,
};

typedef void (*tevent_call_depth_callback_t)(void *private_data,
					     enum tevent_thread_call_depth_cmd cmd,
					     struct tevent_req *req,
					     size_t depth,
					     const char *fname);

/* Per thread: the callback told about request creation, notification... */
void tevent_thread_call_depth_set_callback(tevent_call_depth_callback_t f,
					   void *private_data);

/* Older interface, kept for binaries built against it: no-ops. */
void tevent_thread_call_depth_activate(size_t *ptr);
void tevent_thread_call_depth_deactivate(void);
void tevent_thread_call_depth_start(struct tevent_req *req);

void _tevent_thread_call_depth_reset_from_req(struct tevent_req *req,
					      const char *fname);
#define tevent_thread_call_depth_reset_from_req(req) \
	_tevent_thread_call_depth_reset_from_req(req, __func__)

/* ======================================================================
 * Queues
 * ====================================================================== */

struct tevent_queue;
struct tevent_queue_entry;

void tevent_queue_entry_set_tag(struct tevent_queue_entry *qe, uint64_t tag);
uint64_t tevent_queue_entry_get_tag(const struct tevent_queue_entry *qe);

typedef void (*tevent_trace_queue_callback_t)(struct tevent_queue_entry *qe,
					      enum tevent_event_trace_point,
					      void *private_data);

void tevent_set_trace_queue_callback(struct tevent_context *ev,
				     tevent_trace_queue_callback_t cb,
				     void *private_data);
void tevent_get_trace_queue_callback(struct tevent_context *ev,
				     tevent_trace_queue_callback_t *cb,
				     void *p_private_data);

struct tevent_queue *_tevent_queue_create(TALLOC_CTX *mem_ctx,
					  const char *name,
					  const char *location);
#define tevent_queue_create(_mem_ctx, _name) \
	_tevent_queue_create((_mem_ctx), (_name), __location__)

typedef void (*tevent_queue_trigger_fn_t)(struct tevent_req *req,
					  void *private_data);

bool _tevent_queue_add(struct tevent_queue *queue,
		       struct tevent_context *ev,
		       struct tevent_req *req,
		       tevent_queue_trigger_fn_t trigger,
		       const char *trigger_name,
		       void *private_data);
#define tevent_queue_add(queue, ev, req, trigger, private_data) \
	_tevent_queue_add(queue, ev, req, trigger, #trigger, private_data)

struct tevent_queue_entry *_tevent_queue_add_entry(struct tevent_queue *queue,
						   struct tevent_context *ev,
						   struct tevent_req *req,
						   tevent_queue_trigger_fn_t trigger,
						   const char *trigger_name,
						   void *private_data);
#define tevent_queue_add_entry(queue, ev, req, trigger, private_data) \
	_tevent_queue_add_entry(queue, ev, req, trigger, #trigger, private_data)

struct tevent_queue_entry *_tevent_queue_add_optimize_empty(struct tevent_queue *queue,
							    struct tevent_context *ev,
							    struct tevent_req *req,
							    tevent_queue_trigger_fn_t trigger,
							    const char *trigger_name,
							    void *private_data);
#define tevent_queue_add_optimize_empty(queue, ev, req, trigger, private_data) \
	_tevent_queue_add_optimize_empty(queue, ev, req, trigger, #trigger, private_data)

void tevent_queue_entry_untrigger(struct tevent_queue_entry *entry);
void tevent_queue_start(struct tevent_queue *queue);
void tevent_queue_stop(struct tevent_queue *queue);
size_t tevent_queue_length(struct tevent_queue *queue);
bool tevent_queue_running(struct tevent_queue *queue);

struct tevent_req *tevent_queue_wait_send(TALLOC_CTX *mem_ctx,
					  struct tevent_context *ev,
					  struct tevent_queue *queue);
bool tevent_queue_wait_recv(struct tevent_req *req);

/* ======================================================================
 * Nesting, threads
 * ====================================================================== */

typedef int (*tevent_nesting_hook)(struct tevent_context *ev,
				   void *private_data,
				   uint32_t level,
				   bool begin,
				   void *stack_ptr,
				   const char *location);

/* Lets another thread post immediates to dest_ev_ctx (older interface). */
struct tevent_thread_proxy *tevent_thread_proxy_create(struct tevent_context *dest_ev_ctx);
void tevent_thread_proxy_schedule(struct tevent_thread_proxy *tp,
				  struct tevent_immediate **pp_im,
				  tevent_immediate_handler_t handler,
				  void *pp_private_data);

/* A handle other threads use to schedule immediates on ev. */
struct tevent_threaded_context *tevent_threaded_context_create(TALLOC_CTX *mem_ctx,
							       struct tevent_context *ev);

void _tevent_threaded_schedule_immediate(struct tevent_threaded_context *tctx,
					 struct tevent_immediate *im,
					 tevent_immediate_handler_t handler,
					 void *private_data,
					 const char *handler_name,
					 const char *location);
#define tevent_threaded_schedule_immediate(tctx, im, handler, private_data) \
	_tevent_threaded_schedule_immediate(tctx, im, handler, private_data, \
					    #handler, __location__)

#ifdef TEVENT_DEPRECATED
#ifndef _DEPRECATED_
#if __has_attribute(deprecated) || (__GNUC__ >= 3)
#define _DEPRECATED_ __attribute__((deprecated))
#else
#define _DEPRECATED_
#endif
#endif
void tevent_loop_allow_nesting(struct tevent_context *ev) _DEPRECATED_;
void tevent_loop_set_nesting_hook(struct tevent_context *ev,
				  tevent_nesting_hook hook,
				  void *private_data) _DEPRECATED_;
int _tevent_loop_until(struct tevent_context *ev,
		       bool (*finished)(void *private_data),
		       void *private_data,
		       const char *location) _DEPRECATED_;
#define tevent_loop_until(ev, finished, private_data) \
	_tevent_loop_until(ev, finished, private_data, __location__)
#endif

/* Call in a forked child: re-creates the backend's kernel state. */
int tevent_re_initialise(struct tevent_context *ev);

/* ======================================================================
 * Backend interface (for custom event engines)
 * ====================================================================== */

struct tevent_ops {
	/* context init */
	int (*context_init)(struct tevent_context *ev);

	/* fd events */
	struct tevent_fd *(*add_fd)(struct tevent_context *ev,
				    TALLOC_CTX *mem_ctx,
				    int fd, uint16_t flags,
				    tevent_fd_handler_t handler,
				    void *private_data,
				    const char *handler_name,
				    const char *location);
	void (*set_fd_close_fn)(struct tevent_fd *fde,
				tevent_fd_close_fn_t close_fn);
	uint16_t (*get_fd_flags)(struct tevent_fd *fde);
	void (*set_fd_flags)(struct tevent_fd *fde, uint16_t flags);

	/* timers */
	struct tevent_timer *(*add_timer)(struct tevent_context *ev,
					  TALLOC_CTX *mem_ctx,
					  struct timeval next_event,
					  tevent_timer_handler_t handler,
					  void *private_data,
					  const char *handler_name,
					  const char *location);

	/* immediates */
	void (*schedule_immediate)(struct tevent_immediate *im,
				   struct tevent_context *ev,
				   tevent_immediate_handler_t handler,
				   void *private_data,
				   const char *handler_name,
				   const char *location);

	/* signals */
	struct tevent_signal *(*add_signal)(struct tevent_context *ev,
					    TALLOC_CTX *mem_ctx,
					    int signum, int sa_flags,
					    tevent_signal_handler_t handler,
					    void *private_data,
					    const char *handler_name,
					    const char *location);

	/* the loop */
	int (*loop_once)(struct tevent_context *ev, const char *location);
	int (*loop_wait)(struct tevent_context *ev, const char *location);
};

bool tevent_register_backend(const char *name, const struct tevent_ops *ops);
const struct tevent_ops *tevent_find_ops_byname(const char *name);

/* ======================================================================
 * Wrapper contexts (deprecated)
 * ====================================================================== */

#ifdef TEVENT_DEPRECATED
/* Hooks called around the handlers of events created on a wrapper. */
struct tevent_wrapper_ops {
	const char *name;

	bool (*before_use)(struct tevent_context *wrap_ev,
			   void *private_state,
			   struct tevent_context *main_ev,
			   const char *location);
	void (*after_use)(struct tevent_context *wrap_ev,
			  void *private_state,
			  struct tevent_context *main_ev,
			  const char *location);

	void (*before_fd_handler)(struct tevent_context *wrap_ev,
				  void *private_state,
				  struct tevent_context *main_ev,
				  struct tevent_fd *fde,
				  uint16_t flags,
				  const char *handler_name,
				  const char *location);
	void (*after_fd_handler)(struct tevent_context *wrap_ev,
				 void *private_state,
				 struct tevent_context *main_ev,
				 struct tevent_fd *fde,
				 uint16_t flags,
				 const char *handler_name,
				 const char *location);

	void (*before_timer_handler)(struct tevent_context *wrap_ev,
				     void *private_state,
				     struct tevent_context *main_ev,
				     struct tevent_timer *te,
				     struct timeval requested_time,
				     struct timeval trigger_time,
				     const char *handler_name,
				     const char *location);
	void (*after_timer_handler)(struct tevent_context *wrap_ev,
				    void *private_state,
				    struct tevent_context *main_ev,
				    struct tevent_timer *te,
				    struct timeval requested_time,
				    struct timeval trigger_time,
				    const char *handler_name,
				    const char *location);

	void (*before_immediate_handler)(struct tevent_context *wrap_ev,
					 void *private_state,
					 struct tevent_context *main_ev,
					 struct tevent_immediate *im,
					 const char *handler_name,
					 const char *location);
	void (*after_immediate_handler)(struct tevent_context *wrap_ev,
					void *private_state,
					struct tevent_context *main_ev,
					struct tevent_immediate *im,
					const char *handler_name,
					const char *location);

	void (*before_signal_handler)(struct tevent_context *wrap_ev,
				      void *private_state,
				      struct tevent_context *main_ev,
				      struct tevent_signal *se,
				      int signum,
				      int count,
				      void *siginfo,
				      const char *handler_name,
				      const char *location);
	void (*after_signal_handler)(struct tevent_context *wrap_ev,
				     void *private_state,
				     struct tevent_context *main_ev,
				     struct tevent_signal *se,
				     int signum,
				     int count,
				     void *siginfo,
				     const char *handler_name,
				     const char *location);
};

struct tevent_context *_tevent_context_wrapper_create(struct tevent_context *main_ev,
						      TALLOC_CTX *mem_ctx,
						      const struct tevent_wrapper_ops *ops,
						      void *pstate,
						      size_t psize,
						      const char *type,
						      const char *location) _DEPRECATED_;
#define tevent_context_wrapper_create(main_ev, mem_ctx, ops, state, type) \
	_tevent_context_wrapper_create(main_ev, mem_ctx, ops, \
				       state, sizeof(type), #type, __location__)

bool tevent_context_is_wrapper(struct tevent_context *ev) _DEPRECATED_;

bool _tevent_context_push_use(struct tevent_context *ev,
			      const char *location) _DEPRECATED_;
#define tevent_context_push_use(ev) \
	_tevent_context_push_use(ev, __location__)

void _tevent_context_pop_use(struct tevent_context *ev,
			     const char *location) _DEPRECATED_;
#define tevent_context_pop_use(ev) \
	_tevent_context_pop_use(ev, __location__)

bool tevent_context_same_loop(struct tevent_context *ev1,
			      struct tevent_context *ev2) _DEPRECATED_;
#endif /* TEVENT_DEPRECATED */

/* ======================================================================
 * Old samba4 names
 * ====================================================================== */

#ifdef TEVENT_COMPAT_DEFINES

#define event_context	tevent_context
#define event_ops	tevent_ops
#define fd_event	tevent_fd
#define timed_event	tevent_timer
#define signal_event	tevent_signal

#define event_fd_handler_t	tevent_fd_handler_t
#define event_timed_handler_t	tevent_timer_handler_t
#define event_signal_handler_t	tevent_signal_handler_t

#define event_context_init(mem_ctx) \
	tevent_context_init(mem_ctx)
#define event_context_init_byname(mem_ctx, name) \
	tevent_context_init_byname(mem_ctx, name)
#define event_backend_list(mem_ctx) \
	tevent_backend_list(mem_ctx)
#define event_set_default_backend(backend) \
	tevent_set_default_backend(backend)
#define event_add_fd(ev, mem_ctx, fd, flags, handler, private_data) \
	tevent_add_fd(ev, mem_ctx, fd, flags, handler, private_data)
#define event_add_timed(ev, mem_ctx, next_event, handler, private_data) \
	tevent_add_timer(ev, mem_ctx, next_event, handler, private_data)
#define event_add_signal(ev, mem_ctx, signum, sa_flags, handler, private_data) \
	tevent_add_signal(ev, mem_ctx, signum, sa_flags, handler, private_data)
#define event_loop_once(ev) \
	tevent_loop_once(ev)
#define event_loop_wait(ev) \
	tevent_loop_wait(ev)
#define event_get_fd_flags(fde) \
	tevent_fd_get_flags(fde)
#define event_set_fd_flags(fde, flags) \
	tevent_fd_set_flags(fde, flags)

#define EVENT_FD_READ		TEVENT_FD_READ
#define EVENT_FD_WRITE		TEVENT_FD_WRITE

#define EVENT_FD_WRITEABLE(fde) \
	TEVENT_FD_WRITEABLE(fde)
#define EVENT_FD_READABLE(fde) \
	TEVENT_FD_READABLE(fde)
#define EVENT_FD_NOT_WRITEABLE(fde) \
	TEVENT_FD_NOT_WRITEABLE(fde)
#define EVENT_FD_NOT_READABLE(fde) \
	TEVENT_FD_NOT_READABLE(fde)

#define ev_debug_level		tevent_debug_level

#define EV_DEBUG_FATAL		TEVENT_DEBUG_FATAL
#define EV_DEBUG_ERROR		TEVENT_DEBUG_ERROR
#define EV_DEBUG_WARNING	TEVENT_DEBUG_WARNING
#define EV_DEBUG_TRACE		TEVENT_DEBUG_TRACE

#define ev_set_debug(ev, debug, context) \
	tevent_set_debug(ev, debug, context)

#define ev_set_debug_stderr(_ev) tevent_set_debug_stderr(_ev)

#endif /* TEVENT_COMPAT_DEFINES */

#ifdef __cplusplus
}
#endif

#endif /* __TEVENT_H__ */
