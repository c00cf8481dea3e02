/*
 * forkboard.h - a pre-forked process pool with a System V shared-memory
 * task board.
 *
 * This header is the manual.  Every public symbol is documented here.
 *
 * THE MODEL
 *
 *   A master process pre-forks N workers.  Each worker has its own pipe, on
 *   which the master writes fixed-size task records (slot, code, sequence).
 *   Payloads and results never cross a pipe: they live in one System V
 *   shared-memory segment, the board, cut into fixed-size slots.  A worker
 *   reads a record, runs the handler registered for the code on its slot's
 *   payload, writes the result into the slot, publishes the slot as DONE or
 *   FAILED, and writes a small completion record on one pipe shared by all
 *   workers back to the master.
 *
 *       master --task pipe 0--> worker 0 --+
 *         |    --task pipe 1--> worker 1 --+--completion pipe--> master
 *         |    --task pipe 2--> worker 2 --+
 *         |                                     (records <= PIPE_BUF)
 *         +------- board (SysV shm) -------+
 *         | header | worker table | slots |   payloads, results, states
 *
 * CONVENTIONS
 *
 *   - Every function that can fail returns >= 0 on success and a negative
 *     errno value on failure; fb_strerror() turns it into a message.
 *   - The library keeps no global state, never calls exit(), never prints
 *     (it logs only through fb_config.log), and never installs a signal
 *     handler.  It does not reap children it did not fork: it waits for its
 *     own workers one by one (through pidfds), never with waitpid(-1).
 *   - The master never receives SIGPIPE from the library and never needs
 *     to ignore it: it keeps the read end of every task pipe open itself,
 *     so a write to a dead worker's pipe cannot find "no reader".
 *   - Workers leave with _exit(), never exit(): the embedder's atexit
 *     handlers and unflushed stdio buffers belong to the master.
 *
 * THREADS
 *
 *   A pool is not thread-safe: use one pool from one thread at a time (any
 *   thread; different pools from different threads is fine).  Workers do
 *   not depend on the thread that forked them: they outlive its exit, and
 *   die when the master *process* ends.
 *
 * FORK
 *
 *   Only the process that created a pool may use it.  In any other process
 *   (a forked child of the master, or a worker: a handler given the pool
 *   as its argument) every call refuses with -EPERM and touches nothing
 *   shared: no board write, no signal, no change to the epoll set.  There,
 *   fb_pool_destroy() frees only that process's own copy (its memory, its
 *   descriptors, its attachment of the board), which is what code that
 *   "frees what it inherited" wants; the master is unaffected.
 *   fb_pool_workers() and fb_pool_pending() return 0 there, and
 *   fb_pool_counters() zeroes its output.
 *   Every library descriptor is close-on-exec, so exec'd children inherit
 *   none.  A child forked without exec holds copies of the master's pipes
 *   until it exits or destroys its copy; while it holds them, workers
 *   cannot tell that the master died.
 *
 * DESCRIPTORS
 *
 *   Library descriptors are never 0, 1 or 2, even in a daemon that closed
 *   its standard descriptors: a handler's printf can never reach a library
 *   pipe.  The master holds 4 per pool (epoll set, timer, completion pipe)
 *   plus 4 per live worker (its task pipe's two ends, the pidfd or
 *   lifeline, and the write end of its master-death pipe).
 *
 * SIGNALS
 *
 *   Workers are forked with every signal blocked.  In a worker, signals the
 *   master catches return to their default action, signals the master
 *   ignores stay ignored (a handler writing to a closed socket gets EPIPE,
 *   as the master would) except SIGCHLD, which is reset so that handlers
 *   can wait for their own children; then nothing is blocked.
 *   Each worker runs in its own process group, so signals the terminal
 *   sends to the foreground group (Ctrl-C's SIGINT, SIGQUIT, SIGTSTP)
 *   reach the master only: it decides.  A master that catches SIGINT and
 *   calls fb_pool_shutdown() loses no running task; a master that dies of
 *   it (or of anything) takes its workers with it.
 *
 * WORKER PROCESSES AND THEIR CHILDREN
 *
 *   A worker dies within moments of its master process ending, even in
 *   the middle of a handler: it holds the read end of a pipe whose only
 *   write end is the master's, set up (O_ASYNC, F_SETSIG) to deliver
 *   SIGKILL when the master's end closes.
 *   A handler may fork.  When a worker exits, for any reason, whatever is
 *   left of its process group (a handler's children that did not setsid()
 *   or leave the group) is SIGKILLed before the worker is reaped: such
 *   leftovers would hold the board and the worker's pipes.
 *   If SIGCHLD is ignored in the master (or the application reaps with
 *   waitpid(-1)), the kernel may reap a worker before the library can:
 *   its wait status is then unknown (reported as -1, and logged as a
 *   warning) and its leftovers are not signalled, since its pid may
 *   already belong to someone else.
 *
 * LIFETIME
 *
 *   fb_config_init(&cfg);  cfg.workers = 4;  ...
 *   fb_pool_create(&pool, &cfg);
 *   fb_pool_register(pool, CODE, handler, arg);      (before start)
 *   fb_pool_start(pool);                             (forks the workers)
 *   fb_pool_submit(pool, CODE, payload, len, 0, &ticket);
 *   fb_pool_wait(pool, ticket, &res, buf, sizeof buf, -1);
 *   fb_pool_shutdown(pool, 5000);
 *   fb_pool_destroy(pool);
 *
 *   Between fb_pool_shutdown() and fb_pool_destroy() results that were
 *   completed but not yet taken stay readable; fb_pool_destroy() detaches
 *   the board and frees everything.
 */
