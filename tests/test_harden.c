/*
 * test_harden.c - regression tests for the hardening issue: no handler,
 * signal, fork or closed stdio can corrupt a task, blind the master or
 * lose a result.  Each test names the defect it guards (see the issue);
 * each failed on the main branch before the fix.
 *
 * Tests that change process-wide state (closed stdio, signal
 * dispositions, process groups, user ids, limits) run their pool in a
 * forked "sub-master" that reports through its exit status, so the test
 * program itself is never changed.
 */
#include "testutil.h"
#include "internal.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>

#define C_ECHO 1
#define C_SLEEP 2
#define C_EARLY 3      /* marks its own slot finished, then writes late */
#define C_SUBMIT 4     /* calls the API on the pool it was given */
#define C_POISON 5     /* puts its slot back to QUEUED, then crashes */
#define C_SKIPNEXT 6   /* breaks the next slot's word, so it is skipped */
#define C_TERMRET 7    /* returns as soon as SIGTERM arrives */
#define C_SIGPIPE 8    /* writes to a pipe nobody reads */
#define C_STDERR 9     /* writes junk to stderr */
#define C_FORKKID 10   /* leaves a child behind; result = its pid */
#define C_STARTING 11  /* writes STARTING into its row, then crashes */
#define C_JUNK 12      /* writes 8 bytes into the completion pipe */

/* A sub-master's own checks: on failure, say where and exit non-zero. */
#define CHECK(e) do {							\
	if (!(e)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #e);					\
		_exit(1);						\
	}								\
} while (0)

/* Run fn in a forked process (its own process group); it must exit 0
 * within sec seconds. */
