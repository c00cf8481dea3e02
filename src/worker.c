/*
 * worker.c - the worker process: keep exactly the right descriptors, make
 * sure it dies with its master, then read task records, run handlers on
 * their slots, publish, notify.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Completions wait at most this long for company before they are sent. */
#define FB__COALESCE_NS 100000

struct wctx {
	const struct fb__worker_args *c_args;
	struct fb__worker_row *c_row;
	struct fb__done c_out[FB__RBUF_RECS];
	size_t c_nout;
	int64_t c_first_ns;     /* when the oldest unsent completion was made */
	uint32_t c_shown_code;  /* what the process title says */
	int c_shown_busy;
	int c_title;            /* setproctitle usable */
	int64_t c_last_ns;      /* end of the last task, or batch start */
	int c_clock_each;       /* read the clock after every task of this
	                           batch (FB_CLOCK_TASK, or a batch of one) */
	int64_t c_tick_ns;      /* FB_CLOCK_BATCH: the coarse clock at the
	                           last task's end, or the batch's start */
	uint64_t c_tasks;
	pid_t c_pid;
	void *c_ctx;            /* from worker_init */
	struct fb__faults *c_faults;
	/* The last code's handler (NULL: none): runs of one code are the
	 * common case, and the registry cannot change in a worker. */
	const struct fb__handler *c_h;
	uint32_t c_hcode;
	int c_hknown;
};

/* Update this worker's scoreboard row as one consistent change. */
static void
set_row(struct wctx *c, enum fb_worker_state st, uint32_t slot, uint32_t code)
{
	struct fb__worker_row *r = c->c_row;
	uint32_t old = atomic_load_explicit(&r->wr_state,
	    memory_order_relaxed);

	fb__row_write_begin(r);
	atomic_store_explicit(&r->wr_pid, (int32_t)c->c_pid,
	    memory_order_relaxed);
	atomic_store_explicit(&r->wr_state, (uint32_t)st, memory_order_relaxed);
	atomic_store_explicit(&r->wr_slot, slot, memory_order_relaxed);
	atomic_store_explicit(&r->wr_code, code, memory_order_relaxed);
	atomic_store_explicit(&r->wr_tasks, c->c_tasks, memory_order_relaxed);
	atomic_store_explicit(&r->wr_changed_ns, c->c_last_ns,
	    memory_order_relaxed);
	fb__row_write_end(r);
	if (old != (uint32_t)st && (st == FB_WORKER_EXITING ||
	    old == FB_WORKER_STARTING))
		fb__trace(c->c_args->wa_board, FB_TRACE_WORKER, UINT32_MAX,
		    c->c_args->wa_index, 0, old, st, st == FB_WORKER_EXITING ?
		    FB_CAUSE_EXIT : FB_CAUSE_READY);
}

static void
show(struct wctx *c, int busy, uint32_t code)
{
	if (!c->c_title ||
	    (busy == c->c_shown_busy && (!busy || code == c->c_shown_code)))
		return;
	if (busy)
		setproctitle("-forkboard: worker %u busy code %u",
		    c->c_args->wa_index, code);
	else
		setproctitle("-forkboard: worker %u idle", c->c_args->wa_index);
	c->c_shown_busy = busy;
	c->c_shown_code = code;
}

/* Send the completions gathered so far in one write (<= PIPE_BUF, so it
 * is atomic on the pipe all workers share). */
static void
flush_done(struct wctx *c)
{
	if (c->c_nout == 0)
		return;
	if (fb__write_full(c->c_args->wa_done_fd, c->c_out,
	    c->c_nout * sizeof(c->c_out[0])) < 0)
		_exit(1); /* the master is gone */
	c->c_nout = 0;
}

static inline void
queue_done(struct wctx *c, uint32_t slot, uint16_t worker, uint64_t seq)
{
	struct fb__done *d = &c->c_out[c->c_nout++];

	d->d_slot = (uint16_t)slot;
	d->d_worker = worker;
	d->d_seq = seq;
	fb__done_seal(c->c_args->wa_key, d);
}

