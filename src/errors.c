/*
 * errors.c - messages for error codes, outcomes and worker states.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

const char *
fb_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case -EMSGSIZE:
		return "payload larger than the board's slot size";
	case -EAGAIN:
		return "try again: board full, result not complete, or a "
		    "process limit reached (fork)";
	case -EDEADLK:
		return "board full of results nobody has taken";
	case -ESHUTDOWN:
		return "pool is not running";
	case -ENOENT:
		return "no such ticket, key or file";
	case -EEXIST:
		return "already exists (code registered, or keyed board present)";
	case -ENOBUFS:
		return "result larger than the buffer given";
	case -ETIMEDOUT:
		return "timed out";
	case -EBUSY:
		return "busy: pool already started, task running (cancel), or "
		    "not allowed from a completion callback";
	case -ENOTSUP:
		return "no trace ring configured (fb_config.trace_records)";
	case -ECHILD:
		return "pool failed: workers kept dying before they were "
		    "ready (fb_pool_resize() tries again)";
	case -EPERM:
		return "not the pool's process: a forked child or a worker "
		    "cannot use its parent's pool";
	case -EBADF:
		return "bad descriptor (a keep_fds entry is not open)";
	case -EINVAL:
		return "invalid argument";
	case -EACCES:
		return "board key taken by another user's segment, or no permission";
	case -EALREADY:
		return "already done: task committed, complete, or being "
		    "cancelled";
	}
	/* strerrordesc_np: a static string, never a per-thread buffer. */
	if (err < 0 && strerrordesc_np(-err) != NULL)
		return strerrordesc_np(-err);
	return "unknown error";
}

const char *
fb_outcome_name(enum fb_outcome o)
{
	static const char *const names[] = {
		[FB_DONE] = "done", [FB_FAILED] = "failed",
		[FB_NOHANDLER] = "no-handler", [FB_CRASHED] = "crashed",
		[FB_TIMEDOUT] = "timed-out", [FB_BADRESULT] = "bad-result",
		[FB_CANCELLED] = "cancelled",
	};

	if ((unsigned)o >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[o];
}

const char *
fb_worker_state_name(enum fb_worker_state s)
{
	static const char *const names[] = {
		[FB_WORKER_DEAD] = "dead", [FB_WORKER_STARTING] = "starting",
		[FB_WORKER_IDLE] = "idle", [FB_WORKER_BUSY] = "busy",
		[FB_WORKER_EXITING] = "exiting",
	};

	if ((unsigned)s >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[s];
}

const char *
fb_slot_state_name(enum fb_slot_state s)
{
	static const char *const names[] = {
		[FB_SLOT_FREE] = "free", [FB_SLOT_RESERVED] = "reserved",
		[FB_SLOT_QUEUED] = "queued", [FB_SLOT_RUNNING] = "running",
		[FB_SLOT_COMPLETE] = "complete", [FB_SLOT_HELD] = "held",
	};

	if ((unsigned)s >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[s];
}

const char *
fb_trace_cause_name(enum fb_trace_cause c)
{
	static const char *const names[] = {
		[FB_CAUSE_SUBMIT] = "submit", [FB_CAUSE_CLAIM] = "claim",
		[FB_CAUSE_PUBLISH] = "publish", [FB_CAUSE_COLLECT] = "collect",
		[FB_CAUSE_TAKE] = "take", [FB_CAUSE_CANCEL] = "cancel",
		[FB_CAUSE_RETRY] = "retry", [FB_CAUSE_CRASH] = "crash",
		[FB_CAUSE_TIMEOUT] = "timeout", [FB_CAUSE_SPAWN] = "spawn",
		[FB_CAUSE_READY] = "ready", [FB_CAUSE_EXIT] = "exit",
		[FB_CAUSE_DEATH] = "death", [FB_CAUSE_STOP] = "stop",
	};

	if ((unsigned)c >= sizeof(names) / sizeof(names[0]) ||
	    names[c] == NULL)
		return "unknown";
	return names[c];
}
