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
fb_pool_stat_sz(const struct fb_pool *p, struct fb_board_stat *ust,
    size_t size)
{
	struct fb_board_stat st;
	int r;

	if (!fb__owner(p))
		return -EPERM;
	if ((r = fb__board_stat(&p->p_board, &st)) < 0)
		return r;
	return fb__copy_out(ust, size, &st, sizeof(st));
}

unsigned
fb_pool_workers(const struct fb_pool *p)
{
	if (!fb__owner(p))
		return 0;
	return fb__alive(p);
}

static void
worker_info(const struct fb_pool *p, unsigned index,
    struct fb_worker_info *wi)
{
	const struct fb__worker *w;
	struct fb__row_copy rc;
	int consistent;

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
		return;
	}
	/* The rest is the worker's word: one consistent copy, checked. */
	consistent = fb__row_read(&p->p_board.b_workers[index], &rc) == 0;
	wi->wi_state = consistent && rc.rc_state >= FB_WORKER_STARTING &&
	    rc.rc_state <= FB_WORKER_EXITING ? (enum fb_worker_state)
	    rc.rc_state : FB_WORKER_STARTING;
	if (!consistent)
		return;
	wi->wi_tasks = rc.rc_tasks;
	wi->wi_slot = rc.rc_slot < p->p_cfg.slots ? rc.rc_slot : UINT32_MAX;
	wi->wi_code = rc.rc_code;
}

int
fb_pool_worker_info_sz(const struct fb_pool *p, unsigned index,
    struct fb_worker_info *uwi, size_t size)
{
	struct fb_worker_info wi;

	if (!fb__owner(p))
		return -EPERM;
	if (index >= p->p_cfg.max_workers)
		return -EINVAL;
	worker_info(p, index, &wi);
	return fb__copy_out(uwi, size, &wi, sizeof(wi));
}

void
fb_pool_counters_sz(const struct fb_pool *p, struct fb_counters *uc,
    size_t size)
{
	struct fb_counters c;

	memset(&c, 0, sizeof(c));
	if (fb__owner(p))
		c = p->p_ctr;
	(void)fb__copy_out(uc, size, &c, sizeof(c));
}

static void
slot_info(const struct fb_pool *p, unsigned index, struct fb_slot_info *si)
{
	const struct fb__mslot *ms;
	uint64_t word;

	ms = &p->p_slots[index];
	memset(si, 0, sizeof(*si));
	si->si_index = index;
	switch (ms->ms_state) {
	case FB__M_FREE:
		si->si_state = FB_SLOT_FREE;
		return;
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
		return;
	si->si_code = ms->ms_code;
	si->si_udata = ms->ms_udata;
	si->si_worker = ms->ms_worker;
	si->si_attempts = ms->ms_attempts;
	if (ms->ms_sent_ns != 0)
		si->si_age_ns = (uint64_t)(fb__coarse_ns() - ms->ms_sent_ns);
}

int
fb_pool_slot_info_sz(const struct fb_pool *p, unsigned index,
    struct fb_slot_info *usi, size_t size)
{
	struct fb_slot_info si;

	if (!fb__owner(p))
		return -EPERM;
	if (index >= p->p_cfg.slots)
		return -EINVAL;
	slot_info(p, index, &si);
	return fb__copy_out(usi, size, &si, sizeof(si));
}

unsigned
fb_pool_slots_used(const struct fb_pool *p)
{
	if (!fb__owner(p))
		return 0;
	return p->p_cfg.slots - p->p_nfree;
}

unsigned
fb_pool_inflight(const struct fb_pool *p)
{
	if (!fb__owner(p))
		return 0;
	return p->p_inflight;
}

int
fb_pool_trace_read_sz(const struct fb_pool *p, uint64_t *cursor,
    struct fb_trace_rec *out, size_t rec_size, size_t n)
{
	struct fb_trace_rec buf[64];
	uint64_t head;
	size_t i, got = 0;
	int r;

	if (!fb__owner(p))
		return -EPERM;
	if (cursor == NULL || (n > 0 && out == NULL) || rec_size == 0)
		return -EINVAL;
	if (p->p_board.b_ntrace == 0)
		return -ENOTSUP;
	head = atomic_load_explicit(&p->p_board.b_hdr->bh_trace_head,
	    memory_order_acquire);
	while (got < n && *cursor < head) {
		r = fb__trace_read(p->p_board.b_trace, p->p_board.b_ntrace,
		    head, cursor, buf, n - got < 64 ? n - got : 64);
		if (r <= 0)
			break;
		for (i = 0; i < (size_t)r; i++)
			memcpy((unsigned char *)out + (got + i) * rec_size,
			    &buf[i], rec_size < sizeof(buf[i]) ? rec_size :
			    sizeof(buf[i]));
		got += (size_t)r;
	}
	return (int)(got > INT32_MAX ? INT32_MAX : got);
}
