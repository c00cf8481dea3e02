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
 *   - Every function that can fail returns 0 (or, where it says so, a
 *     count) on success and a negative errno value on failure;
 *     fb_strerror() turns it into a message.
 *   - Pointer arguments must not be NULL unless the call says otherwise
 *     (a NULL pointer where one is required is -EINVAL, never a crash,
 *     except for the pool itself, which must be valid).
 *   - "Blocks" below means: may sleep in the kernel.  A call documented as
 *     not blocking makes no system call that can sleep.
 *   - The library calls back into the embedder only through fb_config.log
 *     (from any call that acts on workers), the completion callback (from
 *     fb_pool_process() only) and, in the workers, handlers and
 *     worker_init/worker_fini.  None of them is called with a lock held;
 *     what each may call back into the pool is stated with it.
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
 *   fb_pool_workers(), fb_pool_inflight() and fb_pool_slots_used() return
 *   0 there, and fb_pool_counters() zeroes its output.
 *   Every library descriptor is close-on-exec, so exec'd children inherit
 *   none.  A child forked without exec holds copies of the master's pipes
 *   until it exits or destroys its copy; while it holds them, workers
 *   cannot tell that the master died.
 *
 * DESCRIPTORS
 *
 *   Library descriptors are never 0, 1 or 2, even in a daemon that closed its
 *   standard descriptors: a handler's printf can never reach a library
 *   pipe.  The master holds 4 per pool (epoll set, timer, the completion
 *   pipe's two ends) plus 4 per live worker (its task pipe's two ends, the
 *   pidfd or lifeline, and the write end of its master-death pipe).
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
 *   struct fb_config cfg;
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
 *
 * TWO WAYS TO TAKE RESULTS
 *
 *   Tickets, for simple programs: fb_pool_wait() / fb_pool_result() /
 *   fb_pool_next() and their zero-copy _view forms.
 *   Callbacks, for event loops: fb_pool_set_callback(), then poll
 *   fb_pool_fd() and call fb_pool_process(), which hands every completed
 *   task to the callback with its result data and frees its slot.  Each
 *   task carries the caller's 64-bit udata (struct fb_job), echoed in its
 *   result, so results map back to the caller's objects without a lookup.
 *
 * ABI
 *
 *   Structures the caller allocates (fb_config, fb_job, fb_result,
 *   fb_worker_info, fb_slot_info, fb_board_stat, fb_counters, fb_trace_rec)
 *   only ever grow at the end.  Every call that takes one is a macro that
 *   passes sizeof(*ptr) to the exported function (fb_pool_wait() calls
 *   fb_pool_wait_sz(..., sizeof *res)), so a program compiled against an
 *   older header keeps working with a newer library: the library reads and
 *   writes only the bytes the caller's structure has, and fills fields the
 *   caller's older fb_config lacks with their defaults.  A caller's
 *   structure larger than the library's (a newer header) is accepted only
 *   if the bytes the library does not know are zero (else -EINVAL): it
 *   could not honour them.  Output structures
 *   start with a _filled member: how many bytes the library wrote (a newer
 *   program on an older library can tell which fields are valid).
 *   The shared library's soname changes only when an exported function
 *   changes incompatibly (libtool -version-info, see Makefile.am); the
 *   symbols carry the version node FORKBOARD_1.0.
 */
#ifndef FORKBOARD_H
#define FORKBOARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/ipc.h>

#include <forkboard-version.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exported symbols (the library builds with -fvisibility=hidden). */
#if defined(__GNUC__) && defined(FB_BUILDING_LIBRARY)
#define FB_EXPORT __attribute__((visibility("default")))
#else
#define FB_EXPORT
#endif

/* The library's version at run time: "MAJOR.MINOR.PATCH", and
 * MAJOR << 16 | MINOR << 8 | PATCH.  The header's own version is
 * FB_VERSION_MAJOR, FB_VERSION_MINOR, FB_VERSION_PATCH and
 * FB_VERSION_STRING, from <forkboard-version.h> (generated by configure
 * from AC_INIT: one source for both). */
FB_EXPORT const char *fb_version(void);
FB_EXPORT unsigned fb_version_number(void);

/* Limits.  A pool may have at most FB_WORKERS_MAX workers and
 * FB_SLOTS_MAX slots; cfg->keep_fds at most FB_KEEP_FDS_MAX entries. */
#define FB_WORKERS_MAX 1024
#define FB_SLOTS_MAX 65536
#define FB_KEEP_FDS_MAX 32

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
 * ctx is what worker_init gave this worker (NULL without one).
 */
struct fb_task {
	uint32_t t_code;
	unsigned t_worker;       /* index of the worker running it */
	fb_ticket_t t_ticket;
	uint64_t t_udata;        /* the submitter's udata */
	const void *t_payload;
	size_t t_len;
	void *t_result;
	size_t t_result_cap;
	size_t t_result_len;     /* set by the handler; 0 on entry */
	void *t_ctx;             /* the worker's context */
};

/*
 * A handler runs in a worker process.  Return 0 for success (the task ends
 * DONE); any other value ends it FAILED with that value as r_status
 * (by convention a positive errno value, or an application code).
 * A handler may crash: the core never assumes it cannot.  It must not
 * call the pool's API (it gets -EPERM: see FORK).
 */
