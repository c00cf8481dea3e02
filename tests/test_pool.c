/*
 * test_pool.c - integration tests of the master API with real workers:
 * round trips, thousands of mixed tasks, errors (unknown code, oversize
 * payload, full board, small buffer), the pollable fd, dispatch policies,
 * and what destroy leaves behind (nothing).
 */
#include "testutil.h"

#include <poll.h>

#include "internal.h"

#define C_ECHO 1
#define C_SUM 2
#define C_REV 3
#define C_FAIL 4
#define C_SLEEP 5
#define C_PID 6
#define C_OVER 7

static int
h_sum(struct fb_task *t, void *arg)
{
	const unsigned char *p = t->t_payload;
	uint64_t s = 0;
	size_t i;

	(void)arg;
	for (i = 0; i < t->t_len; i++)
		s = s * 31 + p[i];
	memcpy(t->t_result, &s, sizeof(s));
	t->t_result_len = sizeof(s);
	return 0;
}

static int
h_rev(struct fb_task *t, void *arg)
{
	const unsigned char *p = t->t_payload;
	unsigned char *q = t->t_result;
	size_t i;

	(void)arg;
	for (i = 0; i < t->t_len; i++)
		q[i] = p[t->t_len - 1 - i];
	t->t_result_len = t->t_len;
	return 0;
}

static int
h_fail(struct fb_task *t, void *arg)
{
	(void)t;
	return *(int *)arg;
}

static int
h_over(struct fb_task *t, void *arg)
{
	(void)arg;
	t->t_result_len = t->t_result_cap + 1;
	return 0;
}

static int fail_status = 42;

struct fixture {
	struct fb_pool *pool;
	int fds_before;
	int shmid;
};

static struct fb_pool *
start_pool(struct fixture *f, unsigned workers, unsigned slots,
    enum fb_policy policy)
{
	struct fb_config cfg;
	struct fb_board_stat st;

	TU_GUARD(60);
	f->fds_before = tu_count_fds();
	fb_config_init(&cfg);
	cfg.workers = workers;
	cfg.slots = slots;
	cfg.payload_size = 1024;
	cfg.policy = policy;
	assert_int_equal(fb_pool_create(&f->pool, &cfg), 0);
	assert_int_equal(fb_pool_register(f->pool, C_ECHO, tu_h_echo, NULL), 0);
	assert_int_equal(fb_pool_register(f->pool, C_SUM, h_sum, NULL), 0);
	assert_int_equal(fb_pool_register(f->pool, C_REV, h_rev, NULL), 0);
	assert_int_equal(fb_pool_register(f->pool, C_FAIL, h_fail,
	    &fail_status), 0);
	assert_int_equal(fb_pool_register(f->pool, C_SLEEP, tu_h_sleep, NULL), 0);
	assert_int_equal(fb_pool_register(f->pool, C_PID, tu_h_pid, NULL), 0);
	assert_int_equal(fb_pool_register(f->pool, C_OVER, h_over, NULL), 0);
	assert_int_equal(fb_pool_start(f->pool), 0);
	assert_int_equal(fb_pool_stat(f->pool, &st), 0);
	f->shmid = st.bs_shmid;
	return f->pool;
}

/* Shut down and prove nothing is left: no child, no segment, no fd. */
static void
finish(struct fixture *f)
{
	tu_pool_end(f->pool, f->fds_before);
	f->pool = NULL;
}

