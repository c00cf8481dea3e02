/*
 * fbside.c - the forkboard side of every scenario, written against the
 * public header only, as an embedder would.
 *
 * Every scenario checks its results: the no-op handler copies the 64-byte
 * payload (first word: the task's sequence number) to the result, the sum
 * handler returns the payload's 64-bit word sum, and the master compares
 * the total of what came back with the total of what it sent.
 */
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forkboard.h"
#include "bench.h"

#define FBS_READY_MAX_NS 20000000000LL	/* give up waiting for workers */

/* One scenario's pool and its running totals. */
struct fbs {
	struct fb_pool	*f_pool;
	unsigned	 f_slots;
	size_t		 f_len;		/* payload bytes per task */
	uint64_t	 f_seq;		/* next task number */
	uint64_t	 f_sent;	/* total of the expected results */
	uint64_t	 f_got;		/* total of the results */
	uint64_t	 f_done;
	int		 f_bad;		/* a task did not end DONE */
};

static int
h_noop(struct fb_task *t, void *arg)
{
	(void)arg;
	memcpy(t->t_result, t->t_payload, t->t_len);
	t->t_result_len = t->t_len;
	return 0;
}

static int
h_sum(struct fb_task *t, void *arg)
{
	uint64_t s;

	(void)arg;
	s = b_sum64(t->t_payload, t->t_len);
	memcpy(t->t_result, &s, sizeof(s));
	t->t_result_len = sizeof(s);
	return 0;
}

static int
fbs_fail(const char *what, int r)
{
	warnx("forkboard: %s: %s", what, fb_strerror(r));
	return -1;
}

/* What the observability variants switch on in the next fbs_open() (each
 * scenario runs in a process of its own). */
#define FBS_TRACE	1
#define FBS_RUSAGE	2
#define FBS_CLOCK_BATCH	4
static int fbs_extra;

/* Create and start a pool: n workers, slots of len payload bytes. */
static int
fbs_open(struct fbs *f, unsigned n, unsigned slots, size_t len,
    unsigned spin_us)
{
	struct fb_config cfg;
	int r;

	memset(f, 0, sizeof(*f));
	f->f_slots = slots;
	f->f_len = len;
	fb_config_init(&cfg);
	cfg.workers = n;
	cfg.slots = slots;
	cfg.payload_size = len;
	cfg.result_size = B_SMALL;
	cfg.spin_us = spin_us;
	if (fbs_extra & FBS_TRACE)
		cfg.trace_records = 4096;
	if (fbs_extra & FBS_RUSAGE)
		cfg.rusage = 1;
	if (fbs_extra & FBS_CLOCK_BATCH)
		cfg.task_clock = FB_CLOCK_BATCH;
	if ((r = fb_pool_create(&f->f_pool, &cfg)) < 0)
		return fbs_fail("create", r);
	if ((r = fb_pool_register(f->f_pool, B_CODE_NOOP, h_noop, NULL)) < 0 ||
	    (r = fb_pool_register(f->f_pool, B_CODE_SUM, h_sum, NULL)) < 0 ||
	    (r = fb_pool_start(f->f_pool)) < 0) {
		fb_pool_destroy(f->f_pool);
		f->f_pool = NULL;
		return fbs_fail("start", r);
	}
	return 0;
}

/* Stop the pool; -1 if anything went wrong during the run. */
static int
fbs_close(struct fbs *f, int r)
{
	int s;

	if (f->f_pool == NULL)
		return -1;
	if ((s = fb_pool_shutdown(f->f_pool, 5000)) < 0 && r == 0)
		r = fbs_fail("shutdown", s);
	fb_pool_destroy(f->f_pool);
	f->f_pool = NULL;
	if (r == 0 && (f->f_bad || f->f_got != f->f_sent)) {
		warnx("forkboard: wrong results");
		r = -1;
	}
	return r;
}

/* Account for one task's result (first word of data). */
static void
fbs_take(struct fbs *f, const struct fb_result *res, const void *data)
{
	uint64_t v;

	if (res->r_outcome != FB_DONE || res->r_len < sizeof(v)) {
		f->f_bad = 1;
		return;
	}
	memcpy(&v, data, sizeof(v));
	f->f_got += v;
	f->f_done++;
}

/* The next task's payload, written in buf; accounts what it must yield. */
static void
fbs_make(struct fbs *f, void *buf)
{
	b_fill(buf, f->f_len, f->f_seq);
	f->f_sent += f->f_len == B_SMALL ? f->f_seq :
	    b_fill_sum(f->f_len, f->f_seq);
	f->f_seq++;
}

/* Take every result there is, waiting for the first: the counterpart of
 * the raw loop's one read of the completion pipe. */
