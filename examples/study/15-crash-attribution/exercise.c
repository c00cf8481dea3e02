/*
 * 15 crash attribution: a worker dies, who is told what (exercise)
 *
 *   cc -std=c11 -D_GNU_SOURCE -I include -I build-study/include \
 *       solution.c build-study/.libs/libforkboard.so -lbsd
 *   LD_LIBRARY_PATH=build-study/.libs ./a.out
 *
 * The seed's pool (004 section 4.2) never asks what happens when a child
 * dies.  Here faults are injected on purpose (cfg.fault, see FAULTS in
 * forkboard.h): a worker abort()s when it claims a task of code 2, hangs
 * on code 3 (until the task's timeout has it killed), and worker 1
 * _exit()s on code 4.  For each task the program prints what the master
 * attributed to it: the outcome, the worker and its pid, how it died, the
 * attempts; then the replacement worker (new pid, generation, restarts),
 * the tasks queued behind the dead one (not lost), the pool's counters,
 * and two facts about reaping: the pool never takes the application's
 * own child, and an application that calls waitpid(-1) takes the pool's.
 */
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <forkboard.h>

#define NWORKERS 2
#define CODE_UPPER 1
#define CODE_CRASH 2
#define CODE_HANG 3
#define CODE_EXIT 4
#define TIMEOUT_MS 300
#define MAXJOBS 4

/*
 * TODO: the fault spec (FAULTS in forkboard.h), three rules separated by
 * ';': abort() when a worker claims a task of code 2 (CODE_CRASH); hang
 * when it claims one of code 3 (CODE_HANG); _exit(3) when worker 1 claims
 * one of code 4 (CODE_EXIT).  An empty spec injects nothing.
 */
static const char fault_spec[] = "";

struct plan {
	uint32_t code;
	const char *payload;
	unsigned timeout_ms;
	int retries;
};