#ifndef FORKBOARD_H
#define FORKBOARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/ipc.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FB_VERSION_MAJOR 0
#define FB_VERSION_MINOR 1
#define FB_VERSION_PATCH 0

/* Limits.  A pool may have at most FB_WORKERS_MAX workers and
 * FB_SLOTS_MAX slots. */
#define FB_WORKERS_MAX 1024
#define FB_SLOTS_MAX 65536

/*
 * Task codes at or above FB_CODE_RESERVED belong to the library and cannot
 * be registered.  FB_CODE_FDLIST is a built-in diagnostic: the worker that
 * runs it writes an array of struct fb_fdinfo, one per open descriptor, as
 * its result.  Tests use it to prove what a worker inherited.
 */
#define FB_CODE_RESERVED 0xffff0000u
#define FB_CODE_FDLIST (FB_CODE_RESERVED + 1u)

/* Opaque pool handle. */
struct fb_pool;

/* A ticket names one submitted task.  0 is never a valid ticket. */
typedef uint64_t fb_ticket_t;

/* How the master chooses the worker for a new task. */
enum fb_policy {
	FB_POLICY_ROUND_ROBIN = 0, /* the next worker in turn (seed 004) */
	FB_POLICY_LEAST_LOADED     /* the worker with fewest tasks in flight */
};

/* Where the board segment comes from. */
enum fb_board_key {
	FB_BOARD_PRIVATE = 0, /* IPC_PRIVATE, removed (IPC_RMID) at once */
	FB_BOARD_KEY,         /* fb_config.key, created IPC_CREAT|IPC_EXCL */
	FB_BOARD_FTOK         /* ftok(fb_config.ftok_path, ftok_proj) */
};

/* Log levels passed to fb_config.log. */
enum fb_log_level { FB_LOG_ERROR = 0, FB_LOG_WARN, FB_LOG_INFO, FB_LOG_DEBUG };

/*
 * What a handler sees.  payload/len is the task's payload, inside the
 * board.  result points at result_cap bytes of the slot's result area; the
 * handler writes at most result_cap bytes there and sets result_len.
 */
struct fb_task {
	uint32_t t_code;
	unsigned t_worker;       /* index of the worker running it */
	fb_ticket_t t_ticket;
	const void *t_payload;
	size_t t_len;
	void *t_result;
	size_t t_result_cap;
	size_t t_result_len;     /* set by the handler; 0 on entry */
};

/*
 * A handler runs in a worker process.  Return 0 for success (the task ends
 * DONE); any other value ends it FAILED with that value as r_status
 * (by convention a positive errno value, or an application code).
 * A handler may crash: the core never assumes it cannot.
 */
typedef int (*fb_handler_fn)(struct fb_task *task, void *arg);

/* Log callback; msg is a NUL-terminated line without newline. */
typedef void (*fb_log_fn)(void *arg, enum fb_log_level level, const char *msg);

