/*
 * internal.h - private structures shared by the files in src/.  Nothing
 * here is API.
 *
 * Naming: fb__ for private functions and types, a short prefix per struct
 * for fields (bh_ board header, wr_ worker row, sr_ slot row, ms_ master
 * slot, w_ master worker, p_ pool).
 *
 * Layers, top to bottom; a file calls only into layers below it:
 *
 *   pool.c submit.c result.c info.c   the public API
 *   loop.c                            waiting, events, timers, draining
 *   supervise.c                       worker lifecycle: spawn, death, stop
 *   task.c                            slot lifecycle: dispatch, collect,
 *                                     complete, deadlines
 *   worker.c                          the worker process
 *   board.c channel.c fdutil.c registry.c errors.c
 */
#ifndef FB_INTERNAL_H
#define FB_INTERNAL_H

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/queue.h>

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "forkboard.h"

#define FB__MAGIC 0x46424f44u /* "FBOD" */
#define FB__BOARD_VERSION 4u /* 4: the counter block, row restarts */
#define FB__CACHELINE 64u
#define FB__ALIGN(x, a) (((x) + ((a) - 1)) & ~((size_t)(a) - 1))

/* Task sequence numbers are 48 bits (a ticket is seq << 16 | slot) and
 * never 0. */
#define FB__SEQ_MASK ((UINT64_C(1) << 48) - 1)

/* How far a worker's CLOCK_MONOTONIC reading may stray from the master's
 * coarse one before it is not believed. */
#define FB__CLOCK_SLACK_NS 20000000LL

/* The most trace records a board may hold. */
#define FB__TRACE_MAX (1u << 24)

/* ---- the board (board.c) ------------------------------------------------ */

/*
 * Slot states in the board.  A slot's state and the sequence of the task
 * it holds are one 64-bit word (seq << 8 | state), so every transition is
 * a compare-and-swap that names the task: a worker that claims, or
 * publishes, a slot whose task has changed under it fails and does nothing.
 *
 *   master: FREE -> QUEUED (store), DONE/FAILED -> FREE (store)
 *   worker: QUEUED -> RUNNING -> PUBLISHING -> DONE/FAILED (CAS, CAS, store)
 *
 * PUBLISHING is the worker's right to write the result fields: only the
 * one worker that moved (seq, RUNNING) to (seq, PUBLISHING) writes them.
 */
enum fb__slot_state {
	FB__SLOT_FREE = 0,
	FB__SLOT_QUEUED,
	FB__SLOT_RUNNING,
	FB__SLOT_PUBLISHING,
	FB__SLOT_DONE,
	FB__SLOT_FAILED,
	FB__SLOT_CANCELLED       /* master: (seq, QUEUED) -> this, by CAS */
};

#define FB__WORD(seq, st) (((uint64_t)(seq) << 8) | (uint64_t)(st))
#define FB__WORD_SEQ(w) ((w) >> 8)
#define FB__WORD_STATE(w) ((uint32_t)((w) & 0xffu))

/* Ticket encoding: sequence in the high 48 bits, slot in the low 16. */
#define FB__TICKET(seq, slot) (((uint64_t)(seq) << 16) | (uint64_t)(slot))
#define FB__TICKET_SLOT(t) ((uint32_t)((t) & 0xffffu))
#define FB__TICKET_SEQ(t) ((t) >> 16)

/*
 * The master's counters, mirrored into the board before it sleeps, after
 * it processed events and every 16th turn of its loop (fb__publish), so
 * that an inspector (forkboard-top) can read them.  Only the master
 * writes them and it never reads them back: a worker can scribble here,
 * so its private struct fb_counters stays the truth.  A cache line of its
 * own: workers bump bh_trace_head, and the master's stores must not
 * bounce that line.
 */
struct fb__board_ctr {
	_Atomic uint64_t bc_submitted;
	_Atomic uint64_t bc_done;
	_Atomic uint64_t bc_failed;
	_Atomic uint64_t bc_nohandler;
	_Atomic uint64_t bc_crashed;
	_Atomic uint64_t bc_timedout;
	_Atomic uint64_t bc_badresult;
	_Atomic uint64_t bc_cancelled;
	_Atomic uint64_t bc_retried;
	_Atomic uint64_t bc_respawns;
	_Atomic uint32_t bc_slots_used;
	_Atomic uint32_t bc_inflight;
} __attribute__((aligned(FB__CACHELINE)));

