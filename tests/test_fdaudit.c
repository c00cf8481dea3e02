/*
 * test_fdaudit.c - every worker keeps exactly the descriptors it should:
 * 0-2 (as the master has them), its own task pipe's read end, the
 * completion pipe's write end, and what the embedder asked to keep.  No
 * sibling's pipe, no write end of any task pipe, nothing else.
 *
 * This is the fix for the seed pool's hang, asserted: a worker that held a
 * sibling's write end would keep that sibling alive at shutdown.
 */
#include "testutil.h"

#include <sys/stat.h>

#include <fcntl.h>

#include "internal.h"

static ino_t
ino_of(int fd)
{
	struct stat sb;

	assert_int_equal(fstat(fd, &sb), 0);
	return sb.st_ino;
}

/*
 * Ask every worker for its fd list and check it.  extra_keep / extra_drop:
 * a descriptor the workers must keep / must not have.
 */
static void
audit(unsigned nworkers, int extra_keep, int extra_drop)
{
	struct fb_config cfg;
	struct fb_pool *p;
	struct fb_result res;
	struct fb_fdinfo fi[64];
	struct fb_board_stat st;
	unsigned seen = 0, i, k, n;
	fb_ticket_t t;
	ino_t done_ino;
	int fds = tu_count_fds();
	int got_task, got_done, got_keep, got_life, got_mdeath;

	TU_GUARD(60);
	fb_config_init(&cfg);
	cfg.workers = nworkers;
	cfg.result_size = sizeof(fi);
	if (extra_keep != -1) {
		cfg.keep_fds = &extra_keep;
		cfg.nkeep_fds = 1;
	}
	assert_int_equal(fb_pool_create(&p, &cfg), 0);
	assert_int_equal(fb_pool_start(p), 0);
	assert_int_equal(fb_pool_stat(p, &st), 0);
	done_ino = ino_of(p->p_done[0]);

	/* Round-robin from a fresh pool: task i goes to worker i. */
	for (i = 0; i < nworkers; i++)
		assert_int_equal(fb_pool_submit(p, FB_CODE_FDLIST, NULL, 0, 0,
		    &t), 0);
	while (fb_pool_next(p, &res, fi, sizeof(fi), 10000) == 0) {
		assert_int_equal(res.r_outcome, FB_DONE);
		assert_true(res.r_worker < nworkers);
		assert_false(seen & (1u << (res.r_worker % 32)) &&
		    nworkers <= 32);
		seen |= 1u << (res.r_worker % 32);
		n = (unsigned)(res.r_len / sizeof(fi[0]));
		got_task = got_done = got_keep = got_life = got_mdeath = 0;
		for (k = 0; k < n; k++) {
			if (fi[k].fi_fd <= 2)
				continue; /* checked below */
			if (fi[k].fi_fd == extra_keep) {
				got_keep++;
				continue;
			}
			assert_true(fi[k].fi_fd != extra_drop);
			/* Only pipes, nothing else. */
			assert_true(S_ISFIFO(fi[k].fi_mode));
			if (fi[k].fi_ino == done_ino) {
				assert_int_equal(fi[k].fi_accmode, O_WRONLY);
				got_done++;
				continue;
			}
			/* Without pidfds (old kernel, valgrind) a worker also
			 * holds its own lifeline's write end. */
			if (p->p_lifeline && fi[k].fi_ino ==
			    ino_of(p->p_workers[res.r_worker].w_deathfd)) {
				assert_int_equal(fi[k].fi_accmode, O_WRONLY);
				got_life++;
				continue;
			}
			/* The read end of its master-death pipe, whose one
			 * write end the master holds. */
			if (fi[k].fi_ino ==
			    ino_of(p->p_workers[res.r_worker].w_master)) {
				assert_int_equal(fi[k].fi_accmode, O_RDONLY);
				got_mdeath++;
				continue;
			}
			assert_int_equal(fi[k].fi_ino,
			    ino_of(p->p_workers[res.r_worker].w_task[1]));
			assert_int_equal(fi[k].fi_accmode, O_RDONLY);
			got_task++;
		}
		assert_int_equal(got_task, 1);
		assert_int_equal(got_done, 1);
		assert_int_equal(got_keep, extra_keep != -1);
		assert_int_equal(got_life, p->p_lifeline);
		assert_int_equal(got_mdeath, 1);
		/* 0-2 always open: the master's, or /dev/null. */
		for (k = 0; k <= 2; k++) {
			unsigned j, has = 0;
			for (j = 0; j < n; j++)
				has |= fi[j].fi_fd == (int)k;
			assert_int_equal(has, 1);
		}
		assert_int_equal(n, 3 + 3 + (extra_keep != -1) +
		    p->p_lifeline);
	}
	if (nworkers <= 32)
		assert_int_equal(seen, nworkers == 32 ? 0xffffffffu :
		    (1u << nworkers) - 1);
	tu_pool_end(p, fds);
}

static void
test_fds_1(void **state)
{
	(void)state;
	audit(1, -1, -1);
}

static void
test_fds_3(void **state)
{
	(void)state;
	audit(3, -1, -1);
}

static void
test_fds_16(void **state)
{
	(void)state;
	audit(16, -1, -1);
}

/* An fd the embedder asks to keep survives; one it did not ask for (even
 * without O_CLOEXEC) does not. */
static void
test_fds_keep(void **state)
{
	int keep, drop;

	(void)state;
	int fd;

	/* Numbers above 2 even if the harness closed a standard fd. */
	assert_true((fd = open("/dev/null", O_RDONLY)) >= 0);
	assert_true((keep = fcntl(fd, F_DUPFD, 10)) >= 10);
	assert_true((drop = fcntl(fd, F_DUPFD, 20)) >= 20);
	close(fd);
	audit(3, keep, drop);
	close(keep);
	close(drop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_TEST(test_fds_1),
		TU_TEST(test_fds_3),
		TU_TEST(test_fds_16),
		TU_TEST(test_fds_keep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
