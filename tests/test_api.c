/*
 * test_api.c - the 1.0 API: per-task udata and options, per-worker
 * context, cancel, completion callbacks, batch take, timing and rusage in
 * results, the size-taking calls, the trace ring (read here and from
 * another process), and fault injection at every point.
 */
#include "testutil.h"
#include "internal.h"

#include <sys/shm.h>

#include <fcntl.h>
#include <poll.h>

#define C_ECHO 1
#define C_SLEEP 2
#define C_CTX 3       /* result = the worker's context value */
#define C_SPIN 4      /* burn CPU for the uint32 ms in the payload */
#define C_UDATA 5     /* result = the task's udata, as the handler saw it */

static int
h_ctx(struct fb_task *t, void *arg)
{
	int v = t->t_ctx != NULL ? *(int *)t->t_ctx : -1;

	(void)arg;
	memcpy(t->t_result, &v, sizeof(v));
	t->t_result_len = sizeof(v);
	return 0;
}

static int64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Burn the uint32 ms of the payload in CPU time, not wall time: on a
 * loaded machine the two differ. */
static int
h_spin(struct fb_task *t, void *arg)
{
	uint32_t ms;
	int64_t end;

	(void)arg;
	memcpy(&ms, t->t_payload, 4);
	end = cpu_ns() + (int64_t)ms * 1000000;
	while (cpu_ns() < end)
		;
	return 0;
}

static int
h_udata(struct fb_task *t, void *arg)
{
	(void)arg;
	memcpy(t->t_result, &t->t_udata, 8);
	t->t_result_len = 8;
	return 0;
}

static struct fb_pool *
make(struct fb_config *cfg)
{
	struct fb_pool *p;

	assert_int_equal(fb_pool_create(&p, cfg), 0);
	assert_int_equal(fb_pool_register(p, C_ECHO, tu_h_echo, NULL), 0);
	assert_int_equal(fb_pool_register(p, C_SLEEP, tu_h_sleep, NULL), 0);
	assert_int_equal(fb_pool_register(p, C_CTX, h_ctx, NULL), 0);
	assert_int_equal(fb_pool_register(p, C_SPIN, h_spin, NULL), 0);
	assert_int_equal(fb_pool_register(p, C_UDATA, h_udata, NULL), 0);
	assert_int_equal(tu_start(p), 0);
	return p;
}

static struct fb_pool *
make_n(unsigned workers, const char *fault)
{
	struct fb_config cfg;

	fb_config_init(&cfg);
	cfg.workers = workers;
	cfg.slots = 64;
	cfg.fault = fault;
	return make(&cfg);
}

static fb_ticket_t
submit_job(struct fb_pool *p, uint32_t code, const void *pl, size_t len,
    uint64_t udata, unsigned timeout_ms, int retries)
{
	struct fb_job job;
	fb_ticket_t t;

	memset(&job, 0, sizeof(job));
	job.j_code = code;
	job.j_payload = pl;
	job.j_len = len;
	job.j_udata = udata;
	job.j_timeout_ms = timeout_ms;
	job.j_retries = retries;
	assert_int_equal(fb_pool_submit_job(p, &job, 0, &t), 0);
	return t;
}

static void
wait_busy(struct fb_pool *p, unsigned i)
{
	struct fb_worker_info wi;

	tu_wait_busy(p, i, &wi);
}

/* ---- udata and per-task options ----------------------------------------- */

static void
test_udata_echoed(void **state)
{
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	uint64_t seen;
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	p = make_n(2, NULL);
	t = submit_job(p, C_UDATA, NULL, 0, 0xfeedfacecafebeefULL, 0, 0);
	assert_int_equal(fb_pool_wait(p, t, &res, &seen, sizeof(seen), 5000),
	    0);
	assert_int_equal(res.r_filled, sizeof(res));
	assert_int_equal(res.r_udata, 0xfeedfacecafebeefULL);
	assert_int_equal(seen, 0xfeedfacecafebeefULL); /* the handler too */
	/* A plain submit has udata 0. */
	assert_int_equal(fb_pool_submit(p, C_UDATA, NULL, 0, 0, &t), 0);
	assert_int_equal(fb_pool_wait(p, t, &res, &seen, sizeof(seen), 5000),
	    0);
	assert_int_equal(res.r_udata, 0);
	tu_pool_end(p, fds);
}

/* Worker 0 crashes at every claim: a task retried onto worker 1 keeps its
 * udata; one that may not be retried is reported crashed, with it. */
