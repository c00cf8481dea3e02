/*
 * forkboard-module.h - the module ABI of forkboard-server.
 *
 * A module is a shared object loaded with `forkboard-server --module
 * path.so`.  The server dlopen()s it in the master, before the workers
 * fork, so every worker inherits the code already mapped: nothing is
 * loaded in a worker.  It looks up one symbol:
 *
 *	const struct fbm_module *forkboard_module_v1(void);
 *
 * and registers each kind the module lists as a task name served at
 * POST /v1/tasks/{name}.  A kind's handler is an ordinary forkboard
 * handler (see forkboard.h): it runs in a worker on the task's slot, reads
 * t_payload/t_len, writes at most t_result_cap bytes at t_result, sets
 * t_result_len and returns 0, or a positive errno value (the client gets
 * 422 with it in X-Task-Status).  It may crash: the worker dies, the
 * client gets 502 naming the signal, a new worker takes its place.
 *
 * On SIGHUP the server loads every module again in the master (from a
 * private copy of the file, so a replaced file is really re-read), starts
 * a new pool with the new code and lets the old one finish what it runs:
 * new code goes live without a failed request.  The old code stays mapped
 * until the old pool is gone.  A module that fails to load on SIGHUP
 * leaves the old code and workers in place.  Replace a module file by
 * renaming a new one over it (never by writing into it in place: the
 * master may be reading it).
 *
 * Rules for a module:
 *   - abi must be FBM_ABI_VERSION; the server refuses anything else.
 *   - Names: 1 to 32 characters of [a-z0-9_-], unique across the server
 *     (a clash with a built-in kind or another module is an error).
 *   - init, if set, runs in the master at load time (and at every
 *     reload); non-zero refuses the module.  worker_init, if set, runs in
 *     every new worker before it takes tasks.  Neither may keep threads.
 *   - The tables must stay valid while the module is loaded (static data).
 *
 * Build:  cc -shared -fPIC -I/usr/local/include mymod.c -o mymod.so
 */
#ifndef FORKBOARD_MODULE_H
#define FORKBOARD_MODULE_H

#include <stddef.h>

#include "forkboard.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FBM_ABI_VERSION 1
#define FBM_SYMBOL "forkboard_module_v1"

struct fbm_kind {
	const char	*name;		/* task name in the URL */
	fb_handler_fn	 handler;	/* runs in a worker */
	void		*arg;		/* passed to handler */
	const char	*content_type;	/* of the result; NULL: octet-stream */
	unsigned	 timeout_ms;	/* 0: the server's --task-timeout */
};

struct fbm_module {
	unsigned	 abi;		/* FBM_ABI_VERSION */
	const char	*name;
	const struct fbm_kind *kinds;
	size_t		 nkinds;
	int		(*init)(void);			/* master; optional */
	int		(*worker_init)(unsigned index);	/* worker; optional */
};

typedef const struct fbm_module *(*fbm_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* FORKBOARD_MODULE_H */
