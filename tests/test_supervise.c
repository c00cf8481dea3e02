/*
 * test_supervise.c - a dead worker loses nothing: the task it was running
 * is reported with its cause (or retried), the tasks it never read go to
 * live workers, and a new worker takes its place.  A dead master leaves
 * no worker and no segment.  Workers that die before they are ready stop
 * the pool instead of fork-bombing it.  Chaos: random SIGKILLs under load.
 */
#include "testutil.h"

#include <sys/prctl.h>

#include <poll.h>

#define C_SLEEP 1
#define C_MIX 2
#define C_MIXSLOW 5

/* result = 64-bit mix of the payload's 8 bytes */
static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static int
h_mix(struct fb_task *t, void *arg)
{
	int64_t end;
	uint64_t x;

	if (t->t_len != 8)
		return 1;
	if (arg != NULL) {
		/* Busy for ~20 us, so kills land mid-task too. */
		end = tu_now_us() + 20;
		while (tu_now_us() < end)
			;
	}
	memcpy(&x, t->t_payload, 8);
	x = mix(x);
	memcpy(t->t_result, &x, 8);
	t->t_result_len = 8;
	return 0;
}

static struct fb_pool *pool_cfg(struct fb_config *, int *);

static struct fb_pool *
pool_new(unsigned workers, unsigned retries, int *shmid)
{
	struct fb_config cfg;

	fb_config_init(&cfg);
	cfg.workers = workers;
	cfg.slots = 64;
	cfg.retries = retries;
	return pool_cfg(&cfg, shmid);
}

static void
kill_mid_task(unsigned retries)
{
	struct fb_pool *p;
	struct fb_worker_info wi, wi2;
	struct fb_result res;
	struct fb_counters c;
	fb_ticket_t slow, q[5];
	uint32_t ms = 400, quick = 1, out;
	int shmid, fds = tu_count_fds(), i;
	pid_t victim;

	TU_GUARD(20);
	p = pool_new(1, retries, &shmid);
	assert_int_equal(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &slow), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(fb_pool_submit(p, C_SLEEP, &quick, 4, 0,
		    &q[i]), 0);
	tu_wait_busy(p, 0, &wi);
	victim = wi.wi_pid;
	assert_int_equal(kill(victim, SIGKILL), 0);

	assert_int_equal(fb_pool_wait(p, slow, &res, &out, sizeof(out), 5000),
	    0);
	if (retries == 0) {
		assert_int_equal(res.r_outcome, FB_CRASHED);
		assert_true(WIFSIGNALED(res.r_wait_status));
		assert_int_equal(WTERMSIG(res.r_wait_status), SIGKILL);
		assert_int_equal(res.r_pid, victim);
		assert_int_equal(res.r_attempts, 1);
	} else {
		assert_int_equal(res.r_outcome, FB_DONE);
		assert_int_equal(out, 400);
		assert_int_equal(res.r_attempts, 2);
		assert_true(res.r_pid != victim);
	}
	/* The tasks queued behind it were never read: all done, by the new
	 * worker. */
	for (i = 0; i < 5; i++) {
		assert_int_equal(fb_pool_wait(p, q[i], &res, &out, sizeof(out),
		    5000), 0);
		assert_int_equal(res.r_outcome, FB_DONE);
		assert_true(res.r_pid != victim);
		assert_int_equal(res.r_attempts, 1);
	}
	assert_int_equal(fb_pool_workers(p), 1);
	assert_int_equal(fb_pool_worker_info(p, 0, &wi2), 0);
	assert_true(wi2.wi_pid != victim && wi2.wi_pid > 0);
	assert_true(wi2.wi_generation > wi.wi_generation);
	assert_int_equal(wi2.wi_restarts, 1);
	assert_true(WIFSIGNALED(wi2.wi_last_status));
	fb_pool_counters(p, &c);
	assert_int_equal(c.c_respawns, 1);
	assert_int_equal(c.c_crashed, retries == 0);
	assert_int_equal(c.c_retried, retries != 0);
	assert_int_equal(fb_pool_shutdown(p, 5000), 0);
	fb_pool_destroy(p);
	tu_assert_no_children();
	tu_assert_shm_gone(shmid);
	assert_int_equal(tu_count_fds(), fds);
}