/* The built-in FB_CODE_FDLIST: describe every open descriptor. */
int
fb__worker_fdlist(struct fb_task *t)
{
	struct fb_fdinfo fi, *out = t->t_result;
	struct dirent *de;
	struct stat sb;
	size_t n = 0, max = t->t_result_cap / sizeof(fi);
	DIR *d;
	int fd, fl, self, r = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return errno;
	self = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd == self)
			continue;
		if (n == max) {
			r = ENOBUFS;
			break;
		}
		memset(&fi, 0, sizeof(fi));
		fi.fi_fd = fd;
		if (fstat(fd, &sb) == 0) {
			fi.fi_mode = sb.st_mode;
			fi.fi_ino = sb.st_ino;
		}
		fl = fcntl(fd, F_GETFL);
		fi.fi_accmode = fl == -1 ? -1 : (fl & O_ACCMODE);
		memcpy(&out[n++], &fi, sizeof(fi));
	}
	(void)closedir(d);
	t->t_result_len = n * sizeof(fi);
	return r;
}

/*
 * Publish a finished task: only if the slot still holds the task this
 * worker claimed, still RUNNING.  The CAS to PUBLISHING makes this worker
 * the only writer of the result fields; if it fails (the slot was
 * collected and reused under a misbehaving handler), nothing is written.
 * Returns 1 if published.
 */
static int
publish(struct fb__slot_row *sr, uint64_t seq, enum fb_outcome oc, int st,
    size_t len, int64_t t0, int64_t t1, const struct rusage *ru)
{
	uint64_t want = FB__WORD(seq, FB__SLOT_RUNNING);

	if (!atomic_compare_exchange_strong_explicit(&sr->sr_word, &want,
	    FB__WORD(seq, FB__SLOT_PUBLISHING), memory_order_acquire,
	    memory_order_relaxed))
		return 0;
	sr->sr_t_start = t0;
	sr->sr_t_end = t1;
	sr->sr_result_len = (uint32_t)len;
	sr->sr_status = st;
	sr->sr_outcome = (uint16_t)oc;
	sr->sr_cpu_ns = 0;
	sr->sr_maxrss_kb = 0;
	if (ru != NULL) {
		sr->sr_cpu_ns = (uint64_t)ru->ru_utime.tv_sec * 1000000000u +
		    (uint64_t)ru->ru_utime.tv_usec * 1000u +
		    (uint64_t)ru->ru_stime.tv_sec * 1000000000u +
		    (uint64_t)ru->ru_stime.tv_usec * 1000u;
		sr->sr_maxrss_kb = (uint32_t)ru->ru_maxrss;
	}
	atomic_store_explicit(&sr->sr_word, FB__WORD(seq, oc == FB_DONE ?
	    FB__SLOT_DONE : FB__SLOT_FAILED), memory_order_release);
	return 1;
}

/* CPU time used between two getrusage() snapshots, as one rusage whose
 * ru_maxrss is the later peak. */
static void
ru_delta(struct rusage *d, const struct rusage *a, const struct rusage *b)
{
	memset(d, 0, sizeof(*d));
	timersub(&b->ru_utime, &a->ru_utime, &d->ru_utime);
	timersub(&b->ru_stime, &a->ru_stime, &d->ru_stime);
	d->ru_maxrss = b->ru_maxrss;
}

static const struct fb__handler *
handler_of(struct wctx *c, uint32_t code)
{
	if (!c->c_hknown || c->c_hcode != code) {
		c->c_h = fb__registry_find(c->c_args->wa_registry, code);
		c->c_hcode = code;
		c->c_hknown = 1;
	}
	return c->c_h;
}

