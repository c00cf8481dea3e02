/*
 * testutil.h - helpers shared by the test programs: hang guard, leak
 * checks (fds, children, segments).
 */
#ifndef FB_TESTUTIL_H
#define FB_TESTUTIL_H

#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "forkboard.h"
#ifdef FB_TEST_LIFELINE
#include "internal.h"
#endif

/* Hang guard: SIGALRM's default action kills the test program, which the
 * harness reports as a failure.  Each test re-arms it. */
#define TU_GUARD(sec) alarm(sec)

static inline int
tu_count_fds(void)
{
	DIR *d;
	struct dirent *de;
	int n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* No child of ours is left, zombie or alive. */
static inline void
tu_assert_no_children(void)
{
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* The segment is gone from the kernel. */
static inline void
tu_assert_shm_gone(int shmid)
{
	struct shmid_ds ds;

	assert_int_equal(shmctl(shmid, IPC_STAT, &ds), -1);
	assert_true(errno == EINVAL || errno == EIDRM);
}

static inline int64_t
tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t
tu_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline void
tu_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Is pid alive (and not a zombie of ours)? */
static inline int
tu_alive(pid_t pid)
{
	return kill(pid, 0) == 0;
}

/*
 * Start a pool.  Programs built with FB_TEST_LIFELINE (the *_lifeline
 * tests) force the fallback used where pidfds are missing: lifeline pipes
 * and waitpid polling, so that every supervision and shutdown path runs in
 * both modes on every machine.
 */
static inline int
tu_start(struct fb_pool *p)
{
#ifdef FB_TEST_LIFELINE
	p->p_lifeline = 1;
#endif
	return fb_pool_start(p);
}

/* Does process pid ignore sig (SigIgn in /proc/pid/status)? */
static inline int
tu_ignores(pid_t pid, int sig)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "SigIgn: %llx", &mask) == 1)
			break;
	(void)fclose(f);
	return (mask >> (sig - 1)) & 1;
}

/* Wait (at most 5 s) until worker i runs a task; *wi is its row then. */
static inline void
tu_wait_busy(struct fb_pool *p, unsigned i, struct fb_worker_info *wi)
{
	int64_t t0 = tu_now_ms();

	do {
		assert_int_equal(fb_pool_worker_info(p, i, wi), 0);
		assert_true(tu_now_ms() - t0 < 5000);
	} while (wi->wi_state != FB_WORKER_BUSY && (tu_sleep_ms(1), 1));
}

/* Has pid ended (gone, or a zombie nobody reaped yet)? */
static inline int
tu_gone(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int zombie = 0;

	if (kill(pid, 0) == -1 && errno == ESRCH)
		return 1;
	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		zombie = p[1] == ' ' && p[2] == 'Z';
	(void)fclose(f);
	return zombie;
}

/* Wait up to ms for pid to end; returns tu_gone(pid). */
static inline int
tu_wait_gone(pid_t pid, int64_t ms)
{
	int64_t t0 = tu_now_ms();

	while (!tu_gone(pid) && tu_now_ms() - t0 < ms)
		tu_sleep_ms(5);
	return tu_gone(pid);
}

/* Segments this process created (from /proc/sysvipc/shm). */
static inline int
tu_our_segments(void)
{
	FILE *f;
	char line[512];
	long key, id, perms, size, cpid;
	int n = 0;

	if ((f = fopen("/proc/sysvipc/shm", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%ld %ld %lo %ld %ld", &key, &id, &perms,
		    &size, &cpid) == 5 && cpid == (long)getpid())
			n++;
	(void)fclose(f);
	return n;
}

/* For teardowns: report what a test left behind (descriptors beyond
 * fds_before, a child, a segment of ours).  Returns 0 when clean. */
static inline int
tu_leftovers(int fds_before)
{
	int bad = 0;

	if (tu_count_fds() != fds_before) {
		fprintf(stderr, "teardown: %d descriptors, %d at setup\n",
		    tu_count_fds(), fds_before);
		bad = 1;
	}
	errno = 0;
	if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD) {
		fprintf(stderr, "teardown: a child is left\n");
		bad = 1;
	}
	if (tu_our_segments() != 0) {
		fprintf(stderr, "teardown: a segment of ours is left\n");
		bad = 1;
	}
	return bad;
}

/*
 * Teardown for tests that fork: if the test failed midway, kill and reap
 * the children it left (found through /proc), so the next test starts
 * clean instead of failing for its predecessor.  The tests' own asserts
 * are what catch leaks; this only stops one failure from cascading.
 */
static inline int
tu_teardown(void **state)
{
	char path[64], buf[512], *p;
	struct dirent *de;
	DIR *d;
	FILE *f;
	long pid, ppid;
	pid_t r;
	int n;

	(void)state;
	alarm(0);
	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if ((pid = atol(de->d_name)) <= 0)
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		p = fgets(buf, sizeof(buf), f);
		(void)fclose(f);
		/* "pid (comm) state ppid ...": comm may hold spaces */
		if (p == NULL || (p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 2, "%*c %ld", &ppid) != 1 || ppid != getpid())
			continue;
		(void)kill((pid_t)pid, SIGKILL);
	}
	closedir(d);
	for (n = 0; n < 5000; n++) { /* SIGKILLed: gone within ms */
		errno = 0;
		if ((r = waitpid(-1, NULL, WNOHANG)) > 0 ||
		    (r == -1 && errno == EINTR))
			continue;
		if (r == -1)
			break; /* ECHILD: all reaped */
		tu_sleep_ms(1);
	}
	return 0;
}

/* A test that forks, with the cleanup above. */
#define TU_TEST(f) cmocka_unit_test_teardown(f, tu_teardown)

/*
 * End a test's pool and prove nothing is left: shutdown (drained, no
 * kills) returns 0, then no child, the segment gone, the descriptor count
 * back to fds_before.
 */
static inline void
tu_pool_end(struct fb_pool *p, int fds_before)
{
	struct fb_board_stat st;

	assert_int_equal(fb_pool_stat(p, &st), 0);
	assert_int_equal(fb_pool_shutdown(p, 5000), 0);
	fb_pool_destroy(p);
	tu_assert_no_children();
	tu_assert_shm_gone(st.bs_shmid);
	assert_int_equal(tu_count_fds(), fds_before);
}

/* Handlers several test programs share. */

/* result = payload */
static inline int
tu_h_echo(struct fb_task *t, void *arg)
{
	(void)arg;
	memcpy(t->t_result, t->t_payload, t->t_len);
	t->t_result_len = t->t_len;
	return 0;
}

/* sleep for the uint32 ms in the payload; result = that number */
static inline int
tu_h_sleep(struct fb_task *t, void *arg)
{
	uint32_t ms = 0;

	(void)arg;
	memcpy(&ms, t->t_payload, t->t_len < 4 ? t->t_len : 4);
	tu_sleep_ms(ms);
	memcpy(t->t_result, &ms, sizeof(ms));
	t->t_result_len = sizeof(ms);
	return 0;
}

/* result = the worker's pid */
static inline int
tu_h_pid(struct fb_task *t, void *arg)
{
	pid_t pid = getpid();

	(void)arg;
	memcpy(t->t_result, &pid, sizeof(pid));
	t->t_result_len = sizeof(pid);
	return 0;
}

/* ignore SIGTERM, then sleep 20 s */
static inline int
tu_h_stubborn(struct fb_task *t, void *arg)
{
	(void)t;
	(void)arg;
	signal(SIGTERM, SIG_IGN);
	tu_sleep_ms(20000);
	return 0;
}

#endif /* FB_TESTUTIL_H */