static void
test_udata_through_retry_and_crash(void **state)
{
	struct fb_config cfg;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t a, b;
	char out[8];
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	fb_config_init(&cfg);
	cfg.workers = 2;
	cfg.retries = 3;
	cfg.fault = "point=claim,action=crash,worker=0";
	p = make(&cfg);
	a = submit_job(p, C_ECHO, "a", 1, 111, 0, 0);   /* worker 0: retried */
	assert_int_equal(fb_pool_wait(p, a, &res, out, sizeof(out), 5000), 0);
	assert_int_equal(res.r_outcome, FB_DONE);
	assert_int_equal(res.r_udata, 111);
	assert_int_equal(res.r_attempts, 2);
	assert_int_equal(res.r_worker, 1);
	/* FB_RETRIES_NONE overrides the pool's 3. */
	do {
		b = submit_job(p, C_ECHO, "b", 1, 222, 0, FB_RETRIES_NONE);
		assert_int_equal(fb_pool_wait(p, b, &res, out, sizeof(out),
		    5000), 0);
	} while (res.r_worker != 0); /* until it lands on worker 0 */
	assert_int_equal(res.r_outcome, FB_CRASHED);
	assert_int_equal(res.r_udata, 222);
	assert_int_equal(res.r_attempts, 1);
	assert_true(WIFSIGNALED(res.r_wait_status));
	assert_int_equal(WTERMSIG(res.r_wait_status), SIGABRT);
	assert_int_equal(res.r_status, 0);
	tu_pool_end(p, fds);
}

static void
test_per_task_timeout(void **state)
{
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	uint32_t ms = 10000, out;
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	p = make_n(1, NULL); /* no pool timeout */
	t = submit_job(p, C_SLEEP, &ms, 4, 7, 150, 0);
	assert_int_equal(fb_pool_wait(p, t, &res, &out, sizeof(out), 10000),
	    0);
	assert_int_equal(res.r_outcome, FB_TIMEDOUT);
	assert_int_equal(res.r_udata, 7);
	assert_int_equal(WTERMSIG(res.r_wait_status), SIGTERM);
	tu_pool_end(p, fds);
}

static void
test_job_checks(void **state)
{
	struct fb_job job;
	struct fb_pool *p;
	fb_ticket_t t;
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	p = make_n(1, NULL);
	memset(&job, 0, sizeof(job));
	job.j_code = C_ECHO;
	job.j_retries = -2;
	assert_int_equal(fb_pool_submit_job(p, &job, 0, &t), -EINVAL);
	job.j_retries = 0;
	job.j_len = 5000; /* > payload_size */
	job.j_payload = "x";
	assert_int_equal(fb_pool_submit_job(p, &job, 0, &t), -EMSGSIZE);
	assert_int_equal(fb_pool_slots_used(p), 0);
	tu_pool_end(p, fds);
}

/* ---- per-worker context ------------------------------------------------- */

static int fini_pipe = -1;

static int
init_ctx(unsigned index, void *arg, void **ctx)
{
	static int v;

	(void)arg;
	v = 100 + (int)index; /* each worker has its own copy of v */
	*ctx = &v;
	return 0;
}

static void
fini_ctx(unsigned index, void *arg, void *ctx)
{
	int v = *(int *)ctx;

	(void)index;
	(void)arg;
	(void)!write(fini_pipe, &v, sizeof(v));
}

static void
test_worker_ctx_and_fini(void **state)
{
	struct fb_config cfg;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t[2];
	int fds = tu_count_fds(), pfd[2], v, got[2], i;

	(void)state;
	TU_GUARD(20);
	assert_int_equal(pipe(pfd), 0);
	fini_pipe = pfd[1];
	fb_config_init(&cfg);
	cfg.workers = 2;
	cfg.worker_init = init_ctx;
	cfg.worker_fini = fini_ctx;
	cfg.keep_fds = &fini_pipe;
	cfg.nkeep_fds = 1;
	p = make(&cfg);
	for (i = 0; i < 2; i++)
		assert_int_equal(fb_pool_submit(p, C_CTX, NULL, 0, 0, &t[i]),
		    0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(fb_pool_wait(p, t[i], &res, &v, sizeof(v),
		    5000), 0);
		assert_int_equal(v, 100 + (int)res.r_worker);
	}
	assert_int_equal(fb_pool_shutdown(p, 5000), 0);
	fb_pool_destroy(p);
	close(pfd[1]);
	/* Each worker left gracefully, and said so with its own context. */
	assert_int_equal(read(pfd[0], got, sizeof(got)), sizeof(got));
	assert_int_equal(got[0] + got[1], 100 + 101);
	assert_int_equal(read(pfd[0], got, sizeof(got)), 0);
	close(pfd[0]);
	tu_assert_no_children();
	assert_int_equal(tu_count_fds(), fds);
}

/* ---- cancel ------------------------------------------------------------- */

