/*
 * test_shutdown.c - shutdown can never hang and loses nothing.
 *
 * The seed's pool closed channel i and waited for worker i in one loop;
 * it hung because later children had inherited the write ends of earlier
 * channels.  Here workers hold no sibling's write end, so that very loop
 * finishes at once.  Then: draining, deadline escalation (SIGTERM, then
 * SIGKILL for a handler that ignores SIGTERM), and destroy without
 * shutdown.
 */
#include "testutil.h"

#include "internal.h"

#define C_SLEEP 1
#define C_STUBBORN 2

static struct fb_pool *
pool_new(unsigned workers, unsigned grace_ms, int *shmid, int *fds)
{
	struct fb_config cfg;
	struct fb_board_stat st;
	struct fb_pool *p;

	*fds = tu_count_fds();
	fb_config_init(&cfg);
	cfg.workers = workers;
	cfg.slots = 32;
	cfg.kill_grace_ms = grace_ms;
	assert_int_equal(fb_pool_create(&p, &cfg), 0);
	assert_int_equal(fb_pool_register(p, C_SLEEP, tu_h_sleep, NULL), 0);
	assert_int_equal(fb_pool_register(p, C_STUBBORN, tu_h_stubborn, NULL), 0);
	assert_int_equal(tu_start(p), 0);
	assert_int_equal(fb_pool_stat(p, &st), 0);
	*shmid = st.bs_shmid;
	return p;
}

static void
pool_gone(int shmid, int fds)
{
	tu_assert_no_children();
	tu_assert_shm_gone(shmid);
	assert_int_equal(tu_count_fds(), fds);
}

/* The seed's order: close channel i, wait for worker i, next i. */
static void
seed_order(unsigned n)
{
	struct fb_pool *p;
	unsigned i;
	int shmid, fds, st;
	pid_t pid;

	/* A hang here is the seed's bug: the guard catches it. */
	TU_GUARD(5);
	p = pool_new(n, 1000, &shmid, &fds);
	p->p_state = FB__P_CLOSING; /* as fb_pool_shutdown does */
	for (i = 0; i < n; i++) {
		pid = p->p_workers[i].w_pid;
		fb__close(&p->p_workers[i].w_task[1]);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
		fb__worker_lost(p, i, st);
		/* Later workers are still alive: closing channel i ended
		 * worker i and nobody else. */
		if (i + 1 < n)
			assert_true(tu_alive(p->p_workers[i + 1].w_pid));
	}
	assert_int_equal(fb_pool_shutdown(p, 1000), 0);
	fb_pool_destroy(p);
	pool_gone(shmid, fds);
}

static void
test_seed_order_3(void **state)
{
	(void)state;
	seed_order(3);
}

static void
test_seed_order_16(void **state)
{
	(void)state;
	seed_order(16);
}

/* In-flight tasks finish; their results outlive shutdown. */
static void
test_drain(void **state)
{
	struct fb_pool *p;
	struct fb_result res;
	fb_ticket_t t[8], x;
	uint32_t ms = 100, out;
	int shmid, fds, i;

	(void)state;
	TU_GUARD(10);
	p = pool_new(2, 1000, &shmid, &fds);
	for (i = 0; i < 8; i++)
		assert_int_equal(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &t[i]),
		    0);
	assert_int_equal(fb_pool_shutdown(p, 5000), 0);
	assert_int_equal(fb_pool_workers(p), 0);
	assert_int_equal(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &x),
	    -ESHUTDOWN);
	for (i = 0; i < 8; i++) {
		assert_int_equal(fb_pool_result(p, t[i], &res, &out,
		    sizeof(out)), 0);
		assert_int_equal(res.r_outcome, FB_DONE);
		assert_int_equal(out, 100);
	}
	assert_int_equal(fb_pool_shutdown(p, 0), 0); /* twice is fine */
	fb_pool_destroy(p);
	pool_gone(shmid, fds);
}

/*
 * Deadline passes with a stubborn task running: SIGTERM is ignored, so
 * SIGKILL follows kill_grace_ms later.  The task behind it never ran.
 */