/*
 * Pool configuration.  Call fb_config_init() first, then change fields.
 * Zero in a numeric field means "the default" where one is given.
 */
struct fb_config {
	unsigned workers;          /* workers to start; default 4 */
	unsigned max_workers;      /* worker-table size, for resize; default workers */
	unsigned slots;            /* board slots; default 64 per worker */
	size_t slot_size;          /* payload bytes per slot; default 4096 */
	size_t result_size;        /* result bytes per slot; default slot_size */
	enum fb_policy policy;

	enum fb_board_key key_mode;
	key_t key;                 /* FB_BOARD_KEY */
	const char *ftok_path;     /* FB_BOARD_FTOK */
	int ftok_proj;             /* FB_BOARD_FTOK; default 'F' */
	unsigned mode;             /* segment permission bits; default 0600 */

	const int *keep_fds;       /* descriptors workers keep besides their own */
	size_t nkeep_fds;

	fb_log_fn log;             /* optional */
	void *log_arg;

	/* Runs in each new worker after its descriptors are set up, before
	 * it takes tasks (open a connection, drop privileges...).  Non-zero
	 * makes the worker exit before it is ready: a worker that keeps
	 * doing so trips the crash-loop guard (respawn_max). */
	int (*worker_init)(unsigned index, void *arg);
	void *worker_init_arg;

	/* main()'s argc/argv, optional.  With them, workers rewrite their
	 * argv so ps shows "forkboard: worker N idle|busy code X"
	 * (setproctitle).  Without them, only the short name (comm) is set,
	 * to "fb-worker N". */
	int argc;
	char **argv;

	/* Supervision.  0 means "off" unless a default is given. */
	unsigned retries;          /* re-runs of a task whose worker crashed.
	                              An attempt is charged only to the task
	                              a dead worker may have been running: the
	                              oldest it had read and not finished, and
	                              only if it had reported ready.  Tasks it
	                              never read go to other workers free. */
	unsigned task_timeout_ms;  /* per-task deadline; 0: none */
	unsigned kill_grace_ms;    /* SIGTERM -> SIGKILL delay; default 1000 */
	unsigned max_tasks;        /* recycle a worker after this many tasks */
	unsigned max_tasks_jitter; /* + random [0, jitter] to spread recycling */
	unsigned respawn_max;      /* deaths before ready, in a row, before the
	                              pool gives up; default 5.  Back-off
	                              between them: 50 ms, doubling, <= 5 s.
	                              "Ready" is the worker's own message to
	                              the master, not its scoreboard row.  A
	                              failed fork (process or descriptor
	                              limits) is retried with the same
	                              back-off, logged, and never counts. */
	unsigned respawn_rate;     /* respawns per second at most; default 50 */

	/* Latency.  Spin up to spin_us microseconds before sleeping: a worker
	 * that ran out of tasks watches for more, fb_pool_wait() watches its
	 * task's slot.  Off (0) by default: it burns CPU to save the
	 * scheduler's wake-up time. */
	unsigned spin_us;
};

/* Terminal state of a task, as fb_result.outcome. */
enum fb_outcome {
	FB_DONE = 0,       /* handler returned 0 */
	FB_FAILED,         /* handler returned status != 0 */
	FB_NOHANDLER,      /* no handler registered for the code */
	FB_CRASHED,        /* the worker died while running it */
	FB_TIMEDOUT,       /* it ran past its deadline and was killed */
	FB_BADRESULT,      /* the worker wrote an impossible result length */
	FB_CANCELLED       /* the pool stopped before the task ran */
};

/* A completed task, filled in by fb_pool_result() and friends. */
struct fb_result {
	fb_ticket_t r_ticket;
	uint32_t r_code;
	enum fb_outcome r_outcome;
	int r_status;          /* handler's return value; for FB_CRASHED and
	                          FB_TIMEDOUT the wait status of the dead
	                          worker (WIFSIGNALED, WTERMSIG...) */
	unsigned r_worker;     /* worker index that ran it */
	pid_t r_pid;           /* that worker's pid */
	unsigned r_attempts;   /* runs, including retries */
	size_t r_len;          /* result length (copied, or needed) */
	uint64_t r_run_ns;     /* how long the handler ran (crashed, timed
	                          out: from dispatch to death) */
};

