/*
 * test_batch.c - batched submits (one write per worker), FB_DEFER and
 * flush, zero-copy submit (reserve/commit) and zero-copy results
 * (views/release), including their misuse.
 */
#include "testutil.h"
#include "internal.h"

#include <sys/ioctl.h>

#include <sched.h>

#define C_SUM 1
#define C_ECHO 2
#define C_SLEEP 3

/* result = sum of payload bytes, as uint64 */
static int
h_sum(struct fb_task *t, void *arg)
{
	const unsigned char *p = t->t_payload;
	uint64_t s = 0;
	size_t i;

	(void)arg;
	for (i = 0; i < t->t_len; i++)
		s += p[i];
	memcpy(t->t_result, &s, sizeof(s));
	t->t_result_len = sizeof(s);
	return 0;
}

static struct fb_pool *
pool_new(unsigned workers, unsigned slots, size_t slot_size, int *fds)
{
	struct fb_config cfg;
	struct fb_pool *p;

	TU_GUARD(60);
	*fds = tu_count_fds();
	fb_config_init(&cfg);
	cfg.workers = workers;
	cfg.slots = slots;
	cfg.payload_size = slot_size;
	cfg.result_size = 64;
	assert_int_equal(fb_pool_create(&p, &cfg), 0);
	assert_int_equal(fb_pool_register(p, C_SUM, h_sum, NULL), 0);
	assert_int_equal(fb_pool_register(p, C_ECHO, tu_h_echo, NULL), 0);
	assert_int_equal(fb_pool_register(p, C_SLEEP, tu_h_sleep, NULL), 0);
	assert_int_equal(fb_pool_start(p), 0);
	return p;
}

/* n one-byte C_SUM jobs on the same payload byte. */
static void
fill_jobs(struct fb_job *jobs, size_t n, const unsigned char *b)
{
	size_t i;

	memset(jobs, 0, n * sizeof(*jobs));
	for (i = 0; i < n; i++) {
		jobs[i].j_code = C_SUM;
		jobs[i].j_payload = b;
		jobs[i].j_len = 1;
	}
}

/* A batch of 64 tasks: all accepted, all right; a worker gets its records
 * in a single write (seen as a single read of many records). */
static void
test_batch_submit(void **state)
{
	enum { N = 64 };
	struct fb_job jobs[N];
	fb_ticket_t tk[N];
	unsigned char pl[N][32];
	struct fb_result res;
	uint64_t sum, want;
	unsigned i, k, ways, run;
	long ncpu;
	int fds;
	struct fb_pool *p;

	(void)state;
	p = pool_new(4, 128, 64, &fds);
	memset(jobs, 0, sizeof(jobs)); /* the options: defaults */
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	ways = ncpu < 4 ? (unsigned)ncpu : 4;
	run = (N + ways - 1) / ways;
	if (run > 32)
		run = 32;
	for (i = 0; i < N; i++) {
		memset(pl[i], (int)i, sizeof(pl[i]));
		jobs[i].j_code = C_SUM;
		jobs[i].j_payload = pl[i];
		jobs[i].j_len = 1 + i % 32;
	}
	assert_int_equal(fb_pool_submit_batch(p, jobs, N, 0, tk), N);
	for (i = 0; i < N; i++) {
		assert_int_equal(fb_pool_wait(p, tk[i], &res, &sum,
		    sizeof(sum), 5000), 0);
		for (want = 0, k = 0; k < jobs[i].j_len; k++)
			want += i;
		assert_int_equal(sum, want);
		/* runs of 64 / min(4 workers, CPUs), at most 32 */
		assert_int_equal(res.r_worker, (i / run) % 4);
	}
	tu_pool_end(p, fds);
}

/* A big batch goes out in runs of 32 tasks per worker (one write, one
 * wake-up each), still round-robin between runs.  A batch of 64 for 4
 * workers is spread per task only on a machine with 4+ CPUs. */
