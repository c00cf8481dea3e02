/*
 * supervise.c - worker lifecycles: spawn, notice death (pidfd), attribute
 * the task a dead worker was running, re-dispatch what it never read,
 * respawn with back-off, retire, and stop with escalation.
 *
 * Deaths are learnt from pidfds in the pool's epoll set, so the library
 * needs no SIGCHLD handler and never reaps a child it did not fork.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define FB__BACKOFF_MIN_NS 50000000LL   /* 50 ms */
#define FB__BACKOFF_MAX_NS 5000000000LL /* 5 s */

static int
pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static uint64_t
rand64(struct fb_pool *p)
{
	/* xorshift64: jitter needs spread, not secrecy. */
	p->p_rand ^= p->p_rand << 13;
	p->p_rand ^= p->p_rand >> 7;
	p->p_rand ^= p->p_rand << 17;
	return p->p_rand;
}

static void
set_row(struct fb_pool *p, unsigned i, pid_t pid, enum fb_worker_state st)
{
	struct fb__worker_row *row = &p->p_board.b_workers[i];

	row->wr_pid = (int32_t)pid;
	atomic_store_explicit(&row->wr_state, (uint32_t)st,
	    memory_order_release);
	atomic_store_explicit(&row->wr_changed_ns, fb__now_ns(),
	    memory_order_relaxed);
}

static void
child(struct fb_pool *p, unsigned i, pid_t ppid)
{
	struct fb__worker_args a;

	memset(&a, 0, sizeof(a));
	a.wa_index = i;
	a.wa_ppid = ppid;
	a.wa_task_fd = p->p_workers[i].w_task[0];
	a.wa_done_fd = p->p_done[1];
	a.wa_keep = p->p_keep;
	a.wa_nkeep = p->p_cfg.nkeep_fds;
	a.wa_board = &p->p_board;
	a.wa_registry = &p->p_reg;
	a.wa_argc = p->p_cfg.argc;
	a.wa_argv = p->p_cfg.argv;
	fb__worker_main(&a);
}

/* Hand tasks that waited for a live worker to the workers there are. */
static int
dispatch_pending(struct fb_pool *p)
{
	struct fb__mslot *ms;
	int r;

	while ((ms = TAILQ_FIRST(&p->p_pending)) != NULL) {
		TAILQ_REMOVE(&p->p_pending, ms, ms_link);
		if ((r = fb__dispatch(p, (uint32_t)(ms - p->p_slots))) < 0)
			return r;
		if (ms->ms_worker == UINT32_MAX)
			break; /* went back on the queue: nobody alive */
	}
	return 0;
}

