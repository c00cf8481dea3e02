/*
 * fixture.c - something live for the forkboard-top tests to inspect.
 *
 *   fixture [-w WORKERS] [-k KEY | -f PATH] [-t TRACE]  a pool
 *   fixture -V VERSION                   a segment with the forkboard
 *                                        magic and another layout version
 *   fixture -N                           a segment that is not a board
 *
 * The pool runs 5 echo tasks to the end and one task of a code nobody
 * handles, then leaves 2 tasks blocked in their handlers (in flight), and
 * prints one line with what the inspector must find:
 *
 *   ready shmid=N key=0x... master=PID workers=P1,P2,... submitted=8
 *   done=5 nohandler=1 inflight=2
 *
 * (a segment fixture prints "ready shmid=N").  It then waits for SIGTERM
 * or SIGINT, stops the pool (or removes its segment) and exits 0.
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define C_ECHO 1
#define C_BLOCK 2
#define C_NONE 99

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
h_echo(struct fb_task *t, void *arg)
{
	(void)arg;
	memcpy(t->t_result, t->t_payload, t->t_len);
	t->t_result_len = t->t_len;
	return 0;
}

/* Blocks until the worker is stopped (fb_pool_destroy kills it). */
static int
h_block(struct fb_task *t, void *arg)
{
	(void)t;
	(void)arg;
	for (;;)
		pause();
	return 0;
}

static void
die(const char *what, int r)
{
	fprintf(stderr, "fixture: %s: %s\n", what, strerror(-r));
	exit(1);
}

static void
wait_stop(void)
{
	while (!stop)
		pause();
}

/* A segment forkboard-top must refuse: version v != 0 keeps the magic. */
static int
segment(uint32_t version)
{
	struct fb__board_hdr h;
	void *base;
	int id;

	if ((id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600)) == -1)
		die("shmget", -errno);
	if ((base = shmat(id, NULL, 0)) == (void *)-1) {
		(void)shmctl(id, IPC_RMID, NULL);
		die("shmat", -errno);
	}
	memset(&h, 0, sizeof(h));
	h.bh_magic = version != 0 ? FB__MAGIC : 0x12345678u;
	h.bh_version = version;
	memcpy(base, &h, sizeof(h));
	(void)shmdt(base);
	printf("ready shmid=%d\n", id);
	fflush(stdout);
	wait_stop();
	(void)shmctl(id, IPC_RMID, NULL);
	return 0;
}

static int
pool(struct fb_config *cfg)
{
	struct fb_worker_info wi;
	struct fb_board_stat st;
	struct fb_counters c;
	struct fb_result res;
	struct fb_pool *p;
	fb_ticket_t t, blocked[2];
	char out[8];
	unsigned i;
	int r;

	if ((r = fb_pool_create(&p, cfg)) < 0)
		die("fb_pool_create", r);
	if ((r = fb_pool_register(p, C_ECHO, h_echo, NULL)) < 0 ||
	    (r = fb_pool_register(p, C_BLOCK, h_block, NULL)) < 0 ||
	    (r = fb_pool_start(p)) < 0)
		die("start", r);
	for (i = 0; i < 6; i++) {
		if ((r = fb_pool_submit(p, i == 5 ? C_NONE : C_ECHO, "hi", 2,
		    0, &t)) < 0 ||
		    (r = fb_pool_wait(p, t, &res, out, sizeof(out), 10000)) < 0)
			die("task", r);
	}
	for (i = 0; i < 2; i++)
		if ((r = fb_pool_submit(p, C_BLOCK, NULL, 0, 0,
		    &blocked[i])) < 0)
			die("submit", r);
	/* Once through the loop, so the board shows both sent. */
	if ((r = fb_pool_flush(p)) < 0 || (r = fb_pool_stat(p, &st)) < 0)
		die("flush", r);
	fb_pool_counters(p, &c);
	printf("ready shmid=%d key=0x%08x master=%d workers=", st.bs_shmid,
	    (unsigned)st.bs_key, (int)getpid());
	for (i = 0; i < cfg->workers; i++) {
		/* Each has finished a task or will soon be ready: wait. */
		while (fb_pool_worker_info(p, i, &wi) == 0 &&
		    wi.wi_state < FB_WORKER_IDLE)
			(void)fb_pool_wait(p, blocked[0], &res, out,
			    sizeof(out), 10);
		printf("%s%d", i ? "," : "", (int)wi.wi_pid);
	}
	printf(" submitted=%llu done=%llu nohandler=%llu inflight=%u\n",
	    (unsigned long long)c.c_submitted, (unsigned long long)c.c_done,
	    (unsigned long long)c.c_nohandler, fb_pool_inflight(p));
	fflush(stdout);
	/* Sleep in the pool's loop (which keeps the board current). */
	while (!stop) {
		r = fb_pool_wait(p, blocked[0], &res, out, sizeof(out), 200);
		if (r != -ETIMEDOUT && r != -EINTR)
			die("wait", r);
	}
	fb_pool_destroy(p);
	return 0;
}

int
main(int argc, char **argv)
{
	struct fb_config cfg;
	struct sigaction sa;
	int c;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	fb_config_init(&cfg);
	cfg.workers = 3;
	cfg.slots = 8;
	cfg.trace_records = 256;
	while ((c = getopt(argc, argv, "w:k:f:t:V:N")) != -1) {
		switch (c) {
		case 'w':
			cfg.workers = (unsigned)atoi(optarg);
			break;
		case 'k':
			cfg.key_mode = FB_BOARD_KEY;
			cfg.key = (key_t)strtoul(optarg, NULL, 0);
			break;
		case 'f':
			cfg.key_mode = FB_BOARD_FTOK;
			cfg.ftok_path = optarg;
			break;
		case 't':
			cfg.trace_records = (unsigned)atoi(optarg);
			break;
		case 'V':
			return segment((uint32_t)atoi(optarg));
		case 'N':
			return segment(0);
		default:
			fprintf(stderr, "usage: fixture [-w N] [-k KEY | -f "
			    "PATH] [-t TRACE] | -V VERSION | -N\n");
			return 2;
		}
	}
	return pool(&cfg);
}