static void
test_batch_runs(void **state)
{
	enum { N = 256 };
	static struct fb_job jobs[N];
	fb_ticket_t tk[N];
	struct fb_result res;
	unsigned char b = 1;
	uint64_t sum;
	unsigned i;
	int fds;
	struct fb_pool *p;

	(void)state;
	p = pool_new(2, 256, 64, &fds);
	fill_jobs(jobs, N, &b);
	assert_int_equal(fb_pool_submit_batch(p, jobs, N, 0, tk), N);
	for (i = 0; i < N; i++) {
		assert_int_equal(fb_pool_wait(p, tk[i], &res, &sum,
		    sizeof(sum), 5000), 0);
		assert_int_equal(sum, 1);
		/* 2 workers (and 2+ CPUs): runs of 64 alternate */
		if (sysconf(_SC_NPROCESSORS_ONLN) >= 2)
			assert_int_equal(res.r_worker, (i / 64) % 2);
	}
	tu_pool_end(p, fds);
}

/*
 * A batch run is as long as the cost per task the pool measured allows in
 * FB__RUN_BUDGET_NS (issue 12: spreading cheap tasks over CPUs cost a
 * cross-CPU wake-up per run).  Unknown cost: spread over the CPUs, as
 * before.  Cheap: one worker takes the whole batch in one write.  Tasks
 * that take long (20 ms here) are measured so, and are spread again.
 */
static void
wait_all(struct fb_pool *p, const fb_ticket_t *tk, unsigned n,
    struct fb_result *res)
{
	uint64_t out;
	unsigned i;

	for (i = 0; i < n; i++) {
		assert_int_equal(fb_pool_wait(p, tk[i], &res[i], &out,
		    sizeof(out), 5000), 0);
		assert_int_equal(res[i].r_outcome, FB_DONE);
	}
}

static void
test_batch_cost(void **state)
{
	enum { N = 64 };
	static struct fb_job jobs[N];
	static struct fb_result res[N];
	fb_ticket_t tk[N];
	unsigned char b = 1;
	uint32_t ms = 20;
	unsigned i, run;
	int fds, cpus = sysconf(_SC_NPROCESSORS_ONLN) >= 2;
	struct fb_pool *p;

	(void)state;
	p = pool_new(2, 128, 64, &fds);
	assert_int_equal(p->p_task_cost_ns, 0);
	fill_jobs(jobs, N, &b);
	assert_int_equal(fb_pool_submit_batch(p, jobs, N, 0, tk), N);
	wait_all(p, tk, N, res);
	run = cpus ? N / 2 : N;
	for (i = 0; i < N; i++)
		assert_int_equal(res[i].r_worker,
		    (res[0].r_worker + i / run) % 2);
	/* Each worker went idle after its run: the cost is known. */
	assert_true(p->p_task_cost_ns > 0);

	/* Cheap (100 ns a task: a thousand fit in the budget): one worker
	 * takes all 64. */
	p->p_task_cost_ns = 100;
	assert_int_equal(fb_pool_submit_batch(p, jobs, N, 0, tk), N);
	wait_all(p, tk, N, res);
	for (i = 1; i < N; i++)
		assert_int_equal(res[i].r_worker, res[0].r_worker);

	/* Four 20 ms tasks: still one run (the estimate said cheap), but the
	 * pool measures them... */
	for (i = 0; i < 4; i++) {
		jobs[i].j_code = C_SLEEP;
		jobs[i].j_payload = &ms;
		jobs[i].j_len = sizeof(ms);
	}
	assert_int_equal(fb_pool_submit_batch(p, jobs, 4, 0, tk), 4);
	wait_all(p, tk, 4, res);
	assert_true(p->p_task_cost_ns >= 1000000);
	/* ...and the next four are spread over the CPUs, two a worker. */
	assert_int_equal(fb_pool_submit_batch(p, jobs, 4, 0, tk), 4);
	wait_all(p, tk, 4, res);
	for (i = 0; i < 4; i++)
		assert_int_equal(res[i].r_worker,
		    (res[0].r_worker + (cpus ? i / 2 : 0)) % 2);
	tu_pool_end(p, fds);
}

/* Under FB_NONBLOCK a batch larger than the board is cut where the board
 * fills; the accepted part is intact and the rest can follow. */
