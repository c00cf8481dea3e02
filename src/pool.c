/*
 * pool.c - the master's API: create, register, start, the event loop
 * (process), completions, shutdown, destroy, introspection.  Submitting
 * lives in submit.c, taking results in result.c, worker lifecycles in
 * supervise.c.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define FB__MAX_KEEP 32

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

void
fb_config_init(struct fb_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->workers = 4;
	cfg->slot_size = 4096;
	cfg->policy = FB_POLICY_ROUND_ROBIN;
	cfg->key_mode = FB_BOARD_PRIVATE;
	cfg->ftok_proj = 'F';
	cfg->mode = 0600;
	cfg->kill_grace_ms = 1000;
	cfg->respawn_max = 5;
	cfg->respawn_rate = 50;
}

/* Fill defaults and check ranges; cfg is the pool's own copy. */
static int
config_check(struct fb_config *cfg)
{
	size_t i;

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
		cfg->result_size = cfg->slot_size;
	if (cfg->slot_size > UINT32_MAX || cfg->result_size > UINT32_MAX)
		return -EINVAL;
	if (cfg->mode == 0)
		cfg->mode = 0600;
	if (cfg->mode & ~0777u)
		return -EINVAL;
	if (cfg->policy != FB_POLICY_ROUND_ROBIN &&
	    cfg->policy != FB_POLICY_LEAST_LOADED)
		return -EINVAL;
	if (cfg->nkeep_fds > FB__MAX_KEEP ||
	    (cfg->nkeep_fds > 0 && cfg->keep_fds == NULL))
		return -EINVAL;
	for (i = 0; i < cfg->nkeep_fds; i++)
		if (cfg->keep_fds[i] < 0)
			return -EBADF;
	if (cfg->kill_grace_ms == 0)
		cfg->kill_grace_ms = 1000;
	if (cfg->respawn_max == 0)
		cfg->respawn_max = 5;
	if (cfg->respawn_rate == 0)
		cfg->respawn_rate = 50;
	if (cfg->ftok_proj == 0)
		cfg->ftok_proj = 'F'; /* ftok ignores a zero id's bits */
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

int
fb_pool_create(struct fb_pool **poolp, const struct fb_config *cfg)
{
	struct fb__geometry g;
	struct fb_pool *p;
	unsigned i;
	long ncpu;
	int r;

	*poolp = NULL;
	if (cfg == NULL)
		return -EINVAL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	p->p_cfg = *cfg;
	p->p_epfd = p->p_timerfd = -1;
	p->p_done[0] = p->p_done[1] = -1;
	p->p_board.b_shmid = -1;
	TAILQ_INIT(&p->p_ready);
	TAILQ_INIT(&p->p_pending);
	if ((r = config_check(&p->p_cfg)) < 0)
		goto fail;
	cfg = &p->p_cfg;
	if (cfg->nkeep_fds > 0) {
		if ((p->p_keep = calloc(cfg->nkeep_fds, sizeof(int))) == NULL)
			goto nomem;
		memcpy(p->p_keep, cfg->keep_fds, cfg->nkeep_fds * sizeof(int));
		p->p_cfg.keep_fds = p->p_keep;
	}

	p->p_workers = calloc(cfg->max_workers, sizeof(*p->p_workers));
	p->p_slots = calloc(cfg->slots, sizeof(*p->p_slots));
	p->p_free = calloc(cfg->slots, sizeof(*p->p_free));
	p->p_dirty = calloc(cfg->max_workers, sizeof(*p->p_dirty));
	if (p->p_workers == NULL || p->p_slots == NULL || p->p_free == NULL ||
	    p->p_dirty == NULL)
		goto nomem;
	for (i = 0; i < cfg->max_workers; i++) {
		p->p_workers[i].w_pid = -1;
		p->p_workers[i].w_deathfd = -1;
		p->p_workers[i].w_task[0] = p->p_workers[i].w_task[1] = -1;
		p->p_workers[i].w_last_status = -1;
	}
	/* Each slot has at most one record in flight, so an outbox the size
	 * of all slots can never overflow. */
	for (i = 0; i < cfg->max_workers; i++)
		if ((r = fb__outbox_init(&p->p_workers[i].w_out,
		    (size_t)cfg->slots * sizeof(struct fb__rec))) < 0)
			goto fail;
	for (i = 0; i < cfg->slots; i++)
		p->p_free[i] = cfg->slots - 1 - i;
	p->p_nfree = cfg->slots;

	g.g_max_workers = cfg->max_workers;
	g.g_slots = cfg->slots;
	g.g_slot_size = cfg->slot_size;
	g.g_result_size = cfg->result_size;
	if ((r = fb__board_create(&p->p_board, &g, cfg)) < 0)
		goto fail;

	if ((p->p_epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		goto syserr;
	if ((r = fb__pipe(p->p_done, 0)) < 0)
		goto fail;
	if ((r = fb__set_nonblock(p->p_done[0], 1)) < 0)
		goto fail;
	if ((r = epoll_add(p->p_epfd, p->p_done[0], EPOLLIN,
	    FB__EV(FB__EV_DONE, 0))) < 0)
		goto fail;
	p->p_timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC |
	    TFD_NONBLOCK);
	if (p->p_timerfd == -1)
		goto syserr;
	if ((r = epoll_add(p->p_epfd, p->p_timerfd, EPOLLIN,
	    FB__EV(FB__EV_TIMER, 0))) < 0)
		goto fail;
	p->p_lifeline = !fb__pidfd_works();
	p->p_sticky = -1;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	p->p_ncpu = ncpu > 0 ? (unsigned)ncpu : 1;
	p->p_rand = (uint64_t)fb__now_ns() ^ ((uint64_t)getpid() << 32);
	p->p_state = FB__P_NEW;
	*poolp = p;
	return 0;

syserr:
	r = -errno;
	goto fail;
nomem:
	r = -ENOMEM;
fail:
	p->p_state = FB__P_STOPPED;
	fb_pool_destroy(p);
	return r;
}

int
fb_pool_register(struct fb_pool *p, uint32_t code, fb_handler_fn fn,
    void *arg)
{
	if (p->p_state != FB__P_NEW)
		return -EBUSY;
	return fb__registry_add(&p->p_reg, code, fn, arg);
}

int
fb_pool_start(struct fb_pool *p)
{
	unsigned i;
	int r;

	if (p->p_state != FB__P_NEW)
		return -EBUSY;
	p->p_state = FB__P_RUNNING;
	p->p_target = p->p_cfg.workers;
	for (i = 0; i < p->p_cfg.workers; i++) {
		if ((r = fb__spawn(p, i)) < 0) {
			p->p_nworkers = i;
			(void)fb__stop_workers(p, fb__now_ns());
			p->p_state = FB__P_STOPPED;
			return r;
		}
		p->p_nworkers = i + 1;
	}
	return 0;
}

int
fb_pool_set_timeout(struct fb_pool *p, uint32_t code, unsigned ms)
{
	struct fb__handler *h;

	if ((h = (struct fb__handler *)fb__registry_find(&p->p_reg, code)) ==
	    NULL)
		return -ENOENT;
	h->h_timeout_ms = ms;
	if (ms != 0)
		p->p_any_timeout = 1;
	return 0;
}

int
fb_pool_resize(struct fb_pool *p, unsigned n)
{
	if (n == 0 || n > p->p_cfg.max_workers)
		return -EINVAL;
	if (p->p_state != FB__P_RUNNING)
		return p->p_state == FB__P_FAILED ? -ECHILD : -ESHUTDOWN;
	return fb__resize(p, n);
}

int
fb_pool_fd(const struct fb_pool *p)
{
	return p->p_epfd;
}

/*
 * Mark a slot complete.  result_len must already be checked against the
 * slot's result capacity.
 */
void
fb__complete(struct fb_pool *p, uint32_t slot, enum fb_outcome oc, int status,
    size_t result_len)
{
	struct fb__mslot *ms = &p->p_slots[slot];
	struct fb__worker *w;

	if (ms->ms_worker < p->p_cfg.max_workers) {
		w = &p->p_workers[ms->ms_worker];
		if (w->w_inflight > 0)
			w->w_inflight--;
	}
	if (ms->ms_timeout_ms != 0)
		p->p_timed--;
	ms->ms_state = FB__M_READY;
	ms->ms_outcome = oc;
	ms->ms_status = status;
	ms->ms_result_len = result_len;
	TAILQ_INSERT_TAIL(&p->p_ready, ms, ms_link);
	p->p_inflight--;
	switch (oc) {
	case FB_DONE: p->p_ctr.c_done++; break;
	case FB_FAILED: p->p_ctr.c_failed++; break;
	case FB_NOHANDLER: p->p_ctr.c_nohandler++; break;
	case FB_CRASHED: p->p_ctr.c_crashed++; break;
	case FB_TIMEDOUT: p->p_ctr.c_timedout++; break;
	case FB_BADRESULT: p->p_ctr.c_badresult++; break;
	case FB_CANCELLED: p->p_ctr.c_cancelled++; break;
	}
}

/*
 * Read the board row of a slot a worker says it finished, trusting none of
 * what the worker wrote until it is checked.  Returns 1 if the slot was
 * finished, 0 if the board does not say so (yet).
 */
int
fb__collect(struct fb_pool *p, uint32_t slot)
{
	struct fb__mslot *ms = &p->p_slots[slot];
	struct fb__slot_row *sr = &p->p_board.b_slots[slot];
	enum fb_outcome oc;
	uint32_t st, len;

	st = atomic_load_explicit(&sr->sr_state, memory_order_acquire);
	if ((st != FB__SLOT_DONE && st != FB__SLOT_FAILED) ||
	    sr->sr_seq != ms->ms_seq)
		return 0;
	len = sr->sr_result_len;
	oc = (enum fb_outcome)sr->sr_outcome;
	if (st == FB__SLOT_DONE)
		oc = FB_DONE;
	else if (oc != FB_FAILED && oc != FB_NOHANDLER && oc != FB_BADRESULT)
		oc = FB_BADRESULT;
	if (len > p->p_board.b_result_size) {
		oc = FB_BADRESULT;
		len = 0;
	}
	if (sr->sr_t_end > sr->sr_t_start)
		ms->ms_run_ns = (uint64_t)(sr->sr_t_end - sr->sr_t_start);
	ms->ms_attempts++;
	fb__complete(p, slot, oc, sr->sr_status, oc == FB_BADRESULT ? 0 : len);
	return 1;
}

/* The board is the truth: collect every in-flight slot it says is
 * finished, whatever the completion pipe said. */
static int
collect_all(struct fb_pool *p)
{
	uint32_t s;
	int done = 0;

	fb__log(p, FB_LOG_WARN, "completion pipe out of step; reading the "
	    "board");
	for (s = 0; s < p->p_cfg.slots; s++)
		if (p->p_slots[s].ms_state == FB__M_INFLIGHT)
			done += fb__collect(p, s);
	return done;
}

static int
drain_done(struct fb_pool *p)
{
	struct fb__rec recs[FB__RBUF_RECS];
	struct fb__mslot *ms;
	size_t i, n, room;
	ssize_t r;
	int done = 0, garbage = 0, more;

	for (more = 1; more;) {
		room = sizeof(p->p_done_rd.rd_buf) - p->p_done_rd.rd_have;
		r = fb__reader_fill(&p->p_done_rd, p->p_done[0]);
		if (r == -EAGAIN)
			break;
		if (r < 0 && r != -ENOBUFS)
			return (int)r;
		/* A read that did not fill the buffer emptied the pipe: no
		 * need for another read just to be told EAGAIN. */
		more = r < 0 || (size_t)r == room;
		n = fb__reader_take(&p->p_done_rd, recs, FB__RBUF_RECS);
		for (i = 0; i < n; i++) {
			/* A record is a hint: check it names a slot we sent to
			 * that worker, with that sequence, still in flight.
			 * Stale ones are normal (a dead worker's, a spun-for
			 * slot's); impossible ones mean a handler wrote into
			 * the pipe and the stream may be out of step. */
			if (recs[i].r_slot >= p->p_cfg.slots ||
			    recs[i].r_aux >= p->p_cfg.max_workers ||
			    recs[i].r_seq > p->p_seq) {
				garbage = 1;
				continue;
			}
			ms = &p->p_slots[recs[i].r_slot];
			if (ms->ms_state != FB__M_INFLIGHT ||
			    ms->ms_seq != recs[i].r_seq ||
			    ms->ms_worker != recs[i].r_aux)
				continue;
			done += fb__collect(p, recs[i].r_slot);
		}
	}
	if (garbage)
		done += collect_all(p);
	return done;
}

/* Act on what epoll reported. */
int
fb__handle_events(struct fb_pool *p, const struct epoll_event *evs, int n)
{
	uint32_t kind, idx;
	int i, r, done = 0;

	for (i = 0; i < n; i++) {
		kind = (uint32_t)(evs[i].data.u64 >> 32);
		idx = (uint32_t)evs[i].data.u64;
		switch (kind) {
		case FB__EV_DONE:
			if ((r = drain_done(p)) < 0)
				return r;
			done += r;
			break;
		case FB__EV_PIDFD:
			/* Completions first: a worker that finished a task and
			 * then died must not have that task called crashed. */
			if ((r = drain_done(p)) < 0)
				return r;
			done += r;
			if ((r = fb__reap(p, idx, 0)) < 0)
				return r;
			break;
		case FB__EV_TIMER:
			if ((r = fb__timers(p)) < 0)
				return r;
			break;
		case FB__EV_OUT:
			break; /* flushed below */
		}
	}
	if ((r = fb__flush_all(p)) < 0)
		return r;
	return done;
}

int
fb_pool_process(struct fb_pool *p)
{
	struct epoll_event evs[64];
	int n;

	do
		n = epoll_wait(p->p_epfd, evs, 64, 0);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -errno;
	return fb__handle_events(p, evs, n);
}

int
fb_pool_shutdown(struct fb_pool *p, int timeout_ms)
{
	int64_t deadline = -1;
	int r;

	if (timeout_ms >= 0)
		deadline = fb__now_ns() + (int64_t)timeout_ms * 1000000;
	if (p->p_state == FB__P_NEW || p->p_state == FB__P_STOPPED) {
		p->p_state = FB__P_STOPPED;
		return 0;
	}
	if (p->p_state == FB__P_RUNNING)
		p->p_state = FB__P_STOPPING;
	/* Drain: let what is in flight finish, up to the deadline. */
	while (p->p_inflight > 0 && TAILQ_EMPTY(&p->p_pending) &&
	    (deadline < 0 || fb__now_ns() < deadline))
		if ((r = fb__wait_events(p, deadline)) < 0)
			break;
	r = fb__stop_workers(p, deadline);
	p->p_state = FB__P_STOPPED;
	return r;
}

void
fb_pool_destroy(struct fb_pool *p)
{
	unsigned i;

	if (p == NULL)
		return;
	if (p->p_state != FB__P_NEW && p->p_state != FB__P_STOPPED)
		(void)fb_pool_shutdown(p, 0);
	if (p->p_workers != NULL) {
		for (i = 0; i < p->p_cfg.max_workers; i++) {
			fb__close(&p->p_workers[i].w_task[0]);
			fb__close(&p->p_workers[i].w_task[1]);
			fb__close(&p->p_workers[i].w_deathfd);
			fb__outbox_free(&p->p_workers[i].w_out);
		}
	}
	fb__close(&p->p_done[0]);
	fb__close(&p->p_done[1]);
	fb__close(&p->p_timerfd);
	fb__close(&p->p_epfd);
	fb__board_close(&p->p_board);
	fb__registry_free(&p->p_reg);
	free(p->p_workers);
	free(p->p_slots);
	free(p->p_free);
	free(p->p_dirty);
	free(p->p_keep);
	free(p);
}

int
fb_pool_stat(const struct fb_pool *p, struct fb_board_stat *st)
{
	return fb__board_stat(&p->p_board, st);
}

unsigned
fb_pool_workers(const struct fb_pool *p)
{
	unsigned i, n = 0;

	for (i = 0; i < p->p_nworkers; i++)
		if (p->p_workers[i].w_pid != -1)
			n++;
	return n;
}

int
fb_pool_worker_info(const struct fb_pool *p, unsigned index,
    struct fb_worker_info *wi)
{
	const struct fb__worker_row *row;
	const struct fb__worker *w;
	uint32_t st;

	if (index >= p->p_cfg.max_workers)
		return -EINVAL;
	row = &p->p_board.b_workers[index];
	w = &p->p_workers[index];
	memset(wi, 0, sizeof(*wi));
	wi->wi_index = index;
	wi->wi_pid = w->w_pid == -1 ? 0 : w->w_pid;
	st = atomic_load_explicit(&row->wr_state, memory_order_acquire);
	wi->wi_state = w->w_pid == -1 || st > FB_WORKER_EXITING ?
	    FB_WORKER_DEAD : (enum fb_worker_state)st;
	wi->wi_generation = row->wr_generation;
	wi->wi_tasks = atomic_load_explicit(&row->wr_tasks,
	    memory_order_relaxed);
	/* Worker-written: an index nobody may trust out of range. */
	wi->wi_slot = atomic_load_explicit(&row->wr_slot, memory_order_relaxed);
	if (wi->wi_slot >= p->p_cfg.slots)
		wi->wi_slot = UINT32_MAX;
	wi->wi_code = atomic_load_explicit(&row->wr_code, memory_order_relaxed);
	wi->wi_inflight = w->w_inflight;
	wi->wi_restarts = w->w_restarts;
	wi->wi_last_status = w->w_last_status;
	return 0;
}

void
fb_pool_counters(const struct fb_pool *p, struct fb_counters *c)
{
	*c = p->p_ctr;
}

int
fb_pool_slot_info(const struct fb_pool *p, unsigned index,
    struct fb_slot_info *si)
{
	const struct fb__mslot *ms;
	const struct fb__slot_row *sr;

	if (index >= p->p_cfg.slots)
		return -EINVAL;
	ms = &p->p_slots[index];
	sr = &p->p_board.b_slots[index];
	memset(si, 0, sizeof(*si));
	si->si_index = index;
	switch (ms->ms_state) {
	case FB__M_FREE:
		si->si_state = FB_SLOT_FREE;
		return 0;
	case FB__M_RESERVED:
		si->si_state = FB_SLOT_RESERVED;
		break;
	case FB__M_INFLIGHT:
		/* The board says whether a worker has claimed it. */
		si->si_state = atomic_load_explicit(&sr->sr_state,
		    memory_order_acquire) == FB__SLOT_RUNNING &&
		    sr->sr_seq == ms->ms_seq ? FB_SLOT_RUNNING : FB_SLOT_QUEUED;
		break;
	case FB__M_READY:
		si->si_state = FB_SLOT_COMPLETE;
		break;
	default:
		si->si_state = FB_SLOT_HELD;
		break;
	}
	si->si_ticket = FB__TICKET(ms->ms_seq, index);
	if (ms->ms_state == FB__M_RESERVED)
		return 0;
	si->si_code = ms->ms_code;
	si->si_worker = ms->ms_worker;
	si->si_attempts = ms->ms_attempts;
	if (ms->ms_sent_ns != 0)
		si->si_age_ns = (uint64_t)(fb__coarse_ns() - ms->ms_sent_ns);
	return 0;
}
