/*
 * worker.c - the worker process: keep exactly the right descriptors, then
 * read task records, run handlers on their slots, publish, notify.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
	struct fb__rec c_out[FB__RBUF_RECS];
	size_t c_nout;
	int64_t c_first_ns;     /* when the oldest unsent completion was made */
	uint32_t c_shown_code;  /* what the process title says */
	int c_shown_busy;
	int c_title;            /* setproctitle usable */
	int64_t c_last_ns;      /* end of the last task, or batch start */
};

static void
set_state(struct wctx *c, enum fb_worker_state st)
{
	atomic_store_explicit(&c->c_row->wr_state, (uint32_t)st,
	    memory_order_release);
	atomic_store_explicit(&c->c_row->wr_changed_ns, c->c_last_ns,
	    memory_order_relaxed);
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

static void
run_one(struct wctx *c, const struct fb__rec *rec)
{
	const struct fb__worker_args *a = c->c_args;
	const struct fb__board *b = a->wa_board;
	const struct fb__handler *h;
	struct fb__slot_row *sr;
	struct fb_task t;
	enum fb_outcome oc;
	uint32_t want = FB__SLOT_QUEUED;
	int64_t now;
	int st;

	if (rec->r_slot >= b->b_nslots)
		return; /* not from our master: ignore */
	sr = &b->b_slots[rec->r_slot];
	if (sr->sr_seq != rec->r_seq ||
	    !atomic_compare_exchange_strong_explicit(&sr->sr_state, &want,
	    FB__SLOT_RUNNING, memory_order_acq_rel, memory_order_acquire))
		return; /* stale record */

	atomic_store_explicit(&c->c_row->wr_slot, rec->r_slot,
	    memory_order_relaxed);
	atomic_store_explicit(&c->c_row->wr_code, rec->r_aux,
	    memory_order_relaxed);
	set_state(c, FB_WORKER_BUSY);
	show(c, 1, rec->r_aux);

	memset(&t, 0, sizeof(t));
	t.t_code = rec->r_aux;
	t.t_worker = a->wa_index;
	t.t_ticket = FB__TICKET(rec->r_seq, rec->r_slot);
	t.t_payload = fb__board_payload(b, rec->r_slot);
	t.t_len = sr->sr_len <= b->b_slot_size ? sr->sr_len : b->b_slot_size;
	t.t_result = fb__board_result(b, rec->r_slot);
	t.t_result_cap = b->b_result_size;
	sr->sr_t_start = c->c_last_ns; /* the previous task's end: one
	                                  clock read a task */

	if (t.t_code == FB_CODE_FDLIST) {
		st = fb__worker_fdlist(&t);
		oc = st == 0 ? FB_DONE : FB_FAILED;
	} else if ((h = fb__registry_find(a->wa_registry, t.t_code)) == NULL) {
		st = 0;
		oc = FB_NOHANDLER;
	} else {
		st = h->h_fn(&t, h->h_arg);
		oc = st == 0 ? FB_DONE : FB_FAILED;
	}
	if (t.t_result_len > t.t_result_cap) {
		oc = FB_BADRESULT;
		t.t_result_len = 0;
	}
	now = fb__now_ns();
	c->c_last_ns = now;
	sr->sr_t_end = now;
	sr->sr_result_len = (uint32_t)t.t_result_len;
	sr->sr_status = st;
	sr->sr_outcome = (uint32_t)oc;
	atomic_store_explicit(&sr->sr_state,
	    oc == FB_DONE ? FB__SLOT_DONE : FB__SLOT_FAILED,
	    memory_order_release);
	atomic_fetch_add_explicit(&c->c_row->wr_tasks, 1, memory_order_relaxed);

	if (c->c_nout == 0)
		c->c_first_ns = now;
	c->c_out[c->c_nout].r_slot = rec->r_slot;
	c->c_out[c->c_nout].r_aux = a->wa_index;
	c->c_out[c->c_nout].r_seq = rec->r_seq;
	c->c_nout++;
	if (c->c_nout == FB__RBUF_RECS || now - c->c_first_ns > FB__COALESCE_NS)
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
		fb__cpu_relax();
	} while (fb__now_ns() < end);
}

static void
reset_signals(void)
{
	struct sigaction sa;
	sigset_t all;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
	sigemptyset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
}

void
fb__worker_main(const struct fb__worker_args *a)
{
	struct fb__reader rd;
	struct fb__rec recs[FB__RBUF_RECS];
	struct wctx c;
	int keep[3 + 64];
	char name[16];
	uint32_t bell;
	size_t i, n, nkeep = 0;
	ssize_t r;

	/* Die with the master; if it is already gone, do not start. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != a->wa_ppid)
		_exit(1);
	reset_signals();
	keep[nkeep++] = a->wa_task_fd;
	keep[nkeep++] = a->wa_done_fd;
	if (a->wa_lifeline_fd != -1)
		keep[nkeep++] = a->wa_lifeline_fd;
	for (i = 0; i < a->wa_nkeep && nkeep < sizeof(keep) / sizeof(keep[0]);
	    i++)
		keep[nkeep++] = a->wa_keep[i];
	if (fb__close_except(keep, nkeep) < 0)
		_exit(1);

	memset(&c, 0, sizeof(c));
	c.c_args = a;
	c.c_row = &a->wa_board->b_workers[a->wa_index];
	c.c_shown_busy = -1;
	(void)snprintf(name, sizeof(name), "fb-worker %u", a->wa_index);
	(void)prctl(PR_SET_NAME, name);
	if (a->wa_argv != NULL && a->wa_argc > 0) {
		setproctitle_init(a->wa_argc, a->wa_argv, environ);
		c.c_title = 1;
	}
	rd.rd_have = 0;
	if (a->wa_init != NULL && a->wa_init(a->wa_index, a->wa_init_arg) != 0)
		_exit(1); /* not ready: the master counts it towards give-up */
	show(&c, 0, 0);
	c.c_last_ns = fb__now_ns();
	set_state(&c, FB_WORKER_IDLE);

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
		for (i = 0; i < n; i++)
			run_one(&c, &recs[i]);
		/* Idle before the master hears of the last completion, so a
		 * master that sees every result also sees the worker idle. */
		if (n > 0) {
			set_state(&c, FB_WORKER_IDLE);
			show(&c, 0, 0);
		}
		flush_done(&c);
		if (a->wa_spin_ns > 0)
			spin(&c, bell);
	}
	set_state(&c, FB_WORKER_EXITING);
	flush_done(&c);
	_exit(0);
}