static int
fbs_drain_views(struct fbs *f)
{
	struct fb_result res;
	const void *data;
	int r, timeout = -1;

	while ((r = fb_pool_next_view(f->f_pool, &res, &data, timeout)) == 0) {
		fbs_take(f, &res, data);
		if ((r = fb_pool_release(f->f_pool, res.r_ticket)) < 0)
			return fbs_fail("release", r);
		timeout = 0;
	}
	if (r == -ETIMEDOUT || r == -ENOENT)
		return 0;
	return fbs_fail("next_view", r);
}

/* The batched counterpart: every ready result in one fb_pool_take() (it
 * waits for the first), each released after it is checked. */
static int
fbs_drain_take(struct fbs *f)
{
	static struct fb_result res[B_BATCH];
	const void *data[B_BATCH];
	int i, k, r;

	if ((k = fb_pool_take(f->f_pool, res, data, B_BATCH, -1)) < 0)
		return k == -ENOENT ? 0 : fbs_fail("take", k);
	for (i = 0; i < k; i++) {
		fbs_take(f, &res[i], data[i]);
		if ((r = fb_pool_release(f->f_pool, res[i].r_ticket)) < 0)
			return fbs_fail("release", r);
	}
	return 0;
}

/* Fill the free slots with one batch (at most B_BATCH jobs). */
static int
fbs_send_batch(struct fbs *f, struct fb_job *jobs,
    unsigned char (*pay)[B_SMALL], fb_ticket_t *tickets)
{
	unsigned i, n = f->f_slots - fb_pool_slots_used(f->f_pool);
	uint64_t seq = f->f_seq, sent = f->f_sent;
	int k;

	if (n > B_BATCH)
		n = B_BATCH;
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		fbs_make(f, pay[i]);
		jobs[i].j_code = B_CODE_NOOP;
		jobs[i].j_payload = pay[i];
		jobs[i].j_len = B_SMALL;
	}
	if ((k = fb_pool_submit_batch(f->f_pool, jobs, n, FB_NONBLOCK,
	    tickets)) < 0)
		return fbs_fail("submit_batch", k);
	/* Jobs not taken are made again next time. */
	f->f_seq = seq;
	f->f_sent = sent;
	for (i = 0; i < (unsigned)k; i++) {
		f->f_sent += f->f_seq;
		f->f_seq++;
	}
	return 0;
}

/* No-op tasks, fb_pool_submit_batch() + fb_pool_next_view(). */
int
fbs_batched(const struct bparams *bp, struct bres *br)
{
	struct fb_job jobs[B_BATCH];
	static unsigned char pay[B_BATCH][B_SMALL];
	fb_ticket_t tickets[B_BATCH];
	struct fbs f;
	struct bwin win;
	int r = -1;

	memset(jobs, 0, sizeof(jobs));

	if (fbs_open(&f, bp->bp_workers, bp->bp_inflight ? bp->bp_inflight :
	    B_SLOTS_PER_WORKER * bp->bp_workers, B_SMALL, bp->bp_spin_us) < 0)
		return -1;
	b_win_start(&win, bp->bp_secs);
	for (;;) {
		if (b_win_tick(&win, f.f_done) &&
		    fbs_send_batch(&f, jobs, pay, tickets) < 0)
			goto out;
		if (fb_pool_slots_used(f.f_pool) == 0)
			break;
		if (fbs_drain_take(&f) < 0)
			goto out;
	}
	b_win_end(&win, f.f_done, br);
	r = 0;
out:
	return fbs_close(&f, r);
}

static int
fbs_submit_one(struct fbs *f, int flags, fb_ticket_t *t)
{
	unsigned char pay[B_SMALL];
	int r;

	fbs_make(f, pay);
	if ((r = fb_pool_submit(f->f_pool, B_CODE_NOOP, pay, B_SMALL, flags,
	    t)) < 0)
		return fbs_fail("submit", r);
	return 0;
}

/* No-op tasks, one fb_pool_submit() per task and one fb_pool_next() per
 * result, with bp_inflight (>= 64) tasks in flight. */