static void
test_kill_no_retry(void **state)
{
	(void)state;
	kill_mid_task(0);
}

static void
test_kill_retry(void **state)
{
	(void)state;
	kill_mid_task(1);
}

/*
 * The master is SIGKILLed: its workers die within 1 s (master-death pipe)
 * and the board goes with them.  The test is a subreaper, so the orphaned workers
 * come to it and it can wait for them.
 */
static void
test_master_death(void **state)
{
	struct {
		int shmid;
		pid_t pids[3];
	} info;
	int pfd[2], st, i;
	pid_t master, w;
	int64_t t0;

	(void)state;
	TU_GUARD(20);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	assert_int_equal(pipe(pfd), 0);
	if ((master = fork()) == 0) {
		struct fb_worker_info wi;
		struct fb_board_stat bs;
		struct fb_pool *p;
		int shmid;

		close(pfd[0]);
		p = pool_new(3, 0, &shmid);
		(void)fb_pool_stat(p, &bs);
		info.shmid = bs.bs_shmid;
		for (i = 0; i < 3; i++) {
			(void)fb_pool_worker_info(p, (unsigned)i, &wi);
			info.pids[i] = wi.wi_pid;
		}
		if (write(pfd[1], &info, sizeof(info)) != sizeof(info))
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &info, sizeof(info)), sizeof(info));
	close(pfd[0]);
	for (i = 0; i < 3; i++)
		assert_true(info.pids[i] > 0 && tu_alive(info.pids[i]));
	assert_int_equal(kill(master, SIGKILL), 0);
	assert_int_equal(waitpid(master, &st, 0), master);
	t0 = tu_now_ms();
	for (i = 0; i < 3; i++) {
		do
			w = waitpid(info.pids[i], &st, WNOHANG);
		while (w == 0 && tu_now_ms() - t0 < 1000 &&
		    (tu_sleep_ms(5), 1));
		/* Master-death pipe (killed), task pipe EOF (exit 0), or the
		 * check at start (exit 1) won the race: the worker is gone. */
		assert_int_equal(w, info.pids[i]);
		assert_true(WIFSIGNALED(st) || WIFEXITED(st));
	}
	assert_true(tu_now_ms() - t0 < 1000);
	tu_assert_shm_gone(info.shmid);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
	tu_assert_no_children();
}

static int
init_fails(unsigned index, void *arg, void **ctx)
{
	(void)index;
	(void)arg;
	(void)ctx;
	return -1;
}

/* Workers that die before they are ready: back-off, then give up.  They
 * die of a failing worker_init, or of an injected fault at start. */
static void
crash_loop(const char *fault)
{
	struct fb_config cfg;
	struct fb_pool *p;
	struct fb_result res;
	struct fb_counters c;
	fb_ticket_t t;
	uint32_t ms = 1;
	char buf[8];
	int64_t t0;
	int fds = tu_count_fds();

	TU_GUARD(20);
	fb_config_init(&cfg);
	cfg.workers = 2;
	cfg.crash_loop_max = 4;
	if (fault != NULL)
		cfg.fault = fault;
	else
		cfg.worker_init = init_fails;
	assert_int_equal(fb_pool_create(&p, &cfg), 0);
	assert_int_equal(fb_pool_register(p, C_SLEEP, tu_h_sleep, NULL), 0);
	assert_int_equal(tu_start(p), 0);
	t0 = tu_now_ms();
	assert_int_equal(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &t), 0);
	/* It never runs: the pool gives up and cancels it. */
	assert_int_equal(fb_pool_wait(p, t, &res, buf, sizeof(buf), 10000), 0);
	assert_int_equal(res.r_outcome, FB_CANCELLED);
	/* Back-off 50+100+200 ms before the 4th failure. */
	assert_true(tu_now_ms() - t0 >= 300);
	assert_int_equal(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &t), -ECHILD);
	fb_pool_counters(p, &c);
	assert_true(c.c_respawns >= 3 && c.c_respawns <= 6);
	assert_int_equal(fb_pool_shutdown(p, 1000), 0);
	fb_pool_destroy(p);
	tu_assert_no_children();
	assert_int_equal(tu_count_fds(), fds);
}