typedef int (*fb_handler_fn)(struct fb_task *task, void *arg);

/* Log callback; msg is a NUL-terminated line without newline.  It must
 * not call the pool. */
typedef void (*fb_log_fn)(void *arg, enum fb_log_level level, const char *msg);

/*
 * fb_config.task_clock.  A precise clock read costs 15 to 40 ns on a
 * virtual machine: nothing beside a task that takes microseconds, a tenth
 * of what a no-op task costs (like nginx's timer_resolution, this trades
 * precision for it).
 *   FB_CLOCK_TASK   every task is timed: r_run_ns is how long its handler
 *                   ran; r_started_ns and r_ended_ns are its worker's
 *                   readings.
 *   FB_CLOCK_BATCH  a worker reads the clock once when it takes a batch of
 *                   records from its pipe (one read(2)), and once when the
 *                   batch is done.  A task alone in its batch is timed as
 *                   with FB_CLOCK_TASK; a task that shared its batch has
 *                   r_run_ns 0 (not measured), and r_started_ns and
 *                   r_ended_ns both say when the batch was taken.  Only
 *                   the coarse clock is read per task (a few ns): a task
 *                   during which it ticked (every few ms) has its
 *                   completion sent at once, not with the next task's.
 */
enum fb_task_clock {
	FB_CLOCK_TASK = 0,
	FB_CLOCK_BATCH
};

/*
 * Pool configuration.  fb_config_init() first (it fills the defaults),
 * then change fields.  Zero in a numeric field means "the default" where
 * one is given.
 */
struct fb_config {
	unsigned workers;          /* workers to start; default 4 */
	unsigned max_workers;      /* worker-table size, for resize; default workers */
	unsigned slots;            /* board slots (tasks in flight or waiting
	                              to be taken); default 64 * workers, at
	                              most FB_SLOTS_MAX */
	size_t payload_size;       /* payload capacity of a slot; default 4096 */
	size_t result_size;        /* result capacity of a slot; default
	                              payload_size */
	enum fb_policy policy;

	enum fb_board_key key_mode;
	key_t key;                 /* FB_BOARD_KEY */
	const char *ftok_path;     /* FB_BOARD_FTOK */
	int ftok_proj;             /* FB_BOARD_FTOK; default 'F' */
	unsigned mode;             /* segment permission bits; default 0600 */

	const int *keep_fds;       /* descriptors workers keep besides their
	                              own (at most FB_KEEP_FDS_MAX, each open,
	                              none twice) */
	size_t nkeep_fds;

	fb_log_fn log;             /* optional */
	void *log_arg;

	/* Run in each new worker after its descriptors are set up, before it
	 * takes tasks (open a connection, load a model, drop privileges...).
	 * Non-zero from worker_init makes the worker exit before it is
	 * ready: a worker that keeps doing so trips the crash-loop guard.
	 * What it stores in *ctx (NULL on entry) reaches every handler the
	 * worker runs as task->t_ctx.  worker_fini runs when the worker
	 * leaves gracefully (end of its task pipe: shutdown, shrink,
	 * recycling), never when it is killed. */
	int (*worker_init)(unsigned index, void *arg, void **ctx);
	void (*worker_fini)(unsigned index, void *arg, void *ctx);
	void *worker_arg;

	/* main()'s argc/argv, optional.  With them, workers rewrite their
	 * argv so ps shows "forkboard: worker N idle|busy code X"
	 * (setproctitle).  Without them, only the short name (comm) is set,
	 * to "fb-worker N". */
	int argc;
	char **argv;

	/* Supervision.  0 means "off" unless a default is given. */
	unsigned retries;          /* re-runs of a task whose worker crashed
	                              (per task: fb_job.j_retries).  An attempt
	                              is charged only to the task a dead
	                              worker may have been running: the oldest
	                              it had read and not finished, and only
	                              if it had reported ready.  Tasks it
	                              never read go to other workers free. */
	unsigned task_timeout_ms;  /* deadline of every task (per code:
	                              fb_pool_set_timeout; per task:
	                              fb_job.j_timeout_ms); 0: none */
	unsigned kill_grace_ms;    /* SIGTERM -> SIGKILL delay; default 1000 */
	unsigned recycle_after;    /* replace a worker after this many tasks;
	                              0: never */
	unsigned recycle_jitter;   /* + random [0, jitter], to spread it */
	unsigned crash_loop_max;   /* workers dying before ready, in a row,
	                              before the pool fails; default 5.
	                              Back-off between them: 50 ms, doubling,
	                              <= 5 s.  "Ready" is the worker's own
	                              message to the master, not its
	                              scoreboard row.  A failed fork (process
	                              or descriptor limits) is retried with
	                              the same back-off, logged, and never
	                              counts. */
	unsigned respawn_rate;     /* respawns per second at most; default 50 */

	/* Latency.  Spin up to spin_us microseconds before sleeping: a worker
	 * that ran out of tasks watches for more, fb_pool_wait() watches its
	 * task's slot.  A spinner yields the CPU as it watches, so a peer
	 * sharing its CPU still runs.  Off (0) by default: it burns CPU to
	 * save the scheduler's wake-up time. */
	unsigned spin_us;

