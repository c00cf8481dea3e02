/*
 * 14 the trace: a task's life as the board records it (exercise)
 *
 *   cc -std=c11 -D_GNU_SOURCE -I include -I build-study/include \
 *       solution.c build-study/.libs/libforkboard.so -lbsd
 *   LD_LIBRARY_PATH=build-study/.libs ./a.out
 *
 * With cfg.trace_records = N the board holds a ring of N records.  The
 * master and every worker append one for each move of a slot (free ->
 * queued -> running -> complete -> free) and of a worker (dead ->
 * starting -> idle -> exiting -> dead).  The program runs four tasks on
 * two workers, shuts the pool down, reads the whole ring with
 * fb_pool_trace_read() and prints it grouped by worker and by task, with
 * who wrote each record.  Then, on a ring of 8, it reads too late and
 * sees the gap in tr_seq that a wrapped ring leaves.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <forkboard.h>

#define NWORKERS 2
#define NTASKS 4
#define CODE_UPPER 1
#define BATCH 8		/* records per read: fewer than the ring holds */
#define MAXRECS 256

static const char *words[NTASKS] = { "fork", "pipe", "board", "trace" };

/* Every record read so far, and where the reading stands. */
struct reader {
	uint64_t cursor;	/* fb_pool_trace_read()'s position */
	uint64_t last;		/* tr_seq of the last record kept, 0: none */
	size_t n;
	struct fb_trace_rec rec[MAXRECS];
};

static pid_t master_pid, worker_pid[NWORKERS];

/* The handler, in a worker: the payload in capitals. */
static int
upper(struct fb_task *t, void *arg)
{
	const char *in = t->t_payload;
	char *out = t->t_result;

	(void)arg;
	if (t->t_len > t->t_result_cap)
		return EMSGSIZE;
	for (size_t i = 0; i < t->t_len; i++)
		out[i] = (char)toupper((unsigned char)in[i]);
	t->t_result_len = t->t_len;
	return 0;
}

_Noreturn static void
fail(struct fb_pool *pool, const char *what, int err)
{
	fprintf(stderr, "%s: %s\n", what, fb_strerror(err));
	fb_pool_destroy(pool);
	exit(1);
}

/*
 * TODO: read every record after rd->cursor, BATCH at a time, with
 * fb_pool_trace_read(pool, &rd->cursor, batch, BATCH), until it returns
 * 0 (nothing new) or an error.  Keep each record in rd->rec[] (at most
 * MAXRECS) and its tr_seq in rd->last.  tr_seq counts every record ever
 * appended, from 1: when a record's tr_seq is not rd->last + 1, print
 *   gap: tr_seq FIRST to LAST lost (N records)
 * (FIRST = rd->last + 1, LAST = its tr_seq - 1, N = LAST - FIRST + 1).
 * Return how many records this call read, or the negative errno.
 */
static int
read_trace(struct fb_pool *pool, struct reader *rd)
{
	struct fb_trace_rec batch[BATCH];

	(void)pool;
	(void)rd;
	(void)batch;
	return 0;
}

/* Who appended the record: the master, or which worker process. */
static const char *
who(const struct fb_trace_rec *r, char *buf, size_t len)
{
	if (r->tr_pid == master_pid)
		return "the master";
	for (unsigned i = 0; i < NWORKERS; i++)
		if (r->tr_pid == worker_pid[i]) {
			snprintf(buf, len, "worker %u", i);
			return buf;
		}
	snprintf(buf, len, "pid %d", (int)r->tr_pid);
	return buf;
}

/*
 * TODO: print one move as
 *   WHAT: FROM -> TO (CAUSE, by WHO)
 * e.g. "task 1 (slot 0, worker 0): free -> queued (submit, by the
 * master)".  tr_from and tr_to are slot states (fb_slot_state_name) in a
 * FB_TRACE_SLOT record and worker states (fb_worker_state_name) in a
 * FB_TRACE_WORKER one; fb_trace_cause_name() names the cause; who()
 * names the writer.
 */
static void
show_rec(const char *what, const struct fb_trace_rec *r)
{
	(void)what;
	(void)r;
	(void)who;
}