static void
in_child(void (*fn)(void), int sec)
{
	int64_t t0 = tu_now_ms();
	pid_t pid, r;
	int st;

	TU_GUARD(sec + 10);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		(void)setpgid(0, 0);
		alarm((unsigned)sec);
		fn();
		_exit(0);
	}
	while ((r = waitpid(pid, &st, WNOHANG)) == 0) {
		if (tu_now_ms() - t0 > (int64_t)sec * 1000 + 5000) {
			(void)kill(-pid, SIGKILL);
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, &st, 0);
			fail_msg("sub-master hung");
		}
		tu_sleep_ms(5);
	}
	assert_int_equal(r, pid);
	if (WIFSIGNALED(st))
		fail_msg("sub-master died of signal %d", WTERMSIG(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* A sub-master test: fn runs in its own process, within sec seconds. */
#define SUB_TEST(name, fn, sec)						\
static void								\
name(void **state)							\
{									\
	(void)state;							\
	in_child(fn, sec);						\
}

/* A sub-master's end of a pool: drained shutdown, then destroy. */
static void
sub_end(struct fb_pool *p)
{
	CHECK(fb_pool_shutdown(p, 5000) == 0);
	fb_pool_destroy(p);
}

/* Wait until worker i runs a task; *wi is its row then. */
static void
sub_wait_busy(struct fb_pool *p, unsigned i, struct fb_worker_info *wi)
{
	int64_t t0 = tu_now_ms();

	do {
		CHECK(fb_pool_worker_info(p, i, wi) == 0);
		CHECK(tu_now_ms() - t0 < 5000);
	} while (wi->wi_state != FB_WORKER_BUSY && (tu_sleep_ms(1), 1));
}

/* ---- handlers ----------------------------------------------------------- */

static struct fb__slot_row *
my_row(struct fb_pool *p, fb_ticket_t t)
{
	return &p->p_board.b_slots[FB__TICKET_SLOT(t)];
}

static int
h_early(struct fb_task *t, void *arg)
{
	struct fb__slot_row *sr = my_row(arg, t->t_ticket);

	/* Lie: "finished", with my own sequence, long before I am. */
	atomic_store(&sr->sr_word, FB__WORD(FB__TICKET_SEQ(t->t_ticket),
	    FB__SLOT_DONE));
	tu_sleep_ms(300);
	memcpy(t->t_result, "LATE", 4);
	t->t_result_len = 4;
	return 0;
}

static int
h_submit(struct fb_task *t, void *arg)
{
	fb_ticket_t tk;
	int r;

	r = fb_pool_submit(arg, C_ECHO, "intruder", 8, FB_NONBLOCK, &tk);
	memcpy(t->t_result, &r, sizeof(r));
	t->t_result_len = sizeof(r);
	return 0;
}

static int
h_poison(struct fb_task *t, void *arg)
{
	struct fb__slot_row *sr = my_row(arg, t->t_ticket);

	atomic_store(&sr->sr_word, FB__WORD(FB__TICKET_SEQ(t->t_ticket),
	    FB__SLOT_QUEUED));
	abort();
}

static int
h_starting(struct fb_task *t, void *arg)
{
	struct fb_pool *p = arg;
	struct fb__worker_row *row = &p->p_board.b_workers[t->t_worker];

	atomic_store(&row->wr_state, FB_WORKER_STARTING);
	abort();
}

/* The next slot (payload: its index) gets a sequence nobody sent, so its
 * worker's claim fails and the task is never started. */
static int
h_skipnext(struct fb_task *t, void *arg)
{
	struct fb_pool *p = arg;
	uint32_t slot;
	uint64_t w;

	memcpy(&slot, t->t_payload, 4);
	w = atomic_load(&p->p_board.b_slots[slot].sr_word);
	atomic_store(&p->p_board.b_slots[slot].sr_word,
	    FB__WORD(FB__WORD_SEQ(w) + 1000, FB__SLOT_QUEUED));
	return 0;
}

static volatile sig_atomic_t got_term;

static void
on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static int
h_termret(struct fb_task *t, void *arg)
{
	int64_t t0 = tu_now_ms();

	(void)t;
	(void)arg;
	signal(SIGTERM, on_term);
	while (!got_term && tu_now_ms() - t0 < 10000)
		tu_sleep_ms(1);
	return 0;
}

static int
h_sigpipe(struct fb_task *t, void *arg)
{
	int fds[2], e = 0;

	(void)arg;
	if (pipe(fds) == -1)
		return 1;
	close(fds[0]);
	if (write(fds[1], "x", 1) == -1)
		e = errno;
	close(fds[1]);
	memcpy(t->t_result, &e, sizeof(e));
	t->t_result_len = sizeof(e);
	return 0;
}

static int
h_stderr(struct fb_task *t, void *arg)
{
	(void)arg;
	/* 8 bytes: in the old library, half a completion record. */
	(void)!write(2, "JUNKJUNK", 8);
	fprintf(stderr, "a handler's chatter\n");
	fflush(stderr);
	return tu_h_echo(t, NULL);
}

static int
h_forkkid(struct fb_task *t, void *arg)
{
	pid_t pid;

	(void)arg;
	if ((pid = fork()) == 0) {
		tu_sleep_ms(30000);
		_exit(0);
	}
	memcpy(t->t_result, &pid, sizeof(pid));
	t->t_result_len = sizeof(pid);
	return 0;
}

/* 8 bytes that make the shifted stream look like records: {slot 1,
 * worker 0}, then each real record's halves read as plausible fields. */
static int
h_junk(struct fb_task *t, void *arg)
{
	struct fb_pool *p = arg;
	uint32_t junk[2] = { 1, 0 };

	(void)!write(p->p_done[1], junk, sizeof(junk));
	return tu_h_echo(t, NULL);
}

static struct fb_pool *
make_pool(struct fb_config *cfg)
{
	struct fb_pool *p;

	if (fb_pool_create(&p, cfg) != 0)
		return NULL;
	(void)fb_pool_register(p, C_ECHO, tu_h_echo, NULL);
	(void)fb_pool_register(p, C_SLEEP, tu_h_sleep, NULL);
	(void)fb_pool_register(p, C_EARLY, h_early, p);
	(void)fb_pool_register(p, C_SUBMIT, h_submit, p);
	(void)fb_pool_register(p, C_POISON, h_poison, p);
	(void)fb_pool_register(p, C_SKIPNEXT, h_skipnext, p);
	(void)fb_pool_register(p, C_TERMRET, h_termret, NULL);
	(void)fb_pool_register(p, C_SIGPIPE, h_sigpipe, NULL);
	(void)fb_pool_register(p, C_STDERR, h_stderr, NULL);
	(void)fb_pool_register(p, C_FORKKID, h_forkkid, NULL);
	(void)fb_pool_register(p, C_STARTING, h_starting, p);
	(void)fb_pool_register(p, C_JUNK, h_junk, p);
	if (tu_start(p) != 0) {
		fb_pool_destroy(p);
		return NULL;
	}
	return p;
}

static struct fb_pool *
pool_n(unsigned workers, unsigned slots)
{
	struct fb_config cfg;

	fb_config_init(&cfg);
	cfg.workers = workers;
	cfg.slots = slots;
	return make_pool(&cfg);
}

/* ---- 1. a late publish never lands on a reused slot --------------------- */

static void
test_late_publish_dropped(void **state)
{
	struct fb_config cfg;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t a, b;
	char out[16];
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.slots = 1;         /* b must reuse a's slot */
	cfg.spin_us = 500000;  /* the master reads the board alone */
	assert_non_null(p = make_pool(&cfg));
	assert_int_equal(fb_pool_submit(p, C_EARLY, NULL, 0, 0, &a), 0);
	assert_int_equal(fb_pool_wait(p, a, &res, out, sizeof(out), 5000), 0);
	assert_int_equal(fb_pool_submit(p, C_ECHO, "mine", 4, 0, &b), 0);
	assert_int_equal(FB__TICKET_SLOT(a), FB__TICKET_SLOT(b));
	assert_int_equal(fb_pool_wait(p, b, &res, out, sizeof(out), 5000), 0);
	/* b ran its own handler and got its own output. */
	assert_int_equal(res.r_outcome, FB_DONE);
	assert_int_equal(res.r_len, 4);
	assert_memory_equal(out, "mine", 4);
	tu_pool_end(p, fds);
}

/* ---- 2. the API refuses every process but the pool's creator ------------ */

static void
test_submit_from_handler_refused(void **state)
{
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	int r, fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	assert_non_null(p = pool_n(2, 8));
	assert_int_equal(fb_pool_submit(p, C_SUBMIT, NULL, 0, 0, &t), 0);
	assert_int_equal(fb_pool_wait(p, t, &res, &r, sizeof(r), 5000), 0);
	assert_int_equal(res.r_outcome, FB_DONE);
	assert_int_equal(r, -EPERM);
	assert_int_equal(fb_pool_slots_used(p), 0);
	tu_pool_end(p, fds);
}

static struct fb_pool *child_pool;

static void
forked_child_api(void)
{
	struct fb_pool *p;
	fb_ticket_t t;
	pid_t pid;
	int st;

	CHECK((p = pool_n(2, 8)) != NULL);
	if ((pid = fork()) == 0) {
		/* Ordinary code in a child: use, then free what it got. */
		if (fb_pool_submit(p, C_ECHO, "x", 1, 0, &t) != -EPERM)
			_exit(2);
		if (fb_pool_shutdown(p, 0) != -EPERM)
			_exit(3);
		fb_pool_destroy(p);
		_exit(0);
	}
	CHECK(pid > 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	child_pool = p;
}

/* After a forked child destroyed its copy, the master still sees a crash
 * and replaces the worker. */
static void
forked_child_destroy(void)
{
	struct fb_worker_info wi;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	uint32_t ms = 5000, out;

	forked_child_api();
	p = child_pool;
	CHECK(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &t) == 0);
	sub_wait_busy(p, 0, &wi);
	CHECK(kill(wi.wi_pid, SIGKILL) == 0);
	CHECK(fb_pool_wait(p, t, &res, &out, sizeof(out), 5000) == 0);
	CHECK(res.r_outcome == FB_CRASHED);
	CHECK(fb_pool_submit(p, C_ECHO, "ok", 2, 0, &t) == 0);
	CHECK(fb_pool_wait(p, t, &res, &out, sizeof(out), 5000) == 0);
	CHECK(res.r_outcome == FB_DONE);
	CHECK(fb_pool_workers(p) == 2);
	sub_end(p);
}

SUB_TEST(test_forked_child_refused, forked_child_destroy, 20)

/* ---- 3. stray bytes never desynchronise the completion stream ----------- */

static void
daemon_master(void)
{
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t[50];
	char out[8];
	int i, n = 0;

	close(0);
	close(1);
	close(2);
	CHECK((p = pool_n(2, 64)) != NULL);
	CHECK(p->p_done[0] > 2 && p->p_done[1] > 2 && p->p_epfd > 2);
	for (i = 0; i < 50; i++)
		CHECK(fb_pool_submit(p, i % 2 ? C_STDERR : C_ECHO, "abcd", 4,
		    0, &t[i]) == 0);
	for (i = 0; i < 50; i++) {
		CHECK(fb_pool_wait(p, t[i], &res, out, sizeof(out), 5000) ==
		    0);
		n += res.r_outcome == FB_DONE;
	}
	CHECK(n == 50);
	sub_end(p);
}

SUB_TEST(test_daemon_stdio_closed, daemon_master, 20)

static void
test_misaligned_junk_recovered(void **state)
{
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t[64];
	char out[8];
	int i, fds = tu_count_fds();

	(void)state;
	TU_GUARD(30);
	assert_non_null(p = pool_n(1, 64));
	/* 8 bytes: the stream is then out of step by half a record. */
	for (i = 0; i < 64; i++)
		assert_int_equal(fb_pool_submit(p, i == 3 ? C_JUNK : C_ECHO,
		    "abcd", 4, 0, &t[i]), 0);
	for (i = 0; i < 64; i++) {
		assert_int_equal(fb_pool_wait(p, t[i], &res, out, sizeof(out),
		    5000), 0);
		assert_int_equal(res.r_outcome, FB_DONE);
	}
	/* And the stream is in step again: more tasks, all seen. */
	for (i = 0; i < 64; i++)
		assert_int_equal(fb_pool_submit(p, C_ECHO, "abcd", 4, 0,
		    &t[i]), 0);
	for (i = 0; i < 64; i++)
		assert_int_equal(fb_pool_wait(p, t[i], &res, out, sizeof(out),
		    5000), 0);
	tu_pool_end(p, fds);
}

/* ---- 4. a poison task cannot loop or fail the pool --------------------- */

static void
test_poison_task_charged(void **state)
{
	struct fb_config cfg;
	struct fb_result res;
	struct fb_counters c;
	struct fb_pool *p;
	fb_ticket_t t;
	char out[8];
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(30);
	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.retries = 2;
	assert_non_null(p = make_pool(&cfg));
	assert_int_equal(fb_pool_submit(p, C_POISON, NULL, 0, 0, &t), 0);
	assert_int_equal(fb_pool_wait(p, t, &res, out, sizeof(out), 20000), 0);
	assert_int_equal(res.r_outcome, FB_CRASHED);
	assert_int_equal(res.r_attempts, 3);
	fb_pool_counters(p, &c);
	assert_int_equal(c.c_respawns, 3);
	tu_pool_end(p, fds);
}

static void
test_poison_starting_keeps_pool(void **state)
{
	struct fb_config cfg;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t[5];
	char out[8];
	int i, fds = tu_count_fds();

	(void)state;
	TU_GUARD(30);
	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.crash_loop_max = 5;
	assert_non_null(p = make_pool(&cfg));
	for (i = 0; i < 5; i++)
		assert_int_equal(fb_pool_submit(p, C_STARTING, NULL, 0, 0,
		    &t[i]), 0);
	for (i = 0; i < 5; i++) {
		assert_int_equal(fb_pool_wait(p, t[i], &res, out, sizeof(out),
		    20000), 0);
		assert_int_equal(res.r_outcome, FB_CRASHED);
	}
	/* The workers that died had been ready: the pool still runs. */
	assert_int_equal(fb_pool_submit(p, C_ECHO, "ok", 2, 0, &t[0]), 0);
	assert_int_equal(fb_pool_wait(p, t[0], &res, out, sizeof(out), 5000),
	    0);
	assert_int_equal(res.r_outcome, FB_DONE);
	tu_pool_end(p, fds);
}

/* ---- 5. a task its worker never claims still times out ------------------ */

static void
test_unclaimed_task_times_out(void **state)
{
	struct fb_config cfg;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t a, b;
	uint32_t slot;
	char out[8];
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.slots = 4;
	cfg.task_timeout_ms = 200;
	cfg.kill_grace_ms = 200;
	assert_non_null(p = make_pool(&cfg));
	/* Free slots are taken from the top of a stack: a gets 0, b 1. */
	slot = 1;
	assert_int_equal(fb_pool_submit(p, C_SKIPNEXT, &slot, 4, FB_DEFER,
	    &a), 0);
	assert_int_equal(fb_pool_submit(p, C_ECHO, "b", 1, 0, &b), 0);
	assert_int_equal(FB__TICKET_SLOT(b), 1);
	assert_int_equal(fb_pool_wait(p, a, &res, out, sizeof(out), 5000), 0);
	assert_int_equal(res.r_outcome, FB_DONE);
	assert_int_equal(fb_pool_wait(p, b, &res, out, sizeof(out), 10000), 0);
	assert_int_equal(res.r_outcome, FB_TIMEDOUT);
	tu_pool_end(p, fds);
}

/* ---- 6. a timeout never kills the next, innocent task ------------------- */

static void
test_timeout_spares_next_task(void **state)
{
	struct fb_config cfg;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t a, b;
	uint32_t ms = 500, out;
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.kill_grace_ms = 300;
	assert_non_null(p = make_pool(&cfg));
	assert_int_equal(fb_pool_set_timeout(p, C_TERMRET, 100), 0);
	assert_int_equal(fb_pool_submit(p, C_TERMRET, NULL, 0, FB_DEFER, &a),
	    0);
	assert_int_equal(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &b), 0);
	assert_int_equal(fb_pool_wait(p, a, &res, &out, sizeof(out), 5000), 0);
	/* It returned after SIGTERM; it is still the task that overran. */
	assert_true(res.r_outcome == FB_TIMEDOUT || res.r_outcome == FB_DONE);
	assert_int_equal(fb_pool_wait(p, b, &res, &out, sizeof(out), 5000), 0);
	assert_int_equal(res.r_outcome, FB_DONE);
	assert_int_equal(res.r_attempts, 1);
	assert_int_equal(out, 500);
	tu_pool_end(p, fds);
}

/* ---- 7. workers keep the master's ignored signals; Ctrl-C is its call -- */

static void
sigpipe_ignored(void)
{
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	int e;

	signal(SIGPIPE, SIG_IGN);
	CHECK((p = pool_n(1, 4)) != NULL);
	CHECK(fb_pool_submit(p, C_SIGPIPE, NULL, 0, 0, &t) == 0);
	CHECK(fb_pool_wait(p, t, &res, &e, sizeof(e), 5000) == 0);
	CHECK(res.r_outcome == FB_DONE);
	CHECK(e == EPIPE);
	sub_end(p);
}

SUB_TEST(test_sigpipe_stays_ignored, sigpipe_ignored, 20)

static volatile sig_atomic_t got_int;

static void
on_int(int sig)
{
	(void)sig;
	got_int = 1;
}

/* The terminal sends SIGINT to its foreground process group: here, the
 * sub-master's own group.  The master catches it and drains. */
static void
ctrl_c_drains(void)
{
	struct sigaction sa;
	struct fb_worker_info wi;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	uint32_t ms = 300, out;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_int;
	CHECK(sigaction(SIGINT, &sa, NULL) == 0);
	CHECK((p = pool_n(2, 8)) != NULL);
	CHECK(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &t) == 0);
	sub_wait_busy(p, 0, &wi);
	CHECK(kill(-getpgrp(), SIGINT) == 0);
	while (!got_int)
		tu_sleep_ms(1);
	CHECK(fb_pool_shutdown(p, 5000) == 0);
	CHECK(fb_pool_wait(p, t, &res, &out, sizeof(out), 0) == 0);
	CHECK(res.r_outcome == FB_DONE && out == 300);
	fb_pool_destroy(p);
}

