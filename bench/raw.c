/*
 * raw.c - the hand-written baselines: the pipe+shm dispatch loop that
 * forkboard should approach (the upper bound), pipe ping-pong, and raw
 * forks for start-up time and memory.
 *
 * The raw loop is forkboard's design with nothing else: one SysV segment
 * of 64-byte payload + 64-byte result slots, a pipe per worker carrying
 * 4-byte slot numbers, one completion pipe, no supervision, no checks.
 * Two ways to send: coalesced (after each wake-up the master writes each
 * worker all its new slot numbers at once) and per-code (one write per
 * task).  A worker answers all it read in one write, as forkboard's does.
 */
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define RAW_STRIDE	(2 * B_SMALL)	/* payload, then result */
#define RAW_RBUF	1024		/* slot numbers per read: 4 KiB */

struct raw {
	unsigned	 rw_n;		/* workers */
	unsigned	 rw_slots;
	unsigned char	*rw_board;
	pid_t		*rw_pid;
	int		*rw_task;	/* write ends, one per worker */
	int		 rw_done[2];
	uint32_t	*rw_free;	/* stack of free slots */
	unsigned	 rw_nfree;
	uint32_t	*rw_out;	/* coalesced: rw_slots per worker */
	unsigned	*rw_nout;
	unsigned	 rw_rr;
	uint64_t	 rw_seq;
	uint64_t	 rw_sent_sum;
	uint64_t	 rw_got_sum;
};

