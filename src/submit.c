/*
 * submit.c - getting tasks to workers: slot allocation, the dispatch
 * policies, one-by-one, batched and zero-copy submits, and the flush that
 * turns each worker's queued records into as few writes as possible.
 */
#include <sys/types.h>
#include <sys/epoll.h>

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "internal.h"

static int
pick_worker(struct fb_pool *p)
{
	struct fb__worker *w;
	unsigned i, k, best = 0;
	int found = 0;

	for (k = 0; k < p->p_nworkers; k++) {
		i = (p->p_rr + k) % p->p_nworkers;
		w = &p->p_workers[i];
		if (!w->w_active)
			continue;
		if (p->p_cfg.policy == FB_POLICY_ROUND_ROBIN) {
			p->p_rr = i + 1;
			return (int)i;
		}
		if (!found || w->w_inflight < p->p_workers[best].w_inflight) {
			best = i;
			found = 1;
			if (w->w_inflight == 0)
				break;
		}
	}
	if (!found)
		return -1;
	p->p_rr = best + 1;
	return (int)best;
}

/*
 * Give an in-flight slot to a worker: publish QUEUED, then put its record
 * in the worker's outbox.  The caller flushes.  With no live worker the
 * slot waits on p_pending until fb__spawn brings one.
 */
int
fb__dispatch(struct fb_pool *p, uint32_t slot)
{
	struct fb__mslot *ms = &p->p_slots[slot];
	struct fb__slot_row *sr = &p->p_board.b_slots[slot];
	struct fb__worker *w;
	struct fb__rec rec;
	int wi = p->p_sticky;

	if (wi < 0 || !p->p_workers[wi].w_active)
		wi = pick_worker(p);
	if (wi < 0) {
		ms->ms_worker = UINT32_MAX;
		TAILQ_INSERT_TAIL(&p->p_pending, ms, ms_link);
		return 0;
	}
	w = &p->p_workers[wi];
	ms->ms_worker = (uint32_t)wi;
	ms->ms_pid = w->w_pid;
	sr->sr_worker = (uint32_t)wi;
	sr->sr_code = ms->ms_code;
	sr->sr_seq = ms->ms_seq;
	sr->sr_len = ms->ms_len;
	atomic_store_explicit(&sr->sr_state, FB__SLOT_QUEUED,
	    memory_order_release);
	rec.r_slot = slot;
	rec.r_aux = ms->ms_code;
	rec.r_seq = ms->ms_seq;
	ms->ms_sent_ns = fb__coarse_ns();
	w->w_inflight++;
	w->w_tasks_sent++;
	if (w->w_recycle_at != 0 && w->w_tasks_sent >= w->w_recycle_at)
		fb__deactivate(p, (unsigned)wi); /* retired after the flush */
	if (!w->w_dirty) {
		w->w_dirty = 1;
		p->p_dirty[p->p_ndirty++] = (unsigned)wi;
	}
	return fb__outbox_put(&w->w_out, &rec);
}

/* One write per worker with queued records (only those: the dirty list);
 * a full pipe is retried when epoll says it drained. */
int
fb__flush_all(struct fb_pool *p)
{
	struct epoll_event ev;
	struct fb__worker *w;
	unsigned i, k, keep = 0;
	int r;

	for (k = 0; k < p->p_ndirty; k++) {
		i = p->p_dirty[k];
		w = &p->p_workers[i];
		if (w->w_out.ob_len == 0 || w->w_task[1] == -1) {
			w->w_dirty = 0;
			continue;
		}
		if ((r = fb__outbox_flush(&w->w_out, w->w_task[1])) < 0)
			return r;
		if (p->p_cfg.spin_us > 0)
			atomic_fetch_add_explicit(
			    &p->p_board.b_workers[i].wr_doorbell, 1,
			    memory_order_release);
		if (r == 1) {
			w->w_dirty = 0;
			continue;
		}
		p->p_dirty[keep++] = i; /* pipe full: stays dirty */
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLOUT | EPOLLONESHOT;
		ev.data.u64 = FB__EV(FB__EV_OUT, i);
		if (epoll_ctl(p->p_epfd, EPOLL_CTL_MOD, w->w_task[1], &ev) ==
		    -1 && (errno != ENOENT || epoll_ctl(p->p_epfd,
		    EPOLL_CTL_ADD, w->w_task[1], &ev) == -1))
			return -errno;
	}
	p->p_ndirty = keep;
	return p->p_retiring ? fb__retire(p) : 0;
}