int
fbs_onebyone(const struct bparams *bp, struct bres *br)
{
	unsigned char buf[B_SMALL];
	struct fb_result res;
	struct fbs f;
	struct bwin win;
	fb_ticket_t t;
	unsigned i, inflight = bp->bp_inflight ? bp->bp_inflight : 128;
	int r = -1, k;

	if (fbs_open(&f, bp->bp_workers, inflight, B_SMALL,
	    bp->bp_spin_us) < 0)
		return -1;
	b_win_start(&win, bp->bp_secs);
	for (i = 0; i < inflight; i++)
		if (fbs_submit_one(&f, 0, &t) < 0)
			goto out;
	while (fb_pool_slots_used(f.f_pool) > 0) {
		if ((k = fb_pool_next(f.f_pool, &res, buf, sizeof(buf),
		    -1)) < 0) {
			fbs_fail("next", k);
			goto out;
		}
		fbs_take(&f, &res, buf);
		if (b_win_tick(&win, f.f_done) && fbs_submit_one(&f, 0, &t) < 0)
			goto out;
	}
	b_win_end(&win, f.f_done, br);
	r = 0;
out:
	return fbs_close(&f, r);
}

static int
fbs_round_trip(struct fbs *f)
{
	unsigned char buf[B_SMALL];
	struct fb_result res;
	fb_ticket_t t;
	int r;

	if (fbs_submit_one(f, 0, &t) < 0)
		return -1;
	if ((r = fb_pool_wait(f->f_pool, t, &res, buf, sizeof(buf), -1)) < 0)
		return fbs_fail("wait", r);
	fbs_take(f, &res, buf);
	return 0;
}

/* One task at a time: fb_pool_submit() then fb_pool_wait(). */
int
fbs_latency(const struct bparams *bp, struct bres *br)
{
	struct fbs f;
	int64_t *s, t0;
	unsigned i;
	int r = -1;

	if (fbs_open(&f, bp->bp_workers, B_SLOTS_PER_WORKER, B_SMALL,
	    bp->bp_spin_us) < 0)
		return -1;
	s = b_samples(br, bp->bp_samples);
	for (i = 0; i < B_WARMUP; i++)
		if (fbs_round_trip(&f) < 0)
			goto out;
	b_ctr_start();
	for (i = 0; i < bp->bp_samples; i++) {
		t0 = b_now_ns();
		if (fbs_round_trip(&f) < 0)
			goto out;
		s[i] = b_now_ns() - t0;
	}
	b_ctr_per(br, bp->bp_samples);
	r = 0;
out:
	return fbs_close(&f, r);
}

static int
fbs_take_one(struct fbs *f)
{
	struct fb_result res;
	const void *data;
	int r;

	if ((r = fb_pool_next_view(f->f_pool, &res, &data, -1)) < 0)
		return fbs_fail("next_view", r);
	fbs_take(f, &res, data);
	if ((r = fb_pool_release(f->f_pool, res.r_ticket)) < 0)
		return fbs_fail("release", r);
	return 0;
}

/* Make one 1 MiB task: in place (zero-copy) or in buf, then copied. */
static int
fbs_big_one(struct fbs *f, unsigned char *buf)
{
	fb_ticket_t t;
	size_t cap;
	void *p;
	int r;

	if (buf != NULL) {
		fbs_make(f, buf);
		if ((r = fb_pool_submit(f->f_pool, B_CODE_SUM, buf, B_BIG, 0,
		    &t)) < 0)
			return fbs_fail("submit", r);
		return 0;
	}
	if ((r = fb_pool_reserve(f->f_pool, 0, &p, &cap, &t)) < 0)
		return fbs_fail("reserve", r);
	fbs_make(f, p);
	if ((r = fb_pool_commit(f->f_pool, t, B_CODE_SUM, B_BIG, 0)) < 0)
		return fbs_fail("commit", r);
	return 0;
}

static int
fbs_big_run(const struct bparams *bp, struct bres *br, int copy)
{
	unsigned char *buf = NULL;
	struct fbs f;
	unsigned slots = bp->bp_inflight ? bp->bp_inflight :
	    2 * bp->bp_workers;
	struct bwin win;
	int r = -1;

	if (copy && (buf = malloc(B_BIG)) == NULL)
		err(1, "malloc");
	if (fbs_open(&f, bp->bp_workers, slots, B_BIG, bp->bp_spin_us) < 0) {
		free(buf);
		return -1;
	}
	b_win_start(&win, bp->bp_secs);
	for (;;) {
		if (b_win_tick(&win, f.f_done) &&
		    fb_pool_slots_used(f.f_pool) < slots) {
			if (fbs_big_one(&f, buf) < 0)
				goto out;
			continue;
		}
		if (fb_pool_slots_used(f.f_pool) == 0)
			break;
		if (fbs_take_one(&f) < 0)
			goto out;
	}
	b_win_end(&win, f.f_done, br);
	r = 0;
out:
	free(buf);
	return fbs_close(&f, r);
}

/* 1 MiB payloads written in place: fb_pool_reserve() + commit. */
int
fbs_big(const struct bparams *bp, struct bres *br)
{
	return fbs_big_run(bp, br, 0);
}