/* Shrinking takes effect in fb_pool_resize() itself: the retired worker's
 * pipe is closed there, so it exits and the pool fd reports it, with no
 * other call in between (an event loop waits on that fd). */
static void
test_resize_shrink_now(void **state)
{
	struct fb_config cfg;
	struct pollfd pfd;
	struct fb_pool *p;
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	fb_config_init(&cfg);
	cfg.workers = 2;
	assert_int_equal(fb_pool_create(&p, &cfg), 0);
	assert_int_equal(tu_start(p), 0);
	assert_int_equal(fb_pool_resize(p, 1), 0);
	pfd.fd = fb_pool_fd(p);
	pfd.events = POLLIN;
	/* Start-up messages and, without pidfds, the death-polling timer
	 * wake the fd too: loop until the retired worker is reaped. */
	while (fb_pool_workers(p) == 2) {
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		assert_true(fb_pool_process(p) >= 0);
	}
	assert_int_equal(fb_pool_workers(p), 1);
	tu_pool_end(p, fds);
}

static void
test_crash_loop(void **state)
{
	(void)state;
	crash_loop(NULL);
}

static void
test_crash_loop_fault(void **state)
{
	(void)state;
	crash_loop("point=start,action=exit");
}

/*
 * Chaos: FB_CHAOS_TASKS tasks (default 20 000) while a random worker is
 * SIGKILLed every 2 ms.  Every ticket resolves exactly once; DONE results
 * are right; nothing is lost.
 */
static void
test_chaos(void **state)
{
	const char *e = getenv("FB_CHAOS_TASKS");
	unsigned n = e ? (unsigned)atoi(e) : 20000, i, taken = 0, kills = 0;
	unsigned done = 0, crashed = 0, dup = 0;
	struct fb_worker_info wi;
	struct fb_counters c;
	struct fb_result res;
	struct fb_pool *p;
	uint8_t *seen;
	uint64_t x, out;
	fb_ticket_t t;
	int shmid, fds = tu_count_fds(), r;
	int64_t last_kill = tu_now_ms(), t0 = tu_now_ms();

	(void)state;
	TU_GUARD(600);
	assert_non_null(seen = calloc(n + 1, 1));
	p = pool_new(4, 3, &shmid);
	for (i = 0; i < n || taken < n;) {
		if (tu_now_ms() - last_kill >= 2) {
			(void)fb_pool_worker_info(p, (unsigned)rand() % 4, &wi);
			if (wi.wi_pid > 0 && kill(wi.wi_pid, SIGKILL) == 0)
				kills++;
			last_kill = tu_now_ms();
		}
		if (i < n) {
			x = i;
			r = fb_pool_submit(p, C_MIXSLOW, &x, 8, FB_NONBLOCK,
			    &t);
			if (r == 0) {
				/* seq is 1-based and one per submit */
				assert_int_equal(t >> 16, (uint64_t)i + 1);
				i++;
				continue;
			}
			assert_int_equal(r, -EAGAIN);
		}
		r = fb_pool_next(p, &res, &out, sizeof(out), 5000);
		assert_int_equal(r, 0);
		x = (res.r_ticket >> 16) - 1;
		assert_true(x < n);
		dup += seen[x]++;
		taken++;
		if (res.r_outcome == FB_DONE) {
			assert_true(out == mix(x));
			done++;
		} else {
			assert_int_equal(res.r_outcome, FB_CRASHED);
			assert_int_equal(res.r_attempts, 4);
			crashed++;
		}
	}
	assert_int_equal(dup, 0);
	assert_int_equal(taken, n);
	assert_int_equal(done + crashed, n);
	for (i = 0; i < n; i++)
		assert_int_equal(seen[i], 1);
	fb_pool_counters(p, &c);
	print_message("chaos: %u tasks, %u kills, %llu retried, %u done, %u "
	    "crashed after 4 runs, 0 lost, 0 duplicated, %llu respawns, "
	    "%lld ms\n", n, kills, (unsigned long long)c.c_retried, done,
	    crashed, (unsigned long long)c.c_respawns,
	    (long long)(tu_now_ms() - t0));
	assert_true(kills > 0);
	assert_true(c.c_retried > 0); /* kills did land mid-task */
	assert_int_equal(c.c_done, done);
	assert_int_equal(c.c_crashed, crashed);
	assert_int_equal(fb_pool_shutdown(p, 5000), 0);
	fb_pool_destroy(p);
	free(seen);
	tu_assert_no_children();
	tu_assert_shm_gone(shmid);
	assert_int_equal(tu_count_fds(), fds);
}