static void
test_cancel_queued(void **state)
{
	struct fb_worker_info wi;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t a, b;
	uint32_t ms = 300, out;
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	p = make_n(1, NULL);
	assert_int_equal(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &a), 0);
	b = submit_job(p, C_ECHO, "b", 1, 5, 0, 0);
	wait_busy(p, 0);
	assert_int_equal(fb_pool_cancel(p, b, 0), 0);
	assert_int_equal(fb_pool_cancel(p, b, 0), -EALREADY); /* twice */
	assert_int_equal(fb_pool_inflight(p), 1);
	assert_int_equal(fb_pool_wait(p, b, &res, &out, sizeof(out), 0), 0);
	assert_int_equal(res.r_outcome, FB_CANCELLED);
	assert_int_equal(res.r_udata, 5);
	assert_int_equal(res.r_attempts, 0);
	assert_int_equal(fb_pool_cancel(p, b, 0), -ENOENT); /* taken */
	assert_int_equal(fb_pool_wait(p, a, &res, &out, sizeof(out), 5000), 0);
	assert_int_equal(res.r_outcome, FB_DONE);
	/* Its worker skipped it: one task ran, and a new one still runs. */
	assert_int_equal(fb_pool_submit(p, C_ECHO, "c", 1, 0, &a), 0);
	assert_int_equal(fb_pool_wait(p, a, &res, &out, sizeof(out), 5000), 0);
	assert_int_equal(fb_pool_worker_info(p, 0, &wi), 0);
	assert_int_equal(wi.wi_tasks, 2);
	assert_int_equal(wi.wi_restarts, 0);
	assert_int_equal(fb_pool_cancel(p, 0, 0), -ENOENT);
	assert_int_equal(fb_pool_cancel(p, a, 0x80), -EINVAL);
	tu_pool_end(p, fds);
}

static void
test_cancel_running(void **state)
{
	struct fb_result res;
	struct fb_counters c;
	struct fb_pool *p;
	fb_ticket_t a, b;
	uint32_t ms = 10000, out;
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	p = make_n(1, NULL);
	assert_int_equal(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &a), 0);
	b = submit_job(p, C_ECHO, "b", 1, 9, 0, 0);
	wait_busy(p, 0);
	assert_int_equal(fb_pool_cancel(p, a, 0), -EBUSY);
	assert_int_equal(fb_pool_cancel(p, a, FB_CANCEL_RUNNING), 0);
	assert_int_equal(fb_pool_cancel(p, a, FB_CANCEL_RUNNING), -EALREADY);
	assert_int_equal(fb_pool_wait(p, a, &res, &out, sizeof(out), 5000), 0);
	assert_int_equal(res.r_outcome, FB_CANCELLED);
	assert_int_equal(WTERMSIG(res.r_wait_status), SIGTERM);
	/* Queued behind it: moved to the new worker, uncharged. */
	assert_int_equal(fb_pool_wait(p, b, &res, &out, sizeof(out), 5000), 0);
	assert_int_equal(res.r_outcome, FB_DONE);
	assert_int_equal(res.r_attempts, 1);
	assert_int_equal(res.r_udata, 9);
	fb_pool_counters(p, &c);
	assert_int_equal(c.c_cancelled, 1);
	assert_int_equal(c.c_respawns, 1);
	tu_pool_end(p, fds);
}

/* ---- completion callbacks ----------------------------------------------- */

struct cbstate {
	struct fb_pool *cs_pool;
	int cs_seen;
	int cs_chain;        /* tasks still to submit from the callback */
	uint64_t cs_sum;
	int cs_busy;         /* what forbidden calls returned */
};

static void
on_done(void *arg, const struct fb_result *res, const void *data)
{
	struct cbstate *cs = arg;
	struct fb_result r2;
	struct fb_job job;
	fb_ticket_t t;
	uint64_t v;
	char buf[8];

	assert_int_equal(res->r_outcome, FB_DONE);
	memcpy(&v, data, 8);
	assert_int_equal(v, res->r_udata);
	cs->cs_sum += v;
	cs->cs_seen++;
	/* Re-entering: allowed to submit, not to drive the loop. */
	cs->cs_busy += fb_pool_process(cs->cs_pool) == -EBUSY;
	cs->cs_busy += fb_pool_next(cs->cs_pool, &r2, buf, sizeof(buf), 0) ==
	    -EBUSY;
	cs->cs_busy += fb_pool_shutdown(cs->cs_pool, 0) == -EBUSY;
	if (cs->cs_chain > 0) {
		cs->cs_chain--;
		memset(&job, 0, sizeof(job));
		job.j_code = C_UDATA;
		job.j_udata = res->r_udata + 1;
		assert_int_equal(fb_pool_submit_job(cs->cs_pool, &job,
		    FB_NONBLOCK, &t), 0);
	}
}