static void
test_batch_partial(void **state)
{
	enum { N = 20 };
	struct fb_job jobs[N];
	fb_ticket_t tk[N];
	struct fb_result res;
	uint64_t sum;
	unsigned char b = 7;
	int fds, n, i;
	struct fb_pool *p;

	(void)state;
	p = pool_new(2, 8, 64, &fds);
	fill_jobs(jobs, N, &b);
	n = fb_pool_submit_batch(p, jobs, N, FB_NONBLOCK, tk);
	assert_int_equal(n, 8);
	for (i = 0; i < n; i++) {
		assert_int_equal(fb_pool_wait(p, tk[i], &res, &sum,
		    sizeof(sum), 5000), 0);
		assert_int_equal(sum, 7);
	}
	assert_int_equal(fb_pool_submit_batch(p, jobs + n, (size_t)(N - n),
	    FB_NONBLOCK, tk + n), 8);
	/* A bad job stops the batch at that job. */
	while (fb_pool_next(p, &res, &sum, sizeof(sum), 5000) == 0)
		;
	jobs[2].j_len = 65;
	assert_int_equal(fb_pool_submit_batch(p, jobs, 4, 0, tk), 2);
	jobs[0].j_len = 65;
	assert_int_equal(fb_pool_submit_batch(p, jobs, 4, 0, tk), -EMSGSIZE);
	tu_pool_end(p, fds);
}

/* FB_DEFER holds records in the master until a flush. */
static void
test_defer_flush(void **state)
{
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t[3];
	uint64_t sum;
	unsigned char b = 3;
	int fds, i;

	(void)state;
	p = pool_new(1, 8, 64, &fds);
	for (i = 0; i < 3; i++)
		assert_int_equal(fb_pool_submit(p, C_SUM, &b, 1, FB_DEFER,
		    &t[i]), 0);
	/* Nothing was sent: the records wait in the master, the worker's
	 * pipe is empty.  (fb_pool_result does not process;
	 * fb_pool_process would flush.) */
	assert_int_equal(p->p_workers[0].w_out.ob_len, 3 * 16);
	{
		int left = -1;
		assert_int_equal(ioctl(p->p_workers[0].w_task[0], FIONREAD,
		    &left), 0);
		assert_int_equal(left, 0);
	}
	assert_int_equal(fb_pool_result(p, t[0], &res, &sum, sizeof(sum)),
	    -EAGAIN);
	{
		struct fb_worker_info wi;
		assert_int_equal(fb_pool_worker_info(p, 0, &wi), 0);
		assert_int_equal(wi.wi_tasks, 0);
	}
	assert_int_equal(fb_pool_flush(p), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(fb_pool_wait(p, t[i], &res, &sum, sizeof(sum),
		    5000), 0);
		assert_int_equal(sum, 3);
	}
	tu_pool_end(p, fds);
}

/* Zero-copy: 1 MiB payloads written in place, results read in place. */
static void
test_zero_copy(void **state)
{
	enum { SZ = 1 << 20, N = 6 };
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t[N];
	const void *data;
	uint64_t want, got;
	unsigned char *pl;
	size_t cap, k;
	void *area;
	int fds, i;

	(void)state;
	p = pool_new(2, 4, SZ, &fds);
	for (i = 0; i < N; i++) {
		if (i >= 4) /* board of 4: take one first */
			assert_int_equal(fb_pool_next(p, &res, &got,
			    sizeof(got), 5000), 0);
		assert_int_equal(fb_pool_reserve(p, 0, &area, &cap, &t[i]), 0);
		assert_int_equal(cap, SZ);
		pl = area;
		for (k = 0; k < SZ; k++)
			pl[k] = (unsigned char)(k * 7 + i);
		assert_int_equal(fb_pool_commit(p, t[i], C_SUM, SZ, 0), 0);
	}
	for (i = 4; i < N; i++) {
		assert_int_equal(fb_pool_wait_view(p, t[i], &res, &data, 5000),
		    0);
		assert_int_equal(res.r_len, 8);
		memcpy(&got, data, 8);
		for (want = 0, k = 0; k < SZ; k++)
			want += (unsigned char)(k * 7 + i);
		assert_int_equal(got, want);
		/* While viewed, the slot is not reused nor re-listed. */
		assert_int_equal(fb_pool_wait_view(p, t[i], &res, &data, 0),
		    -ENOENT);
		assert_int_equal(fb_pool_release(p, t[i]), 0);
		assert_int_equal(fb_pool_release(p, t[i]), -ENOENT);
	}
	tu_pool_end(p, fds);
}

