/*
 * test_board.c - the System V task board (src/board.c): layout arithmetic,
 * private, keyed and ftok boards, permission bits, stale-board reclaim.
 *
 * Every test runs between setup() and teardown().  teardown() removes any
 * segment a failed test may have left (by key, and by detaching boards the
 * fixture holds), kills and reaps any child, and then fails the test if a
 * descriptor, a child or a segment of ours was left behind.
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "internal.h"

#define NBOARDS 3
#define NKEYS 4
#define NKIDS 4

struct fixture {
	int fx_fds;                     /* descriptors open at setup */
	struct fb__board fx_b[NBOARDS]; /* detached at teardown */
	key_t fx_keys[NKEYS];           /* segments removed at teardown */
	int fx_nkeys;
	pid_t fx_kids[NKIDS];           /* every child forked by the test */
	int fx_live[NKIDS];             /* not reaped yet */
	int fx_nkids;
	char fx_path[64];               /* unlinked at teardown */
};

/* A key no other test program is likely to use: "FB", a per-test tag and
 * our pid. */
static key_t
test_key(unsigned tag)
{
	unsigned pid = (unsigned)getpid() & 0xffffu;

	return (key_t)(((0x4642u + tag) << 16) | pid);
}

/*
 * Count the segments whose creator is this process or one of the children
 * in fx (dead or alive: a segment outlives its creator), from
 * /proc/sysvipc/shm, which also lists removed segments still attached.
 * With rm, remove them too (teardown: a private segment that escaped its
 * IPC_RMID has no key to find it by).
 */
static int
our_segments(const struct fixture *fx, int rm)
{
	FILE *f;
	char line[512];
	long key, id, perms, size, cpid;
	int i, mine, n = 0;

	if ((f = fopen("/proc/sysvipc/shm", "r")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) == NULL) {	/* header */
		(void)fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%ld %ld %lo %ld %ld", &key, &id, &perms,
		    &size, &cpid) != 5)
			continue;
		mine = cpid == (long)getpid();
		for (i = 0; i < fx->fx_nkids; i++)
			if (cpid == (long)fx->fx_kids[i])
				mine = 1;
		if (!mine)
			continue;
		n++;
		if (rm) {
			fprintf(stderr, "teardown: removing segment %ld "
			    "(key %#lx)\n", id, key);
			(void)shmctl((int)id, IPC_RMID, NULL);
		}
	}
	(void)fclose(f);
	return n;
}

/* Remember a key only once we know no segment has it: teardown must never
 * remove somebody else's segment. */
static void
own_key(struct fixture *fx, key_t key)
{
	errno = 0;
	assert_int_equal(shmget(key, 0, 0), -1);
	assert_int_equal(errno, ENOENT);
	assert_true(fx->fx_nkeys < NKEYS);
	fx->fx_keys[fx->fx_nkeys++] = key;
}

/* A config for a keyed board on key, which the test owns. */
static void
keyed_config(struct fixture *fx, struct fb_config *cfg, key_t key)
{
	own_key(fx, key);
	fb_config_init(cfg);
	cfg->key_mode = FB_BOARD_KEY;
	cfg->key = key;
}

static pid_t
own_fork(struct fixture *fx)
{
	pid_t pid;

	assert_true(fx->fx_nkids < NKIDS);
	pid = fork();
	assert_true(pid != -1);
	if (pid > 0) {
		fx->fx_kids[fx->fx_nkids] = pid;
		fx->fx_live[fx->fx_nkids++] = 1;
	}
	return pid;
}

/* Reap a child of the fixture and return its wait status. */
static int
reap(struct fixture *fx, pid_t pid)
{
	int i, st;

	while (waitpid(pid, &st, 0) == -1)
		assert_int_equal(errno, EINTR);
	for (i = 0; i < fx->fx_nkids; i++)
		if (fx->fx_kids[i] == pid)
			fx->fx_live[i] = 0;
	return st;
}

static int
setup(void **state)
{
	struct fixture *fx;
	int i;

	if ((fx = calloc(1, sizeof(*fx))) == NULL)
		return -1;
	for (i = 0; i < NBOARDS; i++)
		fx->fx_b[i].b_shmid = -1;
	fx->fx_fds = tu_count_fds();
	*state = fx;
	return fx->fx_fds < 0 ? -1 : 0;
}