int
fb_pool_flush(struct fb_pool *p)
{
	return fb__flush_all(p);
}

/* Flush, then sleep in epoll until something happens or the deadline
 * (-1: none) passes, then process it. */
int
fb__wait_events(struct fb_pool *p, int64_t deadline)
{
	struct epoll_event evs[64];
	int64_t left;
	int ms, n, r;

	if ((r = fb__flush_all(p)) < 0)
		return r;
	ms = -1;
	if (deadline >= 0) {
		left = deadline - fb__now_ns();
		ms = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
	}
	do
		n = epoll_wait(p->p_epfd, evs, 64, ms);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -errno;
	return fb__handle_events(p, evs, n);
}

static unsigned
task_timeout(const struct fb_pool *p, uint32_t code)
{
	const struct fb__handler *h;

	if (!p->p_any_timeout)
		return p->p_cfg.task_timeout_ms;
	if ((h = fb__registry_find(&p->p_reg, code)) != NULL &&
	    h->h_timeout_ms != 0)
		return h->h_timeout_ms;
	return p->p_cfg.task_timeout_ms;
}

/*
 * Take a free slot: with FB_NONBLOCK fail at once on a full board,
 * otherwise process completions and wait until a slot is freed, unless
 * nothing is in flight (then nothing could free one: -EDEADLK).
 */
static int
acquire(struct fb_pool *p, int flags, uint32_t *slot)
{
	int r;

	if (p->p_state != FB__P_RUNNING)
		return p->p_state == FB__P_FAILED ? -ECHILD : -ESHUTDOWN;
	while (p->p_nfree == 0) {
		if ((r = fb_pool_process(p)) < 0)
			return r;
		if (p->p_nfree > 0)
			break;
		if (flags & FB_NONBLOCK)
			return -EAGAIN;
		if (p->p_inflight == 0)
			return -EDEADLK;
		if ((r = fb__wait_events(p, -1)) < 0)
			return r;
		if (p->p_state != FB__P_RUNNING)
			return p->p_state == FB__P_FAILED ? -ECHILD :
			    -ESHUTDOWN;
	}
	*slot = p->p_free[--p->p_nfree];
	p->p_slots[*slot].ms_seq = ++p->p_seq;
	return 0;
}

static int
check_task(const struct fb_pool *p, uint32_t code, const void *payload,
    size_t len)
{
	if (code >= FB_CODE_RESERVED && code != FB_CODE_FDLIST)
		return -EINVAL;
	if (len > p->p_cfg.slot_size)
		return -EMSGSIZE;
	if (payload == NULL && len > 0)
		return -EINVAL;
	return 0;
}

/* The slot's payload is in place: mark it in flight and dispatch it. */
static int
launch(struct fb_pool *p, uint32_t slot, uint32_t code, size_t len)
{
	struct fb__mslot *ms = &p->p_slots[slot];

	ms->ms_code = code;
	ms->ms_len = (uint32_t)len;
	ms->ms_state = FB__M_INFLIGHT;
	ms->ms_attempts = 0;
	ms->ms_outcome = FB_DONE;
	ms->ms_status = 0;
	ms->ms_result_len = 0;
	ms->ms_run_ns = 0;
	ms->ms_timedout = 0;
	ms->ms_timeout_ms = task_timeout(p, code);
	if (ms->ms_timeout_ms != 0 && p->p_timed++ == 0)
		fb__arm_timer(p);
	p->p_inflight++;
	p->p_ctr.c_submitted++;
	return fb__dispatch(p, slot);
}