static void
test_escalation(void **state)
{
	struct fb_pool *p;
	struct fb_result res;
	struct fb_worker_info wi;
	fb_ticket_t a, b;
	uint32_t ms = 10;
	char buf[8];
	int shmid, fds;
	int64_t t0;

	(void)state;
	TU_GUARD(10);
	p = pool_new(1, 200, &shmid, &fds);
	assert_int_equal(fb_pool_submit(p, C_STUBBORN, NULL, 0, 0, &a), 0);
	assert_int_equal(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &b), 0);
	do
		assert_int_equal(fb_pool_worker_info(p, 0, &wi), 0);
	while (wi.wi_state != FB_WORKER_BUSY);
	/* Wait until it really ignores SIGTERM (its /proc status says so). */
	while (!tu_ignores(wi.wi_pid, SIGTERM))
		tu_sleep_ms(1);
	t0 = tu_now_ms();
	assert_int_equal(fb_pool_shutdown(p, 100), -ETIMEDOUT);
	/* 100 ms deadline + 200 ms grace, then SIGKILL. */
	assert_true(tu_now_ms() - t0 >= 250);
	assert_int_equal(fb_pool_result(p, a, &res, buf, sizeof(buf)), 0);
	assert_int_equal(res.r_outcome, FB_CRASHED);
	assert_true(WIFSIGNALED(res.r_wait_status));
	assert_int_equal(WTERMSIG(res.r_wait_status), SIGKILL);
	assert_int_equal(fb_pool_result(p, b, &res, buf, sizeof(buf)), 0);
	assert_int_equal(res.r_outcome, FB_CANCELLED);
	fb_pool_destroy(p);
	pool_gone(shmid, fds);
}

/* A handler that does not ignore SIGTERM ends at the first signal. */
static void
test_term_suffices(void **state)
{
	struct fb_pool *p;
	struct fb_result res;
	fb_ticket_t a;
	uint32_t ms = 20000;
	char buf[8];
	int shmid, fds;
	int64_t t0;

	(void)state;
	TU_GUARD(10);
	p = pool_new(1, 3000, &shmid, &fds);
	assert_int_equal(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &a), 0);
	t0 = tu_now_ms();
	assert_int_equal(fb_pool_shutdown(p, 100), -ETIMEDOUT);
	assert_true(tu_now_ms() - t0 < 2000); /* no need to wait the grace */
	assert_int_equal(fb_pool_result(p, a, &res, buf, sizeof(buf)), 0);
	assert_int_equal(res.r_outcome, FB_CRASHED);
	assert_int_equal(WTERMSIG(res.r_wait_status), SIGTERM);
	fb_pool_destroy(p);
	pool_gone(shmid, fds);
}

/* destroy without shutdown stops and reaps everything. */
static void
test_destroy_running(void **state)
{
	struct fb_pool *p;
	fb_ticket_t t;
	uint32_t ms = 50;
	int shmid, fds;

	(void)state;
	TU_GUARD(10);
	p = pool_new(4, 1000, &shmid, &fds);
	assert_int_equal(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &t), 0);
	fb_pool_destroy(p);
	pool_gone(shmid, fds);
}

/* Many start/shutdown cycles with 1..64 workers: no hang, no leak.
 * FB_CYCLES sets the count (the issue asks 1000 locally). */
static void
test_cycles(void **state)
{
	const char *e = getenv("FB_CYCLES");
	struct fb_pool *p;
	fb_ticket_t t;
	uint32_t ms = 0;
	int i, n = e ? atoi(e) : 100, shmid, fds;

	(void)state;
	TU_GUARD(300);
	for (i = 0; i < n; i++) {
		p = pool_new(1 + (unsigned)(i * 37) % 64, 1000, &shmid, &fds);
		if (i % 2)
			assert_int_equal(fb_pool_submit(p, C_SLEEP, &ms, 4, 0,
			    &t), 0);
		assert_int_equal(fb_pool_shutdown(p, 5000), 0);
		fb_pool_destroy(p);
		pool_gone(shmid, fds);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_TEST(test_seed_order_3),
		TU_TEST(test_seed_order_16),
		TU_TEST(test_drain),
		TU_TEST(test_escalation),
		TU_TEST(test_term_suffices),
		TU_TEST(test_destroy_running),
		TU_TEST(test_cycles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
