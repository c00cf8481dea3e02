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
acquire(struct fb_pool *p, int flags, uint32_t *slot)
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

int
fb_pool_submit(struct fb_pool *p, uint32_t code, const void *payload,
    size_t len, int flags, fb_ticket_t *ticket)
{
	uint32_t slot;
	int r;

	if (!fb__owner(p))
		return -EPERM;
	if (ticket == NULL)
		return -EINVAL;
	if ((r = check_task(p, code, payload, len)) < 0 ||
	    (r = acquire(p, flags, &slot)) < 0)
		return r;
	if (len > 0)
		memcpy(fb__board_payload(&p->p_board, slot), payload, len);
	*ticket = FB__TICKET(p->p_slots[slot].ms_seq, slot);
	if ((r = fb__launch(p, slot, code, len)) < 0)
		return r;
	if (!(flags & FB_DEFER))
		return fb__sync(p);
	if (p->p_rearm)
		fb__arm_timer(p);
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
	size_t i, run;
	int r = 0;

	if (!fb__owner(p))
		return -EPERM;
	if (n > 0 && (jobs == NULL || tickets == NULL))
		return -EINVAL;
	if (n > INT32_MAX)
		n = INT32_MAX;
	run = batch_run(p, n);
	for (i = 0; i < n; i++) {
		if ((r = check_task(p, jobs[i].j_code, jobs[i].j_payload,
		    jobs[i].j_len)) < 0)
			break;
		if ((r = acquire(p, flags, &slot)) < 0)
			break;
		/* A run's worker is whichever takes its first task. */
		if (i % run == 0)
			p->p_sticky = -1;
		if (jobs[i].j_len > 0)
			memcpy(fb__board_payload(&p->p_board, slot),
			    jobs[i].j_payload, jobs[i].j_len);
		tickets[i] = FB__TICKET(p->p_slots[slot].ms_seq, slot);
		if ((r = fb__launch(p, slot, jobs[i].j_code,
		    jobs[i].j_len)) < 0)
			break;
		if (i % run == 0 && run > 1 &&
		    p->p_slots[slot].ms_worker != UINT32_MAX)
			p->p_sticky = (int)p->p_slots[slot].ms_worker;
	}
	p->p_sticky = -1;
	if (!(flags & FB_DEFER))
		(void)fb__sync(p);
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

	if (!fb__owner(p))
		return -EPERM;
	if (slot >= p->p_cfg.slots)
		return -ENOENT;
	ms = &p->p_slots[slot];
	if (ms->ms_seq != FB__TICKET_SEQ(t) || ms->ms_state == FB__M_FREE)
		return -ENOENT;
	if (ms->ms_state != FB__M_RESERVED)
		return -EALREADY;
	if ((r = fb__state_err(p)) < 0)
		return r;
	if ((r = check_task(p, code, ms, len)) < 0)
		return r;
	if ((r = fb__launch(p, slot, code, len)) < 0)
		return r;
	if (!(flags & FB_DEFER))
		return fb__sync(p);
	if (p->p_rearm)
		fb__arm_timer(p);
	return 0;
}