SUB_TEST(test_ctrl_c_is_the_masters, ctrl_c_drains, 20)

/* ---- 8. workers outlive the thread that forked them --------------------- */

/* Start a pool and wait until both workers have run a task (so they are
 * past any set-up), then let the thread end. */
static void *
start_in_thread(void *arg)
{
	struct fb_pool **pp = arg;
	struct fb_result res;
	fb_ticket_t t[2];
	char out[8];
	int i;

	if ((*pp = pool_n(2, 8)) == NULL)
		return NULL;
	for (i = 0; i < 2; i++)
		if (fb_pool_submit(*pp, C_ECHO, "up", 2, 0, &t[i]) != 0)
			return NULL;
	for (i = 0; i < 2; i++)
		if (fb_pool_wait(*pp, t[i], &res, out, sizeof(out), 5000) != 0)
			return NULL;
	return NULL;
}

static void
test_forking_thread_exits(void **state)
{
	struct fb_worker_info wi;
	struct fb_result res;
	struct fb_pool *p = NULL;
	pthread_t th;
	fb_ticket_t t;
	char out[8];
	int i, fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	assert_int_equal(pthread_create(&th, NULL, start_in_thread, &p), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_non_null(p);
	tu_sleep_ms(100); /* the old library's workers die here */
	for (i = 0; i < 4; i++) {
		assert_int_equal(fb_pool_submit(p, C_ECHO, "ok", 2, 0, &t), 0);
		assert_int_equal(fb_pool_wait(p, t, &res, out, sizeof(out),
		    5000), 0);
		assert_int_equal(res.r_outcome, FB_DONE);
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(fb_pool_worker_info(p, (unsigned)i, &wi), 0);
		assert_int_equal(wi.wi_restarts, 0);
	}
	tu_pool_end(p, fds);
}

/* The master process dies mid-handler: its worker dies at once. */
static void
test_master_death_mid_handler(void **state)
{
	int pfd[2];
	pid_t m, w = 0;

	(void)state;
	TU_GUARD(20);
	assert_int_equal(pipe(pfd), 0);
	if ((m = fork()) == 0) {
		struct fb_worker_info wi;
		struct fb_pool *p;
		fb_ticket_t t;
		uint32_t ms = 20000;

		close(pfd[0]);
		alarm(15); /* whatever happens, this process ends */
		CHECK((p = pool_n(1, 4)) != NULL);
		CHECK(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &t) == 0);
		sub_wait_busy(p, 0, &wi);
		CHECK(write(pfd[1], &wi.wi_pid, sizeof(wi.wi_pid)) ==
		    sizeof(wi.wi_pid));
		for (;;)
			pause();
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &w, sizeof(w)), sizeof(w));
	close(pfd[0]);
	assert_int_equal(kill(m, SIGKILL), 0);
	assert_int_equal(waitpid(m, NULL, 0), m);
	/* The SIGKILL is sent as the master's descriptors close, before
	 * waitpid returns; the bound only allows for a loaded machine
	 * (make -j distcheck) to run the worker's exit.  The handler sleeps
	 * 20 s: a worker that was not killed is still there at 5. */
	assert_true(tu_wait_gone(w, 5000));
}

