/*
 * pool.c - the pool's lifetime: configuration, create, register, start,
 * resize, shutdown, destroy, and the rule that only the process that
 * created a pool may use it.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/timerfd.h>

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

void
fb__log(const struct fb_pool *p, enum fb_log_level lv, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (p->p_cfg.log == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	p->p_cfg.log(p->p_cfg.log_arg, lv, buf);
}

static void
config_defaults(struct fb_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->workers = 4;
	cfg->payload_size = 4096;
	cfg->policy = FB_POLICY_ROUND_ROBIN;
	cfg->key_mode = FB_BOARD_PRIVATE;
	cfg->ftok_proj = 'F';
	cfg->mode = 0600;
	cfg->kill_grace_ms = 1000;
	cfg->crash_loop_max = 5;
	cfg->respawn_rate = 50;
}

void
fb_config_init_sz(struct fb_config *cfg, size_t size)
{
	struct fb_config d;

	if (cfg == NULL || size == 0)
		return;
	config_defaults(&d);
	memset(cfg, 0, size);
	memcpy(cfg, &d, size < sizeof(d) ? size : sizeof(d));
}

/* Fill defaults and check ranges; cfg is the pool's own copy. */
static int
config_check(struct fb_config *cfg)
{
	size_t i, j;

	if (cfg->workers == 0 || cfg->workers > FB_WORKERS_MAX)
		return -EINVAL;
	if (cfg->max_workers < cfg->workers)
		cfg->max_workers = cfg->workers;
	if (cfg->max_workers > FB_WORKERS_MAX)
		return -EINVAL;
	if (cfg->slots == 0)
		cfg->slots = cfg->workers * 64 > FB_SLOTS_MAX ? FB_SLOTS_MAX :
		    cfg->workers * 64;
	if (cfg->slots > FB_SLOTS_MAX)
		return -EINVAL;
	if (cfg->result_size == 0)
		cfg->result_size = cfg->payload_size;
	if (cfg->payload_size > UINT32_MAX || cfg->result_size > UINT32_MAX ||
	    cfg->trace_records > FB__TRACE_MAX)
		return -EINVAL;
	if (cfg->mode == 0)
		cfg->mode = 0600;
	if (cfg->mode & ~0777u)
		return -EINVAL;
	if (cfg->policy != FB_POLICY_ROUND_ROBIN &&
	    cfg->policy != FB_POLICY_LEAST_LOADED)
		return -EINVAL;
	if (cfg->task_clock != FB_CLOCK_TASK &&
	    cfg->task_clock != FB_CLOCK_BATCH)
		return -EINVAL;
	if (cfg->nkeep_fds > FB_KEEP_FDS_MAX ||
	    (cfg->nkeep_fds > 0 && cfg->keep_fds == NULL))
		return -EINVAL;
	/* A kept number must be open now: a closed one could be taken by
	 * a library pipe later, which every worker would then keep. */
	for (i = 0; i < cfg->nkeep_fds; i++) {
		if (!fb__fd_valid(cfg->keep_fds[i]))
			return -EBADF;
		for (j = 0; j < i; j++)
			if (cfg->keep_fds[j] == cfg->keep_fds[i])
				return -EINVAL;
	}
	if (cfg->kill_grace_ms == 0)
		cfg->kill_grace_ms = 1000;
	if (cfg->crash_loop_max == 0)
		cfg->crash_loop_max = 5;
	if (cfg->respawn_rate == 0)
		cfg->respawn_rate = 50;
	if (cfg->ftok_proj == 0)
		cfg->ftok_proj = 'F'; /* ftok ignores a zero id's bits */
	return 0;
}

/* The master's tables.  Worker rows get their -1s before anything else
 * can fail, so that destroy never closes descriptor 0. */