/*
 * Undo whatever a failed test left, then fail the test (as an error) if
 * there was anything to undo that the test itself should have cleaned.
 */
static int
teardown(void **state)
{
	struct fixture *fx = *state;
	int i, id, bad = 0;

	for (i = 0; i < NBOARDS; i++)
		fb__board_close(&fx->fx_b[i], 1);
	for (i = 0; i < fx->fx_nkids; i++) {
		if (!fx->fx_live[i])
			continue;
		fprintf(stderr, "teardown: killing child %ld\n",
		    (long)fx->fx_kids[i]);
		(void)kill(fx->fx_kids[i], SIGKILL);
		(void)waitpid(fx->fx_kids[i], NULL, 0);
		bad = 1;
	}
	for (i = 0; i < fx->fx_nkeys; i++) {
		if ((id = shmget(fx->fx_keys[i], 0, 0)) == -1)
			continue;
		fprintf(stderr, "teardown: removing segment key %#x\n",
		    (unsigned)fx->fx_keys[i]);
		(void)shmctl(id, IPC_RMID, NULL);
		bad = 1;
	}
	if (fx->fx_path[0] != '\0')
		(void)unlink(fx->fx_path);
	errno = 0;
	if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD) {
		fprintf(stderr, "teardown: a child is left\n");
		bad = 1;
	}
	if (our_segments(fx, 1) != 0)
		bad = 1;
	if (tu_count_fds() != fx->fx_fds) {
		fprintf(stderr, "teardown: %d descriptors, %d at setup\n",
		    tu_count_fds(), fx->fx_fds);
		bad = 1;
	}
	free(fx);
	*state = NULL;
	return bad ? -1 : 0;
}

/* The end of every test: nothing left that teardown would have to clean
 * (teardown would fail the test anyway; asserting here names the line). */
static void
assert_clean(const struct fixture *fx)
{
	int i;

	assert_int_equal(tu_count_fds(), fx->fx_fds);
	for (i = 0; i < fx->fx_nkids; i++)
		assert_false(fx->fx_live[i]);
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	assert_int_equal(our_segments(fx, 0), 0);
}

/* ---- layout -------------------------------------------------------------- */

static void
check_layout(uint32_t workers, uint32_t slots, size_t slot_size,
    size_t result_size)
{
	struct fb__geometry g = { workers, slots, slot_size, result_size, 0 };
	struct fb__board_hdr h;
	size_t size, stride, want;

	memset(&h, 0xa5, sizeof(h));
	size = fb__board_layout(&g, &h);
	assert_true(size > 0);

	stride = FB__ALIGN(slot_size, 64) + FB__ALIGN(result_size, 64);
	if (stride == 0)
		stride = 64;
	assert_true(h.bh_stride >= FB__ALIGN(slot_size, 64) +
	    FB__ALIGN(result_size, 64));
	assert_int_equal(h.bh_stride, stride);
	assert_int_equal(h.bh_stride % 64, 0);

	assert_int_equal(h.bh_workers_off % 64, 0);
	assert_int_equal(h.bh_slots_off % 64, 0);
	assert_int_equal(h.bh_data_off % 64, 0);
	assert_true(h.bh_workers_off >= sizeof(struct fb__board_hdr));
	assert_int_equal(h.bh_slots_off,
	    h.bh_workers_off + (uint64_t)workers * 64);
	assert_int_equal(h.bh_data_off,
	    h.bh_slots_off + (uint64_t)slots * 64);

	want = h.bh_workers_off + (size_t)workers * 64 + (size_t)slots * 64 +
	    (size_t)slots * h.bh_stride;
	assert_int_equal(size, want);
	assert_int_equal(h.bh_size, size);

	assert_int_equal(h.bh_magic, FB__MAGIC);
	assert_int_equal(h.bh_version, FB__BOARD_VERSION);
	assert_int_equal(h.bh_max_workers, workers);
	assert_int_equal(h.bh_slots, slots);
	assert_int_equal(h.bh_slot_size, slot_size);
	assert_int_equal(h.bh_result_size, result_size);
	/* Fields the layout does not own start zeroed. */
	assert_int_equal(h.bh_creator, 0);
	assert_int_equal(atomic_load(&h.bh_generation), 0);
}

