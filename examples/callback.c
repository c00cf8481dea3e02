/*
 * callback.c - forkboard from an event loop: the pool's descriptor in
 * poll(2), a completion callback, and udata that points back at the
 * caller's own objects (no ticket table).  The ticket style is in
 * README.md and examples/demo.c.
 *
 *   fb-callback          hashes 16 words in 2 workers, prints each result
 *                        as it arrives, then a summary line
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <forkboard.h>

#define C_HASH 1

/* The caller's object for one piece of work. */
struct word {
	const char *w_text;
	uint32_t w_hash;     /* filled in by the callback */
	int w_done;
};

/* In a worker: FNV-1a of the payload. */
static int
hash(struct fb_task *t, void *arg)
{
	const unsigned char *p = t->t_payload;
	uint32_t h = 2166136261u;
	size_t i;

	(void)arg;
	for (i = 0; i < t->t_len; i++)
		h = (h ^ p[i]) * 16777619u;
	memcpy(t->t_result, &h, sizeof(h));
	t->t_result_len = sizeof(h);
	return 0;
}

struct loop {
	struct fb_pool *l_pool;
	unsigned l_left;
	unsigned l_failed;
};

/* In the master, from fb_pool_process(): the result and its data are
 * valid until this returns. */
static void
on_done(void *arg, const struct fb_result *res, const void *data)
{
	struct loop *l = arg;
	struct word *w = (struct word *)(uintptr_t)res->r_udata;

	l->l_left--;
	if (res->r_outcome != FB_DONE || res->r_len != sizeof(w->w_hash)) {
		l->l_failed++;
		printf("%-10s %s\n", w->w_text, fb_outcome_name(res->r_outcome));
		return;
	}
	memcpy(&w->w_hash, data, sizeof(w->w_hash));
	w->w_done = 1;
	printf("%-10s %08x  worker %u, %.1f us\n", w->w_text, w->w_hash,
	    res->r_worker, (double)res->r_run_ns / 1000.0);
}

int
main(void)
{
	static const char *const texts[] = { "fork", "exec", "pipe", "fifo",
		"shmget", "shmat", "shmdt", "shmctl", "ftok", "ipcs", "ipcrm",
		"waitpid", "pidfd", "epoll", "board", "slot" };
	struct word words[sizeof(texts) / sizeof(texts[0])];
	struct fb_config cfg;
	struct fb_job job;
	struct pollfd pfd;
	struct loop l;
	fb_ticket_t t;
	size_t i;
	int r;

	memset(&l, 0, sizeof(l));
	fb_config_init(&cfg);
	cfg.workers = 2;
	if ((r = fb_pool_create(&l.l_pool, &cfg)) < 0 ||
	    (r = fb_pool_register(l.l_pool, C_HASH, hash, NULL)) < 0 ||
	    (r = fb_pool_set_callback(l.l_pool, on_done, &l)) < 0 ||
	    (r = fb_pool_start(l.l_pool)) < 0)
		goto fail;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		words[i].w_text = texts[i];
		words[i].w_done = 0;
		memset(&job, 0, sizeof(job));
		job.j_code = C_HASH;
		job.j_payload = texts[i];
		job.j_len = strlen(texts[i]);
		job.j_udata = (uint64_t)(uintptr_t)&words[i];
		/* FB_DEFER: one write per worker for the whole loop turn. */
		if ((r = fb_pool_submit_job(l.l_pool, &job, FB_DEFER, &t)) < 0)
			goto fail;
		l.l_left++;
	}
	if ((r = fb_pool_flush(l.l_pool)) < 0)
		goto fail;
	/* The event loop: here poll(2), in real life libevent or epoll. */
	pfd.fd = fb_pool_fd(l.l_pool);
	pfd.events = POLLIN;
	while (l.l_left > 0) {
		if (poll(&pfd, 1, 10000) <= 0) {
			r = -ETIMEDOUT;
			goto fail;
		}
		if ((r = fb_pool_process(l.l_pool)) < 0)
			goto fail;
	}
	printf("%zu words hashed, %u failed\n", sizeof(words) /
	    sizeof(words[0]), l.l_failed);
	(void)fb_pool_shutdown(l.l_pool, 5000);
	fb_pool_destroy(l.l_pool);
	return l.l_failed != 0;

fail:
	fprintf(stderr, "fb-callback: %s\n", fb_strerror(r));
	fb_pool_destroy(l.l_pool);
	return 1;
}
