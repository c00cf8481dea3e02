/*
 * supervise.c - worker lifecycles: spawn, notice death, settle its tasks,
 * respawn with back-off, stop workers for timeouts, retire, resize, and
 * the pieces of shutdown that act on workers.
 *
 * Deaths are learnt from pidfds in the pool's epoll set (or, where pidfds
 * are missing, from a lifeline pipe plus a periodic waitpid poll), so the
 * library needs no SIGCHLD handler and never reaps a child it did not
 * fork.  Signals go through pidfds, so a reused pid is never hit.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/wait.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define FB__BACKOFF_MIN_NS 50000000LL   /* 50 ms */
#define FB__BACKOFF_MAX_NS 5000000000LL /* 5 s */
#define FB__TICK_NS 10000000LL          /* deadline checks, timed tasks */
#define FB__POLL_NS 50000000LL          /* lifeline mode: waitpid poll */

/*
 * Can this kernel (or valgrind, which does not know the calls) give us
 * pidfds we can wait on?  If not, each worker holds the write end of a
 * lifeline pipe instead, and its end of file tells the master the worker
 * is gone.
 */
int
fb__pidfd_works(void)
{
	siginfo_t si;
	int fd = fb__pidfd_open(getpid()), ok;

	if (fd == -1)
		return 0;
	/* Our own process is not our child: ECHILD means P_PIDFD is known. */
	ok = waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) == -1 &&
	    errno == ECHILD;
	(void)close(fd);
	return ok;
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

static int64_t
backoff(unsigned n)
{
	if (n == 0)
		return 0;
	if (n > 10) /* 50 ms << 7 is past the cap already */
		return FB__BACKOFF_MAX_NS;
	return FB__BACKOFF_MIN_NS << (n - 1) > FB__BACKOFF_MAX_NS ?
	    FB__BACKOFF_MAX_NS : FB__BACKOFF_MIN_NS << (n - 1);
}

/* The master writes a row only while no worker runs in it: before the
 * fork (STARTING; the worker adds its pid), and after the reap (DEAD). */
static void
set_row(struct fb_pool *p, unsigned i, pid_t pid, enum fb_worker_state st)
{
	struct fb__worker_row *row = &p->p_board.b_workers[i];

	fb__row_write_begin(row);
	atomic_store_explicit(&row->wr_pid, (int32_t)pid, memory_order_relaxed);
	atomic_store_explicit(&row->wr_state, (uint32_t)st,
	    memory_order_relaxed);
	atomic_store_explicit(&row->wr_generation,
	    p->p_workers[i].w_generation, memory_order_relaxed);
	atomic_store_explicit(&row->wr_changed_ns, fb__now_ns(),
	    memory_order_relaxed);
	atomic_store_explicit(&row->wr_restarts, p->p_workers[i].w_restarts,
	    memory_order_relaxed);
	if (st == FB_WORKER_STARTING) {
		atomic_store_explicit(&row->wr_tasks, 0, memory_order_relaxed);
		atomic_store_explicit(&row->wr_slot, 0, memory_order_relaxed);
		atomic_store_explicit(&row->wr_code, 0, memory_order_relaxed);
	}
	fb__row_write_end(row);
}

static void __attribute__((noreturn))
child(struct fb_pool *p, unsigned i, int lifeline, int master)
{
	struct fb__worker_args a;

	memset(&a, 0, sizeof(a));
	a.wa_index = i;
	a.wa_generation = p->p_workers[i].w_generation;
	a.wa_task_fd = p->p_workers[i].w_task[0];
	a.wa_done_fd = p->p_done[1];
	a.wa_lifeline_fd = lifeline;
	a.wa_master_fd = master;
	a.wa_keep = p->p_keep;
	a.wa_nkeep = p->p_cfg.nkeep_fds;
	a.wa_board = &p->p_board;
	a.wa_registry = &p->p_reg;
	a.wa_key = p->p_key;
	a.wa_argc = p->p_cfg.argc;
	a.wa_argv = p->p_cfg.argv;
	a.wa_spin_ns = (int64_t)p->p_cfg.spin_us * 1000;
	a.wa_init = p->p_cfg.worker_init;
	a.wa_fini = p->p_cfg.worker_fini;
	a.wa_arg = p->p_cfg.worker_arg;
	a.wa_rusage = p->p_cfg.rusage;
	a.wa_clock_batch = p->p_cfg.task_clock == FB_CLOCK_BATCH;
	a.wa_faults = &p->p_faults;
	a.wa_sigreset = &p->p_sigreset;
	fb__worker_main(&a);
}