	/* Observability.  trace_records: size of the trace ring in the
	 * board (0: no trace; see TRACE).  rusage: measure each handler's
	 * CPU time and the worker's peak RSS (two getrusage(2) calls per
	 * task; off by default). */
	unsigned trace_records;
	int rusage;

	/* Fault injection (see FAULTS): a spec, or NULL to read the
	 * environment variable FB_FAULT at fb_pool_create(). */
	const char *fault;

	/* Since 1.1.  How a worker times its tasks (r_run_ns, r_started_ns,
	 * r_ended_ns): FB_CLOCK_TASK, the default, reads CLOCK_MONOTONIC
	 * after every task; FB_CLOCK_BATCH once per batch of records it
	 * takes from its pipe at once (see enum fb_task_clock). */
	enum fb_task_clock task_clock;
};

/* Terminal state of a task, as fb_result.r_outcome. */
enum fb_outcome {
	FB_DONE = 0,       /* handler returned 0 */
	FB_FAILED,         /* handler returned status != 0 */
	FB_NOHANDLER,      /* no handler registered for the code */
	FB_CRASHED,        /* the worker died while running it */
	FB_TIMEDOUT,       /* it ran past its deadline and was stopped */
	FB_BADRESULT,      /* the worker wrote an impossible result length */
	FB_CANCELLED       /* fb_pool_cancel(), or the pool stopped before it
	                      ran */
};

/* A completed task. */
struct fb_result {
	size_t r_filled;       /* bytes of this structure the library wrote */
	fb_ticket_t r_ticket;
	uint64_t r_udata;      /* as given at submit */
	uint32_t r_code;
	enum fb_outcome r_outcome;
	int r_status;          /* FB_FAILED: the handler's return value; else 0 */
	int r_wait_status;     /* FB_CRASHED, FB_TIMEDOUT, FB_CANCELLED of a
	                          running task: the dead worker's wait status
	                          (WIFSIGNALED, WTERMSIG...), -1 if unknown
	                          (see WORKER PROCESSES); else 0 */
	unsigned r_worker;     /* worker index that ran it (last attempt) */
	pid_t r_pid;           /* that worker's pid */
	unsigned r_attempts;   /* runs, including retries */
	size_t r_len;          /* result length (copied, or needed) */
	uint64_t r_run_ns;     /* how long the handler ran (crashed, timed
	                          out: from dispatch to death) */
	/* When (CLOCK_MONOTONIC, ns): submitted; its last attempt started
	 * and ended, as its worker read the clock (see fb_config.task_clock),
	 * believed when they fall between its dispatch and its collection;
	 * otherwise (and for a task that crashed, timed out or was
	 * cancelled) when it was sent to its worker and when the master saw
	 * it end. */
	int64_t r_queued_ns;
	int64_t r_started_ns;
	int64_t r_ended_ns;
	/* fb_config.rusage only (else 0): the handler's CPU time (user +
	 * system), and the worker's peak resident set after it. */
	uint64_t r_cpu_ns;
	uint64_t r_maxrss_kb;
};

/* The board segment as the kernel sees it (IPC_STAT), plus geometry. */
struct fb_board_stat {
	size_t bs_filled;
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
	size_t bs_payload_size;
	size_t bs_result_size;
	unsigned bs_trace_records;
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
	size_t wi_filled;
	unsigned wi_index;
	pid_t wi_pid;
	enum fb_worker_state wi_state;
	uint32_t wi_generation;  /* bumped on every respawn */
	uint64_t wi_tasks;       /* tasks finished by this process */
	uint32_t wi_slot;        /* slot being run when BUSY (UINT32_MAX if
	                            none, or the worker wrote an impossible one) */
	uint32_t wi_code;        /* code being run when BUSY */
	unsigned wi_inflight;    /* tasks the master has sent it, not done */
	unsigned wi_restarts;    /* processes this row has had after its
	                            first */
	int wi_last_status;      /* wait status of the previous process, -1 none */
};

/* Pool counters, since fb_pool_create(). */
struct fb_counters {
	size_t c_filled;
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
	size_t si_filled;
	unsigned si_index;
	enum fb_slot_state si_state;
	uint32_t si_code;
	fb_ticket_t si_ticket;   /* 0 when free */
	uint64_t si_udata;
	unsigned si_worker;      /* QUEUED/RUNNING/COMPLETE: which worker */
	unsigned si_attempts;
	uint64_t si_age_ns;      /* since it was last sent to a worker */
};

/* ---- errors and names (never block, never fail) ----------------------- */

/* A static message for a negative errno value from this API. */
FB_EXPORT const char *fb_strerror(int err);
/* "done", "crashed"...; "idle", "busy"...; "free", "running"...;
 * "unknown" for values out of range. */
FB_EXPORT const char *fb_outcome_name(enum fb_outcome outcome);
FB_EXPORT const char *fb_worker_state_name(enum fb_worker_state state);
FB_EXPORT const char *fb_slot_state_name(enum fb_slot_state state);

/* ---- lifetime ---------------------------------------------------------- */

/* Fill cfg with the defaults.  Does not block. */
FB_EXPORT void fb_config_init_sz(struct fb_config *cfg, size_t cfg_size);
#define fb_config_init(cfg) fb_config_init_sz((cfg), sizeof(*(cfg)))