static void
test_callbacks(void **state)
{
	struct cbstate cs;
	struct fb_result res;
	struct pollfd pfd;
	struct fb_pool *p;
	fb_ticket_t t;
	char buf[8];
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	p = make_n(2, NULL);
	memset(&cs, 0, sizeof(cs));
	cs.cs_pool = p;
	cs.cs_chain = 9;
	assert_int_equal(fb_pool_set_callback(p, on_done, &cs), 0);
	(void)submit_job(p, C_UDATA, NULL, 0, 1, 0, 0);
	/* Results go to the callback: the ticket calls step aside. */
	assert_int_equal(fb_pool_next(p, &res, buf, sizeof(buf), 0), -EBUSY);
	pfd.fd = fb_pool_fd(p);
	pfd.events = POLLIN;
	while (cs.cs_seen < 10) {
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		assert_true(fb_pool_process(p) >= 0);
	}
	assert_int_equal(cs.cs_sum, 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10);
	assert_int_equal(cs.cs_busy, 30);
	assert_int_equal(fb_pool_slots_used(p), 0); /* every slot freed */
	/* Cleared: tickets work again. */
	assert_int_equal(fb_pool_set_callback(p, NULL, NULL), 0);
	assert_int_equal(fb_pool_submit(p, C_ECHO, "x", 1, 0, &t), 0);
	assert_int_equal(fb_pool_wait(p, t, &res, buf, sizeof(buf), 5000), 0);
	tu_pool_end(p, fds);
}

/* ---- batch take --------------------------------------------------------- */

static void
test_take(void **state)
{
	struct fb_result res[8];
	const void *data[8];
	struct fb_pool *p;
	fb_ticket_t t;
	uint64_t sum = 0, v;
	int i, n, got = 0, fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	p = make_n(2, NULL);
	for (i = 1; i <= 20; i++)
		(void)submit_job(p, C_UDATA, NULL, 0, (uint64_t)i, 0, 0);
	assert_int_equal(fb_pool_take(p, res, data, 0, 0), -EINVAL);
	while (got < 20) {
		assert_true((n = fb_pool_take(p, res, data, 8, 5000)) >= 1);
		assert_true(n <= 8);
		for (i = 0; i < n; i++) {
			memcpy(&v, data[i], 8);
			assert_int_equal(v, res[i].r_udata);
			sum += v;
			assert_int_equal(fb_pool_release(p, res[i].r_ticket),
			    0);
		}
		got += n;
	}
	assert_int_equal(sum, 210);
	assert_int_equal(fb_pool_take(p, res, data, 8, 0), -ENOENT);
	(void)t;
	tu_pool_end(p, fds);
}

/* ---- timing and rusage -------------------------------------------------- */

static void
test_timing_and_rusage(void **state)
{
	struct fb_config cfg;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	uint32_t ms = 80;
	char out[8];
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.rusage = 1;
	p = make(&cfg);
	assert_int_equal(fb_pool_submit(p, C_SPIN, &ms, 4, 0, &t), 0);
	assert_int_equal(fb_pool_wait(p, t, &res, out, sizeof(out), 5000), 0);
	assert_true(res.r_queued_ns > 0);
	assert_true(res.r_queued_ns <= res.r_started_ns + 20000000);
	assert_true(res.r_started_ns <= res.r_ended_ns);
	assert_true(res.r_ended_ns - res.r_started_ns >= 80000000);
	assert_true(res.r_run_ns >= 80000000);
	assert_true(res.r_cpu_ns >= 75000000);   /* it spun 80 ms of CPU */
	assert_true(res.r_maxrss_kb > 0);
	tu_pool_end(p, fds);

	/* Off by default: zero. */
	p = make_n(1, NULL);
	assert_int_equal(fb_pool_submit(p, C_SPIN, &ms, 4, 0, &t), 0);
	assert_int_equal(fb_pool_wait(p, t, &res, out, sizeof(out), 5000), 0);
	assert_int_equal(res.r_cpu_ns, 0);
	assert_int_equal(res.r_maxrss_kb, 0);
	assert_true(res.r_ended_ns - res.r_started_ns >= 80000000);
	tu_pool_end(p, fds);
}

/*
 * FB_CLOCK_BATCH: a worker reads the clock once per batch it takes from its
 * pipe.  Three 30 ms tasks sent in one write reach an idle worker in one
 * read: none is timed (r_run_ns 0, started == ended == when the batch was
 * taken); a task alone in its batch is.  The default times every task of
 * the same batch.  An unknown clock is refused.
 */
static void
submit3(struct fb_pool *p, uint32_t *ms, fb_ticket_t *t)
{
	struct fb_job jobs[3];
	int i;

	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < 3; i++) {
		jobs[i].j_code = C_SPIN;
		jobs[i].j_payload = ms;
		jobs[i].j_len = sizeof(*ms);
	}
	assert_int_equal(fb_pool_submit_batch(p, jobs, 3, 0, t), 3);
}