static void
test_layout_geometries(void **state)
{
	(void)state;
	check_layout(1, 1, 0, 0);
	check_layout(4, 64, 4096, 4096);
	check_layout(16, 1000, 100, 7);
	check_layout(1024, 65536, 64, 64);
	/* Sizes just off a cache line each way. */
	check_layout(3, 5, 63, 65);
	check_layout(2, 2, 1, 0);
}

static void
test_layout_overflow(void **state)
{
	struct fb__geometry g;
	struct fb__board_hdr h;

	(void)state;
	/* Rejected by the per-slot size check. */
	g = (struct fb__geometry){ 4, 65536, SIZE_MAX / 2, 64, 0 };
	assert_int_equal(fb__board_layout(&g, &h), 0);
	g = (struct fb__geometry){ 4, 65536, 64, SIZE_MAX / 2, 0 };
	assert_int_equal(fb__board_layout(&g, &h), 0);
	g = (struct fb__geometry){ 4, 2, SIZE_MAX, SIZE_MAX, 0 };
	assert_int_equal(fb__board_layout(&g, &h), 0);
	/* Passes that check, overflows stride * slots. */
	g = (struct fb__geometry){ 4, 65536, SIZE_MAX / 4, SIZE_MAX / 4, 0 };
	assert_int_equal(fb__board_layout(&g, &h), 0);
	g = (struct fb__geometry){ 1, 2, SIZE_MAX / 4, SIZE_MAX / 4, 0 };
	assert_int_equal(fb__board_layout(&g, &h), 0);
	/* stride * slots fits, adding the tables does not. */
	g = (struct fb__geometry){ 1024, 65536, (SIZE_MAX / 65536) - 64, 0,
	    0 };
	assert_int_equal(fb__board_layout(&g, &h), 0);
}

/* ---- private board ------------------------------------------------------- */

/* Payload and result areas lie inside the segment, 64-byte aligned, in
 * slot order, and never overlap one another or the tables. */
static void
check_carveup(const struct fb__board *b, const struct fb__geometry *g)
{
	unsigned char *base = b->b_base, *end = base + b->b_size;
	unsigned char *p, *q, *r, *prev_end = b->b_data;
	uint32_t i;

	assert_ptr_equal(b->b_data,
	    base + b->b_hdr->bh_data_off);
	assert_true((unsigned char *)(b->b_slots + g->g_slots) <= b->b_data);
	for (i = 0; i < g->g_slots; i++) {
		p = fb__board_payload(b, i);
		r = fb__board_result(b, i);
		assert_true(p >= prev_end);
		if (g->g_slot_size > 0)
			assert_true(p != r);
		assert_true(p + g->g_slot_size <= r);
		assert_true(r + g->g_result_size <= end);
		assert_int_equal((uintptr_t)p % 64, 0);
		assert_int_equal((uintptr_t)r % 64, 0);
		prev_end = r + g->g_result_size;
		if (i + 1 < g->g_slots) {
			q = fb__board_payload(b, i + 1);
			assert_true(q > p);
			assert_true(prev_end <= q);
		}
		/* Writable, and a write lands only where it should. */
		memset(p, (int)(i & 0x7f), g->g_slot_size);
		memset(r, (int)(0x80 | (i & 0x7f)), g->g_result_size);
	}
	for (i = 0; i < g->g_slots; i++) {
		p = fb__board_payload(b, i);
		r = fb__board_result(b, i);
		if (g->g_slot_size > 0) {
			assert_int_equal(p[0], i & 0x7f);
			assert_int_equal(p[g->g_slot_size - 1], i & 0x7f);
		}
		if (g->g_result_size > 0) {
			assert_int_equal(r[0], 0x80 | (i & 0x7f));
			assert_int_equal(r[g->g_result_size - 1],
			    0x80 | (i & 0x7f));
		}
	}
}