#define C_STUBBORN 3
#define C_PID 4
#define C_CRASH 6

static int h_crash(struct fb_task *, void *);

static struct fb_pool *
pool_cfg(struct fb_config *cfg, int *shmid)
{
	struct fb_board_stat st;
	struct fb_pool *p;

	assert_int_equal(fb_pool_create(&p, cfg), 0);
	assert_int_equal(fb_pool_register(p, C_SLEEP, tu_h_sleep, NULL), 0);
	assert_int_equal(fb_pool_register(p, C_MIX, h_mix, NULL), 0);
	assert_int_equal(fb_pool_register(p, C_MIXSLOW, h_mix, p), 0);
	assert_int_equal(fb_pool_register(p, C_STUBBORN, tu_h_stubborn, NULL), 0);
	assert_int_equal(fb_pool_register(p, C_PID, tu_h_pid, NULL), 0);
	assert_int_equal(fb_pool_register(p, C_CRASH, h_crash, NULL), 0);
	assert_int_equal(tu_start(p), 0);
	assert_int_equal(fb_pool_stat(p, &st), 0);
	*shmid = st.bs_shmid;
	return p;
}

/* Per-code timeout: SIGTERM, then SIGKILL for a handler that ignores it;
 * the task ends TIMEDOUT, the one queued behind it still runs. */
static void
test_timeout(void **state)
{
	struct fb_config cfg;
	struct fb_pool *p;
	struct fb_result res;
	struct fb_counters c;
	fb_ticket_t a, b, d;
	uint32_t ms = 5000, quick = 1, out;
	int shmid, fds = tu_count_fds();
	int64_t t0;

	(void)state;
	TU_GUARD(20);
	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.kill_grace_ms = 200;
	p = pool_cfg(&cfg, &shmid);
	assert_int_equal(fb_pool_set_timeout(p, C_SLEEP, 100), 0);
	assert_int_equal(fb_pool_set_timeout(p, C_STUBBORN, 100), 0);
	assert_int_equal(fb_pool_set_timeout(p, 77, 100), -ENOENT);
	t0 = tu_now_ms();
	assert_int_equal(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &a), 0);
	assert_int_equal(fb_pool_submit(p, C_STUBBORN, NULL, 0, 0, &b), 0);
	assert_int_equal(fb_pool_submit(p, C_SLEEP, &quick, 4, 0, &d), 0);
	assert_int_equal(fb_pool_wait(p, a, &res, &out, sizeof(out), 5000), 0);
	assert_int_equal(res.r_outcome, FB_TIMEDOUT);
	assert_int_equal(WTERMSIG(res.r_wait_status), SIGTERM);
	assert_int_equal(fb_pool_wait(p, b, &res, &out, sizeof(out), 5000), 0);
	assert_int_equal(res.r_outcome, FB_TIMEDOUT);
	assert_int_equal(WTERMSIG(res.r_wait_status), SIGKILL);
	assert_int_equal(fb_pool_wait(p, d, &res, &out, sizeof(out), 5000), 0);
	assert_int_equal(res.r_outcome, FB_DONE);
	/* Order, not speed: a was stopped at its deadline, long before its
	 * 5 s were up; b needed the escalation. */
	assert_true(tu_now_ms() - t0 >= 100 + 200);
	fb_pool_counters(p, &c);
	assert_int_equal(c.c_timedout, 2);
	assert_int_equal(c.c_respawns, 2);
	tu_pool_end(p, fds);
}