static int
alloc_tables(struct fb_pool *p)
{
	const struct fb_config *cfg = &p->p_cfg;
	unsigned i;
	int r;

	if ((p->p_workers = calloc(cfg->max_workers,
	    sizeof(*p->p_workers))) == NULL)
		return -ENOMEM;
	for (i = 0; i < cfg->max_workers; i++) {
		p->p_workers[i].w_pid = -1;
		p->p_workers[i].w_deathfd = -1;
		p->p_workers[i].w_master = -1;
		p->p_workers[i].w_task[0] = p->p_workers[i].w_task[1] = -1;
		p->p_workers[i].w_last_status = -1;
	}
	if (cfg->nkeep_fds > 0) {
		if ((p->p_keep = calloc(cfg->nkeep_fds, sizeof(int))) == NULL)
			return -ENOMEM;
		memcpy(p->p_keep, cfg->keep_fds, cfg->nkeep_fds * sizeof(int));
		p->p_cfg.keep_fds = p->p_keep;
	}
	p->p_slots = calloc(cfg->slots, sizeof(*p->p_slots));
	p->p_free = calloc(cfg->slots, sizeof(*p->p_free));
	p->p_dirty = calloc(cfg->max_workers, sizeof(*p->p_dirty));
	p->p_head = calloc(cfg->max_workers, sizeof(*p->p_head));
	p->p_stop = calloc(cfg->max_workers, sizeof(*p->p_stop));
	if (p->p_slots == NULL || p->p_free == NULL || p->p_dirty == NULL ||
	    p->p_head == NULL || p->p_stop == NULL)
		return -ENOMEM;
	/* Each slot has at most one record in flight, so an outbox the size
	 * of all slots can never overflow. */
	for (i = 0; i < cfg->max_workers; i++)
		if ((r = fb__outbox_init(&p->p_workers[i].w_out,
		    (size_t)cfg->slots * sizeof(struct fb__rec))) < 0)
			return r;
	for (i = 0; i < cfg->slots; i++)
		p->p_free[i] = cfg->slots - 1 - i;
	p->p_nfree = cfg->slots;
	return 0;
}

static int
epoll_add(int epfd, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = tag;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		return -errno;
	return 0;
}

/* The loop's descriptors: epoll set, completion pipe, timer. */
static int
open_loop(struct fb_pool *p)
{
	int r;

	if ((p->p_epfd = fb__fd_high(epoll_create1(EPOLL_CLOEXEC))) < 0)
		return p->p_epfd == -1 ? -errno : p->p_epfd;
	if ((r = fb__pipe(p->p_done, 0)) < 0 ||
	    (r = fb__set_nonblock(p->p_done[0], 1)) < 0 ||
	    (r = epoll_add(p->p_epfd, p->p_done[0], EPOLLIN,
	    FB__EV(FB__EV_DONE, 0))) < 0)
		return r;
	p->p_timerfd = fb__fd_high(timerfd_create(CLOCK_MONOTONIC,
	    TFD_CLOEXEC | TFD_NONBLOCK));
	if (p->p_timerfd < 0)
		return p->p_timerfd == -1 ? -errno : p->p_timerfd;
	return epoll_add(p->p_epfd, p->p_timerfd, EPOLLIN,
	    FB__EV(FB__EV_TIMER, 0));
}

static void
mark_owner(struct fb_pool *p)
{
	void *page;

	p->p_owner = getpid();
	page = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ |
	    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return;
#ifdef MADV_WIPEONFORK
	if (madvise(page, (size_t)sysconf(_SC_PAGESIZE),
	    MADV_WIPEONFORK) == 0) {
		p->p_forkmark = page;
		*p->p_forkmark = 1;
		return;
	}
#endif
	(void)munmap(page, (size_t)sysconf(_SC_PAGESIZE));
}

int
fb_pool_create_sz(struct fb_pool **poolp, const struct fb_config *ucfg,
    size_t cfg_size)
{
	struct fb__geometry g;
	struct fb_pool *p;
	long ncpu;
	int r;

	if (poolp == NULL)
		return -EINVAL;
	*poolp = NULL;
	if (ucfg == NULL)
		return -EINVAL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	config_defaults(&p->p_cfg);
	p->p_epfd = p->p_timerfd = -1;
	p->p_done[0] = p->p_done[1] = -1;
	p->p_board.b_shmid = -1;
	p->p_state = FB__P_STOPPED; /* until it is whole */
	TAILQ_INIT(&p->p_ready);
	TAILQ_INIT(&p->p_pending);
	mark_owner(p);
	if ((r = fb__copy_in(&p->p_cfg, sizeof(p->p_cfg), ucfg,
	    cfg_size)) < 0 || (r = config_check(&p->p_cfg)) < 0 ||
	    (r = fb__fault_parse(p->p_cfg.fault != NULL ? p->p_cfg.fault :
	    getenv("FB_FAULT"), &p->p_faults)) < 0 ||
	    (r = alloc_tables(p)) < 0)
		goto fail;
	p->p_cfg.fault = NULL; /* parsed; the caller's string is not kept */
	g.g_max_workers = p->p_cfg.max_workers;
	g.g_slots = p->p_cfg.slots;
	g.g_slot_size = p->p_cfg.payload_size;
	g.g_result_size = p->p_cfg.result_size;
	g.g_trace = p->p_cfg.trace_records;
	if ((r = fb__board_create(&p->p_board, &g, &p->p_cfg)) < 0 ||
	    (r = open_loop(p)) < 0)
		goto fail;
	p->p_lifeline = !fb__pidfd_works();
	p->p_sticky = -1;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	p->p_ncpu = ncpu > 0 ? (unsigned)ncpu : 1;
	p->p_rand = (uint64_t)fb__now_ns() ^ ((uint64_t)getpid() << 32);
	p->p_key = fb__mix64(p->p_rand ^ (uint64_t)(uintptr_t)p);
	p->p_state = FB__P_NEW;
	*poolp = p;
	return 0;

fail:
	fb_pool_destroy(p);
	return r;
}