static int
call_handler(struct wctx *c, struct fb_task *t, enum fb_outcome *oc)
{
	const struct fb__handler *h;
	int st;

	if (t->t_code == FB_CODE_FDLIST) {
		st = fb__worker_fdlist(t);
		*oc = st == 0 ? FB_DONE : FB_FAILED;
	} else if ((h = handler_of(c, t->t_code)) == NULL) {
		st = 0;
		*oc = FB_NOHANDLER;
	} else {
		st = h->h_fn(t, h->h_arg);
		*oc = st == 0 ? FB_DONE : FB_FAILED;
	}
	return st;
}

/* Run one task record; last: the batch's last, whose completion goes out
 * with the batch's, after the row says IDLE. */
static void
run_one(struct wctx *c, const struct fb__rec *rec, int last)
{
	const struct fb__worker_args *a = c->c_args;
	const struct fb__board *b = a->wa_board;
	struct fb__slot_row *sr;
	struct fb_task t;
	struct rusage ru0, ru1, ru;
	enum fb_outcome oc;
	uint64_t want = FB__WORD(rec->r_seq, FB__SLOT_QUEUED);
	int64_t now, start, tick;
	uint32_t len;
	int st, slow;

	if (rec->r_slot >= b->b_nslots)
		return; /* not from our master: ignore */
	fb__fault_at(c->c_faults, FB__FP_READ, a->wa_index, rec->r_aux);
	sr = &b->b_slots[rec->r_slot];
	if (!atomic_compare_exchange_strong_explicit(&sr->sr_word, &want,
	    FB__WORD(rec->r_seq, FB__SLOT_RUNNING), memory_order_acq_rel,
	    memory_order_acquire))
		return; /* stale, or cancelled */
	fb__trace(b, FB_TRACE_SLOT, rec->r_slot, a->wa_index, rec->r_seq,
	    FB_SLOT_QUEUED, FB_SLOT_RUNNING, FB_CAUSE_CLAIM);
	set_row(c, FB_WORKER_BUSY, rec->r_slot, rec->r_aux);
	show(c, 1, rec->r_aux);
	fb__fault_at(c->c_faults, FB__FP_CLAIM, a->wa_index, rec->r_aux);

	len = sr->sr_len;
	memset(&t, 0, sizeof(t));
	t.t_code = rec->r_aux;
	t.t_worker = a->wa_index;
	t.t_ticket = FB__TICKET(rec->r_seq, rec->r_slot);
	t.t_udata = sr->sr_udata;
	t.t_payload = fb__board_payload(b, rec->r_slot);
	t.t_len = len <= b->b_slot_size ? len : b->b_slot_size;
	t.t_result = fb__board_result(b, rec->r_slot);
	t.t_result_cap = b->b_result_size;
	t.t_ctx = c->c_ctx;
	start = c->c_last_ns; /* the previous task's end: one clock read a
	                         task */
	if (a->wa_rusage)
		(void)getrusage(RUSAGE_SELF, &ru0);
	st = call_handler(c, &t, &oc);
	if (a->wa_rusage) {
		(void)getrusage(RUSAGE_SELF, &ru1);
		ru_delta(&ru, &ru0, &ru1);
	}
	if (t.t_result_len > t.t_result_cap) {
		oc = FB_BADRESULT;
		t.t_result_len = 0;
	}
	if (c->c_clock_each) {
		c->c_last_ns = fb__now_ns();
		slow = c->c_last_ns - start > FB__COALESCE_NS;
	} else {
		/* FB_CLOCK_BATCH: a tick of the coarse clock (a few ms)
		 * passed during this task, or it did not. */
		tick = fb__coarse_ns();
		slow = tick != c->c_tick_ns;
		c->c_tick_ns = tick;
	}
	now = c->c_last_ns; /* FB_CLOCK_BATCH: the batch's start, run 0 */
	c->c_tasks++;
	fb__fault_at(c->c_faults, FB__FP_PUBLISH, a->wa_index, rec->r_aux);
	if (!publish(sr, rec->r_seq, oc, st, t.t_result_len, start, now,
	    a->wa_rusage ? &ru : NULL))
		return; /* no longer ours: say nothing */
	fb__trace(b, FB_TRACE_SLOT, rec->r_slot, a->wa_index, rec->r_seq,
	    FB_SLOT_RUNNING, FB_SLOT_COMPLETE, FB_CAUSE_PUBLISH);
	fb__fault_at(c->c_faults, FB__FP_PUBLISHED, a->wa_index, rec->r_aux);

	if (c->c_nout == 0)
		c->c_first_ns = now;
	queue_done(c, rec->r_slot, (uint16_t)a->wa_index, rec->r_seq);
	/* Send early what waited long enough, and at once after a task that
	 * outlasted the coalescing window (the next one likely will too: its
	 * completion must not wait for it), except after the last task: its
	 * completion must not reach a master before the row is IDLE with the
	 * task counted (c_out holds a whole batch). */
	if (!last && (slow || c->c_nout == FB__RBUF_RECS ||
	    now - c->c_first_ns > FB__COALESCE_NS))
		flush_done(c);
}