static void
check_private(struct fixture *fx, const struct fb__geometry *g)
{
	struct fb__board *b = &fx->fx_b[0];
	struct fb__board_hdr want;
	struct fb_board_stat st;
	struct fb_config cfg;
	struct shmid_ds ds;
	size_t size;
	uint32_t i;
	int id;

	fb_config_init(&cfg);
	size = fb__board_layout(g, &want);
	assert_true(size > 0);
	assert_int_equal(fb__board_create(b, g, &cfg), 0);
	assert_non_null(b->b_base);
	assert_int_equal(b->b_size, size);
	assert_int_equal(b->b_keyed, 0);

	assert_int_equal(fb__board_stat(b, &st), 0);
	assert_int_equal(st.bs_shmid, b->b_shmid);
	assert_int_equal(st.bs_removed, 1);
	assert_int_equal(st.bs_key, IPC_PRIVATE);
	assert_int_equal(st.bs_mode, 0600);
	assert_int_equal(st.bs_size, size);
	assert_int_equal(st.bs_size_rounded % 4096, 0);
	assert_true(st.bs_size_rounded >= st.bs_size);
	assert_true(st.bs_size_rounded - st.bs_size < 4096);
	assert_int_equal(st.bs_nattch, 1);
	assert_int_equal(st.bs_cpid, getpid());
	assert_int_equal(st.bs_lpid, getpid());
	assert_int_equal(st.bs_slots, g->g_slots);
	assert_int_equal(st.bs_payload_size, g->g_slot_size);
	assert_int_equal(st.bs_result_size, g->g_result_size);

	/* The header is the layout, plus the creator. */
	assert_ptr_equal(b->b_hdr, b->b_base);
	assert_int_equal(b->b_hdr->bh_magic, FB__MAGIC);
	assert_int_equal(b->b_hdr->bh_version, FB__BOARD_VERSION);
	assert_int_equal(b->b_hdr->bh_creator, getpid());
	assert_int_equal(b->b_hdr->bh_size, size);
	assert_int_equal(b->b_hdr->bh_stride, want.bh_stride);
	assert_int_equal(b->b_hdr->bh_slots, g->g_slots);
	assert_int_equal(b->b_hdr->bh_max_workers, g->g_max_workers);
	assert_int_equal(b->b_hdr->bh_slot_size, g->g_slot_size);
	assert_int_equal(b->b_hdr->bh_result_size, g->g_result_size);
	assert_ptr_equal(b->b_workers,
	    (unsigned char *)b->b_base + want.bh_workers_off);
	assert_ptr_equal(b->b_slots,
	    (unsigned char *)b->b_base + want.bh_slots_off);
	/* A fresh board: every worker DEAD, every slot FREE. */
	for (i = 0; i < g->g_max_workers; i++)
		assert_int_equal(atomic_load(&b->b_workers[i].wr_state),
		    FB_WORKER_DEAD);
	for (i = 0; i < g->g_slots; i++)
		assert_int_equal(atomic_load(&b->b_slots[i].sr_word),
		    FB__SLOT_FREE);
	check_carveup(b, g);

	id = b->b_shmid;
	fb__board_close(b, 1);
	assert_null(b->b_base);
	assert_int_equal(b->b_shmid, -1);
	errno = 0;
	assert_int_equal(shmctl(id, IPC_STAT, &ds), -1);
	assert_true(errno == EINVAL || errno == EIDRM);
	assert_int_equal(fb__board_stat(b, &st), -ESHUTDOWN);
	/* Closing twice is harmless. */
	fb__board_close(b, 1);
	assert_int_equal(b->b_shmid, -1);
}

static void
test_private_board(void **state)
{
	struct fixture *fx = *state;
	struct fb__geometry g1 = { 4, 256, 4096, 4096, 0 };
	struct fb__geometry g2 = { 3, 17, 100, 7, 0 };
	struct fb__geometry g3 = { 1, 1, 0, 0, 0 };

	check_private(fx, &g1);
	check_private(fx, &g2);
	check_private(fx, &g3);
	assert_clean(fx);
}

static void
test_mode(void **state)
{
	struct fixture *fx = *state;
	struct fb__geometry g = { 2, 4, 64, 64, 0 };
	struct fb_board_stat st;
	struct fb_config cfg;

	fb_config_init(&cfg);
	cfg.mode = 0640;
	assert_int_equal(fb__board_create(&fx->fx_b[0], &g, &cfg), 0);
	assert_int_equal(fb__board_stat(&fx->fx_b[0], &st), 0);
	assert_int_equal(st.bs_mode, 0640);
	fb__board_close(&fx->fx_b[0], 1);

	cfg.mode = 0660;
	assert_int_equal(fb__board_create(&fx->fx_b[0], &g, &cfg), 0);
	assert_int_equal(fb__board_stat(&fx->fx_b[0], &st), 0);
	assert_int_equal(st.bs_mode, 0660);
	fb__board_close(&fx->fx_b[0], 1);
	assert_clean(fx);
}