/* Recycling: each process runs max_tasks + [0, jitter] tasks, then is
 * replaced; every task is done. */
static void
test_recycle(void **state)
{
	enum { N = 300 };
	struct fb_config cfg;
	struct fb_pool *p;
	struct fb_result res;
	pid_t pids[N], pid;
	unsigned i, j, cnt, distinct = 0, lens[N];
	fb_ticket_t t;
	int shmid, fds = tu_count_fds(), r;

	(void)state;
	TU_GUARD(30);
	fb_config_init(&cfg);
	cfg.workers = 2;
	cfg.recycle_after = 10;
	cfg.recycle_jitter = 5;
	p = pool_cfg(&cfg, &shmid);
	for (i = 0, j = 0; i < N || j < N;) {
		if (i < N && (r = fb_pool_submit(p, C_PID, NULL, 0, FB_NONBLOCK,
		    &t)) == 0) {
			i++;
			continue;
		}
		assert_int_equal(fb_pool_next(p, &res, &pid, sizeof(pid), 5000),
		    0);
		assert_int_equal(res.r_outcome, FB_DONE);
		pids[j++] = pid;
	}
	/* Tasks per process, full ones between 10 and 15. */
	for (i = 0; i < N; i++) {
		cnt = 0;
		for (j = 0; j < N; j++)
			cnt += pids[j] == pids[i];
		for (j = 0; j < i && pids[j] != pids[i]; j++)
			;
		if (j == i)
			lens[distinct++] = cnt;
	}
	assert_true(distinct >= N / 15);
	for (i = 0; i < distinct; i++)
		assert_true(lens[i] <= 15);
	cnt = 0;
	for (i = 0; i < distinct; i++)
		cnt += lens[i] >= 10;
	assert_true(cnt >= distinct - 2); /* the last of each row may be short */
	tu_pool_end(p, fds);
}

/* Grow and shrink while tasks flow: nothing lost. */
static void
test_resize(void **state)
{
	enum { N = 6000 };
	struct fb_config cfg;
	struct fb_pool *p;
	struct fb_result res;
	uint64_t x, out;
	unsigned i = 0, j = 0;
	fb_ticket_t t;
	int shmid, fds = tu_count_fds(), r;
	int64_t t0;

	(void)state;
	TU_GUARD(30);
	fb_config_init(&cfg);
	cfg.workers = 4;
	cfg.max_workers = 8;
	p = pool_cfg(&cfg, &shmid);
	assert_int_equal(fb_pool_resize(p, 9), -EINVAL);
	assert_int_equal(fb_pool_resize(p, 0), -EINVAL);
	while (j < N) {
		if (i == N / 3) {
			assert_int_equal(fb_pool_resize(p, 8), 0);
			assert_int_equal(fb_pool_workers(p), 8);
		}
		if (i == 2 * N / 3)
			assert_int_equal(fb_pool_resize(p, 2), 0);
		x = i;
		if (i < N && (r = fb_pool_submit(p, C_MIX, &x, 8, FB_NONBLOCK,
		    &t)) == 0) {
			i++;
			continue;
		}
		assert_int_equal(fb_pool_next(p, &res, &out, sizeof(out), 5000),
		    0);
		assert_int_equal(res.r_outcome, FB_DONE);
		assert_true(out == mix((res.r_ticket >> 16) - 1));
		/* Submitted after the shrink: only workers 0 and 1 get it. */
		if ((res.r_ticket >> 16) - 1 >= 2 * N / 3)
			assert_true(res.r_worker < 2);
		j++;
	}
	t0 = tu_now_ms();
	while (fb_pool_workers(p) != 2) {
		assert_true(tu_now_ms() - t0 < 5000);
		assert_true(fb_pool_process(p) >= 0);
		tu_sleep_ms(1);
	}
	{
		struct fb_worker_info wi;
		assert_int_equal(fb_pool_worker_info(p, 5, &wi), 0);
		assert_int_equal(wi.wi_state, FB_WORKER_DEAD);
	}
	assert_int_equal(fb_pool_resize(p, 3), 0);
	assert_int_equal(fb_pool_workers(p), 3);
	tu_pool_end(p, fds);
}

