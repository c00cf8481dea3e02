/*
 * test_spawn.c - what a spawned worker inherits of the master's signal
 * dispositions, however it was spawned.
 *
 * The master finds which signals a worker must reset once for all the
 * workers one call starts (fb_pool_start, fb_pool_resize), and again for
 * each worker spawned alone (a respawn).  So a handler installed after the
 * pool started must still not reach a respawned or added worker: the scan
 * must not outlive the call that made it.  Each worker's dispositions are
 * read from outside, in /proc/PID/status (SigCgt: caught, SigIgn: ignored).
 */
#include "testutil.h"
#include "internal.h"

#define C_ECHO 1

static void
on_sig(int sig)
{
	(void)sig;
}

static void
on_info(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
}

/* The bit mask of field ("SigCgt" or "SigIgn") of process pid. */
static unsigned long long
sigmask_of(pid_t pid, const char *field)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	size_t n = strlen(field);
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':' &&
		    sscanf(line + n + 1, "%llx", &mask) == 1)
			break;
	(void)fclose(f);
	return mask;
}

#define BIT(sig) (1ULL << ((sig) - 1))

/* Wait (at most 5 s) until worker i is IDLE, past its set-up; its pid. */
static pid_t
idle_pid(struct fb_pool *p, unsigned i)
{
	struct fb_worker_info wi;
	int64_t t0 = tu_now_ms();

	for (;;) {
		assert_int_equal(fb_pool_worker_info(p, i, &wi), 0);
		if (wi.wi_state == FB_WORKER_IDLE && wi.wi_pid > 0)
			return wi.wi_pid;
		assert_true(tu_now_ms() - t0 < 5000);
		assert_true(fb_pool_process(p) >= 0);
		tu_sleep_ms(1);
	}
}

/* Worker pid catches none of the master's handlers and still ignores
 * what the master ignores. */
static void
assert_clean(pid_t pid, int caught_sig)
{
	unsigned long long cgt = sigmask_of(pid, "SigCgt");

	assert_int_equal(cgt & BIT(caught_sig), 0);
	assert_int_equal(cgt & BIT(SIGUSR1), 0);
	assert_int_equal(cgt & BIT(SIGUSR2), 0);
	assert_int_not_equal(sigmask_of(pid, "SigIgn") & BIT(SIGPIPE), 0);
}

static void
set_handler(int sig, int info)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	if (info) {
		sa.sa_sigaction = on_info;
		sa.sa_flags = SA_SIGINFO;
	} else
		sa.sa_handler = on_sig;
	assert_int_equal(sigaction(sig, &sa, NULL), 0);
}

static void
restore(void)
{
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
}

static struct fb_pool *
pool_of(unsigned workers, unsigned max)
{
	struct fb_config cfg;
	struct fb_pool *p;

	fb_config_init(&cfg);
	cfg.workers = workers;
	cfg.max_workers = max;
	cfg.slots = 8;
	assert_int_equal(fb_pool_create(&p, &cfg), 0);
	assert_int_equal(fb_pool_register(p, C_ECHO, tu_h_echo, NULL), 0);
	assert_int_equal(tu_start(p), 0);
	return p;
}

/* Handlers installed before the start: reset in every worker it starts
 * (one scan, many workers). */
static void
test_start_resets_all(void **state)
{
	struct fb_pool *p;
	unsigned i;
	int fds;

	(void)state;
	TU_GUARD(30);
	fds = tu_count_fds();
	set_handler(SIGUSR1, 0);
	set_handler(SIGUSR2, 1);
	signal(SIGPIPE, SIG_IGN);
	p = pool_of(4, 4);
	for (i = 0; i < 4; i++)
		assert_clean(idle_pid(p, i), SIGUSR1);
	tu_pool_end(p, fds);
	restore();
}

/* A handler installed after the start must not reach a worker respawned
 * later, nor one fb_pool_resize() adds: the start's scan is not reused. */
static void
test_later_handler_not_inherited(void **state)
{
	struct fb_worker_info wi;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t;
	pid_t old, now;
	char out[8];
	int fds;

	(void)state;
	TU_GUARD(30);
	fds = tu_count_fds();
	signal(SIGPIPE, SIG_IGN);
	p = pool_of(2, 3);
	old = idle_pid(p, 0);
	(void)idle_pid(p, 1);
	set_handler(SIGHUP, 0);
	set_handler(SIGUSR2, 1);

	/* Respawn: worker 0 dies, its replacement starts alone. */
	assert_int_equal(kill(old, SIGKILL), 0);
	do {
		assert_true(fb_pool_process(p) >= 0);
		assert_int_equal(fb_pool_worker_info(p, 0, &wi), 0);
		tu_sleep_ms(1);
	} while (wi.wi_pid == old || wi.wi_pid <= 0);
	now = idle_pid(p, 0);
	assert_int_not_equal(now, old);
	assert_clean(now, SIGHUP);

	/* Resize: worker 2 is spawned by a call of its own. */
	assert_int_equal(fb_pool_resize(p, 3), 0);
	assert_clean(idle_pid(p, 2), SIGHUP);

	/* And they work. */
	assert_int_equal(fb_pool_submit(p, C_ECHO, "ok", 2, 0, &t), 0);
	assert_int_equal(fb_pool_wait(p, t, &res, out, sizeof(out), 5000), 0);
	assert_int_equal(res.r_outcome, FB_DONE);
	tu_pool_end(p, fds);
	restore();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_TEST(test_start_resets_all),
		TU_TEST(test_later_handler_not_inherited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