/* The board starts with this header.  No pointers: offsets only, so any
 * process that attaches anywhere can read it. */
struct fb__board_hdr {
	uint32_t bh_magic;
	uint32_t bh_version;
	uint32_t bh_max_workers;
	uint32_t bh_slots;
	uint64_t bh_slot_size;   /* payload capacity */
	uint64_t bh_result_size; /* result capacity */
	uint64_t bh_stride;      /* bytes of data per slot */
	uint64_t bh_workers_off;
	uint64_t bh_slots_off;
	uint64_t bh_data_off;
	uint64_t bh_size;
	uint64_t bh_trace_off;
	uint32_t bh_trace_n;     /* records in the trace ring; 0: none */
	int32_t bh_creator;
	_Atomic uint32_t bh_generation; /* bumped on every (re)spawn */
	uint32_t bh_pad;
	_Atomic uint64_t bh_trace_head; /* records ever appended */
	struct fb__board_ctr bh_ctr;    /* the master's, for inspectors */
};

/*
 * One trace record in the board's ring.  A writer takes position i with a
 * fetch-add on bh_trace_head, zeroes tr_seq, writes the fields, then
 * stores tr_seq = i + 1 (release); a reader copies the fields between two
 * reads of tr_seq and keeps the copy only if both equal the position it
 * wanted.
 */
struct fb__trace_slot {
	_Atomic uint64_t ts_seq;
	int64_t ts_ns;
	uint64_t ts_task;
	uint32_t ts_slot;
	uint32_t ts_worker;
	int32_t ts_pid;
	uint8_t ts_kind;
	uint8_t ts_from;
	uint8_t ts_to;
	uint8_t ts_cause;
};

/*
 * One scoreboard row, guarded by a seqlock (wr_lock odd while a writer is
 * in the middle): readers copy the row and retry if it changed under them,
 * so state, slot and code always come from one moment.  Only one process
 * writes a row at a time: the master while no worker runs in it (spawn,
 * death), the worker while it lives.  wr_stop and wr_doorbell are the
 * master's, written any time, outside the seqlock.
 */
struct fb__worker_row {
	_Atomic uint32_t wr_lock;
	_Atomic uint32_t wr_state;      /* enum fb_worker_state */
	_Atomic int32_t wr_pid;
	_Atomic uint32_t wr_generation;
	_Atomic uint32_t wr_slot;
	_Atomic uint32_t wr_code;
	_Atomic uint64_t wr_tasks;
	_Atomic int64_t wr_changed_ns;
	_Atomic uint32_t wr_doorbell;   /* bumped by the master per flush */
	_Atomic uint32_t wr_stop;       /* master: take no new task, leave */
	_Atomic uint32_t wr_restarts;   /* master, at spawn: for inspectors */
} __attribute__((aligned(FB__CACHELINE)));

/* A copy of a row, as the seqlock reader returns it. */
struct fb__row_copy {
	uint32_t rc_state;
	int32_t rc_pid;
	uint32_t rc_generation;
	uint32_t rc_slot;
	uint32_t rc_code;
	uint64_t rc_tasks;
	int64_t rc_changed_ns;
	uint32_t rc_restarts;
};

/* One slot row.  sr_word is the state machine above; the other fields are
 * written by the master before it publishes QUEUED, or by the worker that
 * holds PUBLISHING before it publishes DONE/FAILED.  One cache line. */
struct fb__slot_row {
	_Atomic uint64_t sr_word;
	uint32_t sr_code;
	uint32_t sr_len;
	uint64_t sr_udata;
	uint32_t sr_result_len;  /* worker-written: never trusted unchecked */
	int32_t sr_status;       /* handler's return value */
	uint16_t sr_outcome;     /* worker-written enum fb_outcome */
	uint16_t sr_worker;
	uint32_t sr_maxrss_kb;   /* rusage: the worker's peak RSS */
	int64_t sr_t_start;      /* worker's CLOCK_MONOTONIC: range-checked */
	int64_t sr_t_end;
	uint64_t sr_cpu_ns;      /* rusage: the handler's CPU time */
} __attribute__((aligned(FB__CACHELINE)));