/* Fork with every signal blocked, so that no handler of the embedder's
 * runs in the child before the worker has reset it. */
static pid_t
fork_blocked(sigset_t *old)
{
	sigset_t all;
	pid_t pid;
	int saved;

	sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, old);
	pid = fork();
	if (pid != 0) {
		saved = errno;
		(void)pthread_sigmask(SIG_SETMASK, old, NULL);
		errno = saved;
	}
	return pid;
}

int
fb__spawn(struct fb_pool *p, unsigned i)
{
	struct fb__worker *w = &p->p_workers[i];
	struct epoll_event ev;
	sigset_t old;
	pid_t pid;
	int life[2] = { -1, -1 }, mdeath[2] = { -1, -1 };
	int r, forked = 0;

	if ((r = fb__pipe(w->w_task, 1)) < 0)
		return r;
	if ((r = fb__pipe(mdeath, 0)) < 0)
		goto fail;
	if (p->p_lifeline && (r = fb__pipe(life, 0)) < 0)
		goto fail;
	/* The signals this worker resets: as they are now, unless the call
	 * spawning it scanned them already (fb__spawn_begin). */
	if (!p->p_sigscanned)
		fb__signals_scan(&p->p_sigreset);
	w->w_generation = atomic_fetch_add(&p->p_board.b_hdr->bh_generation,
	    1) + 1;
	atomic_store_explicit(&p->p_board.b_workers[i].wr_stop, 0,
	    memory_order_relaxed);
	set_row(p, i, 0, FB_WORKER_STARTING);
	/* Before the fork: a quick child appends "ready" at once, and its
	 * life must read in order in the trace. */
	fb__trace(&p->p_board, FB_TRACE_WORKER, UINT32_MAX, i, 0,
	    FB_WORKER_DEAD, FB_WORKER_STARTING, FB_CAUSE_SPAWN);
	forked = 1;
	if ((pid = fork_blocked(&old)) == -1) {
		r = -errno;
		goto fail;
	}
	if (pid == 0)
		child(p, i, life[1], mdeath[0]);
	/* Its own process group, from both sides (whichever runs first):
	 * terminal signals stay the master's, and a handler's leftover
	 * children can be ended with the worker. */
	(void)setpgid(pid, pid);
	fb__close(&life[1]);
	fb__close(&mdeath[0]);
	w->w_master = mdeath[1];
	mdeath[1] = -1;
	if (p->p_lifeline) {
		w->w_deathfd = life[0];
		life[0] = -1;
	} else
		w->w_deathfd = fb__fd_high(fb__pidfd_open(pid));
	if (w->w_deathfd < 0) {
		r = w->w_deathfd == -1 ? -errno : w->w_deathfd;
		w->w_deathfd = -1;
		goto fail_child;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = FB__EV(FB__EV_PIDFD, i);
	if (epoll_ctl(p->p_epfd, EPOLL_CTL_ADD, w->w_deathfd, &ev) == -1) {
		r = -errno;
		goto fail_child;
	}
	w->w_pid = pid;
	w->w_active = 1;
	w->w_ready = 0;
	w->w_stopping = 0;
	w->w_inflight = 0;
	w->w_run_t0 = 0;
	w->w_run_done = 0;
	w->w_tasks_sent = 0;
	w->w_queued = w->w_written = 0;
	w->w_kill_at_ns = 0;
	w->w_respawn_at_ns = 0;
	w->w_spawn_fails = 0;
	w->w_poll_ns = 0;
	w->w_out.ob_len = 0;
	w->w_recycle_at = 0;
	if (p->p_cfg.recycle_after > 0)
		w->w_recycle_at = p->p_cfg.recycle_after + (unsigned)(rand64(p) %
		    ((uint64_t)p->p_cfg.recycle_jitter + 1));
	if (p->p_lifeline)
		p->p_rearm = 1; /* the waitpid poll */
	fb__log(p, FB_LOG_DEBUG, "worker %u started, pid %d", i, (int)pid);
	return fb__dispatch_pending(p);

fail_child:
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	fb__close(&w->w_deathfd);
fail:
	fb__close(&life[0]);
	fb__close(&life[1]);
	fb__close(&mdeath[0]);
	fb__close(&mdeath[1]);
	fb__close(&w->w_master);
	fb__close(&w->w_task[0]);
	fb__close(&w->w_task[1]);
	set_row(p, i, 0, FB_WORKER_DEAD);
	if (forked) /* the spawn record was written: say it failed */
		fb__trace(&p->p_board, FB_TRACE_WORKER, UINT32_MAX, i, 0,
		    FB_WORKER_STARTING, FB_WORKER_DEAD, FB_CAUSE_SPAWN);
	return r;
}

/* Signal worker i: through its pidfd, or by pid where there are none (an
 * unreaped child's pid cannot be reused). */
static void
signal_worker(struct fb_pool *p, unsigned i, int sig)
{
	struct fb__worker *w = &p->p_workers[i];

	if (w->w_pid == -1)
		return;
	if (!p->p_lifeline)
		(void)fb__pidfd_signal(w->w_deathfd, sig);
	else
		(void)kill(w->w_pid, sig);
}

void
fb__signal_alive(struct fb_pool *p, int sig)
{
	unsigned i;

	for (i = 0; i < p->p_nworkers; i++)
		signal_worker(p, i, sig);
}

unsigned
fb__alive(const struct fb_pool *p)
{
	unsigned i, n = 0;

	for (i = 0; i < p->p_nworkers; i++)
		if (p->p_workers[i].w_pid != -1)
			n++;
	return n;
}

/* Give up: workers keep dying before they are ready. */
static void
pool_failed(struct fb_pool *p)
{
	fb__log(p, FB_LOG_ERROR, "workers keep dying before they are ready: "
	    "pool failed (fb_pool_resize() tries again)");
	p->p_state = FB__P_FAILED;
	fb__cancel_pending(p);
}

static void
respawn_later(struct fb_pool *p, unsigned i, int was_ready)
{
	struct fb__worker *w = &p->p_workers[i];
	int64_t delay;

	w->w_fails = was_ready ? 0 : w->w_fails + 1;
	if (w->w_fails >= p->p_cfg.crash_loop_max) {
		pool_failed(p);
		return;
	}
	delay = backoff(w->w_fails);
	w->w_respawn_at_ns = delay == 0 ? 1 : fb__coarse_ns() + delay;
	p->p_rearm = 1;
}

/*
 * Worker i is dead and reaped with wait status st (-1: unknown).  Settle
 * every task the master had given it, and plan its replacement.
 */
void
fb__worker_lost(struct fb_pool *p, unsigned i, int st)
{
	struct fb__worker *w = &p->p_workers[i];
	int retry = p->p_state == FB__P_RUNNING ||
	    p->p_state == FB__P_DRAINING;
	int was_ready = w->w_ready;

	(void)epoll_ctl(p->p_epfd, EPOLL_CTL_DEL, w->w_deathfd, NULL);
	fb__close(&w->w_deathfd);
	w->w_pid = -1;
	w->w_active = 0;
	w->w_last_status = st;
	set_row(p, i, 0, FB_WORKER_DEAD);
	fb__trace(&p->p_board, FB_TRACE_WORKER, UINT32_MAX, i, 0,
	    FB_WORKER_EXITING, FB_WORKER_DEAD, FB_CAUSE_DEATH);
	if (st != -1 && WIFSIGNALED(st) && !w->w_stopping)
		fb__log(p, FB_LOG_WARN, "worker %u killed by signal %d", i,
		    WTERMSIG(st));
	/* Settle while its task pipe still tells how far it read. */
	fb__settle_worker(p, i, st, retry);
	fb__close(&w->w_task[0]);
	fb__close(&w->w_task[1]);
	fb__close(&w->w_master);
	w->w_stopping = 0;
	w->w_kill_at_ns = 0;
	if (p->p_state == FB__P_FAILED) {
		fb__cancel_pending(p);
		return;
	}
	if (retry && i < p->p_target)
		respawn_later(p, i, was_ready);
	p->p_rearm = 1;
}

static int
status_of(const siginfo_t *si)
{
	switch (si->si_code) {
	case CLD_EXITED:
		return (si->si_status & 0xff) << 8;
	case CLD_KILLED:
		return si->si_status & 0x7f;
	case CLD_DUMPED:
		return (si->si_status & 0x7f) | 0x80;
	}
	return -1;
}

static int
wait_worker(const struct fb_pool *p, const struct fb__worker *w,
    siginfo_t *si, int flags)
{
	int r;

	memset(si, 0, sizeof(*si));
	do {
		if (p->p_lifeline)
			r = waitid(P_PID, (id_t)w->w_pid, si, WEXITED | flags);
		else
			r = waitid(P_PIDFD, (id_t)w->w_deathfd, si,
			    WEXITED | flags);
	} while (r == -1 && errno == EINTR);
	return r;
}

/*
 * Reap worker i if it has exited (or wait for it, if block).  Returns 1
 * when reaped, 0 when still running.  Before the reap, while the dead
 * worker still holds its pid, whatever is left of its process group (a
 * handler's children) is killed: they hold the board and the worker's
 * pipes.
 */
int
fb__reap(struct fb_pool *p, unsigned i, int block)
{
	struct fb__worker *w = &p->p_workers[i];
	siginfo_t si;
	int st = -1;

	if (i >= p->p_cfg.max_workers || w->w_pid == -1)
		return 0;
	if (wait_worker(p, w, &si, WNOWAIT | (block ? 0 : WNOHANG)) == -1) {
		if (errno != ECHILD)
			return 0;
		/* Reaped behind our back: SIGCHLD set to SIG_IGN, or the
		 * application's waitpid(-1).  The pid may be reused already,
		 * so its group is left alone. */
		fb__log(p, FB_LOG_WARN, "worker %u (pid %d) was reaped by "
		    "someone else: its exit status is unknown", i,
		    (int)w->w_pid);
	} else if (si.si_pid == 0) {
		return 0;
	} else {
		(void)killpg(w->w_pid, SIGKILL);
		if (wait_worker(p, w, &si, 0) == 0)
			st = status_of(&si);
	}
	fb__worker_lost(p, i, st);
	return 1;
}

/*
 * Stop worker i for a task past its deadline: it takes no new task
 * (wr_stop, checked before every claim), gets SIGTERM now and SIGKILL
 * kill_grace_ms later.  What it never started goes back to the queue,
 * uncharged, when it is gone.
 */
void
fb__stop_worker(struct fb_pool *p, unsigned i, int64_t now)
{
	struct fb__worker *w = &p->p_workers[i];

	w->w_stopping = 1;
	atomic_store_explicit(&p->p_board.b_workers[i].wr_stop, 1,
	    memory_order_release);
	fb__trace(&p->p_board, FB_TRACE_WORKER, UINT32_MAX, i, 0,
	    FB_WORKER_BUSY, FB_WORKER_EXITING, FB_CAUSE_STOP);
	signal_worker(p, i, SIGTERM);
	fb__deactivate(p, i);
	w->w_kill_at_ns = now + (int64_t)p->p_cfg.kill_grace_ms * 1000000;
	p->p_rearm = 1;
}

static void
respawn_due(struct fb_pool *p, unsigned i, int64_t now)
{
	struct fb__worker *w = &p->p_workers[i];
	int r;

	if (p->p_state != FB__P_RUNNING && p->p_state != FB__P_DRAINING) {
		w->w_respawn_at_ns = 0;
		return;
	}
	/* Spawn-rate cap: at most respawn_rate respawns a second, whatever
	 * the workers die of; the rest wait for the next second. */
	if (now - p->p_rate_start_ns >= 1000000000LL) {
		p->p_rate_start_ns = now;
		p->p_rate_count = 0;
	}
	if (p->p_rate_count >= p->p_cfg.respawn_rate) {
		w->w_respawn_at_ns = p->p_rate_start_ns + 1000000000LL;
		return;
	}
	p->p_rate_count++;
	w->w_respawn_at_ns = 0;
	w->w_restarts++;
	p->p_ctr.c_respawns++;
	if ((r = fb__spawn(p, i)) < 0) {
		/* Out of processes, descriptors or memory for a while: no
		 * worker died, so the crash-loop guard is not involved.
		 * Try again later, backing off. */
		w->w_spawn_fails++;
		w->w_respawn_at_ns = now + backoff(w->w_spawn_fails);
		fb__log(p, FB_LOG_ERROR, "respawn of worker %u failed: %s; "
		    "retrying in %lld ms", i, fb_strerror(r),
		    (long long)(backoff(w->w_spawn_fails) / 1000000));
	}
}

/*
 * Timer work: stop workers whose task is overdue, escalate to SIGKILL,
 * poll for deaths where there are no pidfds, respawn what is due.
 */
int
fb__supervise(struct fb_pool *p, int64_t now)
{
	struct fb__worker *w;
	unsigned i, n;

	if (p->p_timed > 0) {
		n = fb__overdue(p, now, p->p_stop);
		for (i = 0; i < n; i++)
			fb__stop_worker(p, p->p_stop[i], now);
	}
	for (i = 0; i < p->p_nworkers; i++) {
		w = &p->p_workers[i];
		if (w->w_pid == -1)
			continue;
		if (w->w_kill_at_ns != 0 && w->w_kill_at_ns <= now) {
			signal_worker(p, i, SIGKILL);
			w->w_kill_at_ns = 0;
		}
		if (p->p_lifeline && w->w_poll_ns <= now) {
			w->w_poll_ns = now + FB__POLL_NS;
			(void)fb__reap(p, i, 0);
		}
	}
	for (i = 0; i < p->p_nworkers; i++) {
		w = &p->p_workers[i];
		if (w->w_pid == -1 && w->w_respawn_at_ns != 0 &&
		    w->w_respawn_at_ns <= now)
			respawn_due(p, i, now);
	}
	p->p_rearm = 1;
	return 0;
}

static void
earliest(int64_t *next, int64_t t)
{
	if (t != 0 && (*next == 0 || t < *next))
		*next = t;
}

/* When fb__supervise() has work next (0: never). */
int64_t
fb__next_due(const struct fb_pool *p, int64_t now)
{
	const struct fb__worker *w;
	int64_t next = 0;
	unsigned i;

	for (i = 0; i < p->p_nworkers; i++) {
		w = &p->p_workers[i];
		earliest(&next, w->w_respawn_at_ns);
		earliest(&next, w->w_kill_at_ns);
		if (p->p_lifeline && w->w_pid != -1)
			earliest(&next, w->w_poll_ns > now ? w->w_poll_ns :
			    now + FB__POLL_NS);
	}
	if (p->p_timed > 0)
		earliest(&next, now + FB__TICK_NS);
	return next;
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
 * exit, and are not replaced.  A failed pool starts again from here.
 */
int
fb__resize(struct fb_pool *p, unsigned n)
{
	struct fb__worker *w;
	unsigned i;
	int r = 0;

	if (p->p_state == FB__P_FAILED) {
		fb__log(p, FB_LOG_INFO, "pool restarted after failure");
		p->p_state = FB__P_RUNNING;
		for (i = 0; i < p->p_cfg.max_workers; i++)
			p->p_workers[i].w_fails = 0;
	}
	p->p_target = n;
	for (i = n; i < p->p_nworkers; i++) {
		fb__deactivate(p, i);
		p->p_workers[i].w_respawn_at_ns = 0;
	}
	fb__spawn_begin(p);
	for (i = 0; i < n; i++) {
		w = &p->p_workers[i];
		if (w->w_pid != -1 || w->w_respawn_at_ns != 0)
			continue;
		if (i >= p->p_nworkers)
			p->p_nworkers = i + 1;
		w->w_fails = 0;
		if ((r = fb__spawn(p, i)) < 0)
			break;
	}
	fb__spawn_end(p);
	p->p_rearm = 1;
	return r < 0 ? r : 0;
}

/* Shutdown: send what is queued if the pipes take it, then close every
 * task write end the master holds.  Nothing is respawned after this. */
void
fb__close_task_pipes(struct fb_pool *p)
{
	struct fb__worker *w;
	unsigned i;

	for (i = 0; i < p->p_nworkers; i++) {
		w = &p->p_workers[i];
		(void)fb__flush_worker(p, i);
		w->w_active = 0;
		w->w_respawn_at_ns = 0;
		fb__close(&w->w_task[1]);
	}
	p->p_rearm = 1;
}
