/*
 * abi_1_0.c - a program written and compiled against the frozen 1.0
 * header (tests/abi/forkboard.h), run on the library being built.  If a
 * later change breaks the 1.0 ABI (a field moved, a size grown without
 * the size-taking calls, a symbol gone), this program fails: it checks
 * every output structure, what each call returns and that the library
 * wrote no byte past what a 1.0 caller allocated.
 *
 * Prints "abi 1.0: ok" and exits 0, or says what broke and exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forkboard.h"

#define CHECK(e) do {							\
	if (!(e)) {							\
		fprintf(stderr, "abi 1.0: %s:%d: %s\n", __FILE__,	\
		    __LINE__, #e);					\
		exit(1);						\
	}								\
} while (0)

/* Each output structure followed by a canary the library must not touch. */
#define GUARDED(type, name) \
	struct { type v; unsigned char canary[64]; } name

static int
upper(struct fb_task *t, void *arg)
{
	const char *in = t->t_payload;
	char *out = t->t_result;
	size_t i;

	(void)arg;
	for (i = 0; i < t->t_len; i++)
		out[i] = (char)(in[i] >= 'a' && in[i] <= 'z' ? in[i] - 32 :
		    in[i]);
	t->t_result_len = t->t_len;
	return t->t_udata == 13 ? 13 : 0;
}

static int called;

static void
on_done(void *arg, const struct fb_result *res, const void *data)
{
	(void)arg;
	CHECK(res->r_filled >= sizeof(*res));
	CHECK(res->r_udata == 7 && res->r_len == 3);
	CHECK(memcmp(data, "XYZ", 3) == 0);
	called++;
}

static int
canary_intact(const unsigned char *c)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (c[i] != 0x5a)
			return 0;
	return 1;
}

int
main(void)
{
	GUARDED(struct fb_config, cfg);
	GUARDED(struct fb_result, res);
	GUARDED(struct fb_worker_info, wi);
	GUARDED(struct fb_board_stat, st);
	GUARDED(struct fb_counters, c);
	GUARDED(struct fb_slot_info, si);
	struct fb_job job;
	struct fb_pool *p;
	fb_ticket_t t;
	char out[16];
	int i;

	CHECK(FB_VERSION_MAJOR == 1);
	CHECK((fb_version_number() >> 16) == 1); /* same major: compatible */
	memset(&cfg, 0x5a, sizeof(cfg));
	fb_config_init(&cfg.v);
	CHECK(canary_intact(cfg.canary));
	cfg.v.workers = 2;
	cfg.v.slots = 8;
	CHECK(fb_pool_create(&p, &cfg.v) == 0);
	CHECK(fb_pool_register(p, 1, upper, NULL) == 0);
	CHECK(fb_pool_start(p) == 0);

	memset(&job, 0, sizeof(job));
	job.j_code = 1;
	job.j_payload = "abc";
	job.j_len = 3;
	job.j_udata = 42;
	CHECK(fb_pool_submit_job(p, &job, 0, &t) == 0);
	memset(&res, 0x5a, sizeof(res));
	CHECK(fb_pool_wait(p, t, &res.v, out, sizeof(out), 10000) == 0);
	CHECK(canary_intact(res.canary));
	CHECK(res.v.r_filled == sizeof(res.v));
	CHECK(res.v.r_outcome == FB_DONE && res.v.r_udata == 42);
	CHECK(res.v.r_len == 3 && memcmp(out, "ABC", 3) == 0);
	CHECK(res.v.r_attempts == 1 && res.v.r_ticket == t);
	CHECK(res.v.r_started_ns <= res.v.r_ended_ns);

	job.j_udata = 13; /* the handler fails with 13 */
	CHECK(fb_pool_submit_job(p, &job, 0, &t) == 0);
	CHECK(fb_pool_wait(p, t, &res.v, out, sizeof(out), 10000) == 0);
	CHECK(res.v.r_outcome == FB_FAILED && res.v.r_status == 13);

	for (i = 0; i < 2; i++) {
		memset(&wi, 0x5a, sizeof(wi));
		CHECK(fb_pool_worker_info(p, (unsigned)i, &wi.v) == 0);
		CHECK(canary_intact(wi.canary));
		CHECK(wi.v.wi_filled == sizeof(wi.v) && wi.v.wi_pid > 0);
	}
	memset(&st, 0x5a, sizeof(st));
	CHECK(fb_pool_stat(p, &st.v) == 0);
	CHECK(canary_intact(st.canary) && st.v.bs_slots == 8);
	memset(&si, 0x5a, sizeof(si));
	CHECK(fb_pool_slot_info(p, 0, &si.v) == 0);
	CHECK(canary_intact(si.canary) && si.v.si_filled == sizeof(si.v));

	/* The callback style. */
	CHECK(fb_pool_set_callback(p, on_done, NULL) == 0);
	job.j_payload = "xyz";
	job.j_udata = 7;
	CHECK(fb_pool_submit_job(p, &job, 0, &t) == 0);
	while (called == 0)
		CHECK(fb_pool_process(p) >= 0);

	memset(&c, 0x5a, sizeof(c));
	fb_pool_counters(p, &c.v);
	CHECK(canary_intact(c.canary));
	CHECK(c.v.c_submitted == 3 && c.v.c_done == 2 && c.v.c_failed == 1);
	CHECK(fb_pool_shutdown(p, 5000) == 0);
	fb_pool_destroy(p);
	CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
	puts("abi 1.0: ok");
	return 0;
}