/* The board segment as the kernel sees it (IPC_STAT), plus geometry. */
struct fb_board_stat {
	int bs_shmid;
	key_t bs_key;            /* IPC_PRIVATE (0) once removed */
	size_t bs_size;          /* bytes asked for */
	size_t bs_size_rounded;  /* bs_size rounded up to whole pages, in bytes */
	unsigned bs_mode;        /* permission bits */
	int bs_removed;          /* IPC_RMID already done (SHM_DEST) */
	unsigned long bs_nattch; /* processes attached */
	pid_t bs_cpid;           /* creator */
	pid_t bs_lpid;           /* last shmat/shmdt */
	unsigned bs_slots;
	size_t bs_slot_size;
	size_t bs_result_size;
};

/* Worker states, ordered: comparisons mean something. */
enum fb_worker_state {
	FB_WORKER_DEAD = 0,
	FB_WORKER_STARTING,
	FB_WORKER_IDLE,
	FB_WORKER_BUSY,
	FB_WORKER_EXITING
};

/* One row of the scoreboard, copied out of the board. */
struct fb_worker_info {
	unsigned wi_index;
	pid_t wi_pid;
	enum fb_worker_state wi_state;
	uint32_t wi_generation;  /* bumped on every respawn */
	uint64_t wi_tasks;       /* tasks finished by this process */
	uint32_t wi_slot;        /* slot being run when BUSY (UINT32_MAX if
	                            the worker wrote an impossible one) */
	uint32_t wi_code;        /* code being run when BUSY */
	unsigned wi_inflight;    /* tasks the master has sent it, not done */
	unsigned wi_restarts;
	int wi_last_status;      /* wait status of the previous process, -1 none */
};

/* Pool counters. */
struct fb_counters {
	uint64_t c_submitted;
	uint64_t c_done;
	uint64_t c_failed;       /* FB_FAILED */
	uint64_t c_nohandler;
	uint64_t c_crashed;
	uint64_t c_timedout;
	uint64_t c_badresult;
	uint64_t c_cancelled;
	uint64_t c_retried;
	uint64_t c_respawns;
};

/* Information about one open descriptor, as FB_CODE_FDLIST returns it. */
struct fb_fdinfo {
	int32_t fi_fd;
	uint32_t fi_mode;        /* st_mode: S_ISFIFO() etc. */
	uint64_t fi_ino;         /* st_ino */
	int32_t fi_accmode;      /* O_RDONLY, O_WRONLY or O_RDWR */
	int32_t fi_pad;
};

/*
 * Every call below takes a pool and returns -EPERM when called from a
 * process other than the pool's creator (see FORK).
 */

/* Submit flags. */
#define FB_NONBLOCK 0x1 /* full board: return -EAGAIN instead of waiting */
#define FB_DEFER 0x2    /* keep the task record in the master until
                           fb_pool_flush() or any call that processes or
                           waits: many tasks, one write per worker */

/* One task of a batch, for fb_pool_submit_batch(). */
struct fb_job {
	uint32_t j_code;
	const void *j_payload;
	size_t j_len;
};

/* Return a static message for a negative errno value from this API. */
const char *fb_strerror(int err);

/* Name of an outcome ("done", "crashed", ...). */
const char *fb_outcome_name(enum fb_outcome outcome);

/* Fill cfg with defaults. */
void fb_config_init(struct fb_config *cfg);

/*
 * Create a pool: check cfg, create and attach the board (mode 0600 unless
 * cfg->mode says otherwise).  A private board is IPC_RMID'd right here, so
 * the kernel frees it when the last process detaches, whatever happens.
 * No process is forked yet.  Errors: -EINVAL (bad geometry, bad key mode,
 * NULL poolp or cfg, a keep_fds entry given twice), -EBADF (a keep_fds
 * entry is not an open descriptor now), -EEXIST (keyed board exists),
 * -ENOENT (ftok path missing), -ENOMEM, and whatever shmget(2) returns.
 * On error nothing is left: no descriptor, no segment.
 */
int fb_pool_create(struct fb_pool **poolp, const struct fb_config *cfg);

/*
 * Register fn for code.  Only before fb_pool_start(): workers inherit the
 * table at fork.  Errors: -EBUSY (started), -EINVAL (reserved code or NULL
 * fn), -EEXIST (code already registered).
 */
