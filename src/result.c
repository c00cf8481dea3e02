/*
 * result.c - taking results: by ticket or oldest first, copied out or
 * viewed in place until released.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "internal.h"

static int64_t
deadline_of(int timeout_ms)
{
	if (timeout_ms <= 0)
		return timeout_ms < 0 ? -1 : 0;
	return fb__now_ns() + (int64_t)timeout_ms * 1000000;
}

static void
free_slot(struct fb_pool *p, uint32_t slot)
{
	struct fb__mslot *ms = &p->p_slots[slot];

	ms->ms_state = FB__M_FREE;
	ms->ms_seq = 0;
	atomic_store_explicit(&p->p_board.b_slots[slot].sr_state,
	    FB__SLOT_FREE, memory_order_release);
	p->p_free[p->p_nfree++] = slot;
}

static void
fill_result(const struct fb_pool *p, uint32_t slot, struct fb_result *res)
{
	const struct fb__mslot *ms = &p->p_slots[slot];

	res->r_ticket = FB__TICKET(ms->ms_seq, slot);
	res->r_code = ms->ms_code;
	res->r_outcome = ms->ms_outcome;
	res->r_status = ms->ms_status;
	res->r_worker = ms->ms_worker;
	res->r_pid = ms->ms_pid;
	res->r_attempts = ms->ms_attempts;
	res->r_len = ms->ms_result_len;
	res->r_run_ns = ms->ms_run_ns;
}

/* Take a READY slot: copy its result out (view == NULL) or hand out a
 * pointer to it and keep the slot until fb_pool_release(). */
static int
take(struct fb_pool *p, uint32_t slot, struct fb_result *res, void *buf,
    size_t cap, const void **view)
{
	struct fb__mslot *ms = &p->p_slots[slot];

	fill_result(p, slot, res);
	if (view != NULL) {
		TAILQ_REMOVE(&p->p_ready, ms, ms_link);
		ms->ms_state = FB__M_VIEWED;
		*view = fb__board_result(&p->p_board, slot);
		return 0;
	}
	if (ms->ms_result_len > cap)
		return -ENOBUFS;
	if (ms->ms_result_len > 0)
		memcpy(buf, fb__board_result(&p->p_board, slot),
		    ms->ms_result_len);
	TAILQ_REMOVE(&p->p_ready, ms, ms_link);
	free_slot(p, slot);
	return 0;
}

/* The slot a ticket names, if the ticket is current; -ENOENT if not. */
static int
ticket_slot(const struct fb_pool *p, fb_ticket_t t, uint32_t *slot)
{
	const struct fb__mslot *ms;

	*slot = FB__TICKET_SLOT(t);
	if (*slot >= p->p_cfg.slots)
		return -ENOENT;
	ms = &p->p_slots[*slot];
	if (ms->ms_state == FB__M_FREE || ms->ms_seq != FB__TICKET_SEQ(t))
		return -ENOENT;
	return 0;
}

/*
 * Watch the slot's state for up to spin_us instead of sleeping; collect it
 * if it finishes.  Returns 1 if it did, 0 if not.  The completion record
 * that follows is then stale and ignored.
 */
int
fb__spin_wait(struct fb_pool *p, uint32_t slot)
{
	struct fb__slot_row *sr = &p->p_board.b_slots[slot];
	int64_t end;
	uint32_t st;

	if (fb__flush_all(p) < 0)
		return 0;
	end = fb__now_ns() + (int64_t)p->p_cfg.spin_us * 1000;
	do {
		st = atomic_load_explicit(&sr->sr_state, memory_order_acquire);
		if (st == FB__SLOT_DONE || st == FB__SLOT_FAILED)
			return fb__collect(p, slot);
		fb__cpu_relax();
	} while (fb__now_ns() < end);
	return 0;
}

static int
by_ticket(struct fb_pool *p, fb_ticket_t t, struct fb_result *res,
    void *buf, size_t cap, const void **view, int timeout_ms)
{
	int64_t deadline = -1;
	uint32_t slot;
	int r;

	for (;;) {
		if ((r = ticket_slot(p, t, &slot)) < 0)
			return r;
		switch (p->p_slots[slot].ms_state) {
		case FB__M_READY:
			return take(p, slot, res, buf, cap, view);
		case FB__M_INFLIGHT:
			break;
		default:
			return -ENOENT; /* reserved, or already viewed */
		}
		if (timeout_ms == 0)
			return -EAGAIN;
		if (deadline == -1 && timeout_ms > 0)
			deadline = deadline_of(timeout_ms);
		if (deadline >= 0 && fb__now_ns() >= deadline)
			return -ETIMEDOUT;
		if (p->p_cfg.spin_us > 0 && fb__spin_wait(p, slot) > 0)
			continue;
		if ((r = fb__wait_events(p, deadline)) < 0)
			return r;
	}
}

static int
oldest(struct fb_pool *p, struct fb_result *res, void *buf, size_t cap,
    const void **view, int timeout_ms)
{
	int64_t deadline = deadline_of(timeout_ms);
	struct fb__mslot *ms;
	int r;

	/* Only ask the kernel when nothing is waiting already. */
	if (TAILQ_EMPTY(&p->p_ready) && (r = fb_pool_process(p)) < 0)
		return r;
	for (;;) {
		if ((ms = TAILQ_FIRST(&p->p_ready)) != NULL)
			return take(p, (uint32_t)(ms - p->p_slots), res, buf,
			    cap, view);
		if (p->p_inflight == 0)
			return -ENOENT;
		if (deadline >= 0 && fb__now_ns() >= deadline)
			return -ETIMEDOUT;
		if ((r = fb__wait_events(p, deadline)) < 0)
			return r;
	}
}

int
fb_pool_result(struct fb_pool *p, fb_ticket_t t, struct fb_result *res,
    void *buf, size_t cap)
{
	return by_ticket(p, t, res, buf, cap, NULL, 0);
}

int
fb_pool_wait(struct fb_pool *p, fb_ticket_t t, struct fb_result *res,
    void *buf, size_t cap, int timeout_ms)
{
	return by_ticket(p, t, res, buf, cap, NULL, timeout_ms);
}

int
fb_pool_wait_view(struct fb_pool *p, fb_ticket_t t, struct fb_result *res,
    const void **data, int timeout_ms)
{
	return by_ticket(p, t, res, NULL, 0, data, timeout_ms);
}

int
fb_pool_next(struct fb_pool *p, struct fb_result *res, void *buf, size_t cap,
    int timeout_ms)
{
	return oldest(p, res, buf, cap, NULL, timeout_ms);
}

int
fb_pool_next_view(struct fb_pool *p, struct fb_result *res,
    const void **data, int timeout_ms)
{
	return oldest(p, res, NULL, 0, data, timeout_ms);
}

int
fb_pool_release(struct fb_pool *p, fb_ticket_t t)
{
	uint32_t slot;
	int r;

	if ((r = ticket_slot(p, t, &slot)) < 0)
		return r;
	if (p->p_slots[slot].ms_state != FB__M_VIEWED &&
	    p->p_slots[slot].ms_state != FB__M_RESERVED)
		return -ENOENT;
	free_slot(p, slot);
	return 0;
}

unsigned
fb_pool_pending(const struct fb_pool *p)
{
	return p->p_cfg.slots - p->p_nfree;
}