/* ---- 9. transient fork failures do not fail the pool -------------------- */

static void
nproc_outage(void)
{
	struct fb_worker_info wi;
	struct fb_result res;
	struct fb_pool *p;
	struct rlimit rl;
	struct passwd *pw;
	fb_ticket_t t[20];
	char out[8];
	int64_t t0;
	int i;

	CHECK((pw = getpwnam("nobody")) != NULL);
	CHECK(setgid(pw->pw_gid) == 0 && setuid(pw->pw_uid) == 0);
	CHECK((p = pool_n(2, 64)) != NULL);
	CHECK(getrlimit(RLIMIT_NPROC, &rl) == 0);
	/* The master and worker 1 alone make 2: no more forks. */
	rl.rlim_cur = 2;
	CHECK(setrlimit(RLIMIT_NPROC, &rl) == 0);
	CHECK(fb_pool_worker_info(p, 0, &wi) == 0);
	CHECK(kill(wi.wi_pid, SIGKILL) == 0);
	t0 = tu_now_ms();
	while (tu_now_ms() - t0 < 800) { /* many respawns fail */
		CHECK(fb_pool_process(p) >= 0);
		tu_sleep_ms(5);
	}
	for (i = 0; i < 20; i++)
		CHECK(fb_pool_submit(p, C_ECHO, "ok", 2, 0, &t[i]) == 0);
	rl.rlim_cur = rl.rlim_max;
	CHECK(setrlimit(RLIMIT_NPROC, &rl) == 0);
	for (i = 0; i < 20; i++) {
		CHECK(fb_pool_wait(p, t[i], &res, out, sizeof(out), 10000) ==
		    0);
		CHECK(res.r_outcome == FB_DONE);
	}
	t0 = tu_now_ms();
	while (fb_pool_workers(p) < 2 && tu_now_ms() - t0 < 10000) {
		CHECK(fb_pool_process(p) >= 0);
		tu_sleep_ms(10);
	}
	CHECK(fb_pool_workers(p) == 2);
	sub_end(p);
}

