/*
 * submit.c - the submitting half of the API: one-by-one, batched and
 * zero-copy submits.  Waiting for a free slot runs the event loop.
 */
#include <sys/types.h>

#include <errno.h>
#include <string.h>

#include "internal.h"

/*
 * Take a free slot: with FB_NONBLOCK fail at once on a full board,
 * otherwise process completions and wait until a slot is freed, unless
 * nothing is in flight (then nothing could free one: -EDEADLK).
 */
static int
acquire_wait(struct fb_pool *p, int flags, uint32_t *slot)
{
	int r;

	if ((r = fb__state_err(p)) < 0)
		return r;
	while (fb__acquire_slot(p, slot) < 0) {
		if ((r = fb__process(p)) < 0)
			return r;
		if (p->p_nfree > 0)
			continue;
		if (flags & FB_NONBLOCK)
			return -EAGAIN;
		if (p->p_inflight == 0)
			return -EDEADLK;
		if ((r = fb__wait_events(p, -1)) < 0)
			return r;
		if ((r = fb__state_err(p)) < 0)
			return r;
	}
	return 0;
}

/* The common case, a running pool with a free slot, inline (every task
 * passes here); anything else waits or fails in acquire_wait(). */
static inline int
acquire(struct fb_pool *p, int flags, uint32_t *slot)
{
	if (p->p_state == FB__P_RUNNING && fb__acquire_slot(p, slot) == 0)
		return 0;
	return acquire_wait(p, flags, slot);
}

static int
check_task(const struct fb_pool *p, uint32_t code, const void *payload,
    size_t len)
{
	if (code >= FB_CODE_RESERVED && code != FB_CODE_FDLIST)
		return -EINVAL;
	if (len > p->p_cfg.payload_size)
		return -EMSGSIZE;
	if (payload == NULL && len > 0)
		return -EINVAL;
	return 0;
}

/* A caller's job, checked, in our own layout. */
static int
job_in(const struct fb_job *ujob, size_t size, struct fb_job *job)
{
	int r;

	if (ujob != NULL && size == sizeof(*job))
		*job = *ujob; /* the common case: this very layout */
	else {
		memset(job, 0, sizeof(*job));
		if ((r = fb__copy_in(job, sizeof(*job), ujob, size)) < 0)
			return r;
	}
	if (job->j_retries < FB_RETRIES_NONE)
		return -EINVAL;
	return 0;
}

static int
submit_one(struct fb_pool *p, const struct fb_job *job, int flags,
    fb_ticket_t *ticket)
{
	uint32_t slot;
	int r;

	if ((r = check_task(p, job->j_code, job->j_payload, job->j_len)) < 0 ||
	    (r = acquire(p, flags, &slot)) < 0)
		return r;
	if (job->j_len > 0)
		memcpy(fb__board_payload(&p->p_board, slot), job->j_payload,
		    job->j_len);
	*ticket = FB__TICKET(p->p_slots[slot].ms_seq, slot);
	if ((r = fb__launch_job(p, slot, job)) < 0)
		return r;
	if (!(flags & FB_DEFER))
		return fb__sync(p);
	if (p->p_rearm)
		fb__arm_timer(p);
	return 0;
}

int
fb_pool_submit(struct fb_pool *p, uint32_t code, const void *payload,
    size_t len, int flags, fb_ticket_t *ticket)
{
	struct fb_job job;

	if (!fb__owner(p))
		return -EPERM;
	if (ticket == NULL)
		return -EINVAL;
	memset(&job, 0, sizeof(job));
	job.j_code = code;
	job.j_payload = payload;
	job.j_len = len;
	return submit_one(p, &job, flags, ticket);
}

int
fb_pool_submit_job_sz(struct fb_pool *p, const struct fb_job *ujob,
    size_t size, int flags, fb_ticket_t *ticket)
{
	struct fb_job job;
	int r;

	if (!fb__owner(p))
		return -EPERM;
	if (ticket == NULL)
		return -EINVAL;
	if ((r = job_in(ujob, size, &job)) < 0)
		return r;
	return submit_one(p, &job, flags, ticket);
}

/*
 * How many consecutive tasks of a batch of n go to one worker: enough to
 * spread them over as many workers as there are CPUs (more could not run
 * at once), but no fewer than one worker does in FB__RUN_BUDGET_NS at the
 * cost a task was measured to have (a shorter run finishes no sooner on
 * another CPU: its wake-up costs more), and at most FB__BATCH_RUN, so that
 * one write and one wake-up carry many tasks however many workers the pool
 * has.
 */
static size_t
batch_run(const struct fb_pool *p, size_t n)
{
	size_t ways = p->p_target < p->p_ncpu ? p->p_target : p->p_ncpu;
	size_t run = (n + ways - 1) / (ways ? ways : 1), fit;

	if (p->p_task_cost_ns > 0) {
		fit = (size_t)(FB__RUN_BUDGET_NS / p->p_task_cost_ns);
		if (fit > run)
			run = fit;
	}
	return run > FB__BATCH_RUN ? FB__BATCH_RUN : run ? run : 1;
}