int
fb_pool_submit(struct fb_pool *p, uint32_t code, const void *payload,
    size_t len, int flags, fb_ticket_t *ticket)
{
	uint32_t slot;
	int r;

	if ((r = check_task(p, code, payload, len)) < 0 ||
	    (r = acquire(p, flags, &slot)) < 0)
		return r;
	if (len > 0)
		memcpy(fb__board_payload(&p->p_board, slot), payload, len);
	*ticket = FB__TICKET(p->p_slots[slot].ms_seq, slot);
	if ((r = launch(p, slot, code, len)) < 0)
		return r;
	if (!(flags & FB_DEFER) && (r = fb__flush_all(p)) < 0)
		return r;
	return 0;
}

/*
 * How many consecutive tasks of a batch of n go to one worker: enough to
 * spread them over as many workers as there are CPUs (more could not run
 * at once), at most FB__BATCH_RUN, so that one write and one wake-up carry
 * many tasks however many workers the pool has.
 */
static size_t
batch_run(const struct fb_pool *p, size_t n)
{
	size_t ways = p->p_target < p->p_ncpu ? p->p_target : p->p_ncpu;
	size_t run = (n + ways - 1) / (ways ? ways : 1);

	return run > FB__BATCH_RUN ? FB__BATCH_RUN : run ? run : 1;
}

int
fb_pool_submit_batch(struct fb_pool *p, const struct fb_job *jobs, size_t n,
    int flags, fb_ticket_t *tickets)
{
	uint32_t slot;
	size_t i, run = batch_run(p, n);
	int r = 0;

	for (i = 0; i < n; i++) {
		if (i % run == 0)
			p->p_sticky = run > 1 ? pick_worker(p) : -1;
		if ((r = check_task(p, jobs[i].j_code, jobs[i].j_payload,
		    jobs[i].j_len)) < 0)
			break;
		if ((r = acquire(p, flags, &slot)) < 0)
			break;
		if (jobs[i].j_len > 0)
			memcpy(fb__board_payload(&p->p_board, slot),
			    jobs[i].j_payload, jobs[i].j_len);
		tickets[i] = FB__TICKET(p->p_slots[slot].ms_seq, slot);
		if ((r = launch(p, slot, jobs[i].j_code, jobs[i].j_len)) < 0)
			break;
	}
	p->p_sticky = -1;
	if (!(flags & FB_DEFER))
		(void)fb__flush_all(p);
	if (i == 0 && r < 0 && r != -EAGAIN)
		return r;
	return (int)i;
}

int
fb_pool_reserve(struct fb_pool *p, int flags, void **payload, size_t *cap,
    fb_ticket_t *ticket)
{
	uint32_t slot;
	int r;

	if ((r = acquire(p, flags, &slot)) < 0)
		return r;
	p->p_slots[slot].ms_state = FB__M_RESERVED;
	*payload = fb__board_payload(&p->p_board, slot);
	*cap = p->p_cfg.slot_size;
	*ticket = FB__TICKET(p->p_slots[slot].ms_seq, slot);
	return 0;
}

int
fb_pool_commit(struct fb_pool *p, fb_ticket_t t, uint32_t code, size_t len,
    int flags)
{
	uint32_t slot = FB__TICKET_SLOT(t);
	struct fb__mslot *ms;
	int r;

	if (slot >= p->p_cfg.slots)
		return -ENOENT;
	ms = &p->p_slots[slot];
	if (ms->ms_seq != FB__TICKET_SEQ(t) || ms->ms_state == FB__M_FREE)
		return -ENOENT;
	if (ms->ms_state != FB__M_RESERVED)
		return -EALREADY;
	if (p->p_state != FB__P_RUNNING)
		return p->p_state == FB__P_FAILED ? -ECHILD : -ESHUTDOWN;
	if ((r = check_task(p, code, ms, len)) < 0)
		return r;
	if ((r = launch(p, slot, code, len)) < 0)
		return r;
	if (!(flags & FB_DEFER) && (r = fb__flush_all(p)) < 0)
		return r;
	return 0;
}