/*
 * Create a pool: check cfg, create and attach the board (mode 0600 unless
 * cfg->mode says otherwise).  A private board is IPC_RMID'd right here, so
 * the kernel frees it when the last process detaches, whatever happens.
 * No process is forked yet.  Does not block (beyond shmget/shmat).
 * On error *poolp is NULL (and fb_pool_destroy(NULL) does nothing).
 * Errors: -EINVAL (bad geometry, bad key mode, NULL poolp or cfg, a
 * keep_fds entry given twice, a bad fault spec), -EBADF (a keep_fds entry
 * is not an open descriptor now), -EEXIST (keyed board exists), -ENOENT
 * (ftok path missing), -ENOMEM, and whatever shmget(2) returns.  On error
 * nothing is left: no descriptor, no segment.
 */
FB_EXPORT int fb_pool_create_sz(struct fb_pool **poolp,
    const struct fb_config *cfg, size_t cfg_size);
#define fb_pool_create(poolp, cfg) \
	fb_pool_create_sz((poolp), (cfg), sizeof(*(cfg)))

/*
 * Register fn for code.  Only before fb_pool_start(): workers inherit the
 * table at fork.  Does not block.  Errors: -EBUSY (started), -EINVAL
 * (reserved code or NULL fn), -EEXIST (code already registered), -ENOMEM.
 */
FB_EXPORT int fb_pool_register(struct fb_pool *pool, uint32_t code,
    fb_handler_fn fn, void *arg);

/*
 * Fork the workers.  Each keeps exactly: 0, 1 and 2 (the master's, or
 * /dev/null where the master had none open), its own task pipe's read
 * end, the completion pipe's write end, the read end of its master-death
 * pipe, where pidfds are missing the write end of its lifeline pipe, and
 * cfg->keep_fds; every other descriptor is closed in the child.  See
 * SIGNALS and WORKER PROCESSES above for what else a worker inherits.
 * Blocks only for fork(2); it does not wait for the workers to be ready.
 * A fork that fails here is returned (nothing is retried); the same
 * failure later, when a dead worker is replaced, is retried with back-off.
 * Errors: -EBUSY (already started), -EBADF (a keep_fds entry was closed
 * since fb_pool_create()), -EAGAIN (fork(2) hit a process limit,
 * RLIMIT_NPROC), -EMFILE/-ENFILE/-ENOMEM (pipes, pidfds).  On error
 * nothing is left running: every worker already forked is killed and
 * reaped.
 */
FB_EXPORT int fb_pool_start(struct fb_pool *pool);

/*
 * Run n workers from now on (1..max_workers).  Growing forks at once.
 * Shrinking stops sending to the workers above n and closes their pipes:
 * they finish every task they were given, then exit.  Nothing is lost.
 * On a failed pool (-ECHILD from submit: workers kept dying before they
 * were ready), this is how the embedder tries again once the cause is
 * fixed: the crash-loop counts are reset and the workers started.
 * Blocks only for fork(2).  Errors: -EINVAL, -ESHUTDOWN, and spawn errors
 * as fb_pool_start().
 */
FB_EXPORT int fb_pool_resize(struct fb_pool *pool, unsigned n);

/*
 * Give tasks of this code their own timeout (ms; 0: the pool's
 * task_timeout_ms); a task's own j_timeout_ms overrides both.
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
 * Does not block.  Errors: -ENOENT (code not registered).
 */
FB_EXPORT int fb_pool_set_timeout(struct fb_pool *pool, uint32_t code,
    unsigned ms);

/*
 * Stop the pool, in two phases.  Blocks for at most timeout_ms (-1: until
 * every task in flight has ended) plus 2 * kill_grace_ms.
 *
 * Drain: new submits are refused (-ESHUTDOWN), but the pool is supervised
 * as before: completions are collected, crashed tasks retried, dead
 * workers replaced, and tasks waiting for a worker run, until nothing is
 * in flight or timeout_ms passes.
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
 * until fb_pool_destroy() (with a callback set, fb_pool_process() still
 * delivers them).  Returns 0, or -ETIMEDOUT if workers had to be
 * signalled.  Not from a completion callback (-EBUSY).
 */
FB_EXPORT int fb_pool_shutdown(struct fb_pool *pool, int timeout_ms);

/*
 * If still running, shut down as fb_pool_shutdown(pool, 0) does: nothing in
 * flight is waited for (busy workers get SIGTERM, then SIGKILL after
 * kill_grace_ms; their tasks end unseen).  Then detach and, for keyed boards
 * (FB_BOARD_KEY and FB_BOARD_FTOK), remove the segment; close every
 * descriptor and free the pool.  NULL is accepted.  In a process other than the
 * pool's creator it frees only that process's copy (see FORK).  Not from a
 * completion callback.
 */
FB_EXPORT void fb_pool_destroy(struct fb_pool *pool);

/* ---- submitting -------------------------------------------------------- */

/* Submit flags. */
#define FB_NONBLOCK 0x1 /* full board: return -EAGAIN instead of waiting */
#define FB_DEFER 0x2    /* keep the task record in the master until
                           fb_pool_flush() or any call that processes or
                           waits: many tasks, one write per worker */