/* Before blocking in read(), watch the doorbell the master rings after
 * each write, for up to spin_us: a wake-up from sleep costs far more. */
static void
spin(struct wctx *c, uint32_t bell)
{
	int64_t end = fb__now_ns() + c->c_args->wa_spin_ns;

	do {
		if (atomic_load_explicit(&c->c_row->wr_doorbell,
		    memory_order_acquire) != bell)
			return;
		fb__spin_pause();
	} while (fb__now_ns() < end);
}

/*
 * Signals: the embedder's handlers do not belong in a worker, so caught
 * signals go back to their default; signals the master ignores stay
 * ignored (a handler writing to a closed socket gets EPIPE, as the master
 * would), except SIGCHLD, whose default a worker needs to wait for its own
 * children.  Nothing stays blocked.
 *
 * The master finds which signals those are (a query per signal), and the
 * worker resets only them: one scan serves every worker a call starts, not
 * one scan in each worker (it was two thirds of a worker's system calls).
 */
void
fb__signals_scan(sigset_t *reset)
{
	struct sigaction old;
	int sig;

	sigemptyset(reset);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigaction(sig, NULL, &old) == -1)
			continue;
		if (old.sa_handler == SIG_IGN && sig != SIGCHLD)
			continue;
		if (old.sa_handler == SIG_DFL && !(old.sa_flags & SA_SIGINFO))
			continue;
		(void)sigaddset(reset, sig);
	}
}

static void
reset_signals(const sigset_t *reset)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(reset, sig) == 1)
			(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * Die with the master process, even mid-handler, and whichever of its
 * threads forked us: the master holds the only write end of this pipe, so
 * when its process ends the pipe reports end of file, and O_ASYNC with
 * F_SETSIG turns that into SIGKILL for this process.  (PR_SET_PDEATHSIG
 * would fire when the forking thread exits.)  Returns 0, or -1 if the
 * master is already gone.
 */
static int
arm_master_death(int fd)
{
	struct pollfd pfd;
	int fl;

	if (fcntl(fd, F_SETOWN, getpid()) == -1 ||
	    fcntl(fd, F_SETSIG, SIGKILL) == -1 ||
	    (fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_ASYNC | O_NONBLOCK) == -1)
		return -1;
	/* It may have died before O_ASYNC was on: look once. */
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) != 0)
		return -1;
	return 0;
}

/* Standard descriptors that are not open get /dev/null, so that a
 * handler's printf goes nowhere instead of into whatever opens next. */
static void
fill_stdio(void)
{
	int fd, n;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1)
			continue;
		if ((n = open("/dev/null", O_RDWR)) == -1)
			_exit(1);
		if (n != fd) {
			(void)dup2(n, fd);
			(void)close(n);
		}
	}
}

