/*
 * info.c - introspection: the board's kernel view, the scoreboard, slots,
 * counters.  Rows written by workers are copied through their seqlock and
 * range-checked; the master's own facts come from its own tables.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "internal.h"

int
fb_pool_stat(const struct fb_pool *p, struct fb_board_stat *st)
{
	if (!fb__owner(p))
		return -EPERM;
	if (st == NULL)
		return -EINVAL;
	return fb__board_stat(&p->p_board, st);
}

unsigned
fb_pool_workers(const struct fb_pool *p)
{
	if (!fb__owner(p))
		return 0;
	return fb__alive(p);
}

int
fb_pool_worker_info(const struct fb_pool *p, unsigned index,
    struct fb_worker_info *wi)
{
	const struct fb__worker *w;
	struct fb__row_copy rc;
	int consistent;

	if (!fb__owner(p))
		return -EPERM;
	if (wi == NULL || index >= p->p_cfg.max_workers)
		return -EINVAL;
	w = &p->p_workers[index];
	memset(wi, 0, sizeof(*wi));
	wi->wi_index = index;
	wi->wi_pid = w->w_pid == -1 ? 0 : w->w_pid;
	wi->wi_generation = w->w_generation;
	wi->wi_inflight = w->w_inflight;
	wi->wi_restarts = w->w_restarts;
	wi->wi_last_status = w->w_last_status;
	wi->wi_slot = UINT32_MAX;
	if (w->w_pid == -1) {
		wi->wi_state = FB_WORKER_DEAD;
		return 0;
	}
	/* The rest is the worker's word: one consistent copy, checked. */
	consistent = fb__row_read(&p->p_board.b_workers[index], &rc) == 0;
	wi->wi_state = consistent && rc.rc_state >= FB_WORKER_STARTING &&
	    rc.rc_state <= FB_WORKER_EXITING ? (enum fb_worker_state)
	    rc.rc_state : FB_WORKER_STARTING;
	if (!consistent)
		return 0;
	wi->wi_tasks = rc.rc_tasks;
	wi->wi_slot = rc.rc_slot < p->p_cfg.slots ? rc.rc_slot : UINT32_MAX;
	wi->wi_code = rc.rc_code;
	return 0;
}

void
fb_pool_counters(const struct fb_pool *p, struct fb_counters *c)
{
	if (c == NULL)
		return;
	if (!fb__owner(p)) {
		memset(c, 0, sizeof(*c));
		return;
	}
	*c = p->p_ctr;
}

int
fb_pool_slot_info(const struct fb_pool *p, unsigned index,
    struct fb_slot_info *si)
{
	const struct fb__mslot *ms;
	uint64_t word;

	if (!fb__owner(p))
		return -EPERM;
	if (si == NULL || index >= p->p_cfg.slots)
		return -EINVAL;
	ms = &p->p_slots[index];
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
		/* The board says whether a worker has claimed it: shown,
		 * never acted on. */
		word = atomic_load_explicit(&p->p_board.b_slots[index].sr_word,
		    memory_order_acquire);
		si->si_state = FB__WORD_SEQ(word) == ms->ms_seq &&
		    (FB__WORD_STATE(word) == FB__SLOT_RUNNING ||
		    FB__WORD_STATE(word) == FB__SLOT_PUBLISHING) ?
		    FB_SLOT_RUNNING : FB_SLOT_QUEUED;
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

unsigned
fb_pool_pending(const struct fb_pool *p)
{
	if (!fb__owner(p))
		return 0;
	return p->p_cfg.slots - p->p_nfree;
}