/* j_retries: the pool's retries, or none at all. */
#define FB_RETRIES_DEFAULT 0
#define FB_RETRIES_NONE (-1)

/* One task, with its options.  Zero-initialise it ({0} or memset) and set
 * what you need: zero fields mean defaults, and fields added in later
 * versions will be zero too. */
struct fb_job {
	uint32_t j_code;
	const void *j_payload;
	size_t j_len;
	uint64_t j_udata;        /* echoed in the result and to the handler */
	unsigned j_timeout_ms;   /* 0: the code's or the pool's timeout */
	int j_retries;           /* FB_RETRIES_DEFAULT (0), FB_RETRIES_NONE,
	                            or n > 0 */
};

/*
 * Submit a task: copy len bytes of payload into a free slot and send its
 * record to a worker.  On success *ticket names the task.  Tickets of one
 * pool increase with every successful submit.  Without FB_NONBLOCK a full
 * board makes the call process events and wait until a slot is free:
 * that is the only way it blocks.
 * Errors: -EMSGSIZE (len > payload_size; nothing is taken), -EINVAL
 * (reserved code other than FB_CODE_FDLIST; NULL payload with len > 0),
 * -ESHUTDOWN (pool stopped or not started), -ECHILD (the pool failed:
 * workers kept dying before they were ready), -EAGAIN (board full and
 * FB_NONBLOCK), -EDEADLK (board full without FB_NONBLOCK, and nothing in
 * flight: every slot holds a finished result nobody has taken, so
 * waiting could never end).  May be called from a completion callback.
 */
FB_EXPORT int fb_pool_submit(struct fb_pool *pool, uint32_t code,
    const void *payload, size_t len, int flags, fb_ticket_t *ticket);

/* The same for a job with udata and options.  Errors as fb_pool_submit(),
 * plus -EINVAL for a j_retries below FB_RETRIES_NONE. */
FB_EXPORT int fb_pool_submit_job_sz(struct fb_pool *pool,
    const struct fb_job *job, size_t job_size, int flags,
    fb_ticket_t *ticket);
#define fb_pool_submit_job(pool, job, flags, ticket) \
	fb_pool_submit_job_sz((pool), (job), sizeof(*(job)), (flags), (ticket))

/*
 * Submit n jobs in one call: each worker gets all its records in one
 * write.  Consecutive jobs go to one worker in runs (at most 64), sized to
 * spread the batch over as many workers as there are CPUs: one write and
 * one wake-up then carry many tasks.  Once the pool has measured what its
 * batched tasks cost (from the hand-over of a run to an idle worker until
 * it is idle again), a run also holds at least what one worker does in
 * 100 us: cheap tasks are not spread, as waking a worker on another CPU
 * costs more than they do.  (A pool whose cheap tasks turn slow runs the
 * next batch on one worker, and spreads again as the measured cost
 * catches up: at once for tasks of a millisecond or more.)  For work that
 * sleeps or blocks, prefer fb_pool_submit() with FB_DEFER, which spreads
 * task by task.
 * tickets[i] names jobs[i].  Returns how many were accepted, in order: all
 * n, or fewer when the board filled up under FB_NONBLOCK (the rest were
 * not taken).  A job that cannot be accepted at all (-EMSGSIZE, -EINVAL)
 * stops the batch there: the count before it is returned, or the error if
 * it was the first.  flags: FB_NONBLOCK, FB_DEFER.  Blocks as
 * fb_pool_submit().  Other errors as fb_pool_submit().
 */
FB_EXPORT int fb_pool_submit_batch_sz(struct fb_pool *pool,
    const struct fb_job *jobs, size_t job_size, size_t n, int flags,
    fb_ticket_t *tickets);
#define fb_pool_submit_batch(pool, jobs, n, flags, tickets) \
	fb_pool_submit_batch_sz((pool), (jobs), sizeof(*(jobs)), (n), \
	    (flags), (tickets))

/* Send the records of FB_DEFER submits now.  Does not block (a full pipe
 * is written when it drains).  Returns 0 or -errno. */
FB_EXPORT int fb_pool_flush(struct fb_pool *pool);

/*
 * Zero-copy submit, step 1: take a free slot and get its payload area, *cap
 * bytes, inside the board, to write the payload in place.  flags:
 * FB_NONBLOCK.  Blocks as fb_pool_submit().  Errors: -EAGAIN (board full and
 * FB_NONBLOCK), -EDEADLK, -ESHUTDOWN, -ECHILD as fb_pool_submit().
 */
FB_EXPORT int fb_pool_reserve(struct fb_pool *pool, int flags, void **payload,
    size_t *cap, fb_ticket_t *ticket);

/*
 * Zero-copy submit, step 2: send the reserved slot's task, len bytes of
 * payload, code.  flags: FB_DEFER.  Does not block.  Errors: -ENOENT (not a
 * reservation), -EALREADY (already committed), -EMSGSIZE (len > cap: still
 * reserved), -EINVAL (a reserved code other than FB_CODE_FDLIST; a job's
 * j_retries below FB_RETRIES_NONE), -ESHUTDOWN/-ECHILD as
 * submit.  fb_pool_commit_job() takes code, len, udata and options from a job
 * (its j_payload is ignored).
 */
FB_EXPORT int fb_pool_commit(struct fb_pool *pool, fb_ticket_t ticket,
    uint32_t code, size_t len, int flags);