static void
setup(const struct fb__worker_args *a)
{
	int keep[4 + 64];
	size_t i, nkeep = 0;

	(void)setpgid(0, 0);
	reset_signals(a->wa_sigreset);
	if (arm_master_death(a->wa_master_fd) == -1)
		_exit(1);
	keep[nkeep++] = a->wa_task_fd;
	keep[nkeep++] = a->wa_done_fd;
	keep[nkeep++] = a->wa_master_fd;
	if (a->wa_lifeline_fd != -1)
		keep[nkeep++] = a->wa_lifeline_fd;
	for (i = 0; i < a->wa_nkeep && nkeep < sizeof(keep) / sizeof(keep[0]);
	    i++)
		keep[nkeep++] = a->wa_keep[i];
	if (fb__close_except(keep, nkeep) < 0)
		_exit(1);
	fill_stdio();
}

void
fb__worker_main(const struct fb__worker_args *a)
{
	struct fb__reader rd;
	struct fb__rec recs[FB__RBUF_RECS];
	struct wctx c;
	char name[16];
	uint32_t bell;
	size_t i, n;
	ssize_t r;

	setup(a);
	memset(&c, 0, sizeof(c));
	c.c_args = a;
	c.c_row = &a->wa_board->b_workers[a->wa_index];
	c.c_shown_busy = -1;
	c.c_pid = getpid();
	a->wa_board->b_pid = c.c_pid; /* for its trace records */
	(void)snprintf(name, sizeof(name), "fb-worker %u", a->wa_index);
	(void)prctl(PR_SET_NAME, name);
	if (a->wa_argv != NULL && a->wa_argc > 0) {
		setproctitle_init(a->wa_argc, a->wa_argv, environ);
		c.c_title = 1;
	}
	rd.rd_have = 0;
	c.c_faults = a->wa_faults;
	fb__fault_arm(c.c_faults, a->wa_index, a->wa_generation);
	fb__fault_at(c.c_faults, FB__FP_START, a->wa_index, 0);
	if (a->wa_init != NULL && a->wa_init(a->wa_index, a->wa_arg,
	    &c.c_ctx) != 0)
		_exit(1); /* not ready: the master counts it towards give-up */
	show(&c, 0, 0);
	c.c_last_ns = fb__now_ns();
	set_row(&c, FB_WORKER_IDLE, 0, 0);
	/* Tell the master this generation is ready: its own fact, not a
	 * row anyone could rewrite. */
	queue_done(&c, 0, (uint16_t)(a->wa_index | FB__DONE_READY),
	    a->wa_generation);
	flush_done(&c);

	for (;;) {
		bell = atomic_load_explicit(&c.c_row->wr_doorbell,
		    memory_order_acquire);
		r = fb__reader_fill(&rd, a->wa_task_fd);
		if (r == 0)
			break; /* every write end closed: drain done, leave */
		if (r < 0)
			_exit(1);
		n = fb__reader_take(&rd, recs, FB__RBUF_RECS);
		c.c_last_ns = fb__now_ns();
		c.c_clock_each = !a->wa_clock_batch || n == 1;
		if (!c.c_clock_each)
			c.c_tick_ns = fb__coarse_ns();
		for (i = 0; i < n; i++) {
			/* Told to stop (a timeout): take nothing more. */
			if (atomic_load_explicit(&c.c_row->wr_stop,
			    memory_order_acquire) != 0)
				goto out;
			run_one(&c, &recs[i], i + 1 == n);
		}
		/* Idle before the master hears of the last completion, so a
		 * master that sees every result also sees the worker idle. */
		if (n > 0) {
			if (!c.c_clock_each)
				c.c_last_ns = fb__now_ns(); /* the batch's end */
			set_row(&c, FB_WORKER_IDLE, 0, 0);
			show(&c, 0, 0);
		}
		flush_done(&c);
		if (a->wa_spin_ns > 0)
			spin(&c, bell);
	}
	/* End of the task pipe: a graceful leave. */
	set_row(&c, FB_WORKER_EXITING, 0, 0);
	flush_done(&c);
	if (a->wa_fini != NULL)
		a->wa_fini(a->wa_index, a->wa_arg, c.c_ctx);
	_exit(0);
out:
	/* Told to stop: no fini, the master is ending this worker. */
	set_row(&c, FB_WORKER_EXITING, 0, 0);
	flush_done(&c);
	_exit(0);
}