int
fb_pool_submit_batch_sz(struct fb_pool *p, const struct fb_job *jobs,
    size_t job_size, size_t n, int flags, fb_ticket_t *tickets)
{
	struct fb_job job;
	uint32_t slot;
	size_t i, run, at;
	int r = 0, first;

	if (!fb__owner(p))
		return -EPERM;
	if (n > 0 && (jobs == NULL || tickets == NULL || job_size == 0))
		return -EINVAL;
	if (n > INT32_MAX)
		n = INT32_MAX;
	run = batch_run(p, n);
	for (i = 0, at = 0; i < n; i++, at = at + 1 == run ? 0 : at + 1) {
		first = at == 0; /* the first task of a run (no division) */
		/* The caller's array has the caller's stride.  Each job is
		 * copied once, then checked and used: what is checked is
		 * what is used, whatever another thread does to the array. */
		if ((r = job_in((const struct fb_job *)(const void *)
		    ((const unsigned char *)jobs + i * job_size), job_size,
		    &job)) < 0)
			break;
		if ((r = check_task(p, job.j_code, job.j_payload,
		    job.j_len)) < 0)
			break;
		/* One coarse clock read per run (the clock ticks in
		 * milliseconds, a run is sent in microseconds), and again
		 * after a wait for a slot: time passed. */
		if (first || p->p_nfree == 0)
			p->p_batch_ns = 0;
		if ((r = acquire(p, flags, &slot)) < 0)
			break;
		if (p->p_batch_ns == 0)
			p->p_batch_ns = fb__coarse_ns();
		/* A run's worker is whichever takes its first task. */
		if (first)
			p->p_sticky = -1;
		if (job.j_len > 0)
			memcpy(fb__board_payload(&p->p_board, slot),
			    job.j_payload, job.j_len);
		tickets[i] = FB__TICKET(p->p_slots[slot].ms_seq, slot);
		if ((r = fb__launch_job(p, slot, &job)) < 0)
			break;
		if (first && run > 1 &&
		    p->p_slots[slot].ms_worker != UINT32_MAX)
			p->p_sticky = (int)p->p_slots[slot].ms_worker;
	}
	p->p_sticky = -1;
	p->p_batch_ns = 0;
	if (!(flags & FB_DEFER))
		(void)fb__sync(p);
	else if (p->p_rearm)
		fb__arm_timer(p);
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

	if (!fb__owner(p))
		return -EPERM;
	if (payload == NULL || cap == NULL || ticket == NULL)
		return -EINVAL;
	if ((r = acquire(p, flags, &slot)) < 0)
		return r;
	p->p_slots[slot].ms_state = FB__M_RESERVED;
	*payload = fb__board_payload(&p->p_board, slot);
	*cap = p->p_cfg.payload_size;
	*ticket = FB__TICKET(p->p_slots[slot].ms_seq, slot);
	return 0;
}

static int
commit(struct fb_pool *p, fb_ticket_t t, const struct fb_job *job, int flags)
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
	if ((r = fb__state_err(p)) < 0)
		return r;
	if ((r = check_task(p, job->j_code, ms, job->j_len)) < 0)
		return r;
	if ((r = fb__launch_job(p, slot, job)) < 0)
		return r;
	if (!(flags & FB_DEFER))
		return fb__sync(p);
	if (p->p_rearm)
		fb__arm_timer(p);
	return 0;
}

int
fb_pool_commit(struct fb_pool *p, fb_ticket_t t, uint32_t code, size_t len,
    int flags)
{
	struct fb_job job;

	if (!fb__owner(p))
		return -EPERM;
	memset(&job, 0, sizeof(job));
	job.j_code = code;
	job.j_len = len;
	return commit(p, t, &job, flags);
}

int
fb_pool_commit_job_sz(struct fb_pool *p, fb_ticket_t t,
    const struct fb_job *ujob, size_t size, int flags)
{
	struct fb_job job;
	int r;

	if (!fb__owner(p))
		return -EPERM;
	if ((r = job_in(ujob, size, &job)) < 0)
		return r;
	return commit(p, t, &job, flags);
}

int
fb_pool_cancel(struct fb_pool *p, fb_ticket_t t, int flags)
{
	uint32_t slot = FB__TICKET_SLOT(t);
	struct fb__mslot *ms;
	int r;

	if (!fb__owner(p))
		return -EPERM;
	if (flags & ~FB_CANCEL_RUNNING)
		return -EINVAL;
	if (slot >= p->p_cfg.slots)
		return -ENOENT;
	ms = &p->p_slots[slot];
	if (ms->ms_seq != FB__TICKET_SEQ(t) || ms->ms_state == FB__M_FREE ||
	    ms->ms_state == FB__M_RESERVED)
		return -ENOENT;
	if (ms->ms_state != FB__M_INFLIGHT)
		return -EALREADY;
	if ((r = fb__cancel(p, slot, flags)) != 1)
		return r;
	/* Running: stop its worker, as for a timeout. */
	fb__stop_worker(p, ms->ms_worker, fb__coarse_ns());
	return fb__sync(p);
}
