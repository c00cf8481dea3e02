/*
 * task.c - the master's side of a task's life: a slot is taken, its task
 * dispatched to a worker (or parked until one lives), its records flushed,
 * its completion collected from the board and checked, and the slot freed.
 * Also what happens to the tasks of a worker that died, and which running
 * task is past its deadline.
 *
 * Everything decided here comes from the master's own records (struct
 * fb__mslot, struct fb__worker).  The board is read only to learn that a
 * worker finished a task, through one compare of the slot's word against
 * the sequence the master sent, and what it wrote then is range-checked.
 */
#include <sys/types.h>
#include <sys/epoll.h>

#include <sys/ioctl.h>

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "internal.h"

static inline int fb__dispatch(struct fb_pool *, uint32_t)
    __attribute__((always_inline));
static inline void fb__complete(struct fb_pool *, uint32_t, enum fb_outcome,
    int, size_t) __attribute__((always_inline));

static int
pick_worker(struct fb_pool *p)
{
	struct fb__worker *w;
	unsigned i, k, best = 0, n = p->p_nworkers;
	int found = 0;

	/* From p_rr on, wrapping by a compare, not a division per worker
	 * (p_rr can be past the end after a shrink). */
	i = p->p_rr < n ? p->p_rr : 0;
	for (k = 0; k < n; k++, i = i + 1 == n ? 0 : i + 1) {
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
 * slot waits on p_pending until a worker is spawned.
 */
static inline int
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
	ms->ms_sendno = ++p->p_sendno;
	/* A batch reads the coarse clock once: it ticks in milliseconds, a
	 * batch is sent in microseconds. */
	ms->ms_sent_ns = p->p_batch_ns != 0 ? p->p_batch_ns : fb__coarse_ns();
	p->p_clock_ns = ms->ms_sent_ns;
	sr->sr_worker = (uint16_t)wi;
	sr->sr_code = ms->ms_code;
	sr->sr_len = ms->ms_len;
	sr->sr_udata = ms->ms_udata;
	atomic_store_explicit(&sr->sr_word, FB__WORD(ms->ms_seq,
	    FB__SLOT_QUEUED), memory_order_release);
	fb__trace(&p->p_board, FB_TRACE_SLOT, slot, (uint32_t)wi, ms->ms_seq,
	    ms->ms_attempts == 0 ? FB_SLOT_FREE : FB_SLOT_RUNNING,
	    FB_SLOT_QUEUED, ms->ms_attempts == 0 ? FB_CAUSE_SUBMIT :
	    FB_CAUSE_RETRY);
	rec.r_slot = slot;
	rec.r_aux = ms->ms_code;
	rec.r_seq = ms->ms_seq;
	if (w->w_inflight++ == 0) {
		w->w_head_ns = ms->ms_sent_ns;
		if (p->p_batch_ns != 0) { /* a batch's run to an idle worker */
			w->w_run_t0 = -1;
			w->w_run_done = 0;
		}
	}
	w->w_tasks_sent++;
	if (w->w_recycle_at != 0 && w->w_tasks_sent >= w->w_recycle_at) {
		w->w_active = 0; /* recycled: retired after the flush */
		p->p_retiring = 1;
	}
	if (!w->w_dirty) {
		w->w_dirty = 1;
		p->p_dirty[p->p_ndirty++] = (unsigned)wi;
	}
	w->w_queued += sizeof(rec);
	ms->ms_pipe_end = w->w_queued;
	return fb__outbox_put(&w->w_out, &rec);
}

/* Hand tasks that waited for a live worker to the workers there are. */
int
fb__dispatch_pending(struct fb_pool *p)
{
	struct fb__mslot *ms;
	int r;

	while ((ms = TAILQ_FIRST(&p->p_pending)) != NULL) {
		TAILQ_REMOVE(&p->p_pending, ms, ms_link);
		if ((r = fb__dispatch(p, (uint32_t)(ms - p->p_slots))) < 0)
			return r;
		if (ms->ms_worker == UINT32_MAX)
			break; /* went back on the queue: nobody alive */
	}
	return 0;
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

/* The slot's payload is in place: mark it in flight and dispatch it. */
int
fb__launch(struct fb_pool *p, uint32_t slot, uint32_t code, size_t len)
{
	struct fb_job job;

	memset(&job, 0, sizeof(job));
	job.j_code = code;
	job.j_len = len;
	return fb__launch_job(p, slot, &job);
}

int
fb__launch_job(struct fb_pool *p, uint32_t slot, const struct fb_job *job)
{
	struct fb__mslot *ms = &p->p_slots[slot];
	int r;

	ms->ms_code = job->j_code;
	ms->ms_len = (uint32_t)job->j_len;
	ms->ms_udata = job->j_udata;
	ms->ms_state = FB__M_INFLIGHT;
	ms->ms_attempts = 0;
	ms->ms_retries = job->j_retries == FB_RETRIES_NONE ? 0 :
	    job->j_retries > 0 ? (unsigned)job->j_retries : p->p_cfg.retries;
	ms->ms_outcome = FB_DONE;
	ms->ms_status = 0;
	ms->ms_wait_status = 0;
	ms->ms_cancel = 0;
	ms->ms_result_len = 0;
	ms->ms_run_ns = 0;
	ms->ms_cpu_ns = 0;
	ms->ms_maxrss_kb = 0;
	ms->ms_started_ns = 0;
	ms->ms_ended_ns = 0;
	ms->ms_timedout = 0;
	ms->ms_sent_ns = 0;
	ms->ms_timeout_ms = job->j_timeout_ms != 0 ? job->j_timeout_ms :
	    task_timeout(p, job->j_code);
	if (ms->ms_timeout_ms != 0 && p->p_timed++ == 0)
		p->p_rearm = 1; /* deadline checks start */
	p->p_inflight++;
	p->p_ctr.c_submitted++;
	r = fb__dispatch(p, slot);
	/* Sent at once, it was queued when it was sent (one clock read); a
	 * task parked for a worker reads the clock itself. */
	ms->ms_queued_ns = ms->ms_sent_ns != 0 ? ms->ms_sent_ns :
	    fb__coarse_ns();
	return r;
}

/* Write what worker index's pipe takes of its outbox.  Returns 1 when the
 * outbox is empty, 0 when the pipe is full, or -errno. */
int
fb__flush_worker(struct fb_pool *p, unsigned index)
{
	struct fb__worker *w = &p->p_workers[index];
	size_t before = w->w_out.ob_len;
	int r;

	if (before == 0 || w->w_task[1] == -1)
		return 1;
	r = fb__outbox_flush(&w->w_out, w->w_task[1]);
	w->w_written += before - w->w_out.ob_len;
	return r;
}

/* One write per worker with queued records (only those: the dirty list);
 * a full pipe is retried when epoll says it drained. */
int
fb__flush_all(struct fb_pool *p)
{
	struct epoll_event ev;
	struct fb__worker *w;
	unsigned i, k, keep = 0;
	int64_t now = 0;
	int r;

	for (k = 0; k < p->p_ndirty; k++) {
		i = p->p_dirty[k];
		w = &p->p_workers[i];
		if (w->w_out.ob_len == 0 || w->w_task[1] == -1) {
			w->w_dirty = 0;
			continue;
		}
		if (w->w_run_t0 == -1) /* a batch run starts: time it */
			w->w_run_t0 = now != 0 ? now : (now = fb__now_ns());
		if ((r = fb__flush_worker(p, i)) < 0) {
			/* EPIPE cannot happen (the master holds the read
			 * end); anything else leaves the records queued for
			 * the next flush, or for the worker's death. */
			p->p_dirty[keep++] = i;
			continue;
		}
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
	return 0;
}

/*
 * A worker that a batch run reached idle is idle again: what it did cost
 * this much a task, hand-over, wake-up and the master's own delay in
 * noticing included (an upper bound: the error is on the side of
 * spreading).  The pool keeps a moving average (1/8 weight).
 */
static void
cost_sample(struct fb_pool *p, struct fb__worker *w)
{
	int64_t d = fb__now_ns() - w->w_run_t0, s;

	w->w_run_t0 = 0;
	if (d <= 0)
		return;
	s = d / (int64_t)w->w_run_done;
	p->p_task_cost_ns = p->p_task_cost_ns == 0 ? s :
	    p->p_task_cost_ns + (s - p->p_task_cost_ns) / 8;
	if (p->p_task_cost_ns <= 0)
		p->p_task_cost_ns = 1;
}

/* Mark a slot complete.  result_len is already checked. */
static inline void
fb__complete(struct fb_pool *p, uint32_t slot, enum fb_outcome oc, int status,
    size_t result_len)
{
	struct fb__mslot *ms = &p->p_slots[slot];
	struct fb__worker *w;

	if (ms->ms_worker < p->p_cfg.max_workers) {
		w = &p->p_workers[ms->ms_worker];
		if (w->w_inflight > 0)
			w->w_inflight--;
		/* Only what the worker ran counts towards a sample. */
		if (oc == FB_CANCELLED || oc == FB_CRASHED ||
		    oc == FB_TIMEDOUT)
			w->w_run_t0 = 0;
		else if (w->w_run_t0 > 0) {
			w->w_run_done++;
			if (w->w_inflight == 0)
				cost_sample(p, w);
		}
		/* Workers run their tasks in order: the next one has
		 * started by now at the latest. */
		if (p->p_timed > 0)
			w->w_head_ns = fb__coarse_ns();
	}
	if (ms->ms_timeout_ms != 0)
		p->p_timed--;
	ms->ms_state = FB__M_READY;
	ms->ms_outcome = oc;
	if (oc == FB_CRASHED || oc == FB_TIMEDOUT ||
	    (oc == FB_CANCELLED && ms->ms_cancel)) {
		ms->ms_wait_status = status;
		ms->ms_status = 0;
	} else
		ms->ms_status = oc == FB_FAILED ? status : 0;
	ms->ms_result_len = result_len;
	if (ms->ms_ended_ns == 0)
		ms->ms_ended_ns = fb__coarse_ns();
	if (ms->ms_started_ns == 0 && oc != FB_CANCELLED)
		ms->ms_started_ns = ms->ms_sent_ns;
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
 * If the board says the in-flight task in slot finished, with the very
 * sequence the master sent, complete it from what the worker wrote, after
 * checking every field.  Returns 1 if so, 0 if not (yet).
 */
int
fb__collect(struct fb_pool *p, uint32_t slot)
{
	struct fb__mslot *ms = &p->p_slots[slot];
	struct fb__slot_row *sr = &p->p_board.b_slots[slot];
	enum fb_outcome oc;
	uint64_t word;
	uint32_t st, len;
	int64_t t0, t1, now;

	if (ms->ms_state != FB__M_INFLIGHT || ms->ms_worker == UINT32_MAX)
		return 0;
	word = atomic_load_explicit(&sr->sr_word, memory_order_acquire);
	st = FB__WORD_STATE(word);
	if ((st != FB__SLOT_DONE && st != FB__SLOT_FAILED) ||
	    FB__WORD_SEQ(word) != ms->ms_seq)
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
	t0 = sr->sr_t_start;
	t1 = sr->sr_t_end;
	/* Worker-written times: unsigned arithmetic, no overflow; believed
	 * only when they fall between the dispatch and now (the coarse clock
	 * lags the precise one by up to a tick either way). */
	ms->ms_run_ns = t1 > t0 ? (uint64_t)t1 - (uint64_t)t0 : 0;
	/* Any past reading is <= now: if t1 passes the bound with it, it
	 * passes with a fresh one, which is read only when it does not. */
	now = p->p_clock_ns;
	if (t1 > now + FB__CLOCK_SLACK_NS)
		now = p->p_clock_ns = fb__coarse_ns();
	if (t0 >= ms->ms_sent_ns - FB__CLOCK_SLACK_NS && t0 <= t1 &&
	    t1 <= now + FB__CLOCK_SLACK_NS) {
		ms->ms_started_ns = t0;
		ms->ms_ended_ns = t1;
	} else {
		ms->ms_started_ns = ms->ms_sent_ns;
		ms->ms_ended_ns = p->p_clock_ns = fb__coarse_ns();
		ms->ms_run_ns = 0;
	}
	ms->ms_cpu_ns = sr->sr_cpu_ns;
	ms->ms_maxrss_kb = sr->sr_maxrss_kb;
	ms->ms_attempts++;
	fb__trace(&p->p_board, FB_TRACE_SLOT, slot, ms->ms_worker, ms->ms_seq,
	    FB_SLOT_RUNNING, FB_SLOT_COMPLETE, FB_CAUSE_COLLECT);
	fb__complete(p, slot, oc, oc == FB_FAILED ? sr->sr_status : 0,
	    oc == FB_BADRESULT ? 0 : len);
	return 1;
}

/* The board is the truth: collect every in-flight slot it says is
 * finished, whatever the completion pipe said. */
int
fb__collect_all(struct fb_pool *p)
{
	uint32_t s;
	int done = 0;

	for (s = 0; s < p->p_cfg.slots; s++)
		if (p->p_slots[s].ms_state == FB__M_INFLIGHT)
			done += fb__collect(p, s);
	return done;
}

/* Tasks that never reached a worker end FB_CANCELLED. */
void
fb__cancel_pending(struct fb_pool *p)
{
	struct fb__mslot *ms;

	while ((ms = TAILQ_FIRST(&p->p_pending)) != NULL) {
		TAILQ_REMOVE(&p->p_pending, ms, ms_link);
		fb__complete(p, (uint32_t)(ms - p->p_slots), FB_CANCELLED, 0,
		    0);
	}
}

/*
 * How far worker index read its task stream: the bytes the master wrote,
 * less what is still in the pipe (the master holds the read end too, and
 * the worker is dead, so the count is final).
 */
static uint64_t
consumed(const struct fb__worker *w)
{
	int left = 0;

	if (w->w_task[0] == -1 || ioctl(w->w_task[0], FIONREAD, &left) == -1 ||
	    left < 0 || (uint64_t)left > w->w_written)
		left = 0; /* unknown: assume it read everything */
	return w->w_written - (uint64_t)left;
}

/*
 * Worker index is dead (wait status st) and no longer active; its task
 * pipe is still open.  Settle every task the master had sent it.  What it
 * finished is collected.  Of the rest, records it never read (still in the
 * pipe, or never written) cannot have run; of those it read, it can have
 * been running only the oldest (workers run their records in order), and
 * only if it got as far as being ready.  So at most that one is charged an
 * attempt, or, for a worker stopped for a timeout, only the task it was
 * stopped for.  The board's word on whether a task started is never asked:
 * a handler can write anything there.  A charged task is retried while the
 * budget and retry allow, else reported; the others go back to the queue,
 * or are cancelled when there is no retry.
 */
void
fb__settle_worker(struct fb_pool *p, unsigned index, int st, int retry)
{
	struct fb__worker *w = &p->p_workers[index];
	struct fb__mslot *ms;
	uint64_t got = consumed(w), head_no = UINT64_MAX;
	uint32_t s, head = UINT32_MAX;
	int charged;

	for (s = 0; s < p->p_cfg.slots; s++) {
		ms = &p->p_slots[s];
		if (ms->ms_state != FB__M_INFLIGHT || ms->ms_worker != index)
			continue;
		if (fb__collect(p, s))
			continue; /* it finished before the worker died */
		if (ms->ms_pipe_end <= got && ms->ms_sendno < head_no) {
			head_no = ms->ms_sendno;
			head = s;
		}
	}
	if (!w->w_ready)
		head = UINT32_MAX; /* never ran a handler */
	w->w_out.ob_len = 0;
	for (s = 0; s < p->p_cfg.slots; s++) {
		ms = &p->p_slots[s];
		if (ms->ms_state != FB__M_INFLIGHT || ms->ms_worker != index)
			continue;
		charged = w->w_stopping ? ms->ms_timedout || ms->ms_cancel :
		    s == head;
		if (charged) {
			ms->ms_attempts++;
			ms->ms_run_ns = (uint64_t)(fb__coarse_ns() -
			    ms->ms_sent_ns);
			if (ms->ms_cancel || ms->ms_timedout) {
				fb__trace(&p->p_board, FB_TRACE_SLOT, s, index,
				    ms->ms_seq, FB_SLOT_RUNNING,
				    FB_SLOT_COMPLETE, ms->ms_cancel ?
				    FB_CAUSE_CANCEL : FB_CAUSE_TIMEOUT);
				fb__complete(p, s, ms->ms_cancel ?
				    FB_CANCELLED : FB_TIMEDOUT, st, 0);
				continue;
			}
			if (!retry || ms->ms_attempts > ms->ms_retries) {
				fb__trace(&p->p_board, FB_TRACE_SLOT, s, index,
				    ms->ms_seq, FB_SLOT_RUNNING,
				    FB_SLOT_COMPLETE, FB_CAUSE_CRASH);
				fb__complete(p, s, FB_CRASHED, st, 0);
				continue;
			}
			p->p_ctr.c_retried++;
		} else if (!retry) {
			fb__complete(p, s, FB_CANCELLED, 0, 0);
			continue;
		}
		(void)fb__dispatch(p, s);
	}
	w->w_inflight = 0;
	w->w_run_t0 = 0;
}

/*
 * Workers whose oldest unfinished task has run past its deadline, counted
 * from when the master last knew the worker free to start it (the task's
 * dispatch, or the completion of the task before it).  A task the board
 * shows finished is collected instead.  Marks each such task timed out,
 * writes the workers' indices to out (max_workers entries) and returns how
 * many.  Workers already stopping are skipped.
 */
unsigned
fb__overdue(struct fb_pool *p, int64_t now, unsigned *out)
{
	struct fb__mslot *ms;
	struct fb__worker *w;
	uint32_t s, i, *head = p->p_head;
	unsigned n = 0;
	int64_t start;

	for (i = 0; i < p->p_nworkers; i++)
		head[i] = UINT32_MAX;
	for (s = 0; s < p->p_cfg.slots; s++) {
		ms = &p->p_slots[s];
		if (ms->ms_state != FB__M_INFLIGHT ||
		    ms->ms_worker >= p->p_nworkers)
			continue;
		i = ms->ms_worker;
		if (head[i] == UINT32_MAX ||
		    ms->ms_sendno < p->p_slots[head[i]].ms_sendno)
			head[i] = s;
	}
	for (i = 0; i < p->p_nworkers; i++) {
		w = &p->p_workers[i];
		if (head[i] == UINT32_MAX || w->w_stopping || w->w_pid == -1)
			continue;
		ms = &p->p_slots[head[i]];
		if (ms->ms_timeout_ms == 0)
			continue;
		start = w->w_head_ns > ms->ms_sent_ns ? w->w_head_ns :
		    ms->ms_sent_ns;
		if (now - start < (int64_t)ms->ms_timeout_ms * 1000000)
			continue;
		if (fb__collect(p, head[i]))
			continue; /* finished; its successor is judged later */
		ms->ms_timedout = 1;
		fb__log(p, FB_LOG_WARN, "task in slot %u timed out after %u "
		    "ms; stopping worker %u", head[i], ms->ms_timeout_ms, i);
		out[n++] = i;
	}
	return n;
}

/*
 * Cancel the task in slot (in flight).  Not yet started: it ends now, and
 * the compare-and-swap on its word makes its worker's claim fail.  Running
 * (or being published): -EBUSY; with FB_CANCEL_RUNNING the caller stops
 * the worker (this returns 1 for that).  Finished but not collected: it is
 * collected, -EALREADY.
 */
int
fb__cancel(struct fb_pool *p, uint32_t slot, int flags)
{
	struct fb__mslot *ms = &p->p_slots[slot];
	struct fb__slot_row *sr = &p->p_board.b_slots[slot];
	uint64_t want = FB__WORD(ms->ms_seq, FB__SLOT_QUEUED);
	uint32_t st;

	if (ms->ms_cancel)
		return -EALREADY;
	if (ms->ms_worker == UINT32_MAX) { /* waiting for a worker */
		TAILQ_REMOVE(&p->p_pending, ms, ms_link);
		fb__complete(p, slot, FB_CANCELLED, 0, 0);
		return 0;
	}
	if (atomic_compare_exchange_strong_explicit(&sr->sr_word, &want,
	    FB__WORD(ms->ms_seq, FB__SLOT_CANCELLED), memory_order_acq_rel,
	    memory_order_acquire)) {
		fb__trace(&p->p_board, FB_TRACE_SLOT, slot, ms->ms_worker,
		    ms->ms_seq, FB_SLOT_QUEUED, FB_SLOT_COMPLETE,
		    FB_CAUSE_CANCEL);
		fb__complete(p, slot, FB_CANCELLED, 0, 0);
		return 0;
	}
	st = FB__WORD_STATE(want);
	if (FB__WORD_SEQ(want) == ms->ms_seq &&
	    (st == FB__SLOT_DONE || st == FB__SLOT_FAILED) &&
	    fb__collect(p, slot))
		return -EALREADY;
	if (!(flags & FB_CANCEL_RUNNING))
		return -EBUSY;
	ms->ms_cancel = 1;
	return 1;
}