/* Part 1: the life of four tasks and two workers. */
static void
whole_life(void)
{
	static struct reader rd;
	struct fb_config cfg;
	struct fb_worker_info wi;
	struct fb_result res;
	struct fb_pool *pool = NULL;
	fb_ticket_t ticket;
	char buf[32], what[64];
	int r, writers[NWORKERS + 1] = { 0 };

	fb_config_init(&cfg);
	cfg.workers = NWORKERS;
	cfg.slots = 4;
	cfg.policy = FB_POLICY_ROUND_ROBIN;
	cfg.trace_records = 64;
	if ((r = fb_pool_create(&pool, &cfg)) < 0)
		fail(pool, "fb_pool_create", r);
	if ((r = fb_pool_register(pool, CODE_UPPER, upper, NULL)) < 0)
		fail(pool, "fb_pool_register", r);
	if ((r = fb_pool_start(pool)) < 0)
		fail(pool, "fb_pool_start", r);
	for (unsigned i = 0; i < NWORKERS; i++) {
		if ((r = fb_pool_worker_info(pool, i, &wi)) < 0)
			fail(pool, "fb_pool_worker_info", r);
		worker_pid[i] = wi.wi_pid;
	}

	for (int i = 0; i < NTASKS; i++) {
		if ((r = fb_pool_submit(pool, CODE_UPPER, words[i],
		    strlen(words[i]), 0, &ticket)) < 0)
			fail(pool, "fb_pool_submit", r);
		if ((r = fb_pool_wait(pool, ticket, &res, buf, sizeof(buf) - 1,
		    5000)) < 0)
			fail(pool, "fb_pool_wait", r);
		buf[res.r_len] = '\0';
		printf("task %d: \"%s\" -> %s \"%s\" (worker %u)\n", i + 1,
		    words[i], fb_outcome_name(res.r_outcome), buf,
		    res.r_worker);
	}
	/* The workers' last records (exiting, dead) come with shutdown; the
	 * board stays attached, and readable, until fb_pool_destroy(). */
	if ((r = fb_pool_shutdown(pool, 5000)) < 0)
		fail(pool, "fb_pool_shutdown", r);
	if ((r = read_trace(pool, &rd)) < 0)
		fail(pool, "fb_pool_trace_read", r);
	printf("trace: %d records read, tr_seq %" PRIu64 " to %" PRIu64
	    ", ring of %u\n", r, rd.n > 0 ? rd.rec[0].tr_seq : 0, rd.last,
	    cfg.trace_records);

	for (size_t k = 0; k < rd.n; k++) {
		if (rd.rec[k].tr_pid == master_pid)
			writers[NWORKERS]++;
		for (unsigned i = 0; i < NWORKERS; i++)
			writers[i] += rd.rec[k].tr_pid == worker_pid[i];
	}
	printf("written by the master: %d, worker 0: %d, worker 1: %d\n",
	    writers[NWORKERS], writers[0], writers[1]);

	/* A worker's records in the order of its life, not the ring's: the
	 * ring interleaves them with every other writer's, in the order each
	 * took its position. */
	for (unsigned i = 0; i < NWORKERS; i++)
		for (int from = FB_WORKER_DEAD; from <= FB_WORKER_EXITING;
		    from++)
			for (size_t k = 0; k < rd.n; k++)
				if (rd.rec[k].tr_kind == FB_TRACE_WORKER &&
				    rd.rec[k].tr_worker == i &&
				    rd.rec[k].tr_from == from) {
					snprintf(what, sizeof(what),
					    "worker %u", i);
					show_rec(what, &rd.rec[k]);
				}
	for (uint64_t t = 1; t <= NTASKS; t++) {
		int64_t first = 0, last = 0;

		for (size_t k = 0; k < rd.n; k++) {
			const struct fb_trace_rec *rec = &rd.rec[k];

			if (rec->tr_kind != FB_TRACE_SLOT || rec->tr_task != t)
				continue;
			if (first == 0)
				first = rec->tr_ns;
			last = rec->tr_ns;
			snprintf(what, sizeof(what), "task %" PRIu64 " (slot "
			    "%" PRIu32 ", worker %" PRIu32 ")", t,
			    rec->tr_slot, rec->tr_worker);
			show_rec(what, rec);
		}
		printf("task %" PRIu64 ": %" PRId64 " us from submit to take\n",
		    t, (last - first) / 1000);
	}
	fb_pool_destroy(pool);
}

/* Part 2: a ring of 8, read once early and once too late. */
static void
wrapped(void)
{
	static struct reader rd;
	struct fb_config cfg;
	struct fb_result res;
	struct fb_pool *pool = NULL;
	fb_ticket_t ticket;
	char buf[32];
	int r;

	fb_config_init(&cfg);
	cfg.workers = 1;
	cfg.slots = 2;
	cfg.trace_records = 8;
	if ((r = fb_pool_create(&pool, &cfg)) < 0)
		fail(pool, "fb_pool_create", r);
	if ((r = fb_pool_register(pool, CODE_UPPER, upper, NULL)) < 0)
		fail(pool, "fb_pool_register", r);
	if ((r = fb_pool_start(pool)) < 0)
		fail(pool, "fb_pool_start", r);
	for (int i = 0; i < NTASKS; i++) {
		if ((r = fb_pool_submit(pool, CODE_UPPER, words[i],
		    strlen(words[i]), 0, &ticket)) < 0 ||
		    (r = fb_pool_wait(pool, ticket, &res, buf, sizeof(buf),
		    5000)) < 0)
			fail(pool, "task", r);
		if (i == 0 || i == NTASKS - 1) {
			if ((r = read_trace(pool, &rd)) < 0)
				fail(pool, "fb_pool_trace_read", r);
			printf("ring of %u, after task %d: %d records read, "
			    "up to tr_seq %" PRIu64 "\n", cfg.trace_records,
			    i + 1, r, rd.last);
		}
	}
	fb_pool_destroy(pool);
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	master_pid = getpid();
	whole_life();
	wrapped();
	return 0;
}