FB_EXPORT int fb_pool_commit_job_sz(struct fb_pool *pool, fb_ticket_t ticket,
    const struct fb_job *job, size_t job_size, int flags);
#define fb_pool_commit_job(pool, ticket, job, flags) \
	fb_pool_commit_job_sz((pool), (ticket), (job), sizeof(*(job)), (flags))

/*
 * Cancel a task.  A task no worker has started ends FB_CANCELLED at once
 * (its worker skips it; its slot comes back when the result is taken).  A
 * running task is left alone (-EBUSY) unless flags has FB_CANCEL_RUNNING:
 * then its worker is stopped as for a timeout (it takes no new task, gets
 * SIGTERM, then SIGKILL, and is replaced) and the task ends FB_CANCELLED
 * when the worker is gone, with r_wait_status.  Tasks queued behind it go
 * to other workers uncharged.  Does not block.
 * Errors: -ENOENT (unknown ticket, or its result already taken),
 * -EALREADY (already complete, or already being cancelled), -EBUSY
 * (running, without FB_CANCEL_RUNNING), -EINVAL (unknown flags).  A
 * running task told to stop may still finish first; it then ends with the
 * outcome of its handler.  May be called from a completion callback.
 */
#define FB_CANCEL_RUNNING 0x1
FB_EXPORT int fb_pool_cancel(struct fb_pool *pool, fb_ticket_t ticket,
    int flags);

/* ---- waiting and results ----------------------------------------------- */

/*
 * The descriptor to poll (POLLIN / EPOLLIN / EV_READ) from an event loop:
 * it is readable when fb_pool_process() has work to do (completions,
 * worker start-up and exit messages, timers), which may complete no task.
 * Where pidfds are missing (kernels before 5.3, valgrind) a timer also
 * polls for worker deaths every 50 ms while workers run.
 * Valid from fb_pool_create() to destroy.  Does not block.  Returns the
 * descriptor, or -EPERM (see FORK).
 */
FB_EXPORT int fb_pool_fd(const struct fb_pool *pool);

/*
 * Handle everything that is ready without blocking: completions, worker
 * deaths, timers, writable pipes.  With a completion callback set, then
 * hand every completed task to it (see fb_pool_set_callback()).  Returns
 * the number of tasks that became complete, or a negative errno.
 * Not from a completion callback (-EBUSY).
 */
FB_EXPORT int fb_pool_process(struct fb_pool *pool);

/*
 * Completion callback.  res describes the task, data points at its
 * res->r_len result bytes inside the board: both are valid only until the
 * callback returns; the slot is freed then.  It may call fb_pool_submit*
 * (FB_NONBLOCK is wise: a blocking submit inside a callback can only wait
 * for tasks still running), fb_pool_commit*, fb_pool_reserve,
 * fb_pool_release, fb_pool_cancel, fb_pool_flush, fb_pool_resize,
 * fb_pool_set_timeout and the introspection calls.  Calls that take
 * results or drive the loop return -EBUSY (fb_pool_process, the wait,
 * result, next, view and take calls, fb_pool_set_callback,
 * fb_pool_shutdown); fb_pool_destroy must not be called.
 */
typedef void (*fb_done_fn)(void *arg, const struct fb_result *res,
    const void *data);

/*
 * Set (or, with NULL, clear) the completion callback.  From then on,
 * fb_pool_process() delivers every completed task to fn, oldest first,
 * including tasks completed before the call, and the ticket calls below
 * (result, wait, next, views, take) return -EBUSY: results go one way.
 * Does not block.  Errors: -EBUSY (from a callback).
 */
FB_EXPORT int fb_pool_set_callback(struct fb_pool *pool, fb_done_fn fn,
    void *arg);

/*
 * Take the result of ticket, if complete, without blocking: fill *res,
 * copy up to cap bytes of result into buf, and free the slot.  It makes no
 * system call and so does not learn of new completions: an event loop
 * calls fb_pool_process() first.
 * Errors: -EAGAIN (not complete yet), -ENOENT (unknown or already taken),
 * -ENOBUFS (cap too small: res->r_len says how much is needed; nothing is
 * taken, call again with a bigger buffer), -EBUSY (from a callback, or a
 * completion callback is set).
 */
FB_EXPORT int fb_pool_result_sz(struct fb_pool *pool, fb_ticket_t ticket,
    struct fb_result *res, size_t res_size, void *buf, size_t cap);
#define fb_pool_result(pool, ticket, res, buf, cap) \
	fb_pool_result_sz((pool), (ticket), (res), sizeof(*(res)), (buf), (cap))

/*
 * Like fb_pool_result(), but wait up to timeout_ms (-1: forever) for the
 * task to complete, processing events meanwhile.  With 0 it processes
 * what is ready once and returns -EAGAIN if the task is still running, so
 * a loop that polls a ticket makes progress.  Signals do not stretch the
 * wait: after EINTR it resumes with the time that is left.
 * Errors as fb_pool_result(), plus -ETIMEDOUT.
 */
FB_EXPORT int fb_pool_wait_sz(struct fb_pool *pool, fb_ticket_t ticket,
    struct fb_result *res, size_t res_size, void *buf, size_t cap,
    int timeout_ms);