static int
is_zombie(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	int z = 0;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		z = p[2] == 'Z';
	(void)fclose(f);
	return z;
}

/*
 * Tasks written to a worker that is already dead, before the master has
 * noticed: no SIGPIPE (the master keeps every task pipe's read end), and
 * the records are handed to the replacement.  SIGPIPE keeps its default
 * action here: if the master got one, this test program would die.
 */
static void
test_write_to_dead_worker(void **state)
{
	struct fb_config cfg;
	struct fb_worker_info wi;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t[5];
	uint32_t ms = 1, out;
	int shmid, fds = tu_count_fds(), i;
	int64_t t0;

	(void)state;
	TU_GUARD(20);
	assert_true(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
	fb_config_init(&cfg);
	cfg.workers = 1;
	p = pool_cfg(&cfg, &shmid);
	assert_int_equal(fb_pool_worker_info(p, 0, &wi), 0);
	assert_int_equal(kill(wi.wi_pid, SIGKILL), 0);
	t0 = tu_now_ms();
	while (!is_zombie(wi.wi_pid)) {
		assert_true(tu_now_ms() - t0 < 5000);
		tu_sleep_ms(1);
	}
	for (i = 0; i < 5; i++)
		assert_int_equal(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &t[i]),
		    0);
	for (i = 0; i < 5; i++) {
		assert_int_equal(fb_pool_wait(p, t[i], &res, &out, sizeof(out),
		    5000), 0);
		assert_int_equal(res.r_outcome, FB_DONE);
		assert_true(res.r_pid != wi.wi_pid);
	}
	tu_pool_end(p, fds);
}

static int
h_crash(struct fb_task *t, void *arg)
{
	(void)t;
	(void)arg;
	raise(SIGKILL);
	return 0;
}

/* Workers that are ready and then die on every task are respawned at most
 * respawn_rate times a second, however fast they die. */
static void
test_spawn_rate(void **state)
{
	struct fb_config cfg;
	struct fb_pool *p;
	struct fb_result res;
	struct fb_counters c;
	fb_ticket_t t;
	char buf[8];
	int shmid, fds = tu_count_fds(), i;
	int64_t t0;

	(void)state;
	TU_GUARD(20);
	fb_config_init(&cfg);
	cfg.workers = 2;
	cfg.respawn_rate = 4;
	p = pool_cfg(&cfg, &shmid);
	t0 = tu_now_ms();
	for (i = 0; i < 12; i++)
		assert_int_equal(fb_pool_submit(p, C_CRASH, NULL, 0, 0, &t), 0);
	for (i = 0; i < 12; i++) {
		assert_int_equal(fb_pool_next(p, &res, buf, sizeof(buf), 10000),
		    0);
		assert_int_equal(res.r_outcome, FB_CRASHED);
		assert_int_equal(WTERMSIG(res.r_wait_status), SIGKILL);
	}
	/* 12 deaths, 2 workers: >= 10 respawns, 4 a second at most. */
	fb_pool_counters(p, &c);
	assert_true(c.c_respawns >= 10);
	assert_true(tu_now_ms() - t0 >= 1500);
	tu_pool_end(p, fds);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_TEST(test_kill_no_retry),
		TU_TEST(test_kill_retry),
		TU_TEST(test_master_death),
		TU_TEST(test_crash_loop),
		TU_TEST(test_crash_loop_fault),
		TU_TEST(test_chaos),
		TU_TEST(test_timeout),
		TU_TEST(test_recycle),
		TU_TEST(test_resize),
		TU_TEST(test_resize_shrink_now),
		TU_TEST(test_spawn_rate),
		TU_TEST(test_write_to_dead_worker),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