static void
test_task_clock(void **state)
{
	struct fb_config cfg;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t[3];
	uint32_t ms = 30;
	int64_t t0;
	char out[8];
	int fds = tu_count_fds(), i;

	(void)state;
	TU_GUARD(20);
	fb_config_init(&cfg);
	cfg.task_clock = (enum fb_task_clock)7;
	assert_int_equal(fb_pool_create(&p, &cfg), -EINVAL);

	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.task_clock = FB_CLOCK_BATCH;
	p = make(&cfg);
	t0 = tu_now_us() * 1000;
	submit3(p, &ms, t);
	for (i = 0; i < 3; i++) {
		assert_int_equal(fb_pool_wait(p, t[i], &res, out, sizeof(out),
		    5000), 0);
		assert_int_equal(res.r_outcome, FB_DONE);
		assert_int_equal(res.r_run_ns, 0);
		assert_true(res.r_started_ns == res.r_ended_ns);
		assert_true(res.r_started_ns >= t0 - 20000000);
	}
	/* Alone in its batch: timed. */
	assert_int_equal(fb_pool_submit(p, C_SPIN, &ms, 4, 0, &t[0]), 0);
	assert_int_equal(fb_pool_wait(p, t[0], &res, out, sizeof(out), 5000),
	    0);
	assert_true(res.r_run_ns >= 30000000);
	assert_true(res.r_ended_ns - res.r_started_ns >= 30000000);
	tu_pool_end(p, fds);

	/* The default: every task of the batch is timed. */
	p = make_n(1, NULL);
	submit3(p, &ms, t);
	for (i = 0; i < 3; i++) {
		assert_int_equal(fb_pool_wait(p, t[i], &res, out, sizeof(out),
		    5000), 0);
		assert_true(res.r_run_ns >= 30000000);
	}
	tu_pool_end(p, fds);
}

/* ---- sizes: old and new callers ----------------------------------------- */

static void
test_struct_sizes(void **state)
{
	struct fb_config cfg;
	struct fb_result res;
	unsigned char big[sizeof(struct fb_config) + 16];
	struct fb_pool *p;
	fb_ticket_t t;
	size_t old = offsetof(struct fb_result, r_queued_ns);
	char out[8];
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	/* An older caller's fb_result: only its bytes are written. */
	p = make_n(1, NULL);
	assert_int_equal(fb_pool_submit(p, C_ECHO, "ab", 2, 0, &t), 0);
	memset(&res, 0xa5, sizeof(res));
	assert_int_equal(fb_pool_wait_sz(p, t, &res, old, out, sizeof(out),
	    5000), 0);
	assert_int_equal(res.r_filled, old);
	assert_int_equal(res.r_len, 2);
	assert_int_equal(res.r_queued_ns, (int64_t)0xa5a5a5a5a5a5a5a5ULL);
	tu_pool_end(p, fds);

	/* An older caller's fb_config: the fields it lacks get defaults. */
	fb_config_init_sz(&cfg, offsetof(struct fb_config, spin_us));
	cfg.workers = 1;
	assert_int_equal(fb_pool_create_sz(&p, &cfg,
	    offsetof(struct fb_config, spin_us)), 0);
	assert_int_equal(p->p_cfg.trace_records, 0);
	assert_int_equal(p->p_cfg.crash_loop_max, 5);
	fb_pool_destroy(p);

	/* A newer caller's: unknown bytes must be zero. */
	memset(big, 0, sizeof(big));
	fb_config_init_sz((struct fb_config *)(void *)big, sizeof(big));
	assert_int_equal(fb_pool_create_sz(&p, (struct fb_config *)(void *)big,
	    sizeof(big)), 0);
	fb_pool_destroy(p);
	big[sizeof(struct fb_config) + 3] = 1;
	assert_int_equal(fb_pool_create_sz(&p, (struct fb_config *)(void *)big,
	    sizeof(big)), -EINVAL);
	assert_null(p);
	assert_int_equal(tu_count_fds(), fds);
	assert_int_equal(tu_our_segments(), 0);
}

static void
test_version(void **state)
{
	(void)state;
	assert_string_equal(fb_version(), FB_VERSION_STRING);
	assert_int_equal(fb_version_number(), FB_VERSION_MAJOR << 16 |
	    FB_VERSION_MINOR << 8 | FB_VERSION_PATCH);
	assert_true(FB_VERSION_MAJOR >= 1);
}

/* ---- trace -------------------------------------------------------------- */

/* Find, in recs, the slot transitions of task seq, in order. */
static int
causes_of(const struct fb_trace_rec *recs, int n, uint64_t seq, char *out,
    size_t cap)
{
	int i, k = 0;

	out[0] = '\0';
	for (i = 0; i < n; i++)
		if (recs[i].tr_kind == FB_TRACE_SLOT && recs[i].tr_task == seq)
			k += snprintf(out + strlen(out), cap - strlen(out),
			    "%s%s", k ? "," : "",
			    fb_trace_cause_name(recs[i].tr_cause)) > 0;
	return k;
}