int
fb_pool_register(struct fb_pool *p, uint32_t code, fb_handler_fn fn,
    void *arg)
{
	if (!fb__owner(p))
		return -EPERM;
	if (p->p_state != FB__P_NEW)
		return -EBUSY;
	return fb__registry_add(&p->p_reg, code, fn, arg);
}

int
fb_pool_start(struct fb_pool *p)
{
	unsigned i;
	size_t k;
	int r;

	if (!fb__owner(p))
		return -EPERM;
	if (p->p_state != FB__P_NEW)
		return -EBUSY;
	for (k = 0; k < p->p_cfg.nkeep_fds; k++)
		if (!fb__fd_valid(p->p_keep[k]))
			return -EBADF;
	p->p_state = FB__P_RUNNING;
	p->p_target = p->p_cfg.workers;
	fb__spawn_begin(p);
	for (i = 0; i < p->p_cfg.workers; i++) {
		if ((r = fb__spawn(p, i)) < 0) {
			fb__spawn_end(p);
			p->p_nworkers = i;
			p->p_state = FB__P_CLOSING;
			fb__close_task_pipes(p);
			fb__signal_alive(p, SIGKILL);
			for (i = 0; i < p->p_nworkers; i++)
				(void)fb__reap(p, i, 1);
			p->p_state = FB__P_STOPPED;
			return r;
		}
		p->p_nworkers = i + 1;
	}
	fb__spawn_end(p);
	if (p->p_rearm)
		fb__arm_timer(p);
	return 0;
}

int
fb_pool_set_timeout(struct fb_pool *p, uint32_t code, unsigned ms)
{
	int r;

	if (!fb__owner(p))
		return -EPERM;
	if ((r = fb__registry_set_timeout(&p->p_reg, code, ms)) < 0)
		return r;
	if (ms != 0)
		p->p_any_timeout = 1;
	return 0;
}

int
fb_pool_resize(struct fb_pool *p, unsigned n)
{
	int r;

	if (!fb__owner(p))
		return -EPERM;
	if (n == 0 || n > p->p_cfg.max_workers)
		return -EINVAL;
	if (p->p_state != FB__P_RUNNING && p->p_state != FB__P_FAILED)
		return -ESHUTDOWN;
	if ((r = fb__resize(p, n)) < 0)
		return r;
	/* Shrinking takes effect now: the pipes of the workers above n are
	 * closed here, not at the next call that processes. */
	return fb__sync(p);
}

int
fb_pool_fd(const struct fb_pool *p)
{
	if (!fb__owner(p))
		return -EPERM;
	return p->p_epfd;
}

/* Hand every completed task to the completion callback, oldest first;
 * each slot is freed when its callback returns. */
static void
deliver(struct fb_pool *p)
{
	struct fb__mslot *ms;
	struct fb_result res;
	uint32_t slot;

	while (p->p_cb != NULL && (ms = TAILQ_FIRST(&p->p_ready)) != NULL) {
		slot = (uint32_t)(ms - p->p_slots);
		TAILQ_REMOVE(&p->p_ready, ms, ms_link);
		ms->ms_state = FB__M_VIEWED; /* held while the callback runs */
		fb__fill_result(p, slot, &res);
		p->p_in_cb = 1;
		p->p_cb(p->p_cb_arg, &res, fb__board_result(&p->p_board, slot));
		p->p_in_cb = 0;
		fb__free_slot(p, slot);
	}
}

int
fb_pool_process(struct fb_pool *p)
{
	int r;

	if (!fb__owner(p))
		return -EPERM;
	if (p->p_in_cb)
		return -EBUSY;
	r = fb__process(p);
	deliver(p);
	return r;
}

int
fb_pool_set_callback(struct fb_pool *p, fb_done_fn fn, void *arg)
{
	if (!fb__owner(p))
		return -EPERM;
	if (p->p_in_cb)
		return -EBUSY;
	p->p_cb = fn;
	p->p_cb_arg = arg;
	return 0;
}

