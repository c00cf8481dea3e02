/*
 * 16 watch a pool from outside with forkboard-top (exercise)
 *
 *   cc -std=c11 -D_GNU_SOURCE -I include solution.c \
 *       build-study/.libs/libforkboard.so -lbsd
 *   LD_LIBRARY_PATH=build-study/.libs ./a.out
 *
 * A pool runs four quick tasks, then leaves two slow ones running and
 * says where its board is.  While they run (SLOW_MS), look at it from
 * another terminal:
 *
 *   forkboard-top -m SHMID           the live view (q quits)
 *   forkboard-top --json -m SHMID    the same, for a script
 *   ipcs -m -i SHMID                 what the kernel alone knows
 *
 * The kernel knows the segment (its size, mode, who attached it); only
 * the board knows the pool: which worker runs which task, the counters,
 * the trace of every slot's moves.  forkboard-top reads both, attaching
 * the board read-only (SHM_RDONLY), so looking never disturbs the pool.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <forkboard.h>

#define NWORKERS 2
#define CODE_SLEEP 1
#define SLOW_MS 3000

/* Sleep the uint32 ms of the payload; the result is that number. */
static int
sleep_ms(struct fb_task *t, void *arg)
{
	struct timespec ts;
	uint32_t ms;

	(void)arg;
	if (t->t_len != sizeof(ms))
		return 22; /* EINVAL: not a task of ours */
	memcpy(&ms, t->t_payload, sizeof(ms));
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1)
		;
	memcpy(t->t_result, &ms, sizeof(ms));
	t->t_result_len = sizeof(ms);
	return 0;
}

static void
fail(const char *what, int r)
{
	fprintf(stderr, "%s: %s\n", what, fb_strerror(r));
	exit(1);
}

static fb_ticket_t
submit(struct fb_pool *p, uint32_t ms)
{
	fb_ticket_t t;
	int r;

	if ((r = fb_pool_submit(p, CODE_SLEEP, &ms, sizeof(ms), 0, &t)) < 0)
		fail("fb_pool_submit", r);
	return t;
}

static void
wait_one(struct fb_pool *p, fb_ticket_t t, const char *name)
{
	struct fb_result res;
	uint32_t ms;
	int r;

	if ((r = fb_pool_wait(p, t, &res, &ms, sizeof(ms), 10000)) < 0)
		fail("fb_pool_wait", r);
	printf("%s: %s, slept %u ms\n", name, fb_outcome_name(res.r_outcome),
	    (unsigned)ms);
}

int
main(void)
{
	struct fb_board_stat st;
	struct fb_counters c;
	struct fb_config cfg;
	struct fb_pool *p;
	fb_ticket_t quick[4], slow[2];
	int i, r;

	fb_config_init(&cfg);
	cfg.workers = NWORKERS;
	/*
	 * TODO 1: forkboard-top shows the tail of the pool's trace ring, if
	 * the pool has one: ask for 64 records (see trace_records in
	 * fb_config, include/forkboard.h).
	 */
	if ((r = fb_pool_create(&p, &cfg)) < 0)
		fail("fb_pool_create", r);
	if ((r = fb_pool_register(p, CODE_SLEEP, sleep_ms, NULL)) < 0 ||
	    (r = fb_pool_start(p)) < 0)
		fail("start", r);
	/*
	 * TODO 2: the board's shmid, as the kernel knows it (ipcs -m), is
	 * what forkboard-top -m takes: fill st with fb_pool_stat() (check
	 * its return value, as above).
	 */
	memset(&st, 0, sizeof(st));
	st.bs_shmid = -1;
	printf("pool: %d workers, board shmid %d, master pid %d\n", NWORKERS,
	    st.bs_shmid, (int)getpid());

	for (i = 0; i < 4; i++)
		quick[i] = submit(p, 1);
	for (i = 0; i < 4; i++)
		wait_one(p, quick[i], "quick task");
	for (i = 0; i < 2; i++)
		slow[i] = submit(p, SLOW_MS);
	/* Hand the tasks to the workers now, then say so: whoever reads
	 * this line (a person, a script) may look while they run. */
	if ((r = fb_pool_flush(p)) < 0)
		fail("fb_pool_flush", r);
	printf("2 slow tasks in flight: forkboard-top -m %d\n", st.bs_shmid);
	fflush(stdout);

	for (i = 0; i < 2; i++)
		wait_one(p, slow[i], "slow task");
	fb_pool_counters(p, &c);
	printf("counters: submitted %llu, done %llu\n",
	    (unsigned long long)c.c_submitted, (unsigned long long)c.c_done);
	if ((r = fb_pool_shutdown(p, 5000)) < 0)
		fail("fb_pool_shutdown", r);
	fb_pool_destroy(p);
	return 0;
}