static void
test_trace(void **state)
{
	struct fb_config cfg;
	struct fb_trace_rec recs[64];
	struct fb_board_stat st;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	uint64_t cursor = 0;
	char out[8], seq[128];
	int n, i, spawn = 0, ready = 0, fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	p = make_n(1, NULL);
	assert_int_equal(fb_pool_trace_read(p, &cursor, recs, 64), -ENOTSUP);
	tu_pool_end(p, fds);

	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.trace_records = 64;
	p = make(&cfg);
	assert_int_equal(fb_pool_submit(p, C_ECHO, "x", 1, 0, &t), 0);
	assert_int_equal(fb_pool_wait(p, t, &res, out, sizeof(out), 5000), 0);
	n = fb_pool_trace_read(p, &cursor, recs, 64);
	assert_true(n >= 5);
	assert_int_equal(causes_of(recs, n, FB__TICKET_SEQ(t), seq,
	    sizeof(seq)), 5);
	assert_string_equal(seq, "submit,claim,publish,collect,take");
	for (i = 0; i < n; i++) {
		assert_int_equal(recs[i].tr_seq, (uint64_t)i + 1);
		spawn += recs[i].tr_cause == FB_CAUSE_SPAWN;
		ready += recs[i].tr_cause == FB_CAUSE_READY;
	}
	assert_int_equal(spawn, 1);
	assert_int_equal(ready, 1);
	assert_int_equal(fb_pool_trace_read(p, &cursor, recs, 64), 0);

	/* Another process reads the same ring from the board alone, as the
	 * inspector will: attach read-only by shmid, check, read. */
	assert_int_equal(fb_pool_stat(p, &st), 0);
	if (fork() == 0) {
		struct fb__geometry g;
		struct fb__board_hdr h;
		uint64_t c = 0;
		void *base;

		base = shmat(st.bs_shmid, NULL, SHM_RDONLY);
		if (base == (void *)-1 ||
		    fb__board_check(base, st.bs_size, &g) != 0 ||
		    g.g_trace != 64)
			_exit(2);
		memcpy(&h, base, sizeof(h));
		n = fb__trace_read((const struct fb__trace_slot *)(const void *)
		    ((const char *)base + h.bh_trace_off), g.g_trace,
		    atomic_load(&((struct fb__board_hdr *)base)->bh_trace_head),
		    &c, recs, 64);
		_exit(causes_of(recs, n, FB__TICKET_SEQ(t), seq,
		    sizeof(seq)) == 5 && strcmp(seq,
		    "submit,claim,publish,collect,take") == 0 ? 0 : 3);
	}
	{
		int status;

		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	tu_pool_end(p, fds);
}

/*
 * A worker's life reads in order in the trace: the master's spawn record
 * comes before the worker's own ready record, for every worker.  (The
 * master used to append "spawn" after fork() returned, by which time a
 * quick child had often appended "ready" already.)
 */
static void
test_trace_spawn_first(void **state)
{
	struct fb_config cfg;
	struct fb_trace_rec recs[256];
	struct fb_pool *p;
	uint64_t cursor = 0;
	uint64_t spawn_at[8], ready_at[8];
	int64_t t0;
	int n, k, i, ready, round, fds = tu_count_fds();

	(void)state;
	TU_GUARD(60);
	for (round = 0; round < 5; round++) {
		fb_config_init(&cfg);
		cfg.workers = 8;
		cfg.trace_records = 256;
		p = make(&cfg);
		memset(spawn_at, 0, sizeof(spawn_at));
		memset(ready_at, 0, sizeof(ready_at));
		cursor = 0;
		/* Until all 8 said ready (the pool does not wait for it). */
		for (n = 0, ready = 0, t0 = tu_now_ms(); ready < 8;) {
			assert_true(tu_now_ms() - t0 < 10000);
			usleep(1000);
			k = fb_pool_trace_read(p, &cursor, recs + n,
			    256 - (size_t)n);
			assert_true(k >= 0);
			for (i = n; i < n + k; i++)
				ready += recs[i].tr_cause == FB_CAUSE_READY;
			n += k;
		}
		for (i = 0; i < n; i++) {
			if (recs[i].tr_kind != FB_TRACE_WORKER ||
			    recs[i].tr_worker >= 8)
				continue;
			if (recs[i].tr_cause == FB_CAUSE_SPAWN)
				spawn_at[recs[i].tr_worker] = recs[i].tr_seq;
			if (recs[i].tr_cause == FB_CAUSE_READY)
				ready_at[recs[i].tr_worker] = recs[i].tr_seq;
		}
		for (i = 0; i < 8; i++) {
			assert_true(spawn_at[i] != 0);
			assert_true(ready_at[i] != 0);
			assert_true(spawn_at[i] < ready_at[i]);
		}
		tu_pool_end(p, fds);
	}
}

/*
 * The board's counter block (what forkboard-top reads) matches the
 * master's own counters after a run with crashes, retries and a code
 * nobody handles, and each row shows its restarts.
 */
static void
test_board_counters(void **state)
{
	const struct fb__board_ctr *bc;
	struct fb__row_copy rc;
	struct fb_worker_info wi;
	struct fb_config cfg;
	struct fb_counters c;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	char out[8];
	unsigned i;
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(30);
	fb_config_init(&cfg);
	cfg.workers = 2;
	cfg.retries = 3;
	cfg.fault = "point=claim,action=crash,worker=0,every=2";
	p = make(&cfg);
	for (i = 0; i < 12; i++) {
		assert_int_equal(fb_pool_submit(p, i % 4 == 3 ? 999 : C_ECHO,
		    "x", 1, 0, &t), 0);
		assert_int_equal(fb_pool_wait(p, t, &res, out, sizeof(out),
		    5000), 0);
	}
	/* A turn of the loop publishes (a spun-for result may not have). */
	assert_int_equal(fb_pool_flush(p), 0);
	fb_pool_counters(p, &c);
	assert_true(c.c_crashed + c.c_retried > 0);
	assert_true(c.c_respawns > 0);
	assert_int_equal(c.c_nohandler, 3);
	bc = &p->p_board.b_hdr->bh_ctr;
	assert_int_equal(atomic_load(&bc->bc_submitted), c.c_submitted);
	assert_int_equal(atomic_load(&bc->bc_done), c.c_done);
	assert_int_equal(atomic_load(&bc->bc_failed), c.c_failed);
	assert_int_equal(atomic_load(&bc->bc_nohandler), c.c_nohandler);
	assert_int_equal(atomic_load(&bc->bc_crashed), c.c_crashed);
	assert_int_equal(atomic_load(&bc->bc_timedout), c.c_timedout);
	assert_int_equal(atomic_load(&bc->bc_badresult), c.c_badresult);
	assert_int_equal(atomic_load(&bc->bc_cancelled), c.c_cancelled);
	assert_int_equal(atomic_load(&bc->bc_retried), c.c_retried);
	assert_int_equal(atomic_load(&bc->bc_respawns), c.c_respawns);
	assert_int_equal(atomic_load(&bc->bc_slots_used),
	    fb_pool_slots_used(p));
	assert_int_equal(atomic_load(&bc->bc_inflight), fb_pool_inflight(p));
	for (i = 0; i < 2; i++) {
		assert_int_equal(fb_pool_worker_info(p, i, &wi), 0);
		assert_int_equal(fb__row_read(&p->p_board.b_workers[i], &rc),
		    0);
		assert_int_equal(rc.rc_restarts, wi.wi_restarts);
	}
	assert_true(wi.wi_restarts == 0);  /* worker 1 never crashed */
	assert_int_equal(fb_pool_worker_info(p, 0, &wi), 0);
	assert_true(wi.wi_restarts > 0);
	tu_pool_end(p, fds);
}

/* ---- fault injection ---------------------------------------------------- */

static void
test_fault_points(void **state)
{
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	char out[8];
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(30);
	/* After publishing, before the completion record: the result
	 * stands (the board is the truth), the worker is replaced. */
	p = make_n(1, "point=published,action=crash,every=1");
	assert_int_equal(fb_pool_submit(p, C_ECHO, "ok", 2, 0, &t), 0);
	assert_int_equal(fb_pool_wait(p, t, &res, out, sizeof(out), 5000), 0);
	assert_int_equal(res.r_outcome, FB_DONE);
	assert_memory_equal(out, "ok", 2);
	tu_pool_end(p, fds);

	/* Before publishing: the task was running, it crashed. */
	p = make_n(1, "point=publish,action=exit");
	assert_int_equal(fb_pool_submit(p, C_ECHO, "ok", 2, 0, &t), 0);
	assert_int_equal(fb_pool_wait(p, t, &res, out, sizeof(out), 5000), 0);
	assert_int_equal(res.r_outcome, FB_CRASHED);
	assert_true(WIFEXITED(res.r_wait_status));
	assert_int_equal(WEXITSTATUS(res.r_wait_status), 3);
	tu_pool_end(p, fds);

	/* After reading the record, before claiming; only code C_SLEEP. */
	p = make_n(1, "point=read,action=crash,code=2");
	assert_int_equal(fb_pool_submit(p, C_ECHO, "ok", 2, 0, &t), 0);
	assert_int_equal(fb_pool_wait(p, t, &res, out, sizeof(out), 5000), 0);
	assert_int_equal(res.r_outcome, FB_DONE);
	{
		uint32_t ms = 1;

		assert_int_equal(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &t), 0);
	}
	assert_int_equal(fb_pool_wait(p, t, &res, out, sizeof(out), 5000), 0);
	assert_int_equal(res.r_outcome, FB_CRASHED);
	assert_int_equal(WTERMSIG(res.r_wait_status), SIGABRT);
	tu_pool_end(p, fds);
}