static void
test_next_view(void **state)
{
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	const void *data;
	int fds;

	(void)state;
	p = pool_new(1, 2, 64, &fds);
	assert_int_equal(fb_pool_submit(p, C_ECHO, "view", 4, 0, &t), 0);
	assert_int_equal(fb_pool_next_view(p, &res, &data, 5000), 0);
	assert_true(res.r_ticket == t);
	assert_int_equal(res.r_len, 4);
	assert_memory_equal(data, "view", 4);
	assert_int_equal(fb_pool_slots_used(p), 1); /* held until release */
	assert_int_equal(fb_pool_next_view(p, &res, &data, 0), -ENOENT);
	assert_int_equal(fb_pool_release(p, t), 0);
	assert_int_equal(fb_pool_slots_used(p), 0);
	tu_pool_end(p, fds);
}

/* Misuse: commit twice, commit/release unknown tickets, release a task in
 * flight, oversize commit keeps the reservation, reserve on a full board. */
static void
test_misuse(void **state)
{
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t a, b, c;
	uint64_t sum;
	size_t cap;
	void *area;
	const void *view;
	int fds;

	(void)state;
	p = pool_new(1, 2, 64, &fds);
	assert_int_equal(fb_pool_reserve(p, 0, &area, &cap, &a), 0);
	memcpy(area, "\x01\x02", 2);
	assert_int_equal(fb_pool_commit(p, a, C_SUM, 65, 0), -EMSGSIZE);
	assert_int_equal(fb_pool_commit(p, a, FB_CODE_RESERVED + 5, 2, 0),
	    -EINVAL);
	assert_int_equal(fb_pool_commit(p, a, C_SUM, 2, 0), 0);
	assert_int_equal(fb_pool_commit(p, a, C_SUM, 2, 0), -EALREADY);
	assert_int_equal(fb_pool_release(p, a), -ENOENT); /* in flight */
	assert_int_equal(fb_pool_commit(p, (fb_ticket_t)999 << 16, C_SUM, 2,
	    0), -ENOENT);
	assert_int_equal(fb_pool_commit(p, (fb_ticket_t)1 << 16 | 60000,
	    C_SUM, 2, 0), -ENOENT);
	assert_int_equal(fb_pool_release(p, (fb_ticket_t)77 << 16 | 1),
	    -ENOENT);
	assert_int_equal(fb_pool_reserve(p, 0, &area, &cap, &b), 0);
	/* Board full: one in flight, one reserved. */
	assert_int_equal(fb_pool_reserve(p, FB_NONBLOCK, &area, &cap, &c),
	    -EAGAIN);
	/* A reservation can be given back unused. */
	assert_int_equal(fb_pool_release(p, b), 0);
	assert_int_equal(fb_pool_commit(p, b, C_SUM, 1, 0), -ENOENT);
	assert_int_equal(fb_pool_wait(p, a, &res, &sum, sizeof(sum), 5000), 0);
	assert_int_equal(sum, 3);
	/* A completed, unviewed result is not "held": release refuses. */
	assert_int_equal(fb_pool_submit(p, C_SUM, "\x05", 1, 0, &c), 0);
	assert_int_equal(fb_pool_wait_view(p, c, &res, &view, 5000), 0);
	assert_int_equal(fb_pool_release(p, c), 0);
	tu_pool_end(p, fds);
}

/* Spin-before-block gives the same answers. */
static void
test_spin(void **state)
{
	struct fb_config cfg;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	uint64_t sum;
	unsigned char b;
	int fds = tu_count_fds(), i;
	struct fb_board_stat st;

	(void)state;
	TU_GUARD(30);
	fb_config_init(&cfg);
	cfg.workers = 2;
	cfg.spin_us = 2000;
	assert_int_equal(fb_pool_create(&p, &cfg), 0);
	assert_int_equal(fb_pool_register(p, C_SUM, h_sum, NULL), 0);
	assert_int_equal(fb_pool_start(p), 0);
	for (i = 0; i < 2000; i++) {
		b = (unsigned char)i;
		assert_int_equal(fb_pool_submit(p, C_SUM, &b, 1, 0, &t), 0);
		assert_int_equal(fb_pool_wait(p, t, &res, &sum, sizeof(sum),
		    5000), 0);
		assert_int_equal(sum, b);
	}
	/* The results came through the spin path, not only the pipe. */
	assert_true(p->p_spun > 0);
	assert_int_equal(fb_pool_stat(p, &st), 0);
	assert_int_equal(fb_pool_shutdown(p, 5000), 0);
	fb_pool_destroy(p);
	tu_assert_no_children();
	tu_assert_shm_gone(st.bs_shmid);
	assert_int_equal(tu_count_fds(), fds);
}

