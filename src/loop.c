/*
 * loop.c - the master's event loop: wait (with a deadline that survives
 * EINTR), handle what epoll reports (completions, worker deaths, timers,
 * writable pipes), read the completion stream, keep the timer armed.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

void
fb__arm_timer(struct fb_pool *p)
{
	struct itimerspec its;
	int64_t now = fb__coarse_ns(), next, t;

	p->p_rearm = 0;
	next = fb__next_due(p, now);
	memset(&its, 0, sizeof(its));
	if (next != 0) {
		t = next > now ? next - now : 1;
		its.it_value.tv_sec = t / 1000000000;
		its.it_value.tv_nsec = t % 1000000000;
	}
	(void)timerfd_settime(p->p_timerfd, 0, &its, NULL);
}

/* Stray bytes in the completion pipe: throw away everything read and
 * everything still in the pipe (writes are atomic, so what comes after is
 * aligned again), then learn the truth from the board. */
static int
resync(struct fb_pool *p)
{
	ssize_t r;

	fb__log(p, FB_LOG_WARN, "completion pipe out of step (stray bytes); "
	    "reading the board");
	do {
		p->p_done_rd.rd_have = 0;
		r = fb__reader_fill(&p->p_done_rd, p->p_done[0]);
	} while (r > 0);
	p->p_done_rd.rd_have = 0;
	return fb__collect_all(p);
}

/* Act on one checked completion record.  Returns tasks completed. */
static int
on_done(struct fb_pool *p, const struct fb__done *d)
{
	struct fb__mslot *ms;
	struct fb__worker *w;
	unsigned wi = d->d_worker & ~FB__DONE_READY;

	if (d->d_worker & FB__DONE_READY) {
		w = &p->p_workers[wi];
		if (w->w_pid != -1 && d->d_seq == w->w_generation)
			w->w_ready = 1;
		return 0;
	}
	ms = &p->p_slots[d->d_slot];
	/* Stale records are normal (a dead worker's, a spun-for slot's). */
	if (ms->ms_state != FB__M_INFLIGHT || ms->ms_seq != d->d_seq ||
	    ms->ms_worker != wi)
		return 0;
	if (!fb__collect(p, d->d_slot))
		return 0;
	w = &p->p_workers[wi];
	if (ms->ms_pid == w->w_pid)
		w->w_ready = 1; /* it ran a task: it was ready */
	return 1;
}

static int
done_ok(const struct fb_pool *p, const struct fb__done *d)
{
	if (!fb__done_valid(p->p_key, d))
		return 0;
	if ((d->d_worker & ~FB__DONE_READY) >= p->p_cfg.max_workers)
		return 0;
	if (d->d_worker & FB__DONE_READY)
		return 1;
	return d->d_slot < p->p_cfg.slots && d->d_seq != 0 &&
	    d->d_seq <= FB__SEQ_MASK;
}

/*
 * Read the completion pipe until it is empty.  Records are hints, checked
 * one by one; one that fails its check, or a partial record left when the
 * pipe is empty (workers write whole records atomically), means bytes that
 * are not records got in: resync.
 */
int
fb__drain_done(struct fb_pool *p)
{
	struct fb__done recs[FB__RBUF_RECS];
	struct fb__reader *rd = &p->p_done_rd;
	size_t i, n, room;
	ssize_t r;
	int done = 0, more;

	for (more = 1; more;) {
		room = sizeof(rd->rd_buf) - rd->rd_have;
		r = fb__reader_fill(rd, p->p_done[0]);
		if (r == -EAGAIN || r == 0)
			break;
		if (r < 0 && r != -ENOBUFS)
			return (int)r;
		/* A read that did not fill the buffer emptied the pipe. */
		more = r < 0 || (size_t)r == room;
		n = fb__reader_take(rd, recs, FB__RBUF_RECS);
		for (i = 0; i < n; i++) {
			if (!done_ok(p, &recs[i]))
				return done + resync(p);
			done += on_done(p, &recs[i]);
		}
	}
	if (rd->rd_have != 0)
		return done + resync(p);
	return done;
}