static void
test_fault_hang_and_start(void **state)
{
	struct fb_config cfg;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	char out[8];
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(30);
	/* Hang after claiming: only a timeout gets it back. */
	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.task_timeout_ms = 100;
	cfg.kill_grace_ms = 100;
	cfg.fault = "point=claim,action=hang";
	p = make(&cfg);
	assert_int_equal(fb_pool_submit(p, C_ECHO, "ok", 2, 0, &t), 0);
	assert_int_equal(fb_pool_wait(p, t, &res, out, sizeof(out), 5000), 0);
	assert_int_equal(res.r_outcome, FB_TIMEDOUT);
	tu_pool_end(p, fds);

	/* Dying at start, every time: the crash-loop guard fails the pool. */
	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.crash_loop_max = 3;
	cfg.fault = "point=start,action=exit";
	p = make(&cfg);
	assert_int_equal(fb_pool_submit(p, C_ECHO, "ok", 2, 0, &t), 0);
	assert_int_equal(fb_pool_wait(p, t, &res, out, sizeof(out), 10000), 0);
	assert_int_equal(res.r_outcome, FB_CANCELLED);
	assert_int_equal(fb_pool_submit(p, C_ECHO, "ok", 2, 0, &t), -ECHILD);
	assert_int_equal(fb_pool_shutdown(p, 1000), 0);
	fb_pool_destroy(p);
	tu_assert_no_children();
	assert_int_equal(tu_count_fds(), fds);
}