/* ---- keyed boards -------------------------------------------------------- */

static void
test_keyed_board(void **state)
{
	struct fixture *fx = *state;
	struct fb__geometry g = { 2, 8, 256, 128, 0 };
	struct fb_board_stat st;
	struct fb_config cfg;
	key_t key = test_key(0);
	int id;

	keyed_config(fx, &cfg, key);
	assert_int_equal(fb__board_create(&fx->fx_b[0], &g, &cfg), 0);
	assert_int_equal(fx->fx_b[0].b_keyed, 1);
	assert_int_equal(fb__board_stat(&fx->fx_b[0], &st), 0);
	assert_int_equal(st.bs_removed, 0);
	assert_int_equal(st.bs_key, key);
	assert_int_equal(st.bs_mode, 0600);
	assert_int_equal(st.bs_nattch, 1);
	assert_int_equal(st.bs_cpid, getpid());
	id = shmget(key, 0, 0);
	assert_int_equal(id, fx->fx_b[0].b_shmid);

	/* Attached and its creator alive: never reclaimed. */
	assert_int_equal(fb__board_create(&fx->fx_b[1], &g, &cfg), -EEXIST);
	assert_null(fx->fx_b[1].b_base);
	assert_int_equal(shmget(key, 0, 0), id);
	assert_int_equal(fb__board_stat(&fx->fx_b[0], &st), 0);
	assert_int_equal(st.bs_nattch, 1);

	fb__board_close(&fx->fx_b[0], 1);
	errno = 0;
	assert_int_equal(shmget(key, 0, 0), -1);
	assert_int_equal(errno, ENOENT);
	assert_clean(fx);
}