struct fb__board {
	void *b_base;
	size_t b_size;
	int b_shmid;
	key_t b_key;
	int b_keyed;             /* remove at destroy */
	/* The master's own copy of the geometry: header fields in the
	 * segment are writable by workers, so they are never read back. */
	uint32_t b_nslots;
	uint32_t b_nworkers;
	size_t b_slot_size;
	size_t b_result_size;
	size_t b_stride;
	struct fb__board_hdr *b_hdr;
	struct fb__worker_row *b_workers;
	struct fb__slot_row *b_slots;
	struct fb__trace_slot *b_trace;
	uint32_t b_ntrace;
	pid_t b_pid;             /* this process's pid, for the trace */
	unsigned char *b_data;
};

struct fb__geometry {
	uint32_t g_max_workers;
	uint32_t g_slots;
	size_t g_slot_size;
	size_t g_result_size;
	uint32_t g_trace;        /* trace records */
};

size_t fb__board_layout(const struct fb__geometry *, struct fb__board_hdr *);
int fb__board_check(const void *base, size_t size, struct fb__geometry *);
int fb__board_create(struct fb__board *, const struct fb__geometry *,
    const struct fb_config *);
void fb__board_close(struct fb__board *, int remove);
int fb__board_stat(const struct fb__board *, struct fb_board_stat *);

/* The hot path's board helpers are inline: each runs once or more per
 * task, on both sides. */
static inline void *
fb__board_payload(const struct fb__board *b, uint32_t slot)
{
	return b->b_data + (size_t)slot * b->b_stride;
}

static inline void *
fb__board_result(const struct fb__board *b, uint32_t slot)
{
	return b->b_data + (size_t)slot * b->b_stride +
	    FB__ALIGN(b->b_slot_size, FB__CACHELINE);
}

/*
 * The scoreboard row seqlock.  A writer makes the count odd, writes, and
 * makes it even again; a reader copies the fields between two reads of
 * an even, unchanged count (fb__row_read).  Fields are relaxed atomics, so
 * the copy is race-free C; the fences order them against the count.
 */
