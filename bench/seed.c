/*
 * seed.c - the classic baselines forkboard replaces: a seed-style pool
 * whose payloads and results travel through the pipes, fork per task, and
 * a plain memcpy of the big payload.
 *
 * The seed-style pool: one task pipe and one result pipe per worker; the
 * master writes a 16-byte header then the payload bytes, round-robin; the
 * worker reads both, computes, and writes a header and the result back.
 * Each worker answers in order, so the master reads results oldest first.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

struct shdr {
	uint32_t	 h_code;
	uint32_t	 h_len;
	uint64_t	 h_seq;
};

struct seed {
	unsigned	 sd_n;
	pid_t		*sd_pid;
	int		*sd_task;	/* master's write ends */
	int		*sd_res;	/* master's read ends */
	unsigned char	*sd_buf;	/* header + payload being sent */
	size_t		 sd_len;	/* payload bytes per task */
	uint32_t	 sd_code;
};

/* Run one task from the pipe; 0 at end of file, -1 on error. */
static int
seed_serve(int in, int out, unsigned char *buf)
{
	struct shdr h;
	unsigned char res[sizeof(h) + B_SMALL];
	uint64_t sum;
	ssize_t n;

	if ((n = b_read_full(in, &h, sizeof(h))) != sizeof(h))
		return n == 0 ? 0 : -1;
	if (h.h_len > B_BIG || b_read_full(in, buf, h.h_len) != h.h_len)
		return -1;
	if (h.h_code == B_CODE_SUM) {
		sum = b_sum64(buf, h.h_len);
		memcpy(res + sizeof(h), &sum, sizeof(sum));
		h.h_len = sizeof(sum);
	} else {
		h.h_len = h.h_len < B_SMALL ? h.h_len : B_SMALL;
		memcpy(res + sizeof(h), buf, h.h_len);
	}
	memcpy(res, &h, sizeof(h));
	if (b_write_full(out, res, sizeof(h) + h.h_len) == -1)
		return -1;
	return 1;
}

static void __attribute__((noreturn))
seed_worker(int in, int out)
{
	unsigned char *buf;
	int r;

	if ((buf = malloc(B_BIG)) == NULL)
		_exit(1);
	while ((r = seed_serve(in, out, buf)) == 1)
		;
	_exit(r == 0 ? 0 : 1);
}

static void
seed_close(struct seed *sd)
{
	unsigned i;

	for (i = 0; i < sd->sd_n; i++) {
		if (sd->sd_task[i] != -1)
			(void)close(sd->sd_task[i]);
		sd->sd_task[i] = -1;
	}
	(void)b_reap_all(sd->sd_pid, sd->sd_n);
	for (i = 0; i < sd->sd_n; i++)
		if (sd->sd_res[i] != -1)
			(void)close(sd->sd_res[i]);
	free(sd->sd_pid);
	free(sd->sd_task);
	free(sd->sd_res);
	free(sd->sd_buf);
}

static int
seed_spawn(struct seed *sd, unsigned i)
{
	int t[2], r[2];
	unsigned j;

	if (pipe2(t, O_CLOEXEC) == -1 || pipe2(r, O_CLOEXEC) == -1)
		err(1, "pipe2");
	if ((sd->sd_pid[i] = fork()) == -1)
		err(1, "fork");
	if (sd->sd_pid[i] == 0) {
		b_child_init();
		for (j = 0; j < i; j++) {
			(void)close(sd->sd_task[j]);
			(void)close(sd->sd_res[j]);
		}
		(void)close(t[1]);
		(void)close(r[0]);
		seed_worker(t[0], r[1]);
	}
	(void)close(t[0]);
	(void)close(r[1]);
	sd->sd_task[i] = t[1];
	sd->sd_res[i] = r[0];
	return 0;
}

static void
seed_open(struct seed *sd, unsigned n, uint32_t code, size_t len)
{
	unsigned i;

	memset(sd, 0, sizeof(*sd));
	sd->sd_n = n;
	sd->sd_code = code;
	sd->sd_len = len;
	sd->sd_pid = calloc(n, sizeof(pid_t));
	sd->sd_task = calloc(n, sizeof(int));
	sd->sd_res = calloc(n, sizeof(int));
	sd->sd_buf = malloc(sizeof(struct shdr) + len);
	if (sd->sd_pid == NULL || sd->sd_task == NULL || sd->sd_res == NULL ||
	    sd->sd_buf == NULL)
		err(1, "calloc");
	for (i = 0; i < n; i++)
		sd->sd_task[i] = sd->sd_res[i] = -1;
	for (i = 0; i < n; i++)
		(void)seed_spawn(sd, i);
}

/* Make task seq's payload and write it, header first, to its worker. */
static int
seed_send(struct seed *sd, uint64_t seq)
{
	struct shdr h;

	h.h_code = sd->sd_code;
	h.h_len = (uint32_t)sd->sd_len;
	h.h_seq = seq;
	memcpy(sd->sd_buf, &h, sizeof(h));
	b_fill(sd->sd_buf + sizeof(h), sd->sd_len, seq);
	return b_write_full(sd->sd_task[seq % sd->sd_n], sd->sd_buf,
	    sizeof(h) + sd->sd_len) == -1 ? -1 : 0;
}