SUB_TEST(test_fork_eagain_retried, nproc_outage, 30)

static void
nproc_start(void)
{
	struct fb_config cfg;
	struct fb_pool *p;
	struct rlimit rl;
	struct passwd *pw;

	CHECK((pw = getpwnam("nobody")) != NULL);
	CHECK(setgid(pw->pw_gid) == 0 && setuid(pw->pw_uid) == 0);
	CHECK(getrlimit(RLIMIT_NPROC, &rl) == 0);
	rl.rlim_cur = 3;
	CHECK(setrlimit(RLIMIT_NPROC, &rl) == 0);
	fb_config_init(&cfg);
	cfg.workers = 4;
	CHECK(fb_pool_create(&p, &cfg) == 0);
	CHECK(fb_pool_start(p) == -EAGAIN);
	/* An honest message: it is about processes, not a full board. */
	CHECK(strstr(fb_strerror(-EAGAIN), "process") != NULL);
	CHECK(fb_pool_workers(p) == 0);
	fb_pool_destroy(p);
	errno = 0;
	CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
}

SUB_TEST(test_fork_eagain_at_start, nproc_start, 20)

/* A failed pool comes back with fb_pool_resize().  Workers inherit the
 * environment at fork: init fails until the gate variable is set. */
static int
init_gated(unsigned index, void *arg, void **ctx)
{
	(void)index;
	(void)arg;
	(void)ctx;
	return getenv("FB_GATE_OPEN") == NULL;
}

static void
test_failed_pool_recovers(void **state)
{
	struct fb_config cfg;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	char out[8];
	int fds = tu_count_fds();
	int64_t t0;

	(void)state;
	TU_GUARD(30);
	unsetenv("FB_GATE_OPEN");
	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.crash_loop_max = 2;
	cfg.worker_init = init_gated;
	assert_int_equal(fb_pool_create(&p, &cfg), 0);
	assert_int_equal(fb_pool_register(p, C_ECHO, tu_h_echo, NULL), 0);
	assert_int_equal(fb_pool_start(p), 0);
	t0 = tu_now_ms();
	while (fb_pool_submit(p, C_ECHO, "x", 1, FB_NONBLOCK, &t) != -ECHILD) {
		assert_true(tu_now_ms() - t0 < 10000);
		(void)fb_pool_wait(p, t, &res, out, sizeof(out), 100);
	}
	assert_string_not_equal(fb_strerror(-ECHILD), "");
	/* The cause is fixed: the embedder brings the pool back. */
	setenv("FB_GATE_OPEN", "1", 1);
	assert_int_equal(fb_pool_resize(p, 1), 0);
	assert_int_equal(fb_pool_submit(p, C_ECHO, "ok", 2, 0, &t), 0);
	assert_int_equal(fb_pool_wait(p, t, &res, out, sizeof(out), 5000), 0);
	assert_int_equal(res.r_outcome, FB_DONE);
	unsetenv("FB_GATE_OPEN");
	tu_pool_end(p, fds);
}

/* ---- 10. blocking calls keep time; polls make progress ------------------ */

static void
on_usr1(int sig)
{
	(void)sig;
}

/* SIGUSR1 every 2 ms, without SA_RESTART, from a POSIX timer. */
static timer_t
storm_start(void)
{
	struct sigaction sa;
	struct sigevent sev;
	struct itimerspec its;
	timer_t tm;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR1;
	assert_int_equal(timer_create(CLOCK_MONOTONIC, &sev, &tm), 0);
	memset(&its, 0, sizeof(its));
	its.it_value.tv_nsec = 2000000;
	its.it_interval.tv_nsec = 2000000;
	assert_int_equal(timer_settime(tm, 0, &its, NULL), 0);
	return tm;
}