int fb_pool_register(struct fb_pool *pool, uint32_t code, fb_handler_fn fn,
    void *arg);

/*
 * Fork the workers.  Each keeps exactly: 0, 1 and 2 (the master's, or
 * /dev/null where the master had none open), its own task pipe's read
 * end, the completion pipe's write end, the read end of its master-death
 * pipe, where pidfds are missing the write end of its lifeline pipe, and
 * cfg->keep_fds; every other descriptor is closed in the child.  See
 * SIGNALS and WORKER PROCESSES above for what else a worker inherits.
 * It does not wait for the workers to be ready.
 * Errors: -EBUSY (already started), -EBADF (a keep_fds entry was closed
 * since fb_pool_create()), -EAGAIN (fork(2) hit a process limit,
 * RLIMIT_NPROC), -EMFILE/-ENFILE/-ENOMEM (pipes, pidfds).  On error
 * nothing is left running: every worker already forked is killed and
 * reaped.
 */
int fb_pool_start(struct fb_pool *pool);

/*
 * Submit a task: copy len bytes of payload into a free slot and send its
 * record to a worker.  On success *ticket names the task.
 * Tickets of one pool increase with every successful submit.
 * Errors: -EMSGSIZE (len > slot_size; nothing is taken), -EINVAL (code 0
 * is fine, reserved codes other than FB_CODE_FDLIST are not), -ESHUTDOWN
 * (pool stopped or not started), -ECHILD (the pool failed: workers kept
 * dying before they were ready), -EAGAIN (board full and FB_NONBLOCK, in
 * every case), -EDEADLK (board full without FB_NONBLOCK, and nothing in
 * flight: every slot holds a finished result nobody has taken, so waiting
 * could never end).
 * Without FB_NONBLOCK a full board makes the call process completions and
 * wait until a slot is free.
 */
int fb_pool_submit(struct fb_pool *pool, uint32_t code, const void *payload,
    size_t len, int flags, fb_ticket_t *ticket);

/*
 * Submit n tasks in one call: each worker gets all its records in one
 * write.  Consecutive jobs go to one worker in runs (at most 32), sized to
 * spread the batch over as many workers as there are CPUs: one write and
 * one wake-up then carry many tasks.  For work that sleeps or blocks,
 * prefer fb_pool_submit() with FB_DEFER, which spreads task by task.
 * tickets[i] names jobs[i].  Returns how many were accepted, in
 * order: all n, or fewer when the board filled up under FB_NONBLOCK (the
 * rest were not taken).  A job that cannot be accepted at all (-EMSGSIZE,
 * -EINVAL) stops the batch there: the count before it is returned, or the
 * error if it was the first.  Other errors as fb_pool_submit().
 */
int fb_pool_submit_batch(struct fb_pool *pool, const struct fb_job *jobs,
    size_t n, int flags, fb_ticket_t *tickets);

/* Send the records of FB_DEFER submits now.  Returns 0 or -errno. */
int fb_pool_flush(struct fb_pool *pool);

/*
 * Zero-copy submit, step 1: take a free slot and get its payload area,
 * *cap bytes, inside the board, to write the payload in place.
 * Errors: -EAGAIN (board full and FB_NONBLOCK), -EDEADLK, -ESHUTDOWN,
 * -ECHILD as fb_pool_submit().
 */
int fb_pool_reserve(struct fb_pool *pool, int flags, void **payload,
    size_t *cap, fb_ticket_t *ticket);

/*
 * Zero-copy submit, step 2: send the reserved slot's task, len bytes of
 * payload, code.  flags: FB_DEFER.  Errors: -ENOENT (not a reservation),
 * -EALREADY (already committed), -EMSGSIZE (len > cap: still reserved),
 * -EINVAL (reserved code).
 */
int fb_pool_commit(struct fb_pool *pool, fb_ticket_t ticket, uint32_t code,
    size_t len, int flags);

/*
 * Zero-copy results: like fb_pool_next(), but *data points at the result
 * inside the board (res->r_len bytes) instead of copying it.  The slot
 * stays taken, and *data valid, until fb_pool_release(res->r_ticket).
 */
