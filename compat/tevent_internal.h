/*
 * tevent_internal.h - declarations of libtevent exports that the public
 * tevent.h does not carry.  Not installed.
 *
 * Upstream exports these from libtevent.so.0 but declares them only in
 * headers it does not install (backend helpers, the debug and trace hooks)
 * or replaced them in tevent.h by macros that pass the callback name (the
 * older entry points stay exported for old binaries).  Unlike upstream's
 * tevent_internal.h it declares no structure layouts: only functions.
 *
 * Included by the library's export files (through tevent_export.hpp), so
 * the compiler checks every definition against it; by the tests, which
 * call these entry points (also when built against the reference: it
 * includes whichever <tevent.h> the include path names); and read by
 * tools/abi.py together with tevent.h.
 *
 * Names that tevent.h turns into function-like macros are declared as
 * "(name)(...)" so the macro does not expand here.
 */
#ifndef TEVENT_INTERNAL_H
#define TEVENT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>
#include <tevent.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- older request / queue entry points (before the *_name variants) ---- */
struct tevent_req *(_tevent_req_create)(TALLOC_CTX *mem_ctx, void *pstate, size_t state_size,
					 const char *type, const char *location);
void (tevent_req_set_callback)(struct tevent_req *req, tevent_req_fn fn, void *pvt);
void (tevent_req_set_cancel_fn)(struct tevent_req *req, tevent_req_cancel_fn fn);
void (tevent_req_set_cleanup_fn)(struct tevent_req *req, tevent_req_cleanup_fn fn);
bool (tevent_queue_add)(struct tevent_queue *queue, struct tevent_context *ev,
			struct tevent_req *req, tevent_queue_trigger_fn_t trigger,
			void *private_data);
struct tevent_queue_entry *(tevent_queue_add_entry)(struct tevent_queue *queue,
						     struct tevent_context *ev,
						     struct tevent_req *req,
						     tevent_queue_trigger_fn_t trigger,
						     void *private_data);
struct tevent_queue_entry *(tevent_queue_add_optimize_empty)(struct tevent_queue *queue,
							      struct tevent_context *ev,
							      struct tevent_req *req,
							      tevent_queue_trigger_fn_t trigger,
							      void *private_data);
void (tevent_thread_call_depth_reset_from_req)(struct tevent_req *req);

/* ---- debug, abort and trace hooks ---------------------------------------- */
void tevent_debug(struct tevent_context *ev, enum tevent_debug_level level,
		  const char *fmt, ...) PRINTF_ATTRIBUTE(3, 4);
void tevent_abort(struct tevent_context *ev, const char *reason);
void tevent_trace_point_callback(struct tevent_context *ev, enum tevent_trace_point tp);
void tevent_trace_fd_callback(struct tevent_context *ev, struct tevent_fd *fde,
			      enum tevent_event_trace_point tp);
void tevent_trace_signal_callback(struct tevent_context *ev, struct tevent_signal *se,
				  enum tevent_event_trace_point tp);
void tevent_trace_timer_callback(struct tevent_context *ev, struct tevent_timer *te,
				 enum tevent_event_trace_point tp);
void tevent_trace_immediate_callback(struct tevent_context *ev, struct tevent_immediate *im,
				     enum tevent_event_trace_point tp);
void tevent_trace_queue_callback(struct tevent_context *ev, struct tevent_queue_entry *qe,
				 enum tevent_event_trace_point tp);

/* ---- helpers for event backends ------------------------------------------ */
int tevent_common_context_destructor(struct tevent_context *ev);
int tevent_common_loop_wait(struct tevent_context *ev, const char *location);
int tevent_common_fd_destructor(struct tevent_fd *fde);
struct tevent_fd *tevent_common_add_fd(struct tevent_context *ev, TALLOC_CTX *mem_ctx, int fd,
				       uint16_t flags, tevent_fd_handler_t handler,
				       void *private_data, const char *handler_name,
				       const char *location);
void tevent_common_fd_set_close_fn(struct tevent_fd *fde, tevent_fd_close_fn_t close_fn);
uint16_t tevent_common_fd_get_flags(struct tevent_fd *fde);
void tevent_common_fd_set_flags(struct tevent_fd *fde, uint16_t flags);
int tevent_common_invoke_fd_handler(struct tevent_fd *fde, uint16_t flags, bool *removed);
struct tevent_timer *tevent_common_add_timer(struct tevent_context *ev, TALLOC_CTX *mem_ctx,
					     struct timeval next_event,
					     tevent_timer_handler_t handler, void *private_data,
					     const char *handler_name, const char *location);
struct tevent_timer *tevent_common_add_timer_v2(struct tevent_context *ev, TALLOC_CTX *mem_ctx,
						struct timeval next_event,
						tevent_timer_handler_t handler,
						void *private_data, const char *handler_name,
						const char *location);
struct timeval tevent_common_loop_timer_delay(struct tevent_context *ev);
int tevent_common_invoke_timer_handler(struct tevent_timer *te, struct timeval current_time,
				       bool *removed);
void tevent_common_schedule_immediate(struct tevent_immediate *im, struct tevent_context *ev,
				      tevent_immediate_handler_t handler, void *private_data,
				      const char *handler_name, const char *location);
int tevent_common_invoke_immediate_handler(struct tevent_immediate *im, bool *removed);
bool tevent_common_loop_immediate(struct tevent_context *ev);
void tevent_common_immediate_cancel(struct tevent_immediate *im);
void tevent_common_threaded_activate_immediate(struct tevent_context *ev);
bool tevent_common_have_events(struct tevent_context *ev);
int tevent_common_wakeup_init(struct tevent_context *ev);
int tevent_common_wakeup_fd(int fd);
int tevent_common_wakeup(struct tevent_context *ev);
struct tevent_signal *tevent_common_add_signal(struct tevent_context *ev, TALLOC_CTX *mem_ctx,
					       int signum, int sa_flags,
					       tevent_signal_handler_t handler,
					       void *private_data, const char *handler_name,
					       const char *location);
int tevent_common_check_signal(struct tevent_context *ev);
void tevent_cleanup_pending_signal_handlers(struct tevent_signal *se);
int tevent_common_invoke_signal_handler(struct tevent_signal *se, int signum, int count,
					void *siginfo, bool *removed);
void tevent_common_check_double_free(TALLOC_CTX *ptr, const char *reason);

#ifdef __cplusplus
}
#endif

#endif /* TEVENT_INTERNAL_H */