static inline void
fb__row_write_begin(struct fb__worker_row *r)
{
	uint32_t v = atomic_load_explicit(&r->wr_lock, memory_order_relaxed);

	atomic_store_explicit(&r->wr_lock, (v | 1u), memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static inline void
fb__row_write_end(struct fb__worker_row *r)
{
	uint32_t v = atomic_load_explicit(&r->wr_lock, memory_order_relaxed);

	atomic_store_explicit(&r->wr_lock, (v | 1u) + 1u,
	    memory_order_release);
}

int fb__row_read(const struct fb__worker_row *, struct fb__row_copy *);
void fb__board_publish(const struct fb__board *, const struct fb_counters *,
    uint32_t slots_used, uint32_t inflight);
void fb__trace_append(const struct fb__board *, enum fb_trace_kind,
    uint32_t slot, uint32_t worker, uint64_t task, unsigned from, unsigned to,
    enum fb_trace_cause);

/* Every transition passes here: with no ring it must cost a test, not a
 * call. */
static inline void
fb__trace(const struct fb__board *b, enum fb_trace_kind kind, uint32_t slot,
    uint32_t worker, uint64_t task, unsigned from, unsigned to,
    enum fb_trace_cause cause)
{
	if (b->b_ntrace != 0)
		fb__trace_append(b, kind, slot, worker, task, from, to, cause);
}
int fb__trace_read(const struct fb__trace_slot *, uint32_t n, uint64_t head,
    uint64_t *cursor, struct fb_trace_rec *out, size_t count);

/* ---- channels (channel.c) ----------------------------------------------- */

/* A task record, master to worker on the worker's own pipe.  The worker
 * trusts its master. */
struct fb__rec {
	uint32_t r_slot;
	uint32_t r_aux;          /* the task's code */
	uint64_t r_seq;
};

/*
 * A completion record, worker to master on the pipe all workers share.
 * Everything in it is checked: r_check is a keyed hash of the other
 * fields, so bytes that are not a record (a handler's stray write, a
 * stream out of step) fail validation.  FB__DONE_READY in r_worker makes
 * it a worker's "ready" message (r_slot unused, r_seq its generation).
 */
struct fb__done {
	uint16_t d_slot;
	uint16_t d_worker;
	uint32_t d_check;
	uint64_t d_seq;
};
#define FB__DONE_READY 0x8000u

#define FB__REC_SIZE 16u

/* splitmix64's finaliser: a cheap, well-spread 64-bit mix. */
static inline uint64_t
fb__mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

/*
 * A completion record's check: sealed by the worker, checked by the master,
 * for every task.  It tells a record from bytes that are not one (a
 * stray write, a stream out of step), not a worker from a forger (a
 * worker holds the key): one keyed mix of every field is enough, the
 * sequence (48 bits) and slot and worker (16 each) folded into 64 bits.
 */
static inline uint32_t
fb__done_check(uint64_t key, const struct fb__done *d)
{
	uint64_t x = d->d_seq ^ ((uint64_t)d->d_slot << 48) ^
	    ((uint64_t)d->d_worker << 32);

	return (uint32_t)(fb__mix64(key ^ x) >> 32);
}

static inline void
fb__done_seal(uint64_t key, struct fb__done *d)
{
	d->d_check = fb__done_check(key, d);
}

static inline int
fb__done_valid(uint64_t key, const struct fb__done *d)
{
	return d->d_check == fb__done_check(key, d);
}

/* Reader that reassembles 16-byte records from short reads. */
#define FB__RBUF_RECS 256
struct fb__reader {
	size_t rd_have;
	unsigned char rd_buf[FB__RBUF_RECS * FB__REC_SIZE];
};

/* Bytes queued for a non-blocking pipe, flushed in as few writes as the
 * pipe allows. */
struct fb__outbox {
	unsigned char *ob_buf;
	size_t ob_len;
	size_t ob_cap;
};

int fb__pipe(int fds[2], int nonblock_write);
ssize_t fb__reader_fill(struct fb__reader *, int fd);
size_t fb__reader_take(struct fb__reader *, void *, size_t max);
int fb__outbox_init(struct fb__outbox *, size_t cap);
void fb__outbox_free(struct fb__outbox *);
int fb__outbox_flush(struct fb__outbox *, int fd);

/* Queue a record (once per task dispatched). */
static inline int
fb__outbox_put(struct fb__outbox *ob, const struct fb__rec *rec)
{
	if (ob->ob_cap - ob->ob_len < sizeof(*rec))
		return -ENOBUFS;
	memcpy(ob->ob_buf + ob->ob_len, rec, sizeof(*rec));
	ob->ob_len += sizeof(*rec);
	return 0;
}

/* ---- fd and process helpers (fdutil.c) ---------------------------------- */

int fb__close(int *fdp);               /* close if != -1, set -1, keep errno */
int fb__fd_high(int fd);               /* move fd above 2; returns new fd */
ssize_t fb__read_full(int fd, void *, size_t);
ssize_t fb__write_full(int fd, const void *, size_t);
int fb__set_nonblock(int fd, int on);
int fb__close_except(const int *keep, size_t n);
int fb__fd_valid(int fd);
int64_t fb__now_ns(void);
int64_t fb__coarse_ns(void);          /* cheaper, a few ms coarse */
int fb__pidfd_open(pid_t);
int fb__pidfd_signal(int pidfd, int sig);
void fb__spin_pause(void);            /* one turn of a spin_us wait */

/* In spin loops: tell the CPU we are waiting. */
static inline void
fb__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* ---- fault injection (fault.c) ----------------------------------------- */

enum fb__fault_point { FB__FP_START = 0, FB__FP_READ, FB__FP_CLAIM,
    FB__FP_PUBLISH, FB__FP_PUBLISHED, FB__FP_N };
enum fb__fault_action { FB__FA_CRASH = 0, FB__FA_HANG, FB__FA_EXIT };

#define FB__FAULT_RULES 8
struct fb__fault_rule {
	enum fb__fault_point fr_point;
	enum fb__fault_action fr_action;
	int fr_worker;           /* -1: any */
	int64_t fr_code;         /* -1: any */
	unsigned fr_every;       /* 0: use fr_prob */
	double fr_prob;
	uint64_t fr_seed;
};

struct fb__faults {
	unsigned f_n;
	struct fb__fault_rule f_rules[FB__FAULT_RULES];
	/* Per worker process: hits counted, generator state. */
	unsigned f_hits[FB__FAULT_RULES];
	uint64_t f_rand;
};

int fb__fault_parse(const char *spec, struct fb__faults *);
void fb__fault_arm(struct fb__faults *, unsigned worker, uint32_t generation);
void fb__fault_check(struct fb__faults *, enum fb__fault_point,
    unsigned worker, uint32_t code);

/* A worker passes its fault points for every task: free without faults. */
static inline void
fb__fault_at(struct fb__faults *f, enum fb__fault_point p, unsigned worker,
    uint32_t code)
{
	if (f->f_n != 0)
		fb__fault_check(f, p, worker, code);
}

/* ---- handler registry (registry.c) -------------------------------------- */

struct fb__handler {
	uint32_t h_code;
	fb_handler_fn h_fn;
	void *h_arg;
	unsigned h_timeout_ms;   /* master side only; 0: pool default */
};

struct fb__registry {
	struct fb__handler *rg_tab; /* sorted by code */
	size_t rg_len;
	size_t rg_cap;
};

int fb__registry_add(struct fb__registry *, uint32_t, fb_handler_fn, void *);
const struct fb__handler *fb__registry_find(const struct fb__registry *,
    uint32_t);
int fb__registry_set_timeout(struct fb__registry *, uint32_t, unsigned);
void fb__registry_free(struct fb__registry *);

/* ---- worker (worker.c) -------------------------------------------------- */

/* What a freshly forked worker needs; it runs fb__worker_main and never
 * returns. */
struct fb__worker_args {
	unsigned wa_index;
	uint32_t wa_generation;
	int wa_task_fd;
	int wa_done_fd;
	int wa_lifeline_fd;      /* -1 unless the pool runs without pidfds */
	int wa_master_fd;        /* read end: EOF (SIGKILL) when the master dies */
	const int *wa_keep;
	size_t wa_nkeep;
	struct fb__board *wa_board;  /* the worker's own copy */
	const struct fb__registry *wa_registry;
	uint64_t wa_key;         /* completion record key */
	int wa_argc;
	char **wa_argv;
	int64_t wa_spin_ns;
	int (*wa_init)(unsigned, void *, void **);
	void (*wa_fini)(unsigned, void *, void *);
	void *wa_arg;
	int wa_rusage;
	int wa_clock_batch;       /* FB_CLOCK_BATCH */
	struct fb__faults *wa_faults; /* the worker's own copy after fork */
	const sigset_t *wa_sigreset; /* signals whose disposition it resets */
};

void fb__worker_main(const struct fb__worker_args *) __attribute__((noreturn));
void fb__signals_scan(sigset_t *);
int fb__worker_fdlist(struct fb_task *);

/* ---- the master's state ------------------------------------------------- */

enum fb__mstate {
	FB__M_FREE = 0,
	FB__M_RESERVED,  /* fb_pool_reserve: the caller writes the payload */
	FB__M_INFLIGHT,  /* record sent (or in the outbox, or pending) */
	FB__M_READY,     /* complete, waiting for the caller */
	FB__M_VIEWED     /* complete, result lent out until release */
};

/* The master's own view of a slot.  Decisions are made from this, never
 * from worker-written board fields. */
struct fb__mslot {
	TAILQ_ENTRY(fb__mslot) ms_link; /* ready queue or pending queue */
	uint64_t ms_seq;
	uint64_t ms_sendno;     /* dispatch order: workers run in this order */
	uint64_t ms_pipe_end;   /* offset just past its record in the worker's
	                           task stream: received iff the worker has
	                           read that far */
	uint32_t ms_code;
	uint32_t ms_worker;     /* UINT32_MAX: on p_pending */
	uint32_t ms_len;
	uint32_t ms_state;      /* enum fb__mstate */
	unsigned ms_attempts;
	unsigned ms_retries;    /* this task's budget */
	uint64_t ms_udata;
	enum fb_outcome ms_outcome;
	int ms_status;          /* handler's return */
	int ms_wait_status;     /* dead worker's, for crashes */
	int ms_cancel;          /* fb_pool_cancel(FB_CANCEL_RUNNING) asked */
	size_t ms_result_len;
	pid_t ms_pid;
	unsigned ms_timeout_ms; /* 0: none */
	int ms_timedout;        /* its worker was stopped for it */
	int64_t ms_sent_ns;     /* when dispatched (coarse clock) */
	int64_t ms_queued_ns;   /* when submitted (coarse clock) */
	int64_t ms_started_ns;  /* worker's start, checked; else dispatch */
	int64_t ms_ended_ns;
	uint64_t ms_run_ns;
	uint64_t ms_cpu_ns;
	uint64_t ms_maxrss_kb;
};
TAILQ_HEAD(fb__slotq, fb__mslot);

struct fb__worker {
	pid_t w_pid;             /* -1: no process */
	int w_deathfd;           /* readable when the process has exited:
	                            its pidfd, or a lifeline pipe's read end */
	int w_task[2];           /* read end (kept by master), write end */
	int w_master;            /* write end of the worker's master-death
	                            pipe; never written, closed after reap */
	uint32_t w_generation;
	struct fb__outbox w_out;
	unsigned w_inflight;
	unsigned w_restarts;
	int w_last_status;
	int w_active;            /* takes new tasks */
	int w_ready;             /* its ready record arrived */
	int w_stopping;          /* told to stop (timeout): charge only the
	                            task it was stopped for */
	uint64_t w_tasks_sent;
	uint64_t w_queued;       /* bytes put in its outbox, this process */
	uint64_t w_written;      /* bytes of those written to its pipe */
	unsigned w_recycle_at;   /* 0: never */
	unsigned w_fails;        /* consecutive deaths before ready */
	unsigned w_spawn_fails;  /* consecutive fork/pipe failures */
	int64_t w_head_ns;       /* when its oldest unfinished task could
	                            have started, as far as the master knows */
	int64_t w_kill_at_ns;    /* SIGKILL due (task timeout escalation) */
	int64_t w_respawn_at_ns; /* back-off: spawn again then; 0: not due */
	int64_t w_poll_ns;       /* lifeline mode: next waitpid poll */
	int w_dirty;             /* on p_dirty: its outbox has records */
	/* Batch cost sample: when a batch run reached it idle (precise
	 * clock, taken at the write; -1: at the next flush; 0: not
	 * measuring), and tasks completed since. */
	int64_t w_run_t0;
	unsigned w_run_done;
};

/* A batch goes to workers in runs of at most this many tasks: a worker's
 * share of the default board (64 slots a worker).  At 32, a batch of 256
 * on 64 workers woke 8 of them instead of 4, and each task cost a third
 * more CPU (bench: 64 workers / 2 workers went from 0.62 to ~1). */
#define FB__BATCH_RUN 64

/*
 * Spreading a batch over workers on other CPUs costs a cross-CPU wake-up
 * each (5 to 70 us on a VM) and wins only if the work it shares out is
 * longer than that: a run is made long enough to hold this much work at
 * the cost per task the pool measured (p_task_cost_ns), up to
 * FB__BATCH_RUN.  Cheap tasks then go to one worker in one write; tasks
 * that take longer than this each are still spread one run per CPU.
 */
#define FB__RUN_BUDGET_NS 100000

/* epoll tags: kind in the high 32 bits, index in the low. */
#define FB__EV_DONE 1u
#define FB__EV_PIDFD 2u
#define FB__EV_OUT 3u
#define FB__EV_TIMER 4u
#define FB__EV(kind, idx) (((uint64_t)(kind) << 32) | (uint32_t)(idx))

/*
 * NEW: created, not started.  RUNNING: takes tasks.  DRAINING: shutdown
 * refuses new tasks but supervises as RUNNING does (retries, respawns)
 * until what is in flight is done or the deadline passes.  CLOSING: task
 * pipes closed, workers leaving, nothing respawned, nothing retried.
 * STOPPED: every worker reaped.  FAILED: workers kept dying before they
 * were ready; fb_pool_resize() tries again.
 */
enum fb__pstate { FB__P_NEW = 0, FB__P_RUNNING, FB__P_DRAINING,
    FB__P_CLOSING, FB__P_STOPPED, FB__P_FAILED };

struct fb_pool {
	struct fb_config p_cfg;
	int *p_keep;             /* copy of cfg.keep_fds */
	pid_t p_owner;           /* the process that created the pool */
	volatile uint64_t *p_forkmark; /* MADV_WIPEONFORK page: reads 0 in
	                                  any process forked from the owner */
	struct fb__board p_board;
	struct fb__registry p_reg;
	enum fb__pstate p_state;
	int p_epfd;
	int p_done[2];           /* completion pipe: master reads [0] */
	int p_timerfd;
	int p_lifeline;          /* no pidfd_open(2): lifeline pipes */
	sigset_t p_sigreset;     /* what a worker resets (fb__signals_scan) */
	int p_sigscanned;        /* p_sigreset holds for this call's spawns */
	uint64_t p_key;          /* completion record key */
	struct fb__reader p_done_rd;
	struct fb__worker *p_workers;  /* max_workers entries */
	unsigned p_nworkers;           /* rows ever used: 0..p_nworkers-1 */
	unsigned p_target;             /* rows that should run: 0..target-1 */
	unsigned p_timed;              /* in flight with a timeout */
	int p_any_timeout;             /* some code has its own timeout */
	unsigned *p_dirty;             /* workers whose outbox has records */
	uint32_t *p_head;              /* scratch: oldest task per worker */
	unsigned *p_stop;              /* scratch: workers to stop */
	unsigned p_ndirty;
	int p_retiring;                /* a worker waits for fb__retire */
	int p_rearm;                   /* the timer needs arming again */
	unsigned p_unpublished;        /* turns since counters were shown */
	int p_sticky;                  /* batch: worker for this run, or -1 */
	int64_t p_batch_ns;            /* batch: its one coarse clock read, or 0 */
	int64_t p_task_cost_ns;        /* measured ns per batched task, from
	                                  hand-over to an idle worker until it
	                                  is idle again (0: not known yet) */
	int64_t p_clock_ns;            /* a past coarse reading: <= now */
	unsigned p_ncpu;               /* CPUs online at create */
	int64_t p_rate_start_ns;       /* respawn-rate window */
	unsigned p_rate_count;
	unsigned p_rr;
	struct fb__mslot *p_slots;
	uint32_t *p_free;              /* stack of free slot indices */
	uint32_t p_nfree;
	struct fb__slotq p_ready;      /* complete, oldest first */
	struct fb__slotq p_pending;    /* waiting for a live worker */
	unsigned p_inflight;
	uint64_t p_seq;
	uint64_t p_sendno;
	struct fb_counters p_ctr;
	uint64_t p_spun;               /* results collected by spinning */
	fb_done_fn p_cb;               /* completion callback, or NULL */
	void *p_cb_arg;
	int p_in_cb;                   /* a callback is running */
	struct fb__faults p_faults;
	uint64_t p_rand;
};

void fb__log(const struct fb_pool *, enum fb_log_level, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* The checks and slot moves below run for every task: inline. */

/*
 * Is the caller the process that created the pool?  A forked child (a
 * worker's handler, or the embedder's own fork) shares the board, the
 * pipes and the epoll set with the master, and must not touch them.  The
 * mark lives in a MADV_WIPEONFORK page, which reads zero in every child:
 * no system call on the hot path.  Where that is missing, getpid().
 */
static inline int
fb__owner(const struct fb_pool *p)
{
	if (p->p_forkmark != NULL)
		return *p->p_forkmark != 0;
	return getpid() == p->p_owner;
}

/* The error for "not taking tasks", by state. */
static inline int
fb__state_err(const struct fb_pool *p)
{
	switch (p->p_state) {
	case FB__P_RUNNING:
		return 0;
	case FB__P_FAILED:
		return -ECHILD;
	default:
		return -ESHUTDOWN;
	}
}

/* Take a free slot and give it the next sequence.  -EAGAIN if none. */
static inline int
fb__acquire_slot(struct fb_pool *p, uint32_t *slot)
{
	if (p->p_nfree == 0)
		return -EAGAIN;
	*slot = p->p_free[--p->p_nfree];
	p->p_seq = (p->p_seq + 1) & FB__SEQ_MASK;
	if (p->p_seq == 0)
		p->p_seq = 1;
	p->p_slots[*slot].ms_seq = p->p_seq;
	return 0;
}

/* Give a slot back: its word says FREE (for inspectors), and it goes on the
 * free stack. */
static inline void
fb__free_slot(struct fb_pool *p, uint32_t slot)
{
	struct fb__mslot *ms = &p->p_slots[slot];

	if (ms->ms_state == FB__M_READY || ms->ms_state == FB__M_VIEWED)
		fb__trace(&p->p_board, FB_TRACE_SLOT, slot, ms->ms_worker,
		    ms->ms_seq, ms->ms_state == FB__M_READY ? FB_SLOT_COMPLETE :
		    FB_SLOT_HELD, FB_SLOT_FREE, FB_CAUSE_TAKE);
	ms->ms_state = FB__M_FREE;
	ms->ms_seq = 0;
	atomic_store_explicit(&p->p_board.b_slots[slot].sr_word,
	    FB__WORD(0, FB__SLOT_FREE), memory_order_release);
	p->p_free[p->p_nfree++] = slot;
}

/* task.c */
int fb__launch(struct fb_pool *, uint32_t slot, uint32_t code, size_t len);
int fb__launch_job(struct fb_pool *, uint32_t slot, const struct fb_job *);
int fb__dispatch_pending(struct fb_pool *);
int fb__flush_all(struct fb_pool *);
int fb__collect(struct fb_pool *, uint32_t slot);
int fb__collect_all(struct fb_pool *);
void fb__cancel_pending(struct fb_pool *);
void fb__settle_worker(struct fb_pool *, unsigned index, int wstatus,
    int retry);
int fb__flush_worker(struct fb_pool *, unsigned index);
int fb__cancel(struct fb_pool *, uint32_t slot, int flags);
unsigned fb__overdue(struct fb_pool *, int64_t now, unsigned *out);

/* What a result says about the task in slot (READY or VIEWED). */
static inline void
fb__fill_result(const struct fb_pool *p, uint32_t slot, struct fb_result *res)
{
	const struct fb__mslot *ms = &p->p_slots[slot];

	/* Every field, once (a result is filled for every task). */
	*res = (struct fb_result){
		.r_filled = sizeof(*res),
		.r_ticket = FB__TICKET(ms->ms_seq, slot),
		.r_udata = ms->ms_udata,
		.r_code = ms->ms_code,
		.r_outcome = ms->ms_outcome,
		.r_status = ms->ms_status,
		.r_wait_status = ms->ms_wait_status,
		.r_worker = ms->ms_worker,
		.r_pid = ms->ms_pid,
		.r_attempts = ms->ms_attempts,
		.r_len = ms->ms_result_len,
		.r_run_ns = ms->ms_run_ns,
		.r_queued_ns = ms->ms_queued_ns,
		.r_started_ns = ms->ms_started_ns,
		.r_ended_ns = ms->ms_ended_ns,
		.r_cpu_ns = ms->ms_cpu_ns,
		.r_maxrss_kb = ms->ms_maxrss_kb,
	};
}

/* supervise.c */
int fb__pidfd_works(void);
int fb__spawn(struct fb_pool *, unsigned index);

/* A call that spawns several workers in a row scans the signals once for
 * all of them (fb__signals_scan); the end drops the scan, so that a later
 * spawn sees the dispositions of its own time. */
static inline void
fb__spawn_begin(struct fb_pool *p)
{
	fb__signals_scan(&p->p_sigreset);
	p->p_sigscanned = 1;
}

static inline void
fb__spawn_end(struct fb_pool *p)
{
	p->p_sigscanned = 0;
}
void fb__worker_lost(struct fb_pool *, unsigned index, int wstatus);
int fb__reap(struct fb_pool *, unsigned index, int block);
void fb__stop_worker(struct fb_pool *, unsigned index, int64_t now);
int fb__supervise(struct fb_pool *, int64_t now);
int64_t fb__next_due(const struct fb_pool *, int64_t now);
int fb__retire(struct fb_pool *);
void fb__deactivate(struct fb_pool *, unsigned index);
int fb__resize(struct fb_pool *, unsigned n);
void fb__close_task_pipes(struct fb_pool *);
void fb__signal_alive(struct fb_pool *, int sig);
unsigned fb__alive(const struct fb_pool *);

/* loop.c */
int fb__sync(struct fb_pool *);
void fb__publish(struct fb_pool *);
int fb__wait_events(struct fb_pool *, int64_t deadline_ns);
int fb__process(struct fb_pool *);
int fb__spin_wait(struct fb_pool *, uint32_t slot);
void fb__arm_timer(struct fb_pool *);
int fb__drain_done(struct fb_pool *);

/* Copy a caller's input structure of caller_size bytes into ours (of
 * size ours_size, already holding defaults): the common prefix; bytes the
 * caller has beyond ours must be zero.  Output: our structure's first
 * size_t is how many bytes were written. */
int fb__copy_in(void *ours, size_t ours_size, const void *theirs,
    size_t caller_size);
int fb__copy_out(void *theirs, size_t caller_size, void *ours,
    size_t ours_size);

#endif /* FB_INTERNAL_H */