int
fb__spawn(struct fb_pool *p, unsigned i)
{
	struct fb__worker *w = &p->p_workers[i];
	struct fb__worker_row *row = &p->p_board.b_workers[i];
	struct epoll_event ev;
	pid_t pid, ppid = getpid();
	int r;

	if ((r = fb__pipe(w->w_task, 1)) < 0)
		return r;
	row->wr_generation = atomic_fetch_add(&p->p_board.b_hdr->bh_generation,
	    1) + 1;
	atomic_store_explicit(&row->wr_tasks, 0, memory_order_relaxed);
	set_row(p, i, 0, FB_WORKER_STARTING);
	if ((pid = fork()) == -1) {
		r = -errno;
		goto fail;
	}
	if (pid == 0)
		child(p, i, ppid);
	if ((w->w_pidfd = pidfd_open_(pid)) == -1) {
		r = -errno;
		(void)kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		goto fail;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = FB__EV(FB__EV_PIDFD, i);
	if (epoll_ctl(p->p_epfd, EPOLL_CTL_ADD, w->w_pidfd, &ev) == -1) {
		r = -errno;
		(void)kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		fb__close(&w->w_pidfd);
		goto fail;
	}
	w->w_pid = pid;
	row->wr_pid = (int32_t)pid;
	w->w_active = 1;
	w->w_replace = 0;
	w->w_inflight = 0;
	w->w_tasks_sent = 0;
	w->w_kill_stage = 0;
	w->w_respawn_at_ns = 0;
	w->w_out.ob_len = 0;
	w->w_recycle_at = 0;
	if (p->p_cfg.max_tasks > 0)
		w->w_recycle_at = p->p_cfg.max_tasks + (unsigned)(rand64(p) %
		    ((uint64_t)p->p_cfg.max_tasks_jitter + 1));
	fb__log(p, FB_LOG_DEBUG, "worker %u started, pid %d", i, (int)pid);
	return dispatch_pending(p);

fail:
	set_row(p, i, 0, FB_WORKER_DEAD);
	fb__close(&w->w_task[0]);
	fb__close(&w->w_task[1]);
	return r;
}

static void
arm_timer(struct fb_pool *p)
{
	struct itimerspec its;
	int64_t next = 0, now = fb__now_ns(), t;
	unsigned i;

	for (i = 0; i < p->p_nworkers; i++) {
		t = p->p_workers[i].w_respawn_at_ns;
		if (t != 0 && (next == 0 || t < next))
			next = t;
	}
	memset(&its, 0, sizeof(its));
	if (next != 0) {
		t = next > now ? next - now : 1;
		its.it_value.tv_sec = t / 1000000000;
		its.it_value.tv_nsec = t % 1000000000;
	}
	(void)timerfd_settime(p->p_timerfd, 0, &its, NULL);
}

/* Give up: workers keep dying before they are ready. */
static void
pool_failed(struct fb_pool *p)
{
	struct fb__mslot *ms;

	fb__log(p, FB_LOG_ERROR, "workers keep dying at start: pool failed");
	p->p_state = FB__P_FAILED;
	while ((ms = TAILQ_FIRST(&p->p_pending)) != NULL) {
		TAILQ_REMOVE(&p->p_pending, ms, ms_link);
		fb__complete(p, (uint32_t)(ms - p->p_slots), FB_CANCELLED, 0, 0);
	}
}

static void
respawn_later(struct fb_pool *p, unsigned i, int was_ready)
{
	struct fb__worker *w = &p->p_workers[i];
	int64_t delay;

	w->w_fails = was_ready ? 0 : w->w_fails + 1;
	if (w->w_fails >= p->p_cfg.respawn_max) {
		pool_failed(p);
		return;
	}
	delay = 0;
	if (w->w_fails > 0) {
		delay = FB__BACKOFF_MIN_NS << (w->w_fails - 1);
		if (delay > FB__BACKOFF_MAX_NS)
			delay = FB__BACKOFF_MAX_NS;
	}
	w->w_respawn_at_ns = fb__now_ns() + delay;
	if (delay == 0)
		w->w_respawn_at_ns = 1; /* due now */
}

/*
 * Worker i is dead and reaped with wait status st.  Settle every task the
 * master had given it, by what the board says each one reached.
 */
void
fb__worker_lost(struct fb_pool *p, unsigned i, int st)
{
	struct fb__worker *w = &p->p_workers[i];
	struct fb__mslot *ms;
	uint32_t s, bst;
	int was_ready, running = p->p_state == FB__P_RUNNING;

	bst = atomic_load_explicit(&p->p_board.b_workers[i].wr_state,
	    memory_order_acquire);
	was_ready = bst >= FB_WORKER_IDLE && bst <= FB_WORKER_EXITING;
	(void)epoll_ctl(p->p_epfd, EPOLL_CTL_DEL, w->w_pidfd, NULL);
	fb__close(&w->w_pidfd);
	fb__close(&w->w_task[0]);
	fb__close(&w->w_task[1]);
	w->w_out.ob_len = 0;
	w->w_pid = -1;
	w->w_active = 0;
	w->w_last_status = st;
	set_row(p, i, 0, FB_WORKER_DEAD);
	if (WIFSIGNALED(st))
		fb__log(p, FB_LOG_WARN, "worker %u killed by signal %d", i,
		    WTERMSIG(st));

	for (s = 0; s < p->p_cfg.slots; s++) {
		ms = &p->p_slots[s];
		if (ms->ms_state != FB__M_INFLIGHT || ms->ms_worker != i)
			continue;
		if (fb__collect(p, s))
			continue; /* it finished before the worker died */
		bst = atomic_load_explicit(&p->p_board.b_slots[s].sr_state,
		    memory_order_acquire);
		if (bst == FB__SLOT_RUNNING) {
			ms->ms_attempts++;
			if (!running || ms->ms_attempts > p->p_cfg.retries) {
				fb__complete(p, s, FB_CRASHED, st, 0);
				continue;
			}
			p->p_ctr.c_retried++;
		} else if (!running) {
			fb__complete(p, s, FB_CANCELLED, 0, 0);
			continue;
		}
		/* Never read, or to be retried: another worker takes it. */
		(void)fb__dispatch(p, s);
	}
	w->w_inflight = 0;
	if (running && (w->w_replace || i < p->p_nworkers))
		respawn_later(p, i, was_ready || w->w_replace);
	arm_timer(p);
}

/* Reap worker i if it has exited (or wait for it, if block).  Returns 1
 * when reaped, 0 when still running. */
int
fb__reap(struct fb_pool *p, unsigned i, int block)
{
	struct fb__worker *w = &p->p_workers[i];
	pid_t r;
	int st;

	if (i >= p->p_cfg.max_workers || w->w_pid == -1)
		return 0;
	do
		r = waitpid(w->w_pid, &st, block ? 0 : WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		return 0;
	if (r == -1)
		st = -1; /* someone else reaped it (waitpid(-1) in the app) */
	fb__worker_lost(p, i, st);
	if (p->p_state == FB__P_RUNNING && p->p_workers[i].w_respawn_at_ns)
		return fb__timers(p) < 0 ? -1 : 1;
	return 1;
}

int
fb__timers(struct fb_pool *p)
{
	struct fb__worker *w;
	uint64_t junk;
	int64_t now = fb__now_ns();
	unsigned i;
	int r;

	while (read(p->p_timerfd, &junk, sizeof(junk)) > 0)
		;
	for (i = 0; i < p->p_nworkers; i++) {
		w = &p->p_workers[i];
		if (w->w_respawn_at_ns == 0 || w->w_respawn_at_ns > now)
			continue;
		w->w_respawn_at_ns = 0;
		if (p->p_state != FB__P_RUNNING)
			continue;
		w->w_restarts++;
		p->p_ctr.c_respawns++;
		if ((r = fb__spawn(p, i)) < 0) {
			fb__log(p, FB_LOG_ERROR, "respawn of worker %u: %s", i,
			    fb_strerror(r));
			respawn_later(p, i, 0);
		}
	}
	arm_timer(p);
	return 0;
}

/* Close the task pipe of workers that take no more tasks, once their
 * outbox is empty: they finish what they hold and exit. */
int
fb__retire(struct fb_pool *p)
{
	struct fb__worker *w;
	unsigned i;

	for (i = 0; i < p->p_nworkers; i++) {
		w = &p->p_workers[i];
		if (w->w_active || w->w_pid == -1 || w->w_task[1] == -1 ||
		    w->w_out.ob_len != 0)
			continue;
		w->w_replace = w->w_recycle_at != 0;
		fb__close(&w->w_task[1]);
	}
	return 0;
}

static void
signal_alive(struct fb_pool *p, int sig)
{
	unsigned i;

	for (i = 0; i < p->p_nworkers; i++)
		if (p->p_workers[i].w_pid != -1)
			(void)kill(p->p_workers[i].w_pid, sig);
}

/* Wait until every worker is reaped or the deadline passes. */
static int
reap_until(struct fb_pool *p, int64_t deadline)
{
	struct pollfd pfd;
	unsigned i, alive;
	int64_t left;
	int ms;

	for (;;) {
		alive = 0;
		for (i = 0; i < p->p_nworkers; i++) {
			if (p->p_workers[i].w_pid == -1)
				continue;
			if (fb__reap(p, i, 0) == 1)
				continue;
			alive++;
			left = deadline - fb__now_ns();
			if (left <= 0)
				continue;
			ms = (int)((left + 999999) / 1000000);
			pfd.fd = p->p_workers[i].w_pidfd;
			pfd.events = POLLIN;
			while (poll(&pfd, 1, ms) == -1 && errno == EINTR)
				;
			if (fb__reap(p, i, 0) == 1)
				alive--;
		}
		if (alive == 0)
			return 0;
		if (fb__now_ns() >= deadline)
			return (int)alive;
	}
}

/*
 * Close every task write end the master holds, then reap every worker.
 * Workers still alive at the deadline (or kill_grace_ms from now if it has
 * passed) get SIGTERM, then SIGKILL kill_grace_ms later.  Returns 0 or
 * -ETIMEDOUT when signals were needed.
 */
int
fb__stop_workers(struct fb_pool *p, int64_t deadline)
{
	struct fb__worker *w;
	struct fb__mslot *ms;
	int64_t grace = (int64_t)p->p_cfg.kill_grace_ms * 1000000;
	unsigned i;
	int killed = 0;

	if (p->p_state == FB__P_RUNNING)
		p->p_state = FB__P_STOPPING;
	for (i = 0; i < p->p_nworkers; i++) {
		w = &p->p_workers[i];
		if (w->w_task[1] != -1 && w->w_out.ob_len > 0)
			(void)fb__outbox_flush(&w->w_out, w->w_task[1]);
		w->w_active = 0;
		w->w_respawn_at_ns = 0;
		fb__close(&w->w_task[1]);
	}
	if (deadline < 0 || deadline <= fb__now_ns())
		deadline = fb__now_ns() + grace;
	if (reap_until(p, deadline) > 0) {
		killed = 1;
		signal_alive(p, SIGTERM);
		if (reap_until(p, fb__now_ns() + grace) > 0) {
			signal_alive(p, SIGKILL);
			for (i = 0; i < p->p_nworkers; i++)
				(void)fb__reap(p, i, 1);
		}
	}
	while ((ms = TAILQ_FIRST(&p->p_pending)) != NULL) {
		TAILQ_REMOVE(&p->p_pending, ms, ms_link);
		fb__complete(p, (uint32_t)(ms - p->p_slots), FB_CANCELLED, 0, 0);
	}
	arm_timer(p);
	return killed ? -ETIMEDOUT : 0;
}