static void __attribute__((noreturn))
raw_worker(int tfd, int dfd, unsigned char *board, unsigned nslots)
{
	uint32_t codes[RAW_RBUF];
	unsigned char *p;
	ssize_t n;
	size_t i, k;

	for (;;) {
		if ((n = read(tfd, codes, sizeof(codes))) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			_exit(n == 0 ? 0 : 1);
		k = (size_t)n / sizeof(codes[0]);	/* writes are whole */
		for (i = 0; i < k; i++) {
			if (codes[i] >= nslots)
				_exit(1);
			p = board + (size_t)codes[i] * RAW_STRIDE;
			memcpy(p + B_SMALL, p, B_SMALL);
		}
		if (b_write_full(dfd, codes, k * sizeof(codes[0])) == -1)
			_exit(1);
	}
}

static void
raw_close(struct raw *rw)
{
	unsigned i;

	for (i = 0; rw->rw_task != NULL && i < rw->rw_n; i++)
		if (rw->rw_task[i] != -1)
			(void)close(rw->rw_task[i]);
	if (rw->rw_pid != NULL)
		(void)b_reap_all(rw->rw_pid, rw->rw_n);
	if (rw->rw_done[0] != -1)
		(void)close(rw->rw_done[0]);
	if (rw->rw_done[1] != -1)
		(void)close(rw->rw_done[1]);
	b_shm_free(rw->rw_board);
	free(rw->rw_pid);
	free(rw->rw_task);
	free(rw->rw_free);
	free(rw->rw_out);
	free(rw->rw_nout);
}

static int
raw_spawn(struct raw *rw, unsigned i)
{
	int fds[2];
	unsigned j;

	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	if ((rw->rw_pid[i] = fork()) == -1) {
		(void)close(fds[0]);
		(void)close(fds[1]);
		return -1;
	}
	if (rw->rw_pid[i] == 0) {
		b_child_init();
		/* Keep only our read end and the completion write end. */
		for (j = 0; j < i; j++)
			(void)close(rw->rw_task[j]);
		(void)close(fds[1]);
		(void)close(rw->rw_done[0]);
		raw_worker(fds[0], rw->rw_done[1], rw->rw_board,
		    rw->rw_slots);
	}
	(void)close(fds[0]);
	rw->rw_task[i] = fds[1];
	return 0;
}

static int
raw_open(struct raw *rw, unsigned n, unsigned slots)
{
	unsigned i;

	memset(rw, 0, sizeof(*rw));
	rw->rw_done[0] = rw->rw_done[1] = -1;
	rw->rw_n = n;
	rw->rw_slots = slots;
	rw->rw_pid = calloc(n, sizeof(pid_t));
	rw->rw_task = calloc(n, sizeof(int));
	rw->rw_free = calloc(slots, sizeof(uint32_t));
	rw->rw_out = calloc((size_t)n * slots, sizeof(uint32_t));
	rw->rw_nout = calloc(n, sizeof(unsigned));
	if (rw->rw_pid == NULL || rw->rw_task == NULL || rw->rw_free == NULL ||
	    rw->rw_out == NULL || rw->rw_nout == NULL)
		err(1, "calloc");
	for (i = 0; i < n; i++)
		rw->rw_task[i] = -1;
	for (i = 0; i < slots; i++)
		rw->rw_free[i] = slots - 1 - i;
	rw->rw_nfree = slots;
	if ((rw->rw_board = b_shm_create((size_t)slots * RAW_STRIDE)) == NULL)
		return -1;
	if (pipe2(rw->rw_done, O_CLOEXEC) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (raw_spawn(rw, i) == -1)
			return -1;
	return 0;
}

/* Write worker w's queued slot numbers in one write. */
static int
raw_flush(struct raw *rw, unsigned w)
{
	size_t len = rw->rw_nout[w] * sizeof(uint32_t);

	if (len == 0)
		return 0;
	rw->rw_nout[w] = 0;
	if (b_write_full(rw->rw_task[w], rw->rw_out + (size_t)w * rw->rw_slots,
	    len) == -1)
		return -1;
	return 0;
}

/* Hand every free slot a new task; coalesced: one write per worker. */
static int
raw_send(struct raw *rw, int coalesce)
{
	unsigned w;
	uint32_t slot;

	while (rw->rw_nfree > 0) {
		slot = rw->rw_free[--rw->rw_nfree];
		b_fill(rw->rw_board + (size_t)slot * RAW_STRIDE, B_SMALL,
		    rw->rw_seq);
		rw->rw_sent_sum += rw->rw_seq++;
		w = rw->rw_rr++ % rw->rw_n;
		rw->rw_out[(size_t)w * rw->rw_slots + rw->rw_nout[w]++] = slot;
		if (!coalesce && raw_flush(rw, w) == -1)
			return -1;
	}
	for (w = 0; coalesce && w < rw->rw_n; w++)
		if (raw_flush(rw, w) == -1)
			return -1;
	return 0;
}

/* Take one read's worth of completions; returns how many, or -1. */
static int
raw_collect(struct raw *rw)
{
	uint32_t codes[RAW_RBUF];
	uint64_t first;
	ssize_t n;
	size_t i, k;

	while ((n = read(rw->rw_done[0], codes, sizeof(codes))) == -1 &&
	    errno == EINTR)
		;
	if (n <= 0 || n % sizeof(codes[0]) != 0)
		return -1;
	k = (size_t)n / sizeof(codes[0]);
	for (i = 0; i < k; i++) {
		if (codes[i] >= rw->rw_slots)
			return -1;
		memcpy(&first, rw->rw_board + (size_t)codes[i] * RAW_STRIDE +
		    B_SMALL, sizeof(first));
		rw->rw_got_sum += first;
		rw->rw_free[rw->rw_nfree++] = codes[i];
	}
	return (int)k;
}

static int
raw_run(const struct bparams *bp, struct bres *br, int coalesce)
{
	struct raw rw;
	struct bwin win;
	unsigned slots;
	uint64_t done = 0;
	int k, r = -1;

	slots = bp->bp_inflight ? bp->bp_inflight :
	    B_SLOTS_PER_WORKER * bp->bp_workers;
	if (raw_open(&rw, bp->bp_workers, slots) == -1) {
		warn("raw loop: start");
		goto out;
	}
	b_win_start(&win, bp->bp_secs);
	if (raw_send(&rw, coalesce) == -1)
		goto out;
	while (rw.rw_nfree < slots) {
		if ((k = raw_collect(&rw)) == -1)
			goto out;
		done += (uint64_t)k;
		if (b_win_tick(&win, done) && raw_send(&rw, coalesce) == -1)
			goto out;
	}
	b_win_end(&win, done, br);
	if (rw.rw_got_sum != rw.rw_sent_sum || done != rw.rw_seq) {
		warnx("raw loop: wrong results");
		goto out;
	}
	r = 0;
out:
	raw_close(&rw);
	return r;
}

int
raw_coalesced(const struct bparams *bp, struct bres *br)
{
	return raw_run(bp, br, 1);
}

int
raw_percode(const struct bparams *bp, struct bres *br)
{
	return raw_run(bp, br, 0);
}

/* Ping-pong child: echo 16-byte records until end of file. */
static void __attribute__((noreturn))
pong(int in, int out)
{
	unsigned char rec[16];
	ssize_t n;

	b_child_init();
	while ((n = b_read_full(in, rec, sizeof(rec))) == sizeof(rec))
		if (b_write_full(out, rec, sizeof(rec)) == -1)
			_exit(1);
	_exit(n == 0 ? 0 : 1);
}

static int
ping(int out, int in, uint64_t i)
{
	unsigned char rec[16];
	uint64_t back;

	memset(rec, 0, sizeof(rec));
	memcpy(rec, &i, sizeof(i));
	if (b_write_full(out, rec, sizeof(rec)) != sizeof(rec) ||
	    b_read_full(in, rec, sizeof(rec)) != sizeof(rec))
		return -1;
	memcpy(&back, rec, sizeof(back));
	return back == i ? 0 : -1;
}

/* Round trip of a 16-byte record through a child, one at a time. */
int
raw_pingpong(const struct bparams *bp, struct bres *br)
{
	int to[2], from[2], r = -1;
	int64_t *s, t0;
	unsigned i;
	pid_t pid;

	if (pipe2(to, O_CLOEXEC) == -1 || pipe2(from, O_CLOEXEC) == -1)
		err(1, "pipe2");
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		(void)close(to[1]);
		(void)close(from[0]);
		pong(to[0], from[1]);
	}
	(void)close(to[0]);
	(void)close(from[1]);
	s = b_samples(br, bp->bp_samples);
	for (i = 0; i < B_WARMUP; i++)
		if (ping(to[1], from[0], i) == -1)
			goto out;
	b_ctr_start();
	for (i = 0; i < bp->bp_samples; i++) {
		t0 = b_now_ns();
		if (ping(to[1], from[0], i) == -1)
			goto out;
		s[i] = b_now_ns() - t0;
	}
	b_ctr_per(br, bp->bp_samples);
	r = 0;
out:
	(void)close(to[1]);
	(void)close(from[0]);
	if (b_reap_all(&pid, 1) == -1 || r == -1) {
		warnx("ping-pong failed");
		return -1;
	}
	return 0;
}

/* A raw child: says it is up, then waits for its pipe to close. */
static void __attribute__((noreturn))
idle_child(int ready, int hold)
{
	char c = 1;

	b_child_init();
	if (b_write_full(ready, &c, 1) == -1)
		_exit(1);
	while (read(hold, &c, 1) == -1 && errno == EINTR)
		;
	_exit(0);
}

/* Fork n idle children; returns once each said it is up. */
static int
fork_idle(pid_t *pids, unsigned n, int *hold_w)
{
	int ready[2], hold[2];
	unsigned i;
	char buf[256];
	size_t got = 0;
	ssize_t k;

	if (pipe2(ready, O_CLOEXEC) == -1 || pipe2(hold, O_CLOEXEC) == -1)
		err(1, "pipe2");
	for (i = 0; i < n; i++) {
		if ((pids[i] = fork()) == -1)
			err(1, "fork");
		if (pids[i] == 0) {
			(void)close(ready[0]);
			(void)close(hold[1]);
			idle_child(ready[1], hold[0]);
		}
	}
	(void)close(ready[1]);
	(void)close(hold[0]);
	while (got < n) {
		k = read(ready[0], buf, sizeof(buf));
		if (k <= 0 && !(k == -1 && errno == EINTR))
			break;
		if (k > 0)
			got += (size_t)k;
	}
	(void)close(ready[0]);
	*hold_w = hold[1];
	return got == n ? 0 : -1;
}

/* Time until n raw forked children are all up; median of reps. */
int
raw_ready(const struct bparams *bp, struct bres *br)
{
	int64_t t[64], t0;
	pid_t *pids;
	unsigned rep, reps = bp->bp_reps > 64 ? 64 : bp->bp_reps;
	int hold, ok;

	if ((pids = calloc(bp->bp_workers, sizeof(pid_t))) == NULL)
		err(1, "calloc");
	for (rep = 0; rep < reps; rep++) {
		b_ctr_start();
		t0 = b_now_ns();
		ok = fork_idle(pids, bp->bp_workers, &hold);
		t[rep] = b_now_ns() - t0;
		b_ctr_stop();
		(void)close(hold);
		if (b_reap_all(pids, bp->bp_workers) == -1 || ok == -1) {
			warnx("raw fork: a child failed");
			free(pids);
			return -1;
		}
	}
	free(pids);
	b_ctr_per(br, (uint64_t)reps * bp->bp_workers); /* per worker */
	return b_median_of(br, t, reps);
}

/* Memory of one raw forked child (KiB): Pss; aux: private, Rss. */
int
raw_memory(const struct bparams *bp, struct bres *br)
{
	pid_t pid;
	int hold, r;

	(void)bp;
	if (fork_idle(&pid, 1, &hold) == -1)
		r = -1;
	else
		r = b_smaps(pid, &br->br_value, &br->br_aux[0],
		    &br->br_aux[1]);
	(void)close(hold);
	if (b_reap_all(&pid, 1) == -1)
		r = -1;
	return r;
}