int fb_pool_next_view(struct fb_pool *pool, struct fb_result *res,
    const void **data, int timeout_ms);

/* Like fb_pool_wait(), without copying: release the ticket when done. */
int fb_pool_wait_view(struct fb_pool *pool, fb_ticket_t ticket,
    struct fb_result *res, const void **data, int timeout_ms);

/*
 * Give back a slot held by fb_pool_reserve() (not committed) or by a
 * view.  Errors: -ENOENT (unknown ticket, or not held: in flight, or
 * complete but not viewed).
 */
int fb_pool_release(struct fb_pool *pool, fb_ticket_t ticket);

/*
 * The descriptor to poll (POLLIN / EPOLLIN / EV_READ) from an event loop:
 * it is readable when fb_pool_process() has work to do (completions,
 * worker start-up and exit messages, timers), which may complete no task.
 * Valid from fb_pool_create() to destroy.
 */
int fb_pool_fd(const struct fb_pool *pool);

/*
 * Give tasks of this code their own timeout (ms; 0: the pool's
 * task_timeout_ms).
 *
 * The bound.  A worker runs the tasks sent to it one after the other, in
 * the order they were sent.  A task's timeout counts from the moment its
 * worker could start it, as the master knows it: the task's dispatch, or
 * the completion of the task sent to the same worker before it, whichever
 * is later.  So a task with a timeout ends (FB_TIMEDOUT at the latest)
 * within timeout + kill_grace_ms + 10 ms of that moment, whatever the
 * handler does and whatever a worker writes to the board, even a task its
 * worker never starts.  A task queued behind tasks without a timeout waits
 * for them.
 *
 * On expiry the worker is told to take no new task, gets SIGTERM, and
 * SIGKILL kill_grace_ms later; the task ends FB_TIMEDOUT (never retried)
 * and the worker is replaced.  Tasks queued behind it on that worker go to
 * other workers without being charged an attempt.  Signals go through the
 * worker's pidfd, never to a pid that could have been reused.
 * Errors: -ENOENT (code not registered).
 */
int fb_pool_set_timeout(struct fb_pool *pool, uint32_t code, unsigned ms);

/*
 * Run n workers from now on (1..max_workers).  Growing forks at once.
 * Shrinking stops sending to the workers above n and closes their pipes:
 * they finish every task they were given, then exit.  Nothing is lost.
 * On a failed pool (-ECHILD from submit: workers kept dying before they
 * were ready), this is how the embedder tries again once the cause is
 * fixed: the crash-loop counts are reset and the workers started.
 * Errors: -EINVAL, -ESHUTDOWN, and spawn errors as fb_pool_start().
 */
int fb_pool_resize(struct fb_pool *pool, unsigned n);

/*
 * Handle everything that is ready without blocking.  Returns the number of
 * tasks that became complete, or a negative errno.
 */
int fb_pool_process(struct fb_pool *pool);

/*
 * Take the result of ticket, if complete, without blocking: fill *res, copy
 * up to cap bytes of result into buf, and free the slot.  It makes no
 * system call and so does not learn of new completions: an event loop
 * calls fb_pool_process() first.
 * Errors: -EAGAIN (not complete yet), -ENOENT (unknown or already taken),
 * -ENOBUFS (cap too small: res->r_len says how much is needed; nothing is
 * taken, call again with a bigger buffer).
 */
int fb_pool_result(struct fb_pool *pool, fb_ticket_t ticket,
    struct fb_result *res, void *buf, size_t cap);

/*
 * Like fb_pool_result(), but wait up to timeout_ms (-1: forever) for the
 * task to complete, processing events meanwhile.  With 0 it processes
 * what is ready once and returns -EAGAIN if the task is still running, so
 * a loop that polls a ticket makes progress.  Signals do not stretch the
 * wait: after EINTR it resumes with the time that is left.
 * Errors as fb_pool_result(), plus -ETIMEDOUT.
 */
int fb_pool_wait(struct fb_pool *pool, fb_ticket_t ticket,
    struct fb_result *res, void *buf, size_t cap, int timeout_ms);

/*
 * Take the oldest completed result, whatever its ticket, waiting up to
 * timeout_ms.  Errors as fb_pool_wait(), plus -ENOENT when nothing is in
 * flight or complete (waiting would never end).
 */