static void
test_ftok_board(void **state)
{
	struct fixture *fx = *state;
	struct fb__geometry g = { 1, 2, 64, 64, 0 };
	struct fb_board_stat st;
	struct fb_config cfg;
	key_t key;
	int fd;

	fb_config_init(&cfg);
	cfg.key_mode = FB_BOARD_FTOK;
	snprintf(fx->fx_path, sizeof(fx->fx_path), "/tmp/fb-test-ftok-%ld",
	    (long)getpid());
	(void)unlink(fx->fx_path);
	cfg.ftok_path = fx->fx_path;
	assert_int_equal(fb__board_create(&fx->fx_b[0], &g, &cfg), -ENOENT);
	assert_null(fx->fx_b[0].b_base);

	cfg.ftok_path = NULL;
	assert_int_equal(fb__board_create(&fx->fx_b[0], &g, &cfg), -EINVAL);

	fd = open(fx->fx_path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(close(fd), 0);
	cfg.ftok_path = fx->fx_path;
	cfg.ftok_proj = 'b';
	key = ftok(fx->fx_path, 'b');
	assert_true(key != -1);
	own_key(fx, key);
	assert_int_equal(fb__board_create(&fx->fx_b[0], &g, &cfg), 0);
	assert_int_equal(fb__board_stat(&fx->fx_b[0], &st), 0);
	assert_int_equal(st.bs_key, key);
	assert_int_equal(st.bs_removed, 0);
	assert_int_equal(shmget(key, 0, 0), fx->fx_b[0].b_shmid);
	fb__board_close(&fx->fx_b[0], 1);
	errno = 0;
	assert_int_equal(shmget(key, 0, 0), -1);
	assert_int_equal(errno, ENOENT);
	assert_clean(fx);
}

/*
 * A forkboard board whose creator died without closing it is reclaimed
 * once nobody is attached to it; a foreign segment with the same key
 * (no magic), creator dead too, is not.
 */
static void
test_stale_reclaim(void **state)
{
	struct fixture *fx = *state;
	struct fb__geometry g = { 2, 8, 256, 256, 0 };
	struct fb_board_stat st;
	struct fb_config cfg;
	struct shmid_ds ds;
	key_t key = test_key(1);
	void *p;
	pid_t pid;
	int id, old, ws;

	keyed_config(fx, &cfg, key);

	/* A child makes the board and dies holding it. */
	if ((pid = own_fork(fx)) == 0) {
		struct fb__board cb;

		_exit(fb__board_create(&cb, &g, &cfg) == 0 ? 0 : 1);
	}
	ws = reap(fx, pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 0);
	old = shmget(key, 0, 0);
	assert_true(old != -1);
	assert_int_equal(shmctl(old, IPC_STAT, &ds), 0);
	assert_int_equal(ds.shm_nattch, 0);
	assert_int_equal(ds.shm_cpid, pid);

	/* Creator dead but somebody attached: in use, not reclaimed. */
	assert_true((p = shmat(old, NULL, SHM_RDONLY)) != (void *)-1);
	assert_int_equal(fb__board_create(&fx->fx_b[0], &g, &cfg), -EEXIST);
	assert_int_equal(shmget(key, 0, 0), old);
	assert_int_equal(shmdt(p), 0);

	assert_int_equal(fb__board_create(&fx->fx_b[0], &g, &cfg), 0);
	assert_int_equal(fb__board_stat(&fx->fx_b[0], &st), 0);
	assert_int_equal(st.bs_cpid, getpid());
	assert_int_equal(st.bs_key, key);
	assert_int_equal(st.bs_nattch, 1);
	errno = 0;
	assert_int_equal(shmctl(old, IPC_STAT, &ds), -1);
	assert_true(errno == EINVAL || errno == EIDRM);
	fb__board_close(&fx->fx_b[0], 1);
	errno = 0;
	assert_int_equal(shmget(key, 0, 0), -1);
	assert_int_equal(errno, ENOENT);

	/* A child makes a plain zeroed segment (no magic) and dies. */
	if ((pid = own_fork(fx)) == 0)
		_exit(shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600) == -1);
	ws = reap(fx, pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 0);
	id = shmget(key, 0, 0);
	assert_true(id != -1);
	assert_int_equal(shmctl(id, IPC_STAT, &ds), 0);
	assert_int_equal(ds.shm_cpid, pid);
	assert_int_equal(ds.shm_nattch, 0);

	assert_int_equal(fb__board_create(&fx->fx_b[0], &g, &cfg), -EEXIST);
	assert_null(fx->fx_b[0].b_base);
	/* Left alone. */
	assert_int_equal(shmget(key, 0, 0), id);
	assert_int_equal(shmctl(id, IPC_STAT, &ds), 0);
	assert_int_equal(ds.shm_segsz, 4096);
	assert_int_equal(ds.shm_nattch, 0);
	assert_int_equal(shmctl(id, IPC_RMID, NULL), 0);
	assert_clean(fx);
}

/* A forkboard board nobody is attached to, whose creator is alive (us),
 * is someone's live board: not reclaimed. */
static void
test_live_creator_not_reclaimed(void **state)
{
	struct fixture *fx = *state;
	struct fb__geometry g = { 1, 4, 64, 64, 0 };
	struct fb_config cfg;
	struct shmid_ds ds;
	key_t key = test_key(2);
	int id;

	keyed_config(fx, &cfg, key);
	assert_int_equal(fb__board_create(&fx->fx_b[0], &g, &cfg), 0);
	id = fx->fx_b[0].b_shmid;
	/* Detach behind the board's back: nattch 0, magic in place. */
	assert_int_equal(shmdt(fx->fx_b[0].b_base), 0);
	fx->fx_b[0].b_base = NULL;
	fx->fx_b[0].b_keyed = 0;
	fx->fx_b[0].b_shmid = -1;
	assert_int_equal(shmctl(id, IPC_STAT, &ds), 0);
	assert_int_equal(ds.shm_nattch, 0);

	assert_int_equal(fb__board_create(&fx->fx_b[1], &g, &cfg), -EEXIST);
	assert_int_equal(shmget(key, 0, 0), id);
	assert_int_equal(shmctl(id, IPC_RMID, NULL), 0);
	assert_clean(fx);
}