/* 1 MiB payloads made in private memory, copied by fb_pool_submit(). */
int
fbs_big_copy(const struct bparams *bp, struct bres *br)
{
	return fbs_big_run(bp, br, 1);
}

static int
fbs_all_idle(struct fb_pool *p, unsigned n)
{
	struct fb_worker_info wi;
	unsigned i;

	for (i = 0; i < n; i++)
		if (fb_pool_worker_info(p, i, &wi) < 0 ||
		    wi.wi_state != FB_WORKER_IDLE)
			return 0;
	return 1;
}

/* Time from fb_pool_create() until every worker's row reads IDLE. */
static int
fbs_ready_once(unsigned n, int64_t *ns)
{
	struct timespec nap = { 0, 20000 };
	struct fb_config cfg;
	struct fb_pool *p;
	int64_t t0;
	int r;

	b_ctr_start();
	t0 = b_now_ns();
	fb_config_init(&cfg);
	cfg.workers = n;
	if ((r = fb_pool_create(&p, &cfg)) < 0)
		return fbs_fail("create", r);
	if ((r = fb_pool_register(p, B_CODE_NOOP, h_noop, NULL)) < 0 ||
	    (r = fb_pool_start(p)) < 0) {
		fb_pool_destroy(p);
		return fbs_fail("start", r);
	}
	while (!fbs_all_idle(p, n) && b_now_ns() - t0 < FBS_READY_MAX_NS)
		(void)nanosleep(&nap, NULL);
	*ns = b_now_ns() - t0;
	b_ctr_stop();
	r = fbs_all_idle(p, n) ? 0 : -1;
	if (fb_pool_shutdown(p, 5000) < 0)
		r = -1;
	fb_pool_destroy(p);
	if (r < 0)
		warnx("forkboard: workers not ready");
	return r;
}

int
fbs_ready(const struct bparams *bp, struct bres *br)
{
	int64_t t[64];
	unsigned i, reps = bp->bp_reps > 64 ? 64 : bp->bp_reps;

	for (i = 0; i < reps; i++)
		if (fbs_ready_once(bp->bp_workers, &t[i]) < 0)
			return -1;
	b_ctr_per(br, (uint64_t)reps * bp->bp_workers); /* per worker */
	return b_median_of(br, t, reps);
}

/* Memory of worker 0 (KiB) after 1000 tasks: Pss; aux: private, Rss. */
int
fbs_memory(const struct bparams *bp, struct bres *br)
{
	struct fb_worker_info wi;
	struct timespec nap = { 0, 100000 };
	struct fbs f;
	fb_ticket_t t;
	unsigned i;
	int r = -1;

	if (fbs_open(&f, bp->bp_workers, B_SLOTS_PER_WORKER * bp->bp_workers,
	    B_SMALL, 0) < 0)
		return -1;
	/* Batches of 64 deferred submits, each drained completely. */
	for (i = 0; i < 1000; i++) {
		if (fbs_submit_one(&f, FB_DEFER, &t) < 0)
			goto out;
		while ((i % 64 == 63 || i == 999) &&
		    fb_pool_slots_used(f.f_pool) > 0)
			if (fbs_drain_views(&f) < 0)
				goto out;
	}
	for (i = 0; i < 1000; i++) {
		if (fb_pool_worker_info(f.f_pool, 0, &wi) < 0)
			goto out;
		if (wi.wi_state == FB_WORKER_IDLE)
			break;
		(void)nanosleep(&nap, NULL);
	}
	r = b_smaps(wi.wi_pid, &br->br_value, &br->br_aux[0], &br->br_aux[1]);
out:
	return fbs_close(&f, r);
}

/* The same scenarios with the trace ring on, or handler rusage on: what
 * observability costs. */
int
fbs_batched_trace(const struct bparams *bp, struct bres *br)
{
	fbs_extra = FBS_TRACE;
	return fbs_batched(bp, br);
}

/* Workers read the clock once per batch, not once per task. */
int
fbs_batched_clock(const struct bparams *bp, struct bres *br)
{
	fbs_extra = FBS_CLOCK_BATCH;
	return fbs_batched(bp, br);
}

int
fbs_onebyone_clock(const struct bparams *bp, struct bres *br)
{
	fbs_extra = FBS_CLOCK_BATCH;
	return fbs_onebyone(bp, br);
}

int
fbs_onebyone_trace(const struct bparams *bp, struct bres *br)
{
	fbs_extra = FBS_TRACE;
	return fbs_onebyone(bp, br);
}

int
fbs_onebyone_rusage(const struct bparams *bp, struct bres *br)
{
	fbs_extra = FBS_RUSAGE;
	return fbs_onebyone(bp, br);
}