int fb_pool_next(struct fb_pool *pool, struct fb_result *res, void *buf,
    size_t cap, int timeout_ms);

/* Tasks submitted and not yet taken (in flight or complete). */
unsigned fb_pool_pending(const struct fb_pool *pool);

/*
 * Stop the pool, in two phases.
 *
 * Drain: new submits are refused (-ESHUTDOWN), but the pool is supervised
 * as before: completions are collected, crashed tasks retried, dead
 * workers replaced, and tasks waiting for a worker run, until nothing is
 * in flight or timeout_ms passes (-1: no limit).
 *
 * Close: every task pipe write end the master holds is closed, so each
 * worker finishes what it already has and exits; the master keeps reading
 * completions while it waits, so no worker blocks on a full pipe.  Workers
 * still alive at the deadline (or kill_grace_ms after the drain, when
 * there is no deadline or nothing was left to run) get SIGTERM, and
 * SIGKILL kill_grace_ms later.  Every worker is reaped, and what is left
 * of its process group killed, before this returns.
 *
 * Tasks that never reached a worker end FB_CANCELLED; a task running when
 * its worker was killed ends FB_CRASHED.  Completed results stay readable
 * until fb_pool_destroy().  Returns 0, or -ETIMEDOUT if workers had to be
 * signalled.
 */
int fb_pool_shutdown(struct fb_pool *pool, int timeout_ms);

/*
 * If still running, shut down as fb_pool_shutdown(pool, 0) does: nothing
 * in flight is waited for (busy workers get SIGTERM, then SIGKILL after
 * kill_grace_ms; their tasks end FB_CRASHED or FB_CANCELLED, unseen).
 * Then detach and, for keyed boards, remove the segment, close every
 * descriptor and free the pool.  NULL is accepted.  In a process other
 * than the pool's creator it frees only that process's copy (see FORK).
 */
void fb_pool_destroy(struct fb_pool *pool);

/* The board segment's kernel view and geometry. */
int fb_pool_stat(const struct fb_pool *pool, struct fb_board_stat *st);

/* Number of worker processes alive now (0 after fb_pool_shutdown()). */
unsigned fb_pool_workers(const struct fb_pool *pool);

/*
 * Copy scoreboard row index into *wi.  The row's worker-written fields
 * (state, slot, code, tasks) are copied as one consistent snapshot (the
 * row is a seqlock) and range-checked; pid, generation, restarts and the
 * last status are the master's own facts.  Errors: -EINVAL (index out of
 * range).  Rows up to max_workers exist; unused rows, and every row after
 * fb_pool_shutdown(), read DEAD.
 */
int fb_pool_worker_info(const struct fb_pool *pool, unsigned index,
    struct fb_worker_info *wi);

/* Slot states, ordered as a task moves through them. */
enum fb_slot_state {
	FB_SLOT_FREE = 0,
	FB_SLOT_RESERVED,  /* fb_pool_reserve(), not committed */
	FB_SLOT_QUEUED,    /* sent to a worker (or waiting for one) */
	FB_SLOT_RUNNING,   /* a worker runs it */
	FB_SLOT_COMPLETE,  /* result waiting to be taken */
	FB_SLOT_HELD       /* result lent out by a view until release */
};

/* One slot of the board, as the master sees it. */
struct fb_slot_info {
	unsigned si_index;
	enum fb_slot_state si_state;
	uint32_t si_code;
	fb_ticket_t si_ticket;   /* 0 when free */
	unsigned si_worker;      /* QUEUED/RUNNING/COMPLETE: which worker */
	unsigned si_attempts;
	uint64_t si_age_ns;      /* since it was last sent to a worker */
};

/* Copy slot index's state into *si.  Errors: -EINVAL (out of range). */
int fb_pool_slot_info(const struct fb_pool *pool, unsigned index,
    struct fb_slot_info *si);

/* Name of a slot state ("free", "running", ...). */
const char *fb_slot_state_name(enum fb_slot_state state);

/* Copy the pool counters into *c. */
void fb_pool_counters(const struct fb_pool *pool, struct fb_counters *c);

/* Name of a worker state ("idle", "busy", ...). */
const char *fb_worker_state_name(enum fb_worker_state state);

#ifdef __cplusplus
}
#endif

#endif /* FORKBOARD_H */