#define fb_pool_wait(pool, ticket, res, buf, cap, timeout_ms) \
	fb_pool_wait_sz((pool), (ticket), (res), sizeof(*(res)), (buf), \
	    (cap), (timeout_ms))

/*
 * Take the oldest completed result, whatever its ticket, waiting up to
 * timeout_ms (-1: forever; 0: process once, then -ETIMEDOUT if none).
 * Errors: -ETIMEDOUT, -ENOBUFS and -EBUSY as fb_pool_wait(), -ENOENT when
 * nothing is in flight or complete (waiting would never end).
 */
FB_EXPORT int fb_pool_next_sz(struct fb_pool *pool, struct fb_result *res,
    size_t res_size, void *buf, size_t cap, int timeout_ms);
#define fb_pool_next(pool, res, buf, cap, timeout_ms) \
	fb_pool_next_sz((pool), (res), sizeof(*(res)), (buf), (cap), \
	    (timeout_ms))

/*
 * Zero-copy results: like fb_pool_next() and fb_pool_wait(), but *data
 * points at the result inside the board (res->r_len bytes) instead of
 * copying it.  The slot stays taken, and *data valid, until
 * fb_pool_release(res->r_ticket).
 */
FB_EXPORT int fb_pool_next_view_sz(struct fb_pool *pool,
    struct fb_result *res, size_t res_size, const void **data,
    int timeout_ms);
#define fb_pool_next_view(pool, res, data, timeout_ms) \
	fb_pool_next_view_sz((pool), (res), sizeof(*(res)), (data), \
	    (timeout_ms))
FB_EXPORT int fb_pool_wait_view_sz(struct fb_pool *pool, fb_ticket_t ticket,
    struct fb_result *res, size_t res_size, const void **data,
    int timeout_ms);
#define fb_pool_wait_view(pool, ticket, res, data, timeout_ms) \
	fb_pool_wait_view_sz((pool), (ticket), (res), sizeof(*(res)), \
	    (data), (timeout_ms))

/*
 * Batch take: up to n completed results at once, oldest first, as views
 * (res[i], data[i]), each held until fb_pool_release(res[i].r_ticket).
 * Waits up to timeout_ms for the first one only.  Returns how many (>= 1),
 * or errors as fb_pool_next(), or -EINVAL for n == 0.
 */
FB_EXPORT int fb_pool_take_sz(struct fb_pool *pool, struct fb_result *res,
    size_t res_size, const void **data, size_t n, int timeout_ms);
#define fb_pool_take(pool, res, data, n, timeout_ms) \
	fb_pool_take_sz((pool), (res), sizeof(*(res)), (data), (n), \
	    (timeout_ms))

/*
 * Give back a slot held by fb_pool_reserve() (not committed) or by a
 * view.  Does not block.  Errors: -ENOENT (unknown ticket, or not held: in
 * flight, or complete but not viewed), -EPERM (see FORK).
 */
FB_EXPORT int fb_pool_release(struct fb_pool *pool, fb_ticket_t ticket);

/* ---- introspection (none of these blocks) ------------------------------ */

/* Tasks submitted and not yet complete (queued or running). */
FB_EXPORT unsigned fb_pool_inflight(const struct fb_pool *pool);

/* Slots not free: in flight, complete but not taken, reserved, or lent
 * out as views.  A submit blocks (or -EAGAIN) when this equals slots. */
FB_EXPORT unsigned fb_pool_slots_used(const struct fb_pool *pool);

/* Number of worker processes alive now (0 after fb_pool_shutdown()). */
FB_EXPORT unsigned fb_pool_workers(const struct fb_pool *pool);

/* The board segment's kernel view and geometry.  Errors: -ESHUTDOWN (after
 * fb_pool_destroy started), whatever shmctl(IPC_STAT) returns. */
FB_EXPORT int fb_pool_stat_sz(const struct fb_pool *pool,
    struct fb_board_stat *st, size_t st_size);
#define fb_pool_stat(pool, st) fb_pool_stat_sz((pool), (st), sizeof(*(st)))

/*
 * Copy scoreboard row index into *wi.  The row's worker-written fields
 * (state, slot, code, tasks) are copied as one consistent snapshot (the
 * row is a seqlock) and range-checked; pid, generation, restarts and the
 * last status are the master's own facts.  Errors: -EINVAL (index out of
 * range).  Rows up to max_workers exist; unused rows, and every row after
 * fb_pool_shutdown(), read DEAD.
 */
FB_EXPORT int fb_pool_worker_info_sz(const struct fb_pool *pool,
    unsigned index, struct fb_worker_info *wi, size_t wi_size);
#define fb_pool_worker_info(pool, index, wi) \
	fb_pool_worker_info_sz((pool), (index), (wi), sizeof(*(wi)))

/* Copy slot index's state into *si.  Errors: -EINVAL (out of range). */
FB_EXPORT int fb_pool_slot_info_sz(const struct fb_pool *pool,
    unsigned index, struct fb_slot_info *si, size_t si_size);
#define fb_pool_slot_info(pool, index, si) \
	fb_pool_slot_info_sz((pool), (index), (si), sizeof(*(si)))

/* Copy the pool counters into *c. */
FB_EXPORT void fb_pool_counters_sz(const struct fb_pool *pool,
    struct fb_counters *c, size_t c_size);