static void
test_bad_config(void **state)
{
	struct fixture *fx = *state;
	struct fb__geometry g = { 1, 4, 64, 64, 0 };
	struct fb__geometry big = { 4, 65536, SIZE_MAX / 2, 64, 0 };
	struct fb_config cfg;

	fb_config_init(&cfg);
	cfg.key_mode = FB_BOARD_KEY;
	cfg.key = IPC_PRIVATE;
	assert_int_equal(fb__board_create(&fx->fx_b[0], &g, &cfg), -EINVAL);
	assert_null(fx->fx_b[0].b_base);
	assert_int_equal(fx->fx_b[0].b_shmid, -1);

	cfg.key_mode = (enum fb_board_key)42;
	cfg.key = test_key(3);
	assert_int_equal(fb__board_create(&fx->fx_b[0], &g, &cfg), -EINVAL);

	fb_config_init(&cfg);
	assert_int_equal(fb__board_create(&fx->fx_b[0], &big, &cfg), -EINVAL);
	assert_null(fx->fx_b[0].b_base);
	assert_clean(fx);
}

/* A segment with our key that another user owns is refused, never
 * reclaimed, even if it looks stale.  Needs root to hand it to uid
 * 65534; otherwise skipped (cmocka counts it as skipped). */
static void
test_foreign_owner(void **state)
{
	struct fixture *fx = *state;
	struct fb__geometry g = { 1, 4, 64, 64, 0 };
	struct shmid_ds ds;
	struct fb_config cfg;
	key_t key = test_key(3);
	int id;

	if (geteuid() != 0)
		skip();
	own_key(fx, key);
	assert_true((id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600)) != -1);
	assert_int_equal(shmctl(id, IPC_STAT, &ds), 0);
	ds.shm_perm.uid = 65534;
	assert_int_equal(shmctl(id, IPC_SET, &ds), 0);
	fb_config_init(&cfg);
	cfg.key_mode = FB_BOARD_KEY;
	cfg.key = key;
	assert_int_equal(fb__board_create(&fx->fx_b[0], &g, &cfg), -EACCES);
	assert_null(fx->fx_b[0].b_base);
	assert_int_equal(shmget(key, 0, 0), id); /* left alone */
	assert_int_equal(shmctl(id, IPC_RMID, NULL), 0);
	assert_clean(fx);
}

/*
 * fb__board_check: what an outside reader (the inspector) relies on.  A
 * board's own header passes and gives back its geometry; anything that is
 * not one, or whose offsets would reach past the bytes given, is refused.
 */
static void
test_board_check(void **state)
{
	struct fb__geometry g = { 3, 5, 100, 40, 7 }, got;
	struct fb__board_hdr h, *hp;
	unsigned char *buf;
	size_t n;

	(void)state;
	assert_true((n = fb__board_layout(&g, &h)) > 0);
	assert_non_null(buf = calloc(1, n));
	memcpy(buf, &h, sizeof(h));
	hp = (struct fb__board_hdr *)(void *)buf;
	assert_int_equal(fb__board_check(buf, n, &got), 0);
	assert_int_equal(got.g_max_workers, 3);
	assert_int_equal(got.g_slots, 5);
	assert_int_equal(got.g_slot_size, 100);
	assert_int_equal(got.g_result_size, 40);
	/* Fewer bytes than the header says. */
	assert_int_equal(fb__board_check(buf, n - 1, &got), -EINVAL);
	assert_int_equal(fb__board_check(buf, sizeof(h) - 1, &got), -EPROTO);
	/* Not a board, or another version. */
	hp->bh_magic ^= 1;
	assert_int_equal(fb__board_check(buf, n, &got), -EPROTO);
	hp->bh_magic ^= 1;
	hp->bh_version++;
	assert_int_equal(fb__board_check(buf, n, &got), -EPROTO);
	hp->bh_version--;
	/* Offsets that do not follow from the geometry. */
	hp->bh_slots_off += 64;
	assert_int_equal(fb__board_check(buf, n, &got), -EINVAL);
	hp->bh_slots_off -= 64;
	hp->bh_slots = 1000000;
	assert_int_equal(fb__board_check(buf, n, &got), -EINVAL);
	hp->bh_slots = 5;
	assert_int_equal(fb__board_check(buf, n, &got), 0);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layout_geometries,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_layout_overflow,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_board,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyed_board,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ftok_board,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_reclaim,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_creator_not_reclaimed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_owner, setup,
		    teardown),
		cmocka_unit_test(test_board_check),
		cmocka_unit_test_setup_teardown(test_bad_config,
		    setup, teardown),
	};

	alarm(30);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