static void
storm_stop(timer_t tm)
{
	assert_int_equal(timer_delete(tm), 0);
	signal(SIGUSR1, SIG_DFL);
}

static void
test_eintr_storm_timeouts(void **state)
{
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	uint32_t ms = 3000, out;
	int fds = tu_count_fds();
	timer_t tm;

	(void)state;
	TU_GUARD(30);
	assert_non_null(p = pool_n(1, 4));
	assert_int_equal(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &t), 0);
	tm = storm_start();
	/* 200 ms asked: the answer is a timeout, not the task's result
	 * 3 s later. */
	assert_int_equal(fb_pool_wait(p, t, &res, &out, sizeof(out), 200),
	    -ETIMEDOUT);
	assert_int_equal(fb_pool_next(p, &res, &out, sizeof(out), 200),
	    -ETIMEDOUT);
	/* And shutdown's deadline: the 3 s task is stopped, not awaited. */
	assert_int_equal(fb_pool_shutdown(p, 200), -ETIMEDOUT);
	storm_stop(tm);
	assert_int_equal(fb_pool_wait(p, t, &res, &out, sizeof(out), 0), 0);
	assert_int_equal(res.r_outcome, FB_CRASHED);
	assert_int_equal(WTERMSIG(res.r_wait_status), SIGTERM);
	fb_pool_destroy(p);
	tu_assert_no_children();
	assert_int_equal(tu_count_fds(), fds);
}

static void
test_wait_zero_polls(void **state)
{
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	char out[8];
	int64_t t0;
	int r, fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	assert_non_null(p = pool_n(1, 4));
	assert_int_equal(fb_pool_submit(p, C_ECHO, "ok", 2, 0, &t), 0);
	t0 = tu_now_ms();
	while ((r = fb_pool_wait(p, t, &res, out, sizeof(out), 0)) != 0) {
		assert_int_equal(r, -EAGAIN);
		assert_true(tu_now_ms() - t0 < 5000);
		tu_sleep_ms(1);
	}
	assert_int_equal(res.r_outcome, FB_DONE);
	tu_pool_end(p, fds);
}

/* A task waiting for a worker (its only worker cannot start for a while)
 * is run by shutdown, with no limit or within it, not cancelled. */
static int
init_slow_gate(unsigned index, void *arg, void **ctx)
{
	(void)index;
	(void)arg;
	(void)ctx;
	return getenv("FB_GATE_SHUT") != NULL && access(getenv("FB_GATE_SHUT"),
	    F_OK) == 0;
}