/* A probability with a seed: the same seed, the same faults. */
static unsigned
crashes_with_seed(const char *spec)
{
	struct fb_config cfg;
	struct fb_result res;
	struct fb_counters c;
	struct fb_pool *p;
	fb_ticket_t t;
	char out[8];
	int i, fds = tu_count_fds();

	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.retries = 100;
	cfg.fault = spec;
	p = make(&cfg);
	for (i = 0; i < 40; i++) {
		assert_int_equal(fb_pool_submit(p, C_ECHO, "ok", 2, 0, &t), 0);
		assert_int_equal(fb_pool_wait(p, t, &res, out, sizeof(out),
		    10000), 0);
		assert_int_equal(res.r_outcome, FB_DONE);
	}
	fb_pool_counters(p, &c);
	tu_pool_end(p, fds);
	return (unsigned)c.c_retried;
}

static void
test_fault_prob_seed(void **state)
{
	unsigned a, b;

	(void)state;
	TU_GUARD(60);
	a = crashes_with_seed("point=claim,action=crash,prob=0.3,seed=7");
	b = crashes_with_seed("point=claim,action=crash,prob=0.3,seed=7");
	assert_true(a > 0 && a < 40);
	assert_int_equal(a, b);
}

static void
test_fault_spec_checked(void **state)
{
	static const char *const bad[] = {
		"point=claim", "action=crash", "point=nowhere,action=crash",
		"point=claim,action=explode", "point=claim,action=crash,every=0",
		"point=claim,action=crash,prob=2", "point=claim,action=crash,x=1",
		"point=claim,action=crash,worker=-1", "junk",
	};
	struct fb_config cfg;
	struct fb_pool *p;
	size_t i;
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	fb_config_init(&cfg);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.fault = bad[i];
		assert_int_equal(fb_pool_create(&p, &cfg), -EINVAL);
	}
	/* From the environment, for programs that cannot be recompiled. */
	cfg.fault = NULL;
	setenv("FB_FAULT", "point=claim,action=bogus", 1);
	assert_int_equal(fb_pool_create(&p, &cfg), -EINVAL);
	setenv("FB_FAULT", "point=claim,action=crash,worker=3", 1);
	assert_int_equal(fb_pool_create(&p, &cfg), 0);
	assert_int_equal(p->p_faults.f_n, 1);
	fb_pool_destroy(p);
	unsetenv("FB_FAULT");
	assert_int_equal(tu_count_fds(), fds);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_TEST(test_udata_echoed),
		TU_TEST(test_udata_through_retry_and_crash),
		TU_TEST(test_per_task_timeout),
		TU_TEST(test_job_checks),
		TU_TEST(test_worker_ctx_and_fini),
		TU_TEST(test_cancel_queued),
		TU_TEST(test_cancel_running),
		TU_TEST(test_callbacks),
		TU_TEST(test_take),
		TU_TEST(test_timing_and_rusage),
		TU_TEST(test_task_clock),
		TU_TEST(test_struct_sizes),
		TU_TEST(test_version),
		TU_TEST(test_trace),
		TU_TEST(test_trace_spawn_first),
		TU_TEST(test_board_counters),
		TU_TEST(test_fault_points),
		TU_TEST(test_fault_hang_and_start),
		TU_TEST(test_fault_prob_seed),
		TU_TEST(test_fault_spec_checked),
	};

	if (getenv("FB_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("FB_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