/*
 * A worker that ran a batch is IDLE, with every task counted, by the time
 * the master has all the batch's results.  The completions of a batch whose
 * tasks take longer than the coalescing window (100 us) used to be sent
 * from inside the last task, before the row went IDLE: a master woken by
 * them (at once on one CPU) read a BUSY row one task short.
 */
static void
test_row_idle_with_results(void **state)
{
	struct fb_worker_info wi;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t[2];
	cpu_set_t was, one;
	uint32_t ms = 1, out;
	int fds, i, k;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(was), &was), 0);
	CPU_ZERO(&one);
	for (i = 0; !CPU_ISSET(i, &was); i++)
		;
	CPU_SET(i, &one); /* the worker inherits it: master and worker share */
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	p = pool_new(1, 4, 64, &fds);
	for (k = 1; k <= 20; k++) {
		/* Two records in one write: one read, one batch. */
		for (i = 0; i < 2; i++)
			assert_int_equal(fb_pool_submit(p, C_SLEEP, &ms,
			    sizeof(ms), FB_DEFER, &t[i]), 0);
		assert_int_equal(fb_pool_flush(p), 0);
		for (i = 0; i < 2; i++)
			assert_int_equal(fb_pool_wait(p, t[i], &res, &out,
			    sizeof(out), 5000), 0);
		assert_int_equal(fb_pool_worker_info(p, 0, &wi), 0);
		assert_int_equal(wi.wi_state, FB_WORKER_IDLE);
		assert_int_equal(wi.wi_tasks, 2 * k);
	}
	tu_pool_end(p, fds);
	assert_int_equal(sched_setaffinity(0, sizeof(was), &was), 0);
}

/*
 * A worker that takes several slow tasks in one read sends each one's
 * completion when it ends, not with the next one's: the first of three
 * 200 ms tasks sent in one write is a result at ~200 ms, not ~400 ms.  It
 * used to wait for the coalescing check after the next task.  The same
 * with FB_CLOCK_BATCH, which sees the time pass on the coarse clock.
 */
static void
first_of_three(enum fb_task_clock clock)
{
	struct fb_config cfg;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t[3];
	uint32_t ms = 200, out;
	int64_t t0, took;
	int fds = tu_count_fds(), i;

	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.result_size = 64;
	cfg.task_clock = clock;
	assert_int_equal(fb_pool_create(&p, &cfg), 0);
	assert_int_equal(fb_pool_register(p, C_SLEEP, tu_h_sleep, NULL), 0);
	assert_int_equal(fb_pool_start(p), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(fb_pool_submit(p, C_SLEEP, &ms, sizeof(ms),
		    FB_DEFER, &t[i]), 0);
	t0 = tu_now_ms();
	assert_int_equal(fb_pool_flush(p), 0); /* one write: one read */
	assert_int_equal(fb_pool_wait(p, t[0], &res, &out, sizeof(out), 5000),
	    0);
	took = tu_now_ms() - t0;
	assert_true(took >= 190);
	assert_true(took < 350); /* ~400 when it waited for the second */
	for (i = 1; i < 3; i++)
		assert_int_equal(fb_pool_wait(p, t[i], &res, &out,
		    sizeof(out), 5000), 0);
	tu_pool_end(p, fds);
}

static void
test_slow_batch_completions(void **state)
{
	(void)state;
	TU_GUARD(30);
	first_of_three(FB_CLOCK_TASK);
	first_of_three(FB_CLOCK_BATCH);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_TEST(test_batch_submit),
		TU_TEST(test_batch_runs),
		TU_TEST(test_batch_partial),
		TU_TEST(test_defer_flush),
		TU_TEST(test_zero_copy),
		TU_TEST(test_next_view),
		TU_TEST(test_misuse),
		TU_TEST(test_spin),
		TU_TEST(test_row_idle_with_results),
		TU_TEST(test_batch_cost),
		TU_TEST(test_slow_batch_completions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
