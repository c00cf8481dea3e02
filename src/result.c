/*
 * result.c - taking results: by ticket or oldest first, copied out or
 * viewed in place until released.  Waiting runs the event loop.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static int64_t
deadline_of(int timeout_ms)
{
	if (timeout_ms <= 0)
		return timeout_ms < 0 ? -1 : 0;
	return fb__now_ns() + (int64_t)timeout_ms * 1000000;
}

/* Take a READY slot: copy its result out (view == NULL) or hand out a
 * pointer to it and keep the slot until fb_pool_release(). */
static int
take(struct fb_pool *p, uint32_t slot, struct fb_result *ures,
    size_t res_size, void *buf, size_t cap, const void **view)
{
	struct fb__mslot *ms = &p->p_slots[slot];
	struct fb_result res;
	int r;

	/* This layout, or a newer one: filled in place. */
	if (res_size >= sizeof(res))
		fb__fill_result(p, slot, ures);
	else {
		fb__fill_result(p, slot, &res);
		if ((r = fb__copy_out(ures, res_size, &res, sizeof(res))) < 0)
			return r;
	}
	if (view != NULL) {
		TAILQ_REMOVE(&p->p_ready, ms, ms_link);
		ms->ms_state = FB__M_VIEWED;
		fb__trace(&p->p_board, FB_TRACE_SLOT, slot, ms->ms_worker,
		    ms->ms_seq, FB_SLOT_COMPLETE, FB_SLOT_HELD,
		    FB_CAUSE_TAKE);
		*view = fb__board_result(&p->p_board, slot);
		return 0;
	}
	if (ms->ms_result_len > cap)
		return -ENOBUFS;
	if (ms->ms_result_len > 0)
		memcpy(buf, fb__board_result(&p->p_board, slot),
		    ms->ms_result_len);
	TAILQ_REMOVE(&p->p_ready, ms, ms_link);
	fb__free_slot(p, slot);
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

/* The checks every taking call makes first. */
static int
taking(const struct fb_pool *p, const struct fb_result *res, const void *buf,
    size_t cap, const void **view)
{
	if (!fb__owner(p))
		return -EPERM;
	if (p->p_in_cb || p->p_cb != NULL)
		return -EBUSY; /* from a callback, or results go to one */
	if (res == NULL || (view == NULL && buf == NULL && cap > 0))
		return -EINVAL;
	return 0;
}

static int
by_ticket(struct fb_pool *p, fb_ticket_t t, struct fb_result *res,
    size_t res_size, void *buf, size_t cap, const void **view,
    int timeout_ms, int process)
{
	int64_t deadline = deadline_of(timeout_ms);
	uint32_t slot;
	int r;

	if ((r = taking(p, res, buf, cap, view)) < 0)
		return r;
	for (;;) {
		if ((r = ticket_slot(p, t, &slot)) < 0)
			return r;
		switch (p->p_slots[slot].ms_state) {
		case FB__M_READY:
			return take(p, slot, res, res_size, buf, cap, view);
		case FB__M_INFLIGHT:
			break;
		default:
			return -ENOENT; /* reserved, or already viewed */
		}
		if (!process)
			return -EAGAIN;
		if (deadline >= 0 && fb__now_ns() >= deadline) {
			/* A poll (0) still looks once. */
			if (process == 1 && timeout_ms == 0) {
				process = 2;
				if ((r = fb__process(p)) < 0)
					return r;
				continue;
			}
			return timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT;
		}
		if (p->p_cfg.spin_us > 0 && fb__spin_wait(p, slot) > 0)
			continue;
		if ((r = fb__wait_events(p, deadline)) < 0)
			return r;
	}
}

static int
oldest(struct fb_pool *p, struct fb_result *res, size_t res_size, void *buf,
    size_t cap, const void **view, int timeout_ms)
{
	int64_t deadline = deadline_of(timeout_ms);
	struct fb__mslot *ms;
	int r;

	if ((r = taking(p, res, buf, cap, view)) < 0)
		return r;
	/* Only ask the kernel when nothing is waiting already, and only here
	 * for a poll: a wait asks it once, in fb__wait_events(), which
	 * returns at once when something is ready. */
	if (TAILQ_EMPTY(&p->p_ready) && timeout_ms == 0 &&
	    (r = fb__process(p)) < 0)
		return r;
	for (;;) {
		if ((ms = TAILQ_FIRST(&p->p_ready)) != NULL)
			return take(p, (uint32_t)(ms - p->p_slots), res,
			    res_size, buf, cap, view);
		if (p->p_inflight == 0)
			return -ENOENT;
		if (deadline >= 0 && fb__now_ns() >= deadline)
			return -ETIMEDOUT;
		if ((r = fb__wait_events(p, deadline)) < 0)
			return r;
	}
}

int
fb_pool_result_sz(struct fb_pool *p, fb_ticket_t t, struct fb_result *res,
    size_t res_size, void *buf, size_t cap)
{
	return by_ticket(p, t, res, res_size, buf, cap, NULL, 0, 0);
}

int
fb_pool_wait_sz(struct fb_pool *p, fb_ticket_t t, struct fb_result *res,
    size_t res_size, void *buf, size_t cap, int timeout_ms)
{
	return by_ticket(p, t, res, res_size, buf, cap, NULL, timeout_ms, 1);
}

int
fb_pool_wait_view_sz(struct fb_pool *p, fb_ticket_t t, struct fb_result *res,
    size_t res_size, const void **data, int timeout_ms)
{
	if (data == NULL)
		return -EINVAL;
	return by_ticket(p, t, res, res_size, NULL, 0, data, timeout_ms, 1);
}

int
fb_pool_next_sz(struct fb_pool *p, struct fb_result *res, size_t res_size,
    void *buf, size_t cap, int timeout_ms)
{
	return oldest(p, res, res_size, buf, cap, NULL, timeout_ms);
}

int
fb_pool_next_view_sz(struct fb_pool *p, struct fb_result *res,
    size_t res_size, const void **data, int timeout_ms)
{
	if (data == NULL)
		return -EINVAL;
	return oldest(p, res, res_size, NULL, 0, data, timeout_ms);
}

/* Up to n views at once: wait for the first, take what else is ready. */
int
fb_pool_take_sz(struct fb_pool *p, struct fb_result *res, size_t res_size,
    const void **data, size_t n, int timeout_ms)
{
	struct fb__mslot *ms;
	size_t i;
	int r;

	if (data == NULL || n == 0 || res_size < sizeof(size_t))
		return -EINVAL;
	if ((r = oldest(p, res, res_size, NULL, 0, &data[0],
	    timeout_ms)) < 0)
		return r;
	for (i = 1; i < n && i < INT32_MAX; i++) {
		if ((ms = TAILQ_FIRST(&p->p_ready)) == NULL)
			break;
		if ((r = take(p, (uint32_t)(ms - p->p_slots),
		    (struct fb_result *)(void *)((unsigned char *)res +
		    i * res_size), res_size, NULL, 0, &data[i])) < 0)
			return r;
	}
	return (int)i;
}

int
fb_pool_release(struct fb_pool *p, fb_ticket_t t)
{
	uint32_t slot;
	int r;

	if (!fb__owner(p))
		return -EPERM;
	if ((r = ticket_slot(p, t, &slot)) < 0)
		return r;
	if (p->p_slots[slot].ms_state != FB__M_VIEWED &&
	    p->p_slots[slot].ms_state != FB__M_RESERVED)
		return -ENOENT;
	fb__free_slot(p, slot);
	return 0;
}