#define fb_pool_counters(pool, c) \
	fb_pool_counters_sz((pool), (c), sizeof(*(c)))

/* ---- trace --------------------------------------------------------------
 *
 * With cfg.trace_records = N, the board holds a ring of N fixed-size
 * records where the master and the workers append every slot and worker
 * transition.  A record is written whole, then published by storing its
 * position (tr_seq) last, so a reader (this call, or another process that
 * attached the board: the inspector) never takes a half-written one for
 * a whole one.  When the ring wraps, the oldest records are lost: a reader
 * sees the gap in tr_seq.
 */

/* What moved: a slot, or a worker. */
enum fb_trace_kind { FB_TRACE_SLOT = 1, FB_TRACE_WORKER = 2 };

/* Why it moved. */
enum fb_trace_cause {
	FB_CAUSE_SUBMIT = 1,   /* master: slot queued for a worker */
	FB_CAUSE_CLAIM,        /* worker: took the task */
	FB_CAUSE_PUBLISH,      /* worker: published the result */
	FB_CAUSE_COLLECT,      /* master: saw it finished */
	FB_CAUSE_TAKE,         /* master: the result was taken, slot freed */
	FB_CAUSE_CANCEL,       /* master: cancelled */
	FB_CAUSE_RETRY,        /* master: re-sent after its worker died */
	FB_CAUSE_CRASH,        /* master: its worker died running it */
	FB_CAUSE_TIMEOUT,      /* master: past its deadline */
	FB_CAUSE_SPAWN,        /* master: worker about to be forked
	                          (dead -> starting; starting -> dead if
	                          the spawn failed) */
	FB_CAUSE_READY,        /* worker: ready for tasks */
	FB_CAUSE_EXIT,         /* worker: leaving (end of its pipe) */
	FB_CAUSE_DEATH,        /* master: worker reaped */
	FB_CAUSE_STOP          /* master: worker told to stop */
};

/* One trace record.  tr_from/tr_to are enum fb_slot_state values for
 * FB_TRACE_SLOT records and enum fb_worker_state values for
 * FB_TRACE_WORKER ones. */
struct fb_trace_rec {
	uint64_t tr_seq;         /* position in the trace, from 1 */
	int64_t tr_ns;           /* CLOCK_MONOTONIC */
	uint64_t tr_task;        /* the task's sequence (ticket >> 16), or 0 */
	uint32_t tr_slot;        /* UINT32_MAX: none */
	uint32_t tr_worker;      /* UINT32_MAX: none */
	int32_t tr_pid;          /* the process that wrote it */
	uint8_t tr_kind;         /* enum fb_trace_kind */
	uint8_t tr_from;
	uint8_t tr_to;
	uint8_t tr_cause;        /* enum fb_trace_cause */
};

/*
 * Read trace records after *cursor (0: from the oldest still in the ring)
 * into out[0..n-1], and advance *cursor past the last one read.  Returns
 * how many, 0 when there is nothing new (or n is 0).  Does not block.
 * fb_trace_rec has no _filled member: the size passed is the array's
 * stride, and fields a caller's older structure lacks are not written.
 * Errors: -ENOTSUP (no trace configured).
 */
FB_EXPORT int fb_pool_trace_read_sz(const struct fb_pool *pool,
    uint64_t *cursor, struct fb_trace_rec *out, size_t rec_size, size_t n);
#define fb_pool_trace_read(pool, cursor, out, n) \
	fb_pool_trace_read_sz((pool), (cursor), (out), sizeof(*(out)), (n))

/* Name of a cause ("claim", "crash"...), "unknown" out of range. */
FB_EXPORT const char *fb_trace_cause_name(enum fb_trace_cause cause);

/* ---- faults --------------------------------------------------------------
 *
 * Fault injection makes chosen workers crash, hang or exit at chosen
 * points, so that every recovery path can be run deterministically (the
 * library's own supervision tests use it).  A spec is one or more rules
 * separated by ';', each a list of key=value separated by ',':
 *
 *   point=start|read|claim|publish|published   where in the worker:
 *         start      during start-up, before it is ready
 *         read       after reading a task record, before claiming it
 *         claim      after claiming, before the handler runs
 *         publish    after the handler, before publishing the result
 *         published  after publishing, before the completion record
 *   action=crash|hang|exit     abort() (SIGABRT), sleep until killed,
 *                              _exit(3)
 *   worker=N|*                 which worker index (default *)
 *   every=N                    act at every N-th time the point is passed
 *                              in that worker process (default 1)
 *   prob=P                     or: with probability P (0 < P <= 1)
 *                              instead of every=...
 *   seed=S                     ...drawn from a generator seeded with S
 *                              (default 0), the worker index and its
 *                              generation
 *   code=C                     only for tasks of code C (default any)
 *
 * For example "point=claim,action=crash,worker=0,every=3" crashes worker 0
 * at every third task it claims.  From cfg.fault, or, when that is NULL,
 * the environment variable FB_FAULT at fb_pool_create() (for programs that
 * cannot be recompiled).  A spec that does not parse is -EINVAL from
 * fb_pool_create().
 */

#ifdef __cplusplus
}
#endif

#endif /* FORKBOARD_H */