/* The handler, in a worker: the payload in capitals.  The fault rules
 * act before it runs, in the worker process, as a crashing handler
 * would. */
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
 * TODO: a wait status in words, written into buf (len bytes), returned:
 *   -1 (the library's "unknown")  "status unknown (someone else reaped it)"
 *   killed by a signal            "killed by SIGABRT" (sigabbrev_np()),
 *                                 plus " (core dumped)" if WCOREDUMP
 *   exited                        "exited with status 3"
 */
static const char *
describe(int st, char *buf, size_t len)
{
	(void)st;
	snprintf(buf, len, "?");
	return buf;
}

/* Submit the jobs, then send them all at once (FB_DEFER, flush): each
 * worker gets its records in one write, so what a dying worker leaves in
 * its pipe is the same every run. */
static void
submit_all(struct fb_pool *pool, const struct plan *p, int n,
    fb_ticket_t *tickets)
{
	int r;

	for (int i = 0; i < n; i++) {
		struct fb_job job = { 0 };

		job.j_code = p[i].code;
		job.j_payload = p[i].payload;
		job.j_len = strlen(p[i].payload);
		job.j_timeout_ms = p[i].timeout_ms;
		job.j_retries = p[i].retries;
		if ((r = fb_pool_submit_job(pool, &job, FB_DEFER,
		    &tickets[i])) < 0)
			fail(pool, "fb_pool_submit_job", r);
	}
	if ((r = fb_pool_flush(pool)) < 0)
		fail(pool, "fb_pool_flush", r);
}

/* Wait for one task and print what the master attributes to it. */
static void
report(struct fb_pool *pool, int no, const struct plan *p, fb_ticket_t t)
{
	struct fb_result res;
	char buf[64], why[64];
	int r;

	if ((r = fb_pool_wait(pool, t, &res, buf, sizeof(buf) - 1, 5000)) < 0)
		fail(pool, "fb_pool_wait", r);
	buf[res.r_len] = '\0';
	printf("task %d (code %u, \"%s\"): %s", no, (unsigned)p->code,
	    p->payload, fb_outcome_name(res.r_outcome));
	switch (res.r_outcome) {
	case FB_DONE:
		printf(" \"%s\" by worker %u, attempts %u\n", buf,
		    res.r_worker, res.r_attempts);
		break;
	case FB_CRASHED:
	case FB_TIMEDOUT:
		/*
		 * TODO: the attribution, as
		 *   ": worker 1 (pid 1234) killed by SIGABRT, attempts 1"
		 * from res.r_worker, res.r_pid, describe(res.r_wait_status)
		 * and res.r_attempts; a timed-out task adds
		 *   ", ran 300 ms or more: yes"
		 * (res.r_run_ns against TIMEOUT_MS).  Then the newline.
		 */
		(void)why;
		printf("\n");
		break;
	default:
		printf(" (status %d)\n", res.r_status);
	}
}

/* Let the pool run until every worker is idle again (a dead one has been
 * replaced and its successor is ready), for at most 5 s. */
static void
await_idle(struct fb_pool *pool)
{
	struct fb_worker_info wi;
	int idle = 0, r;

	for (int tries = 0; tries < 500 && idle < NWORKERS; tries++) {
		if ((r = fb_pool_process(pool)) < 0)
			fail(pool, "fb_pool_process", r);
		idle = 0;
		for (unsigned i = 0; i < NWORKERS; i++)
			idle += fb_pool_worker_info(pool, i, &wi) == 0 &&
			    wi.wi_state == FB_WORKER_IDLE;
		if (idle < NWORKERS)
			nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	if (idle < NWORKERS)
		printf("workers not all idle after 5 s\n");
}

/* Worker i's row: which process holds it now, and how the last one
 * ended. */
static void
show_worker(struct fb_pool *pool, unsigned i)
{
	struct fb_worker_info wi;
	char why[64];
	int r;

	if ((r = fb_pool_worker_info(pool, i, &wi)) < 0)
		fail(pool, "fb_pool_worker_info", r);
	printf("worker %u: %s, pid %d, generation %u, restarts %u, "
	    "previous process %s\n", i, fb_worker_state_name(wi.wi_state),
	    (int)wi.wi_pid, (unsigned)wi.wi_generation, wi.wi_restarts,
	    wi.wi_last_status == -1 && wi.wi_restarts == 0 ? "none" :
	    describe(wi.wi_last_status, why, sizeof(why)));
}

/* One phase: submit, report every task in order, let the pool heal. */
static void
phase(struct fb_pool *pool, const char *title, const struct plan *p, int n,
    int *no)
{
	fb_ticket_t tickets[MAXJOBS];

	printf("-- %s\n", title);
	submit_all(pool, p, n, tickets);
	for (int i = 0; i < n; i++)
		report(pool, ++*no, &p[i], tickets[i]);
	await_idle(pool);
	for (unsigned i = 0; i < NWORKERS; i++)
		show_worker(pool, i);
}

/* How many pidfds this process holds: the master's way to learn that a
 * worker died, without SIGCHLD and without waitpid(-1). */
static int
count_pidfds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char link[64];
	ssize_t len;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if ((len = readlinkat(dirfd(d), e->d_name, link,
		    sizeof(link) - 1)) <= 0)
			continue;
		link[len] = '\0';
		n += strcmp(link, "anon_inode:[pidfd]") == 0;
	}
	closedir(d);
	return n;
}

