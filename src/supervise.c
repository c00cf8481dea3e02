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

/*
 * Can this kernel (or valgrind, which does not know the call) give us
 * pidfds?  If not, each worker holds the write end of a lifeline pipe
 * instead, and its end of file tells the master the worker is gone.
 */
int
fb__pidfd_works(void)
{
	int fd = pidfd_open_(getpid());

	if (fd == -1)
		return 0;
	(void)close(fd);
	return 1;
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
child(struct fb_pool *p, unsigned i, pid_t ppid, int lifeline)
{
	struct fb__worker_args a;

	memset(&a, 0, sizeof(a));
	a.wa_index = i;
	a.wa_ppid = ppid;
	a.wa_task_fd = p->p_workers[i].w_task[0];
	a.wa_done_fd = p->p_done[1];
	a.wa_lifeline_fd = lifeline;
	a.wa_keep = p->p_keep;
	a.wa_nkeep = p->p_cfg.nkeep_fds;
	a.wa_board = &p->p_board;
	a.wa_registry = &p->p_reg;
	a.wa_argc = p->p_cfg.argc;
	a.wa_argv = p->p_cfg.argv;
	a.wa_spin_ns = (int64_t)p->p_cfg.spin_us * 1000;
	a.wa_init = p->p_cfg.worker_init;
	a.wa_init_arg = p->p_cfg.worker_init_arg;
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
	int life[2] = { -1, -1 };
	int r;

	if ((r = fb__pipe(w->w_task, 1)) < 0)
		return r;
	if (p->p_lifeline && (r = fb__pipe(life, 0)) < 0)
		goto fail;
	row->wr_generation = atomic_fetch_add(&p->p_board.b_hdr->bh_generation,
	    1) + 1;
	atomic_store_explicit(&row->wr_tasks, 0, memory_order_relaxed);
	set_row(p, i, 0, FB_WORKER_STARTING);
	if ((pid = fork()) == -1) {
		r = -errno;
		goto fail;
	}
	if (pid == 0)
		child(p, i, ppid, life[1]);
	fb__close(&life[1]);
	w->w_deathfd = p->p_lifeline ? life[0] : pidfd_open_(pid);
	life[0] = -1;
	if (w->w_deathfd == -1) {
		r = -errno;
		(void)kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		goto fail;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = FB__EV(FB__EV_PIDFD, i);
	if (epoll_ctl(p->p_epfd, EPOLL_CTL_ADD, w->w_deathfd, &ev) == -1) {
		r = -errno;
		(void)kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		fb__close(&w->w_deathfd);
		goto fail;
	}
	w->w_pid = pid;
	row->wr_pid = (int32_t)pid;
	w->w_active = 1;
	w->w_inflight = 0;
	w->w_tasks_sent = 0;
	w->w_kill_at_ns = 0;
	w->w_respawn_at_ns = 0;
	w->w_out.ob_len = 0;
	w->w_recycle_at = 0;
	if (p->p_cfg.max_tasks > 0)
		w->w_recycle_at = p->p_cfg.max_tasks + (unsigned)(rand64(p) %
		    ((uint64_t)p->p_cfg.max_tasks_jitter + 1));
	fb__log(p, FB_LOG_DEBUG, "worker %u started, pid %d", i, (int)pid);
	return dispatch_pending(p);

fail:
	fb__close(&life[0]);
	fb__close(&life[1]);
	set_row(p, i, 0, FB_WORKER_DEAD);
	fb__close(&w->w_task[0]);
	fb__close(&w->w_task[1]);
	return r;
}

/* Task deadlines are checked this often while timed tasks are in flight:
 * the master cannot know when a queued task starts without polling. */
#define FB__TICK_NS 10000000LL

static void
earliest(int64_t *next, int64_t t)
{
	if (t != 0 && (*next == 0 || t < *next))
		*next = t;
}

void
fb__arm_timer(struct fb_pool *p)
{
	struct itimerspec its;
	int64_t next = 0, now = fb__now_ns(), t;
	unsigned i;

	for (i = 0; i < p->p_nworkers; i++) {
		earliest(&next, p->p_workers[i].w_respawn_at_ns);
		earliest(&next, p->p_workers[i].w_kill_at_ns);
	}
	if (p->p_timed > 0)
		earliest(&next, now + FB__TICK_NS);
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
	(void)epoll_ctl(p->p_epfd, EPOLL_CTL_DEL, w->w_deathfd, NULL);
	fb__close(&w->w_deathfd);
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
			if (ms->ms_timedout) {
				ms->ms_run_ns = (uint64_t)(fb__coarse_ns() -
				    ms->ms_sent_ns);
				fb__complete(p, s, FB_TIMEDOUT, st, 0);
				continue;
			}
			if (!running || ms->ms_attempts > p->p_cfg.retries) {
				ms->ms_run_ns = (uint64_t)(fb__coarse_ns() -
				    ms->ms_sent_ns);
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
	w->w_kill_at_ns = 0;
	if (running && i < p->p_target)
		respawn_later(p, i, was_ready);
	fb__arm_timer(p);
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

/*
 * Kill the worker of every running task past its deadline: SIGTERM now,
 * SIGKILL kill_grace_ms later.  The start time is the worker's word, so it
 * is only believed when it is after the dispatch and not in the future.
 */
static void
task_deadlines(struct fb_pool *p, int64_t now)
{
	struct fb__slot_row *sr;
	struct fb__mslot *ms;
	struct fb__worker *w;
	int64_t start;
	uint32_t s;

	for (s = 0; s < p->p_cfg.slots && p->p_timed > 0; s++) {
		ms = &p->p_slots[s];
		if (ms->ms_state != FB__M_INFLIGHT || ms->ms_timeout_ms == 0 ||
		    ms->ms_timedout || ms->ms_worker >= p->p_nworkers)
			continue;
		sr = &p->p_board.b_slots[s];
		if (atomic_load_explicit(&sr->sr_state, memory_order_acquire) !=
		    FB__SLOT_RUNNING || sr->sr_seq != ms->ms_seq)
			continue;
		start = sr->sr_t_start;
		if (start < ms->ms_sent_ns || start > now)
			start = ms->ms_sent_ns;
		if (now - start < (int64_t)ms->ms_timeout_ms * 1000000)
			continue;
		w = &p->p_workers[ms->ms_worker];
		if (w->w_pid == -1)
			continue;
		ms->ms_timedout = 1;
		fb__log(p, FB_LOG_WARN, "task in slot %u timed out; stopping "
		    "worker %u", s, ms->ms_worker);
		(void)kill(w->w_pid, SIGTERM);
		fb__deactivate(p, ms->ms_worker); /* it is going away */
		w->w_kill_at_ns = now + (int64_t)p->p_cfg.kill_grace_ms *
		    1000000;
	}
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
	task_deadlines(p, now);
	for (i = 0; i < p->p_nworkers; i++) {
		w = &p->p_workers[i];
		if (w->w_kill_at_ns != 0 && w->w_kill_at_ns <= now &&
		    w->w_pid != -1) {
			(void)kill(w->w_pid, SIGKILL);
			w->w_kill_at_ns = 0;
		}
	}
	for (i = 0; i < p->p_nworkers; i++) {
		w = &p->p_workers[i];
		if (w->w_respawn_at_ns == 0 || w->w_respawn_at_ns > now)
			continue;
		if (p->p_state != FB__P_RUNNING) {
			w->w_respawn_at_ns = 0;
			continue;
		}
		/* Spawn-rate cap: at most respawn_rate respawns a second,
		 * whatever the workers die of; the rest wait for the next
		 * second. */
		if (now - p->p_rate_start_ns >= 1000000000LL) {
			p->p_rate_start_ns = now;
			p->p_rate_count = 0;
		}
		if (p->p_rate_count >= p->p_cfg.respawn_rate) {
			w->w_respawn_at_ns = p->p_rate_start_ns + 1000000000LL;
			continue;
		}
		p->p_rate_count++;
		w->w_respawn_at_ns = 0;
		w->w_restarts++;
		p->p_ctr.c_respawns++;
		if ((r = fb__spawn(p, i)) < 0) {
			fb__log(p, FB_LOG_ERROR, "respawn of worker %u: %s", i,
			    fb_strerror(r));
			respawn_later(p, i, 0);
		}
	}
	fb__arm_timer(p);
	return 0;
}

/* Close the task pipe of workers that take no more tasks, once their
 * outbox is empty: they finish what they hold and exit. */
int
fb__retire(struct fb_pool *p)
{
	struct fb__worker *w;
	unsigned i;

	p->p_retiring = 0;
	for (i = 0; i < p->p_nworkers; i++) {
		w = &p->p_workers[i];
		if (w->w_active || w->w_pid == -1 || w->w_task[1] == -1)
			continue;
		if (w->w_out.ob_len != 0) {
			p->p_retiring = 1; /* next flush, then */
			continue;
		}
		fb__close(&w->w_task[1]);
	}
	return 0;
}

/* Send worker index no more tasks; fb__retire closes its pipe once its
 * outbox is empty. */
void
fb__deactivate(struct fb_pool *p, unsigned index)
{
	p->p_workers[index].w_active = 0;
	p->p_retiring = 1;
}

/*
 * Run n workers.  Growing spawns the missing rows (a row whose old process
 * is still draining respawns when it exits).  Shrinking stops giving tasks
 * to rows n and up and closes their pipes: they finish what they hold and
 * exit, and are not replaced.
 */
int
fb__resize(struct fb_pool *p, unsigned n)
{
	struct fb__worker *w;
	unsigned i;
	int r;

	p->p_target = n;
	for (i = n; i < p->p_nworkers; i++) {
		fb__deactivate(p, i);
		p->p_workers[i].w_respawn_at_ns = 0;
	}
	for (i = 0; i < n; i++) {
		w = &p->p_workers[i];
		if (w->w_pid != -1 || w->w_respawn_at_ns != 0)
			continue;
		if (i >= p->p_nworkers)
			p->p_nworkers = i + 1;
		w->w_fails = 0;
		if ((r = fb__spawn(p, i)) < 0)
			return r;
	}
	return fb__flush_all(p);
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
			pfd.fd = p->p_workers[i].w_deathfd;
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
 * Workers still alive at the deadline get SIGTERM, then SIGKILL
 * kill_grace_ms later.  With no deadline, or nothing left in flight, the
 * deadline is kill_grace_ms from now.  Returns 0 or
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
		w->w_kill_at_ns = 0;
		fb__close(&w->w_task[1]);
	}
	/* Idle workers leave at once on EOF: give them the grace.  Busy ones
	 * past the deadline get SIGTERM now. */
	if (deadline < 0 || (deadline <= fb__now_ns() && p->p_inflight == 0))
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
	fb__arm_timer(p);
	return killed ? -ETIMEDOUT : 0;
}