static void
test_round_trip(void **state)
{
	struct fixture f;
	struct fb_result res;
	fb_ticket_t t;
	char buf[64];

	(void)state;
	start_pool(&f, 2, 8, FB_POLICY_ROUND_ROBIN);
	assert_int_equal(fb_pool_submit(f.pool, C_ECHO, "hello", 5, 0, &t), 0);
	assert_true(t != 0);
	assert_int_equal(fb_pool_wait(f.pool, t, &res, buf, sizeof(buf), 5000),
	    0);
	assert_int_equal(res.r_outcome, FB_DONE);
	assert_int_equal(res.r_len, 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(res.r_code, C_ECHO);
	assert_true(res.r_ticket == t);
	assert_int_equal(res.r_attempts, 1);
	assert_true(res.r_pid > 0 && res.r_pid != getpid());
	/* Taken once: a second take finds nothing. */
	assert_int_equal(fb_pool_result(f.pool, t, &res, buf, sizeof(buf)),
	    -ENOENT);
	assert_int_equal(fb_pool_slots_used(f.pool), 0);
	finish(&f);
}

static void
fill_payload(unsigned char *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
}

struct expect {
	fb_ticket_t e_ticket;
	uint32_t e_code;
	uint32_t e_seed;
	uint32_t e_len;
};

static void
check_result(const struct expect *e, const struct fb_result *res,
    const unsigned char *buf)
{
	unsigned char pl[1024], want[1024];
	uint64_t s = 0;
	size_t i;

	fill_payload(pl, e->e_len, e->e_seed);
	assert_int_equal(res->r_outcome, FB_DONE);
	assert_int_equal(res->r_code, e->e_code);
	switch (e->e_code) {
	case C_ECHO:
		assert_int_equal(res->r_len, e->e_len);
		assert_memory_equal(buf, pl, e->e_len);
		break;
	case C_SUM:
		for (i = 0; i < e->e_len; i++)
			s = s * 31 + pl[i];
		assert_int_equal(res->r_len, 8);
		assert_memory_equal(buf, &s, 8);
		break;
	case C_REV:
		for (i = 0; i < e->e_len; i++)
			want[i] = pl[e->e_len - 1 - i];
		assert_int_equal(res->r_len, e->e_len);
		assert_memory_equal(buf, want, e->e_len);
		break;
	default:
		fail();
	}
}

/* 10 000 mixed tasks, keeping the board full; every result checked. */
static void
mixed(enum fb_policy policy)
{
	enum { N = 10000 };
	static struct expect ex[N];
	struct fixture f;
	struct fb_result res;
	struct fb_counters c;
	unsigned char pl[1024], buf[1024];
	unsigned i, got = 0, j;
	int r;

	start_pool(&f, 4, 64, policy);
	for (i = 0; i < N; i++) {
		ex[i].e_code = C_ECHO + i % 3;
		ex[i].e_seed = i * 7919u;
		ex[i].e_len = (i * 37u) % 1024;
		fill_payload(pl, ex[i].e_len, ex[i].e_seed);
		while ((r = fb_pool_submit(f.pool, ex[i].e_code, pl,
		    ex[i].e_len, FB_NONBLOCK, &ex[i].e_ticket)) == -EAGAIN) {
			assert_int_equal(fb_pool_next(f.pool, &res, buf,
			    sizeof(buf), 5000), 0);
			j = (unsigned)(res.r_ticket >> 16) - 1;
			assert_true(j < N && ex[j].e_ticket == res.r_ticket);
			check_result(&ex[j], &res, buf);
			got++;
		}
		assert_int_equal(r, 0);
	}
	while ((r = fb_pool_next(f.pool, &res, buf, sizeof(buf), 5000)) == 0) {
		j = (unsigned)(res.r_ticket >> 16) - 1;
		assert_true(j < N && ex[j].e_ticket == res.r_ticket);
		check_result(&ex[j], &res, buf);
		got++;
	}
	assert_int_equal(r, -ENOENT);
	assert_int_equal(got, N);
	fb_pool_counters(f.pool, &c);
	assert_int_equal(c.c_submitted, N);
	assert_int_equal(c.c_done, N);
	finish(&f);
}

static void
test_mixed_rr(void **state)
{
	(void)state;
	mixed(FB_POLICY_ROUND_ROBIN);
}

static void
test_mixed_least(void **state)
{
	(void)state;
	mixed(FB_POLICY_LEAST_LOADED);
}

static void
test_unknown_code(void **state)
{
	struct fixture f;
	struct fb_result res;
	fb_ticket_t t;
	pid_t before, after;
	char buf[16];

	(void)state;
	start_pool(&f, 1, 4, FB_POLICY_ROUND_ROBIN);
	assert_int_equal(fb_pool_submit(f.pool, C_PID, NULL, 0, 0, &t), 0);
	assert_int_equal(fb_pool_wait(f.pool, t, &res, &before, sizeof(before),
	    5000), 0);
	assert_int_equal(fb_pool_submit(f.pool, 999, "x", 1, 0, &t), 0);
	assert_int_equal(fb_pool_wait(f.pool, t, &res, buf, sizeof(buf), 5000),
	    0);
	assert_int_equal(res.r_outcome, FB_NOHANDLER);
	assert_int_equal(res.r_len, 0);
	/* The worker lives on: same process answers the next task. */
	assert_int_equal(fb_pool_submit(f.pool, C_PID, NULL, 0, 0, &t), 0);
	assert_int_equal(fb_pool_wait(f.pool, t, &res, &after, sizeof(after),
	    5000), 0);
	assert_int_equal(res.r_outcome, FB_DONE);
	assert_int_equal(before, after);
	finish(&f);
}

static void
test_handler_failure_and_bad_result(void **state)
{
	struct fixture f;
	struct fb_result res;
	struct fb_counters c;
	fb_ticket_t t;
	char buf[16];

	(void)state;
	start_pool(&f, 1, 4, FB_POLICY_ROUND_ROBIN);
	assert_int_equal(fb_pool_submit(f.pool, C_FAIL, NULL, 0, 0, &t), 0);
	assert_int_equal(fb_pool_wait(f.pool, t, &res, buf, sizeof(buf), 5000),
	    0);
	assert_int_equal(res.r_outcome, FB_FAILED);
	assert_int_equal(res.r_status, 42);
	assert_int_equal(fb_pool_submit(f.pool, C_OVER, NULL, 0, 0, &t), 0);
	assert_int_equal(fb_pool_wait(f.pool, t, &res, buf, sizeof(buf), 5000),
	    0);
	assert_int_equal(res.r_outcome, FB_BADRESULT);
	assert_int_equal(res.r_len, 0);
	fb_pool_counters(f.pool, &c);
	assert_int_equal(c.c_failed, 1);
	assert_int_equal(c.c_badresult, 1);
	finish(&f);
}

static void
test_oversize_payload(void **state)
{
	struct fixture f;
	static char big[1025];
	fb_ticket_t t = 0;

	(void)state;
	start_pool(&f, 1, 4, FB_POLICY_ROUND_ROBIN);
	assert_int_equal(fb_pool_submit(f.pool, C_ECHO, big, sizeof(big), 0,
	    &t), -EMSGSIZE);
	assert_true(t == 0);
	assert_int_equal(fb_pool_slots_used(f.pool), 0);
	/* Exactly the slot size is fine. */
	assert_int_equal(fb_pool_submit(f.pool, C_ECHO, big, 1024, 0, &t), 0);
	finish(&f);
}

/* Fresh workers reach IDLE by themselves, with no task sent: the master
 * never writes a row a live worker owns (it once overwrote IDLE with
 * STARTING after the fork). */
static void
test_workers_reach_idle(void **state)
{
	struct fixture f;
	struct fb_worker_info wi;
	unsigned i;

	(void)state;
	start_pool(&f, 4, 8, FB_POLICY_ROUND_ROBIN);
	for (i = 0; i < 4; i++) {
		do
			assert_int_equal(fb_pool_worker_info(f.pool, i, &wi), 0);
		while (wi.wi_state != FB_WORKER_IDLE && (usleep(1000), 1));
		assert_true(wi.wi_pid > 0);
	}
	finish(&f);
}

/* Is every slot either free or holding a finished result? */
static int
all_complete(const struct fb_pool *p)
{
	struct fb_board_stat st;
	struct fb_slot_info si;
	unsigned i;

	assert_int_equal(fb_pool_stat(p, &st), 0);
	for (i = 0; i < st.bs_slots; i++) {
		assert_int_equal(fb_pool_slot_info(p, i, &si), 0);
		if (si.si_state == FB_SLOT_QUEUED ||
		    si.si_state == FB_SLOT_RUNNING)
			return 0;
	}
	return 1;
}

static void
test_full_board(void **state)
{
	struct fixture f;
	struct fb_result res;
	fb_ticket_t t[3], t2;
	uint32_t ms = 200;
	char buf[8];
	int i;

	(void)state;
	start_pool(&f, 1, 2, FB_POLICY_ROUND_ROBIN);
	assert_int_equal(fb_pool_submit(f.pool, C_SLEEP, &ms, 4, 0, &t[0]), 0);
	assert_int_equal(fb_pool_submit(f.pool, C_SLEEP, &ms, 4, 0, &t[1]), 0);
	assert_int_equal(fb_pool_submit(f.pool, C_ECHO, "a", 1, FB_NONBLOCK,
	    &t2), -EAGAIN);
	/* Both earlier tasks are intact. */
	for (i = 0; i < 2; i++) {
		assert_int_equal(fb_pool_wait(f.pool, t[i], &res, buf,
		    sizeof(buf), 5000), 0);
		assert_int_equal(res.r_outcome, FB_DONE);
	}
	/* Full of results nobody took: a blocking submit must not hang. */
	assert_int_equal(fb_pool_submit(f.pool, C_ECHO, "a", 1, 0, &t[0]), 0);
	assert_int_equal(fb_pool_submit(f.pool, C_ECHO, "b", 1, 0, &t[1]), 0);
	assert_int_equal(fb_pool_wait(f.pool, t[0], &res, buf, sizeof(buf),
	    -1), 0);
	assert_int_equal(fb_pool_submit(f.pool, C_ECHO, "c", 1, 0, &t[2]), 0);
	/* Until every slot holds a finished result: no sleep-and-hope. */
	while (!all_complete(f.pool)) {
		assert_int_equal(fb_pool_process(f.pool) >= 0, 1);
		usleep(1000);
	}
	while (fb_pool_submit(f.pool, C_ECHO, "d", 1, FB_NONBLOCK, &t2) == 0)
		fail();
	assert_int_equal(fb_pool_submit(f.pool, C_ECHO, "d", 1, 0, &t2),
	    -EDEADLK);
	/* A blocking submit waits for an in-flight task to free a slot. */
	assert_int_equal(fb_pool_wait(f.pool, t[1], &res, buf, sizeof(buf),
	    5000), 0);
	assert_memory_equal(buf, "b", 1);
	assert_int_equal(fb_pool_wait(f.pool, t[2], &res, buf, sizeof(buf),
	    5000), 0);
	assert_memory_equal(buf, "c", 1);
	finish(&f);
}

static void
test_blocking_submit_waits(void **state)
{
	struct fixture f;
	struct fb_result res;
	fb_ticket_t t[2], t3;
	uint32_t ms = 100;
	char buf[8];
	int64_t t0;

	(void)state;
	start_pool(&f, 1, 1, FB_POLICY_ROUND_ROBIN);
	assert_int_equal(fb_pool_submit(f.pool, C_SLEEP, &ms, 4, 0, &t[0]), 0);
	t0 = tu_now_ms();
	/* The only slot is in flight and nobody will take its result: the
	 * call must return rather than wait forever. */
	assert_int_equal(fb_pool_submit(f.pool, C_ECHO, "x", 1, 0, &t3),
	    -EDEADLK);
	assert_true(tu_now_ms() - t0 >= 50);
	assert_int_equal(fb_pool_wait(f.pool, t[0], &res, buf, sizeof(buf),
	    5000), 0);
	finish(&f);
}

static void
test_small_buffer(void **state)
{
	struct fixture f;
	struct fb_result res;
	fb_ticket_t t;
	char buf[16];

	(void)state;
	start_pool(&f, 1, 4, FB_POLICY_ROUND_ROBIN);
	assert_int_equal(fb_pool_submit(f.pool, C_ECHO, "0123456789", 10, 0,
	    &t), 0);
	assert_int_equal(fb_pool_wait(f.pool, t, &res, buf, 4, 5000), -ENOBUFS);
	assert_int_equal(res.r_len, 10);
	/* Nothing was lost: a bigger buffer takes it. */
	assert_int_equal(fb_pool_result(f.pool, t, &res, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, "0123456789", 10);
	finish(&f);
}

static void
test_api_misuse(void **state)
{
	struct fixture f;
	struct fb_config cfg;
	struct fb_pool *p;
	fb_ticket_t t;
	struct fb_result res;
	char buf[4];

	(void)state;
	fb_config_init(&cfg);
	cfg.workers = 0;
	assert_int_equal(fb_pool_create(&p, &cfg), -EINVAL);
	assert_null(p);
	cfg.workers = FB_WORKERS_MAX + 1;
	assert_int_equal(fb_pool_create(&p, &cfg), -EINVAL);
	cfg.workers = 1;
	cfg.slots = FB_SLOTS_MAX + 1;
	assert_int_equal(fb_pool_create(&p, &cfg), -EINVAL);
	cfg.slots = 4;
	cfg.mode = 01777;
	assert_int_equal(fb_pool_create(&p, &cfg), -EINVAL);

	start_pool(&f, 1, 4, FB_POLICY_ROUND_ROBIN);
	assert_int_equal(fb_pool_register(f.pool, 50, tu_h_echo, NULL), -EBUSY);
	assert_int_equal(fb_pool_start(f.pool), -EBUSY);
	assert_int_equal(fb_pool_submit(f.pool, FB_CODE_RESERVED, NULL, 0, 0,
	    &t), -EINVAL);
	assert_int_equal(fb_pool_result(f.pool, 0, &res, buf, sizeof(buf)),
	    -ENOENT);
	assert_int_equal(fb_pool_result(f.pool, (fb_ticket_t)12345 << 16 | 3,
	    &res, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(fb_pool_next(f.pool, &res, buf, sizeof(buf), -1),
	    -ENOENT);
	finish(&f);
	/* Not started: submit refused, destroy fine. */
	fb_config_init(&cfg);
	assert_int_equal(fb_pool_create(&p, &cfg), 0);
	assert_int_equal(fb_pool_register(p, FB_CODE_FDLIST, tu_h_echo, NULL),
	    -EINVAL);
	assert_int_equal(fb_pool_register(p, 1, NULL, NULL), -EINVAL);
	assert_int_equal(fb_pool_register(p, 1, tu_h_echo, NULL), 0);
	assert_int_equal(fb_pool_register(p, 1, tu_h_echo, NULL), -EEXIST);
	assert_int_equal(fb_pool_submit(p, 1, "x", 1, 0, &t), -ESHUTDOWN);
	fb_pool_destroy(p);
	fb_pool_destroy(NULL);
	tu_assert_no_children();
}

static key_t
test_key(void)
{
	return (key_t)(0x46500000 | (getpid() & 0xffff));
}

/* If the test failed midway, its keyed segment must not outlive it. */
static int
remove_test_key(void **state)
{
	int id;

	(void)state;
	if ((id = shmget(test_key(), 0, 0)) != -1)
		(void)shmctl(id, IPC_RMID, NULL);
	return 0;
}

static void
test_keyed_pool_eexist(void **state)
{
	struct fb_config cfg;
	struct fb_pool *a, *b;
	struct fb_board_stat st;
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(30);
	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.key_mode = FB_BOARD_KEY;
	cfg.key = test_key();
	assert_int_equal(shmget(cfg.key, 0, 0), -1); /* not someone else's */
	assert_int_equal(fb_pool_create(&a, &cfg), 0);
	assert_int_equal(fb_pool_stat(a, &st), 0);
	assert_int_equal(st.bs_key, cfg.key);
	assert_int_equal(st.bs_removed, 0);
	assert_int_equal(st.bs_mode, 0600);
	assert_int_equal(fb_pool_create(&b, &cfg), -EEXIST);
	assert_null(b);
	assert_int_equal(fb_pool_start(a), 0);
	fb_pool_destroy(a);
	assert_int_equal(shmget(cfg.key, 0, 0), -1);
	assert_int_equal(errno, ENOENT);
	tu_assert_shm_gone(st.bs_shmid);
	tu_assert_no_children();
	assert_int_equal(tu_count_fds(), fds);
}

static void
test_board_stat(void **state)
{
	struct fixture f;
	struct fb_board_stat st;

	(void)state;
	start_pool(&f, 3, 16, FB_POLICY_ROUND_ROBIN);
	assert_int_equal(fb_pool_stat(f.pool, &st), 0);
	assert_int_equal(st.bs_key, IPC_PRIVATE);
	assert_int_equal(st.bs_removed, 1);
	assert_int_equal(st.bs_mode, 0600);
	assert_int_equal(st.bs_cpid, getpid());
	assert_int_equal(st.bs_slots, 16);
	assert_int_equal(st.bs_payload_size, 1024);
	assert_true(st.bs_size >= 16 * 2048u);
	assert_int_equal(st.bs_size_rounded % 4096, 0);
	assert_true(st.bs_size_rounded >= st.bs_size &&
	    st.bs_size_rounded - st.bs_size < 4096);
	/* Master plus three workers attached (they inherit the mapping). */
	assert_int_equal(st.bs_nattch, 4);
	finish(&f);
}

/* The pool fd becomes readable when a completion waits, so an embedder's
 * poll loop can drive the pool. */
static void
test_pollable_fd(void **state)
{
	struct fixture f;
	struct fb_result res;
	struct fb_worker_info wi;
	struct pollfd pfd;
	fb_ticket_t t;
	char buf[8];
	unsigned k;
	int n = 0, r;

	(void)state;
	start_pool(&f, 2, 8, FB_POLICY_ROUND_ROBIN);
	pfd.fd = fb_pool_fd(f.pool);
	pfd.events = POLLIN;
	/* New workers say they are ready, and without pidfds a timer polls
	 * for deaths: those make the fd readable too, and fb_pool_process()
	 * takes them without completing any task. */
	for (k = 0; k < 2; k++)
		do
			assert_int_equal(fb_pool_worker_info(f.pool, k, &wi), 0);
		while (wi.wi_state != FB_WORKER_IDLE && (usleep(1000), 1));
	while (poll(&pfd, 1, 0) == 1)
		assert_int_equal(fb_pool_process(f.pool), 0);
	assert_int_equal(fb_pool_submit(f.pool, C_ECHO, "p", 1, 0, &t), 0);
	while (n == 0) {
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		assert_true(pfd.revents & POLLIN);
		assert_true((r = fb_pool_process(f.pool)) >= 0);
		n += r;
	}
	assert_int_equal(n, 1);
	assert_int_equal(fb_pool_result(f.pool, t, &res, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, "p", 1);
	assert_int_equal(fb_pool_process(f.pool), 0);
	finish(&f);
}

/* Least-loaded sends new work away from a busy worker; round-robin does
 * not care. */
static void
test_least_loaded(void **state)
{
	struct fixture f;
	struct fb_result res;
	fb_ticket_t slow, t[6];
	/* Long enough that no task ends while the seven are submitted, even
	 * on a loaded machine under ASan (an early end changes the loads). */
	uint32_t ms = 1000;
	char buf[8];
	int i;

	(void)state;
	start_pool(&f, 3, 16, FB_POLICY_LEAST_LOADED);
	assert_int_equal(fb_pool_submit(f.pool, C_SLEEP, &ms, 4, 0, &slow), 0);
	for (i = 0; i < 6; i++)
		assert_int_equal(fb_pool_submit(f.pool, C_SLEEP, &ms, 4, 0,
		    &t[i]), 0);
	for (i = 0; i < 6; i++) {
		assert_int_equal(fb_pool_wait(f.pool, t[i], &res, buf,
		    sizeof(buf), 5000), 0);
		/* Loads were 1,0,0 → the 2 idle ones get the next pair, and so
		 * on: worker 0 gets 2 of 7 in all, never 3. */
	}
	assert_int_equal(fb_pool_wait(f.pool, slow, &res, buf, sizeof(buf),
	    5000), 0);
	assert_int_equal(res.r_worker, 0);
	{
		struct fb_worker_info wi[3];
		for (i = 0; i < 3; i++) {
			assert_int_equal(fb_pool_worker_info(f.pool, i, &wi[i]),
			    0);
			assert_int_equal(wi[i].wi_tasks, i == 0 ? 3 : 2);
			assert_int_equal(wi[i].wi_inflight, 0);
		}
	}
	finish(&f);
}

static void
test_worker_info(void **state)
{
	struct fixture f;
	struct fb_worker_info wi;
	struct fb_result res;
	fb_ticket_t t;
	uint32_t ms = 300;
	char buf[8];
	int64_t t0;

	(void)state;
	start_pool(&f, 2, 8, FB_POLICY_ROUND_ROBIN);
	assert_int_equal(fb_pool_workers(f.pool), 2);
	assert_int_equal(fb_pool_submit(f.pool, C_SLEEP, &ms, 4, 0, &t), 0);
	t0 = tu_now_ms();
	do {
		assert_int_equal(fb_pool_worker_info(f.pool, 0, &wi), 0);
		assert_true(tu_now_ms() - t0 < 3000);
	} while (wi.wi_state != FB_WORKER_BUSY);
	assert_int_equal(wi.wi_code, C_SLEEP);
	assert_int_equal(wi.wi_slot, (uint32_t)(t & 0xffff));
	{
		struct fb_slot_info si;
		assert_int_equal(fb_pool_slot_info(f.pool, wi.wi_slot, &si), 0);
		assert_int_equal(si.si_state, FB_SLOT_RUNNING);
		assert_true(si.si_ticket == t);
		assert_int_equal(si.si_code, C_SLEEP);
		assert_int_equal(si.si_worker, 0);
	}
	assert_true(wi.wi_pid > 0);
	assert_int_equal(fb_pool_wait(f.pool, t, &res, buf, sizeof(buf), 5000),
	    0);
	assert_int_equal(res.r_pid, wi.wi_pid);
	assert_true(res.r_run_ns >= 250000000ull);
	assert_int_equal(fb_pool_worker_info(f.pool, 0, &wi), 0);
	assert_int_equal(wi.wi_state, FB_WORKER_IDLE);
	assert_int_equal(wi.wi_tasks, 1);
	assert_int_equal(fb_pool_worker_info(f.pool, 2, &wi), -EINVAL);
	{
		struct fb_slot_info si;
		unsigned k, nfree = 0;
		for (k = 0; k < 8; k++) {
			assert_int_equal(fb_pool_slot_info(f.pool, k, &si), 0);
			nfree += si.si_state == FB_SLOT_FREE;
		}
		assert_int_equal(nfree, 8);
		assert_int_equal(fb_pool_slot_info(f.pool, 8, &si), -EINVAL);
		assert_string_equal(fb_slot_state_name(FB_SLOT_RUNNING),
		    "running");
	}
	assert_string_equal(fb_worker_state_name(FB_WORKER_BUSY), "busy");
	assert_string_equal(fb_outcome_name(FB_CRASHED), "crashed");
	finish(&f);
}

/* Writes junk into the completion pipe (fd in arg), as a buggy handler
 * holding that descriptor could. */
static int
h_junk(struct fb_task *t, void *arg)
{
	static const unsigned char junk[5] = { 0xff, 0xff, 0xff, 0xff, 0xff };

	(void)t;
	if (write(*(int *)arg, junk, sizeof(junk)) != sizeof(junk))
		return 1;
	return 0;
}

/* The master trusts the board, not the pipe: junk in the completion
 * stream does not lose or hang any task. */
static void
test_junk_in_pipe(void **state)
{
	struct fixture f;
	struct fb_result res;
	fb_ticket_t t[40];
	char buf[16];
	int i, done = 0, fd;

	(void)state;
	TU_GUARD(30);
	f.fds_before = tu_count_fds();
	{
		struct fb_config cfg;
		struct fb_board_stat st;

		fb_config_init(&cfg);
		cfg.workers = 2;
		cfg.payload_size = 64;
		assert_int_equal(fb_pool_create(&f.pool, &cfg), 0);
		fd = f.pool->p_done[1];
		assert_int_equal(fb_pool_register(f.pool, 50, h_junk, &fd), 0);
		assert_int_equal(fb_pool_register(f.pool, C_ECHO, tu_h_echo,
		    NULL), 0);
		assert_int_equal(fb_pool_start(f.pool), 0);
		assert_int_equal(fb_pool_stat(f.pool, &st), 0);
		f.shmid = st.bs_shmid;
	}
	for (i = 0; i < 40; i++)
		assert_int_equal(fb_pool_submit(f.pool, i % 4 ? C_ECHO : 50,
		    "abc", 3, 0, &t[i]), 0);
	for (i = 0; i < 40; i++) {
		assert_int_equal(fb_pool_wait(f.pool, t[i], &res, buf,
		    sizeof(buf), 5000), 0);
		assert_int_equal(res.r_outcome, FB_DONE);
		done++;
	}
	assert_int_equal(done, 40);
	finish(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_TEST(test_round_trip),
		TU_TEST(test_mixed_rr),
		TU_TEST(test_mixed_least),
		TU_TEST(test_unknown_code),
		TU_TEST(test_handler_failure_and_bad_result),
		TU_TEST(test_oversize_payload),
		TU_TEST(test_full_board),
		TU_TEST(test_blocking_submit_waits),
		TU_TEST(test_small_buffer),
		TU_TEST(test_api_misuse),
		cmocka_unit_test_teardown(test_keyed_pool_eexist,
		    remove_test_key),
		TU_TEST(test_board_stat),
		TU_TEST(test_pollable_fd),
		TU_TEST(test_workers_reach_idle),
		TU_TEST(test_least_loaded),
		TU_TEST(test_worker_info),
		TU_TEST(test_junk_in_pipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