static void
shutdown_runs_pending(int timeout_ms)
{
	struct fb_config cfg;
	struct fb_worker_info wi;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	char path[] = "/tmp/fb-gate-XXXXXX", out[8];
	int fd, fds, i;

	TU_GUARD(30);
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	setenv("FB_GATE_SHUT", path, 1);
	fds = tu_count_fds();
	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.slots = 8192;
	cfg.payload_size = 8;
	cfg.crash_loop_max = 50;
	cfg.worker_init = init_slow_gate;
	unlink(path); /* the first worker starts */
	assert_int_equal(fb_pool_create(&p, &cfg), 0);
	assert_int_equal(fb_pool_register(p, C_ECHO, tu_h_echo, NULL), 0);
	assert_int_equal(fb_pool_start(p), 0);
	assert_int_equal(fb_pool_submit(p, C_ECHO, "a", 1, 0, &t), 0);
	assert_int_equal(fb_pool_wait(p, t, &res, out, sizeof(out), 5000), 0);
	/* Close the gate, kill the worker, let its replacements fail. */
	assert_true((fd = open(path, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	assert_int_equal(fb_pool_worker_info(p, 0, &wi), 0);
	assert_int_equal(kill(wi.wi_pid, SIGKILL), 0);
	while (fb_pool_workers(p) == 1 || p->p_workers[0].w_fails < 1)
		(void)fb_pool_process(p), tu_sleep_ms(5);
	/* A backlog larger than the completion pipe holds waits for it. */
	for (i = 0; i < 6000; i++)
		assert_int_equal(fb_pool_submit(p, C_ECHO, "b", 1, FB_DEFER,
		    &t), 0);
	assert_false(TAILQ_EMPTY(&p->p_pending));
	unlink(path); /* the next replacement starts */
	assert_int_equal(fb_pool_shutdown(p, timeout_ms), 0);
	for (i = 0; i < 6000; i++) {
		assert_int_equal(fb_pool_next(p, &res, out, sizeof(out), 0), 0);
		assert_int_equal(res.r_outcome, FB_DONE);
	}
	fb_pool_destroy(p);
	tu_assert_no_children();
	assert_int_equal(tu_count_fds(), fds);
	unsetenv("FB_GATE_SHUT");
}

static void
test_shutdown_forever_runs_pending(void **state)
{
	(void)state;
	shutdown_runs_pending(-1);
}

static void
test_shutdown_deadline_runs_pending(void **state)
{
	(void)state;
	shutdown_runs_pending(5000);
}

/* More completions than the pipe holds: shutdown drains them while it
 * waits, so no worker blocks and none is killed. */
static void
test_shutdown_drains_backlog(void **state)
{
	struct fb_config cfg;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	char out[8];
	int i, n = 0, fds = tu_count_fds();

	(void)state;
	TU_GUARD(60);
	fb_config_init(&cfg);
	cfg.workers = 2;
	cfg.slots = 12000;
	cfg.payload_size = 8;
	assert_non_null(p = make_pool(&cfg));
	for (i = 0; i < 12000; i++)
		assert_int_equal(fb_pool_submit(p, C_ECHO, "ok", 2, FB_DEFER,
		    &t), 0);
	assert_int_equal(fb_pool_flush(p), 0);
	assert_int_equal(fb_pool_shutdown(p, 20000), 0);
	while (fb_pool_next(p, &res, out, sizeof(out), 0) == 0)
		n += res.r_outcome == FB_DONE;
	assert_int_equal(n, 12000);
	fb_pool_destroy(p);
	tu_assert_no_children();
	assert_int_equal(tu_count_fds(), fds);
}

/* ---- 11. error paths ---------------------------------------------------- */

static int calloc_fail_at = -1; /* the Nth call fails; -1: never */
void *__real_calloc(size_t, size_t);
void *__wrap_calloc(size_t, size_t);

void *
__wrap_calloc(size_t n, size_t sz)
{
	if (calloc_fail_at >= 0 && calloc_fail_at-- == 0)
		return NULL;
	return __real_calloc(n, sz);
}

static void
test_create_enomem_keeps_stdin(void **state)
{
	struct fb_config cfg;
	struct fb_pool *p;
	int i, r, fds = tu_count_fds(), failed = 0;

	(void)state;
	TU_GUARD(20);
	fb_config_init(&cfg);
	cfg.workers = 2;
	for (i = 0; i < 20; i++) {
		calloc_fail_at = i;
		r = fb_pool_create(&p, &cfg);
		calloc_fail_at = -1;
		assert_int_not_equal(fcntl(0, F_GETFD), -1);
		/* epoll, timer, completion pipe on success; else none */
		assert_int_equal(tu_count_fds(), fds + (r == 0 ? 4 : 0));
		if (r == 0) {
			fb_pool_destroy(p);
			break;
		}
		assert_int_equal(r, -ENOMEM);
		failed++;
	}
	assert_true(failed >= 3); /* the failure hit several allocations */
	assert_int_equal(tu_our_segments(), 0);
	assert_int_equal(tu_count_fds(), fds);
}

static void
test_keep_fds_checked(void **state)
{
	struct fb_config cfg;
	struct fb_pool *p;
	int fd, keep[2];

	(void)state;
	TU_GUARD(10);
	assert_true((fd = open("/dev/null", O_RDONLY)) >= 0);
	close(fd); /* a closed number */
	fb_config_init(&cfg);
	keep[0] = fd;
	cfg.keep_fds = keep;
	cfg.nkeep_fds = 1;
	assert_int_equal(fb_pool_create(&p, &cfg), -EBADF);
	keep[0] = keep[1] = 1;
	cfg.nkeep_fds = 2;
	assert_int_equal(fb_pool_create(&p, &cfg), -EINVAL);
}

static void
test_backoff_no_overflow(void **state)
{
	struct fb_config cfg;
	struct fb_pool *p;
	int64_t due;
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	setenv("FB_GATE_SHUT", "/", 1); /* exists: every init fails */
	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.crash_loop_max = 1000;
	cfg.worker_init = init_slow_gate;
	assert_int_equal(fb_pool_create(&p, &cfg), 0);
	assert_int_equal(fb_pool_start(p), 0);
	p->p_workers[0].w_fails = 200; /* as after a very long outage */
	while (p->p_workers[0].w_fails == 200)
		(void)fb_pool_process(p), tu_sleep_ms(2);
	due = p->p_workers[0].w_respawn_at_ns - fb__coarse_ns();
	/* Capped at 5 s, whatever the count. */
	assert_true(due > 4000000000LL && due <= 5000000000LL);
	assert_int_equal(fb_pool_shutdown(p, 1000), 0);
	fb_pool_destroy(p);
	unsetenv("FB_GATE_SHUT");
	tu_assert_no_children();
	assert_int_equal(tu_count_fds(), fds);
}

static void
test_ticket_seq_wraps(void **state)
{
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t[4];
	char out[8];
	int i, fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	assert_non_null(p = pool_n(1, 4));
	p->p_seq = (UINT64_C(1) << 48) - 2; /* as after 2^48 tasks */
	for (i = 0; i < 4; i++)
		assert_int_equal(fb_pool_submit(p, C_ECHO, "ok", 2, 0, &t[i]),
		    0);
	for (i = 0; i < 4; i++) {
		assert_true(t[i] != 0);
		assert_int_equal(fb_pool_wait(p, t[i], &res, out, sizeof(out),
		    5000), 0);
		assert_int_equal(res.r_ticket, t[i]);
	}
	tu_pool_end(p, fds);
}

/* ---- 12. leftovers and statuses ----------------------------------------- */

static void
test_handler_child_ended(void **state)
{
	struct fb_board_stat st;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	pid_t kid;
	int64_t t0;
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	assert_non_null(p = pool_n(1, 4));
	assert_int_equal(fb_pool_submit(p, C_FORKKID, NULL, 0, 0, &t), 0);
	assert_int_equal(fb_pool_wait(p, t, &res, &kid, sizeof(kid), 5000), 0);
	assert_true(kid > 0 && tu_alive(kid));
	assert_int_equal(fb_pool_stat(p, &st), 0);
	assert_int_equal(fb_pool_shutdown(p, 5000), 0);
	fb_pool_destroy(p);
	/* It held the board and the worker's pipes: it is gone too (its
	 * exit, and so its detach, completes a moment after the SIGKILL). */
	assert_true(tu_wait_gone(kid, 2000));
	tu_assert_no_children();
	t0 = tu_now_ms();
	while (tu_our_segments() != 0 && tu_now_ms() - t0 < 2000)
		tu_sleep_ms(5);
	tu_assert_shm_gone(st.bs_shmid);
	assert_int_equal(tu_count_fds(), fds);
}

static char logged[512];

static void
log_keep(void *arg, enum fb_log_level lv, const char *msg)
{
	(void)arg;
	if (lv <= FB_LOG_WARN && strstr(msg, "unknown") != NULL)
		(void)snprintf(logged, sizeof(logged), "%s", msg);
}

static void
sigchld_ignored(void)
{
	struct fb_config cfg;
	struct fb_worker_info wi;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	uint32_t ms = 5000, out;

	signal(SIGCHLD, SIG_IGN);
	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.log = log_keep;
	CHECK((p = make_pool(&cfg)) != NULL);
	CHECK(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &t) == 0);
	sub_wait_busy(p, 0, &wi);
	CHECK(kill(wi.wi_pid, SIGKILL) == 0);
	CHECK(fb_pool_wait(p, t, &res, &out, sizeof(out), 5000) == 0);
	CHECK(res.r_outcome == FB_CRASHED);
	CHECK(res.r_wait_status == -1);      /* the kernel kept nothing */
	CHECK(logged[0] != '\0');          /* and the log says so */
	ms = 1;
	CHECK(fb_pool_submit(p, C_SLEEP, &ms, 4, 0, &t) == 0);
	CHECK(fb_pool_wait(p, t, &res, &out, sizeof(out), 5000) == 0);
	CHECK(res.r_outcome == FB_DONE);
	sub_end(p);
}

SUB_TEST(test_sigchld_ignored, sigchld_ignored, 20)

/* Lifeline mode: a handler's child that keeps the lifeline open does not
 * hide its worker's death. */
static void
test_lifeline_held_by_child(void **state)
{
	struct fb_config cfg;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	pid_t kid;
	int fds = tu_count_fds();

	(void)state;
	TU_GUARD(20);
	fb_config_init(&cfg);
	cfg.workers = 1;
	assert_int_equal(fb_pool_create(&p, &cfg), 0);
	assert_int_equal(fb_pool_register(p, C_FORKKID, h_forkkid, NULL), 0);
	assert_int_equal(fb_pool_register(p, C_SLEEP, tu_h_sleep, NULL), 0);
	p->p_lifeline = 1;
	assert_int_equal(fb_pool_start(p), 0);
	assert_int_equal(fb_pool_submit(p, C_FORKKID, NULL, 0, 0, &t), 0);
	assert_int_equal(fb_pool_wait(p, t, &res, &kid, sizeof(kid), 5000), 0);
	assert_int_equal(kill(res.r_pid, SIGKILL), 0);
	/* Noticed by polling, though the lifeline never reports EOF. */
	while (p->p_workers[0].w_restarts == 0) {
		assert_true(fb_pool_process(p) >= 0);
		tu_sleep_ms(5);
	}
	assert_true(tu_wait_gone(kid, 2000)); /* ended with its worker */
	tu_pool_end(p, fds);
}

/* ---- 13. consistent scoreboard copies ----------------------------------- */

static void
test_row_seqlock(void **state)
{
	struct fb__worker_row *row;
	struct fb__row_copy rc;
	pid_t pid;
	uint32_t i;
	int st, n, bad = 0;

	(void)state;
	TU_GUARD(20);
	row = mmap(NULL, sizeof(*row), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(row != MAP_FAILED);
	memset(row, 0, sizeof(*row));
	if ((pid = fork()) == 0) {
		for (i = 1;; i++) {
			fb__row_write_begin(row);
			atomic_store_explicit(&row->wr_state, i,
			    memory_order_relaxed);
			atomic_store_explicit(&row->wr_slot, i,
			    memory_order_relaxed);
			atomic_store_explicit(&row->wr_code, i,
			    memory_order_relaxed);
			atomic_store_explicit(&row->wr_tasks, i,
			    memory_order_relaxed);
			fb__row_write_end(row);
		}
	}
	for (n = 0; n < 200000; n++) {
		if (fb__row_read(row, &rc) != 0)
			continue;
		bad += rc.rc_state != rc.rc_slot || rc.rc_slot != rc.rc_code ||
		    rc.rc_code != (uint32_t)rc.rc_tasks;
	}
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(bad, 0);
	/* A writer that died mid-write: readers give up, they never hang. */
	fb__row_write_begin(row);
	assert_int_equal(fb__row_read(row, &rc), -EAGAIN);
	munmap(row, sizeof(*row));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_TEST(test_late_publish_dropped),
		TU_TEST(test_submit_from_handler_refused),
		TU_TEST(test_forked_child_refused),
		TU_TEST(test_daemon_stdio_closed),
		TU_TEST(test_misaligned_junk_recovered),
		TU_TEST(test_poison_task_charged),
		TU_TEST(test_poison_starting_keeps_pool),
		TU_TEST(test_unclaimed_task_times_out),
		TU_TEST(test_timeout_spares_next_task),
		TU_TEST(test_sigpipe_stays_ignored),
		TU_TEST(test_ctrl_c_is_the_masters),
		TU_TEST(test_forking_thread_exits),
		TU_TEST(test_master_death_mid_handler),
		TU_TEST(test_fork_eagain_retried),
		TU_TEST(test_fork_eagain_at_start),
		TU_TEST(test_failed_pool_recovers),
		TU_TEST(test_eintr_storm_timeouts),
		TU_TEST(test_wait_zero_polls),
		TU_TEST(test_shutdown_forever_runs_pending),
		TU_TEST(test_shutdown_deadline_runs_pending),
		TU_TEST(test_shutdown_drains_backlog),
		TU_TEST(test_create_enomem_keeps_stdin),
		TU_TEST(test_keep_fds_checked),
		TU_TEST(test_backoff_no_overflow),
		TU_TEST(test_ticket_seq_wraps),
		TU_TEST(test_handler_child_ended),
		TU_TEST(test_sigchld_ignored),
		TU_TEST(test_lifeline_held_by_child),
		TU_TEST(test_row_seqlock),
	};

	/* FB_TEST_FILTER=test_name runs one test (a pattern, '*' allowed). */
	if (getenv("FB_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("FB_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