int
fb_pool_flush(struct fb_pool *p)
{
	int r;

	if (!fb__owner(p))
		return -EPERM;
	r = fb__sync(p);
	fb__publish(p);
	return r;
}

/* Wait, handling events (completions, deaths), until no worker is left or
 * the deadline passes.  Returns how many are still alive. */
static unsigned
reap_until(struct fb_pool *p, int64_t deadline)
{
	while (fb__alive(p) > 0 && (deadline < 0 || fb__now_ns() < deadline))
		if (fb__wait_events(p, deadline) < 0)
			break;
	return fb__alive(p);
}

/*
 * The second half of shutdown: nothing more is sent or respawned; close
 * every task pipe, let workers leave, escalate at the deadline.
 */
static int
close_and_reap(struct fb_pool *p, int64_t deadline)
{
	int64_t grace = (int64_t)p->p_cfg.kill_grace_ms * 1000000;
	unsigned i;
	int killed = 0;

	p->p_state = FB__P_CLOSING;
	fb__cancel_pending(p);
	fb__close_task_pipes(p);
	/* Idle workers leave at once on end of file: give them the grace.
	 * Busy ones past the deadline are signalled now. */
	if (deadline < 0 || (deadline <= fb__now_ns() && p->p_inflight == 0))
		deadline = fb__now_ns() + grace;
	if (reap_until(p, deadline) > 0) {
		killed = 1;
		fb__signal_alive(p, SIGTERM);
		if (reap_until(p, fb__now_ns() + grace) > 0) {
			fb__signal_alive(p, SIGKILL);
			(void)fb__drain_done(p);
			for (i = 0; i < p->p_nworkers; i++)
				(void)fb__reap(p, i, 1);
		}
	}
	fb__cancel_pending(p);
	p->p_state = FB__P_STOPPED;
	fb__arm_timer(p);
	return killed ? -ETIMEDOUT : 0;
}

int
fb_pool_shutdown(struct fb_pool *p, int timeout_ms)
{
	int64_t deadline = -1;

	if (!fb__owner(p))
		return -EPERM;
	if (p->p_in_cb)
		return -EBUSY;
	if (timeout_ms >= 0)
		deadline = fb__now_ns() + (int64_t)timeout_ms * 1000000;
	if (p->p_state == FB__P_NEW || p->p_state == FB__P_STOPPED) {
		p->p_state = FB__P_STOPPED;
		return 0;
	}
	/* Drain: refuse new tasks, but supervise as usual (retries,
	 * respawns, tasks waiting for a worker) until everything in flight
	 * is done or the deadline passes. */
	if (p->p_state == FB__P_RUNNING)
		p->p_state = FB__P_DRAINING;
	while (p->p_state == FB__P_DRAINING && p->p_inflight > 0 &&
	    (deadline < 0 || fb__now_ns() < deadline))
		if (fb__wait_events(p, deadline) < 0)
			break;
	return close_and_reap(p, deadline);
}

/* Free what this process holds of the pool, touching nothing shared: no
 * epoll_ctl, no board write, no IPC_RMID, no signal. */
static void
free_local(struct fb_pool *p, int owner)
{
	unsigned i;

	if (p->p_workers != NULL) {
		for (i = 0; i < p->p_cfg.max_workers; i++) {
			fb__close(&p->p_workers[i].w_task[0]);
			fb__close(&p->p_workers[i].w_task[1]);
			fb__close(&p->p_workers[i].w_deathfd);
			fb__close(&p->p_workers[i].w_master);
			fb__outbox_free(&p->p_workers[i].w_out);
		}
	}
	fb__close(&p->p_done[0]);
	fb__close(&p->p_done[1]);
	fb__close(&p->p_timerfd);
	fb__close(&p->p_epfd);
	fb__board_close(&p->p_board, owner);
	fb__registry_free(&p->p_reg);
	free(p->p_workers);
	free(p->p_slots);
	free(p->p_free);
	free(p->p_dirty);
	free(p->p_head);
	free(p->p_stop);
	free(p->p_keep);
	if (p->p_forkmark != NULL)
		(void)munmap((void *)(uintptr_t)p->p_forkmark,
		    (size_t)sysconf(_SC_PAGESIZE));
	free(p);
}

void
fb_pool_destroy(struct fb_pool *p)
{
	int owner;

	if (p == NULL)
		return;
	owner = fb__owner(p);
	if (owner && p->p_state != FB__P_NEW && p->p_state != FB__P_STOPPED)
		(void)fb_pool_shutdown(p, 0);
	free_local(p, owner);
}