/* Read task seq's result and check it. */
static int
seed_recv(struct seed *sd, uint64_t seq)
{
	struct shdr h;
	uint64_t v;
	int fd = sd->sd_res[seq % sd->sd_n];

	if (b_read_full(fd, &h, sizeof(h)) != sizeof(h) || h.h_seq != seq ||
	    h.h_len < sizeof(v) || h.h_len > B_SMALL ||
	    b_read_full(fd, sd->sd_buf, h.h_len) != h.h_len)
		return -1;
	memcpy(&v, sd->sd_buf, sizeof(v));
	if (sd->sd_code == B_CODE_SUM)
		return v == b_fill_sum(sd->sd_len, seq) ? 0 : -1;
	return v == seq ? 0 : -1;
}

static int
seed_run(const struct bparams *bp, struct bres *br, uint32_t code,
    size_t len, unsigned inflight)
{
	struct seed sd;
	struct bwin win;
	uint64_t next = 0, old = 0;
	int r = -1;

	seed_open(&sd, bp->bp_workers, code, len);
	b_win_start(&win, bp->bp_secs);
	while (next < inflight)
		if (seed_send(&sd, next++) == -1)
			goto out;
	while (old < next) {
		if (seed_recv(&sd, old++) == -1)
			goto out;
		if (b_win_tick(&win, old) && seed_send(&sd, next++) == -1)
			goto out;
	}
	b_win_end(&win, old, br);
	r = 0;
out:
	if (r == -1)
		warnx("seed pool: task %llu failed", (unsigned long long)old);
	seed_close(&sd);
	return r;
}

int
seed_noop(const struct bparams *bp, struct bres *br)
{
	return seed_run(bp, br, B_CODE_NOOP, B_SMALL, bp->bp_inflight ?
	    bp->bp_inflight : B_SLOTS_PER_WORKER * bp->bp_workers);
}

int
seed_big(const struct bparams *bp, struct bres *br)
{
	return seed_run(bp, br, B_CODE_SUM, B_BIG, bp->bp_inflight ?
	    bp->bp_inflight : 2 * bp->bp_workers);
}

/* Fork per task: the child sums the payload it inherited and exits with
 * the low bits of the sum; bp_workers children at a time. */
static pid_t
fork_one(unsigned char *payload, uint64_t seq)
{
	pid_t pid;

	b_fill(payload, B_SMALL, seq);
	if ((pid = fork()) == 0)
		_exit((int)(b_sum64(payload, B_SMALL) & 0x7f));
	return pid;
}

static int
fork_wait(pid_t pid, uint64_t seq)
{
	int st;

	if (pid == -1 || b_reap(pid, &st) == -1)
		return -1;
	if (!WIFEXITED(st) ||
	    (uint64_t)WEXITSTATUS(st) != (b_fill_sum(B_SMALL, seq) & 0x7f))
		return -1;
	return 0;
}

int
fork_per_task(const struct bparams *bp, struct bres *br)
{
	unsigned char payload[B_SMALL];
	unsigned n = bp->bp_workers;
	struct bwin win;
	pid_t *ring;
	uint64_t next = 0, old = 0;
	int r = -1;

	if ((ring = calloc(n, sizeof(pid_t))) == NULL)
		err(1, "calloc");
	b_win_start(&win, bp->bp_secs);
	while (next < n) {
		ring[next % n] = fork_one(payload, next);
		next++;
	}
	while (old < next) {
		if (fork_wait(ring[old % n], old) == -1)
			break;
		old++;
		if (b_win_tick(&win, old)) {
			ring[next % n] = fork_one(payload, next);
			next++;
		}
	}
	if (old == next) {
		b_win_end(&win, old, br);
		r = 0;
	} else {
		warnx("fork per task: task %llu failed",
		    (unsigned long long)old);
		while (++old < next)
			(void)fork_wait(ring[old % n], old);
	}
	free(ring);
	return r;
}

/* Copy 1 MiB from private memory into a segment, as often as fits. */
int
memcpy_big(const struct bparams *bp, struct bres *br)
{
	unsigned char *src, *dst;
	struct bwin win;
	uint64_t n = 0, sink = 0;

	if ((src = malloc(B_BIG)) == NULL)
		err(1, "malloc");
	if ((dst = b_shm_create(B_BIG)) == NULL) {
		free(src);
		return -1;
	}
	b_fill(src, B_BIG, 1);
	b_fill(dst, B_BIG, 2);
	b_win_start(&win, bp->bp_secs);
	do {
		src[0] = (unsigned char)n;
		memcpy(dst, src, B_BIG);
		sink += dst[n % B_BIG];
		n++;
	} while (b_win_tick(&win, n));
	b_win_end(&win, n, br);
	br->br_aux[0] = (double)sink;
	b_shm_free(dst);
	free(src);
	return 0;
}