int
main(void)
{
	static const struct plan crash[] = {
		{ CODE_UPPER, "alpha", 0, 0 }, { CODE_CRASH, "poison", 0, 0 },
		{ CODE_UPPER, "gamma", 0, 0 }, { CODE_UPPER, "delta", 0, 0 },
	}, hang[] = {
		{ CODE_HANG, "sleeper", TIMEOUT_MS, 0 },
		{ CODE_UPPER, "echo", 0, 0 }, { CODE_UPPER, "foxtrot", 0, 0 },
	}, retry[] = {
		{ CODE_EXIT, "quitter", 0, 1 },
	}, stolen[] = {
		{ CODE_CRASH, "poison", 0, 0 },
	};
	struct rlimit nocore = { 0, 0 };
	struct fb_config cfg;
	struct fb_counters c;
	struct fb_pool *pool = NULL;
	fb_ticket_t ticket;
	pid_t mine, pid;
	char why[64];
	int r, st, no = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* abort() would leave a core file in the current directory. */
	if (setrlimit(RLIMIT_CORE, &nocore) == -1)
		perror("setrlimit(RLIMIT_CORE)");

	/* A child of the application's own, dead before the pool starts:
	 * its status is ours to collect, whatever the pool does. */
	switch (mine = fork()) {
	case -1:
		perror("fork");
		return 1;
	case 0:
		_exit(7);
	}

	fb_config_init(&cfg);
	cfg.workers = NWORKERS;
	cfg.slots = 8;
	cfg.policy = FB_POLICY_ROUND_ROBIN;
	cfg.kill_grace_ms = 200;
	cfg.fault = fault_spec;
	if ((r = fb_pool_create(&pool, &cfg)) < 0)
		fail(pool, "fb_pool_create", r);
	for (uint32_t code = CODE_UPPER; code <= CODE_EXIT; code++)
		if ((r = fb_pool_register(pool, code, upper, NULL)) < 0)
			fail(pool, "fb_pool_register", r);
	if ((r = fb_pool_start(pool)) < 0)
		fail(pool, "fb_pool_start", r);
	printf("pool: %u workers, round robin, faults \"%s\"\n",
	    fb_pool_workers(pool), fault_spec);

	phase(pool, "a crash (abort) on task 2, no retries", crash, 4, &no);
	phase(pool, "a hang on task 5, timeout 300 ms", hang, 3, &no);
	phase(pool, "worker 1 exits on task 8, one retry", retry, 1, &no);

	if ((r = count_pidfds()) == NWORKERS)
		printf("master: %d pidfds open, one per worker\n", r);
	else if (r >= 0)	/* see fb_pool_fd() in forkboard.h */
		printf("master: %d pidfds open, not one per worker: no pidfds "
		    "here (Linux < 5.3, valgrind), deaths are polled for\n", r);
	while ((pid = waitpid(mine, &st, 0)) == -1 && errno == EINTR)
		;
	if (pid == mine)
		printf("my own child: %s: the pool reaped only its workers\n",
		    describe(st, why, sizeof(why)));
	else
		printf("my own child: waitpid: %s: someone reaped it\n",
		    strerrorname_np(errno));

	/* The other way round: an application that reaps with waitpid(-1)
	 * takes a worker's status before the pool can. */
	printf("-- waitpid(-1) in the application while task 9 crashes\n");
	submit_all(pool, stolen, 1, &ticket);
	pid = 0;
	for (int tries = 0; tries < 300 && pid == 0; tries++) {
		pid = waitpid(-1, &st, WNOHANG);
		if (pid == 0)
			nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	if (pid > 0)
		printf("waitpid(-1) took pid %d, %s: the pool's worker\n",
		    (int)pid, describe(st, why, sizeof(why)));
	else
		printf("waitpid(-1): no child ended within 3 s\n");
	report(pool, ++no, &stolen[0], ticket);
	await_idle(pool);

	fb_pool_counters(pool, &c);
	printf("counters: submitted %llu, done %llu, crashed %llu, timed out "
	    "%llu, retried %llu, respawns %llu\n",
	    (unsigned long long)c.c_submitted, (unsigned long long)c.c_done,
	    (unsigned long long)c.c_crashed, (unsigned long long)c.c_timedout,
	    (unsigned long long)c.c_retried, (unsigned long long)c.c_respawns);
	r = fb_pool_shutdown(pool, 5000);
	printf("fb_pool_shutdown: %s\n", r == 0 ? "every worker exited" :
	    fb_strerror(r));
	fb_pool_destroy(pool);
	return 0;
}
