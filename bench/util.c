/*
 * util.c - helpers the benchmark scenarios share: clocks, full reads and
 * writes, SysV segments that cannot leak, child set-up and reaping, the
 * payload pattern and its checksum, /proc memory figures, statistics.
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>

#include <err.h>
#include <sched.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

int64_t
b_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Read exactly n bytes: n, fewer at end of file, or -1. */
ssize_t
b_read_full(int fd, void *buf, size_t n)
{
	unsigned char *p = buf;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		if ((r = read(fd, p + got, n - got)) == 0)
			break;
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return (ssize_t)got;
}

ssize_t
b_write_full(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	size_t put = 0;
	ssize_t r;

	while (put < n) {
		if ((r = write(fd, p + put, n - put)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		put += (size_t)r;
	}
	return (ssize_t)put;
}

/*
 * A private SysV segment, attached, and removed (IPC_RMID) at once: the
 * kernel frees it with the last detach, even if this process is killed.
 * Children forked afterwards inherit the attachment.
 */
void *
b_shm_create(size_t size)
{
	void *p;
	int id;

	if ((id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600)) == -1) {
		warn("shmget %zu", size);
		return NULL;
	}
	p = shmat(id, NULL, 0);
	(void)shmctl(id, IPC_RMID, NULL);
	if (p == (void *)-1) {
		warn("shmat");
		return NULL;
	}
	return p;
}

void
b_shm_free(void *p)
{
	if (p != NULL)
		(void)shmdt(p);
}

/* In a freshly forked benchmark child: die with the parent. */
void
b_child_init(void)
{
	pid_t ppid = getppid();

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != ppid)
		_exit(1);
}

int
b_reap(pid_t pid, int *status)
{
	int st;

	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (status != NULL)
		*status = st;
	return 0;
}

/* Reap n children; -1 if any did not exit 0. */
int
b_reap_all(pid_t *pids, unsigned n)
{
	unsigned i;
	int bad = 0, st;

	for (i = 0; i < n; i++) {
		if (pids[i] <= 0)
			continue;
		if (b_reap(pids[i], &st) == -1 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			bad = 1;
		pids[i] = 0;
	}
	return bad ? -1 : 0;
}

/* The payload pattern: word i is seed + i.  Cheap to write, and its sum
 * is known without reading it back. */
void
b_fill(void *buf, size_t len, uint64_t seed)
{
	uint64_t *w = buf;
	size_t i, n = len / sizeof(*w);

	for (i = 0; i < n; i++)
		w[i] = seed + i;
}

uint64_t
b_fill_sum(size_t len, uint64_t seed)
{
	uint64_t n = len / sizeof(uint64_t);

	return n * seed + n * (n - 1) / 2;
}

/* Sum of the 64-bit words (a trailing partial word is ignored). */
uint64_t
b_sum64(const void *buf, size_t len)
{
	const uint64_t *w = buf;
	size_t i, n = len / sizeof(*w);
	uint64_t s0 = 0, s1 = 0;

	for (i = 0; i + 1 < n; i += 2) {
		s0 += w[i];
		s1 += w[i + 1];
	}
	if (i < n)
		s0 += w[i];
	return s0 + s1;
}

/* Pss, private (clean + dirty) and Rss of a process, in KiB. */
int
b_smaps(pid_t pid, double *pss, double *priv, double *rss)
{
	char path[64], line[256];
	double v, pc = 0, pd = 0;
	FILE *f;

	*pss = *priv = *rss = -1;
	(void)snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if ((f = fopen(path, "r")) == NULL) {
		warn("%s", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "Pss: %lf", &v) == 1)
			*pss = v;
		else if (sscanf(line, "Rss: %lf", &v) == 1)
			*rss = v;
		else if (sscanf(line, "Private_Clean: %lf", &v) == 1)
			pc = v;
		else if (sscanf(line, "Private_Dirty: %lf", &v) == 1)
			pd = v;
	}
	(void)fclose(f);
	*priv = pc + pd;
	return *pss < 0 ? -1 : 0;
}

int
b_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Percentile p (0..100) of n sorted values, nearest rank. */
double
b_pct(const int64_t *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (size_t)(p / 100.0 * (double)n);
	if (k >= n)
		k = n - 1;
	return (double)v[k];
}

/* An empty result: nothing counted yet. */
void
b_res_init(struct bres *br)
{
	int i;

	memset(br, 0, sizeof(*br));
	for (i = 0; i < B_NCTR; i++)
		br->br_per[i] = NAN;
}

void
b_throughput(struct bres *br, uint64_t tasks, int64_t ns)
{
	br->br_tasks = tasks;
	br->br_secs = (double)ns / 1e9;
	br->br_value = ns > 0 ? (double)tasks / br->br_secs : 0;
}

int64_t *
b_samples(struct bres *br, unsigned n)
{
	if ((br->br_samples = calloc(n, sizeof(int64_t))) == NULL)
		err(1, "calloc");
	br->br_nsamples = n;
	return br->br_samples;
}

/* Value: median of n measurements (ns); aux: min, max. */
int
b_median_of(struct bres *br, int64_t *v, unsigned n)
{
	if (n == 0)
		return -1;
	qsort(v, n, sizeof(*v), b_cmp_i64);
	br->br_value = b_pct(v, n, 50);
	br->br_aux[0] = (double)v[0];
	br->br_aux[1] = (double)v[n - 1];
	return 0;
}

void
b_win_start(struct bwin *w, double secs)
{
	int64_t now = b_now_ns(), len = (int64_t)(secs * 1e9);
	int64_t warm = len / 4 < 100000000 ? len / 4 : 100000000;

	memset(w, 0, sizeof(*w));
	w->w_warm = now + warm;
	w->w_end = w->w_warm + len;
}

/* Look at the clock: open or close the window. */
static int
b_win_look(struct bwin *w, uint64_t done)
{
	int64_t now;

	if (w->w_state == 2)
		return 0;
	now = b_now_ns();
	if (w->w_state == 0 && now >= w->w_warm) {
		w->w_state = 1;
		w->w_t0 = now;
		w->w_done0 = done;
		b_ctr_start();
	}
	if (w->w_state == 1 && now >= w->w_end) {
		w->w_state = 2;
		w->w_t1 = now;
		w->w_done1 = done;
		b_ctr_stop();
		return 0;
	}
	return 1;
}

/*
 * Call with the tasks completed so far, whenever results come in.
 * Returns 1 while new tasks should be submitted.  The clock is read every
 * 16th call: a loop that calls this once per task (forkboard's one-by-one
 * loop) would otherwise pay a clock read per task (20-40 ns on a virtual
 * machine) that a loop calling it once per read of many completions (the
 * raw loops) does not.  The window's edges stay exact: the count is taken
 * when the clock is read.
 */
int
b_win_tick(struct bwin *w, uint64_t done)
{
	if (w->w_state == 2)
		return 0;
	if ((++w->w_calls & 15) != 0)
		return 1;
	return b_win_look(w, done);
}

void
b_win_end(struct bwin *w, uint64_t done, struct bres *br)
{
	while (w->w_state != 2)		/* ended early: close it now */
		(void)b_win_look(w, done);
	b_throughput(br, w->w_done1 - w->w_done0, w->w_t1 - w->w_t0);
	b_ctr_per(br, w->w_done1 - w->w_done0);
}

/* Run this process, and whatever it forks, on its first allowed CPU. */
int
b_pin(void)
{
	cpu_set_t set, one;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set) == -1)
		return -1;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			break;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) == -1) {
		warn("sched_setaffinity");
		return -1;
	}
	return 0;
}