/* Show the counters to inspectors (the board's copy). */
void
fb__publish(struct fb_pool *p)
{
	p->p_unpublished = 0;
	fb__board_publish(&p->p_board, &p->p_ctr, p->p_cfg.slots - p->p_nfree,
	    p->p_inflight);
}

/*
 * Send what is queued, close the pipes of retiring workers, re-arm the
 * timer if something changed it: the end of every turn of the loop.  The
 * counters are shown every 16th turn, and always before the master sleeps
 * (fb__wait_events), after it handled what was ready (fb__process) and on
 * fb_pool_flush(): a copy per turn cost 3% of a one-by-one task.
 */
int
fb__sync(struct fb_pool *p)
{
	int r;

	if ((r = fb__flush_all(p)) < 0)
		return r;
	if (p->p_retiring)
		(void)fb__retire(p);
	if (p->p_rearm)
		fb__arm_timer(p);
	if (++p->p_unpublished >= 16)
		fb__publish(p);
	return 0;
}

/* Act on what epoll reported. */
static int
handle_events(struct fb_pool *p, const struct epoll_event *evs, int n)
{
	uint32_t kind, idx;
	int i, r, done = 0, drained = 0;

	for (i = 0; i < n; i++) {
		kind = (uint32_t)(evs[i].data.u64 >> 32);
		idx = (uint32_t)evs[i].data.u64;
		switch (kind) {
		case FB__EV_DONE:
		case FB__EV_PIDFD:
			/* Completions first: a worker that finished a task
			 * and then died must not have it called crashed, and
			 * its ready record must count. */
			if (!drained) {
				if ((r = fb__drain_done(p)) < 0)
					return r;
				done += r;
				drained = 1;
			}
			if (kind == FB__EV_PIDFD && fb__reap(p, idx, 0) == 1 &&
			    p->p_workers[idx].w_respawn_at_ns == 1)
				(void)fb__supervise(p, fb__coarse_ns());
			break;
		case FB__EV_TIMER:
			{
				uint64_t junk;

				while (read(p->p_timerfd, &junk,
				    sizeof(junk)) > 0)
					;
			}
			if ((r = fb__supervise(p, fb__coarse_ns())) < 0)
				return r;
			break;
		case FB__EV_OUT:
			break; /* flushed below */
		}
	}
	if ((r = fb__sync(p)) < 0)
		return r;
	return done;
}

/* Handle everything ready now, without blocking. */
int
fb__process(struct fb_pool *p)
{
	struct epoll_event evs[64];
	int n;

	do
		n = epoll_wait(p->p_epfd, evs, 64, 0);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -errno;
	n = handle_events(p, evs, n);
	fb__publish(p);
	return n;
}

/* Flush, then sleep in epoll until something happens or the deadline
 * (-1: none) passes, then handle it.  An interrupted sleep resumes with
 * the time that is left, not the time it started with. */
int
fb__wait_events(struct fb_pool *p, int64_t deadline)
{
	struct epoll_event evs[64];
	int64_t left;
	int ms, n, r;

	if ((r = fb__sync(p)) < 0)
		return r;
	fb__publish(p); /* inspectors see the state it sleeps in */
	for (;;) {
		ms = -1;
		if (deadline >= 0) {
			left = deadline - fb__now_ns();
			ms = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
		}
		n = epoll_wait(p->p_epfd, evs, 64, ms);
		if (n >= 0)
			break;
		if (errno != EINTR)
			return -errno;
	}
	return handle_events(p, evs, n);
}

/*
 * Watch the slot's word for up to spin_us instead of sleeping; collect it
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
		st = FB__WORD_STATE(atomic_load_explicit(&sr->sr_word,
		    memory_order_acquire));
		if ((st == FB__SLOT_DONE || st == FB__SLOT_FAILED) &&
		    fb__collect(p, slot)) {
			p->p_spun++;
			return 1;
		}
		if (st == FB__SLOT_DONE || st == FB__SLOT_FAILED)
			return 0;
		fb__spin_pause();
	} while (fb__now_ns() < end);
	return 0;
}
