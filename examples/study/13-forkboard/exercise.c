/*
 * 13 embed forkboard, and see the seed's bug fixed (exercise)
 *
 *   cc -std=c11 -D_GNU_SOURCE -I include exercise.c \
 *       build-study/.libs/libforkboard.so -lbsd
 *   LD_LIBRARY_PATH=build-study/.libs ./a.out [--pause]
 *
 * forkboard is lessons 01-12 put together: a master pre-forks workers,
 * each with its own task pipe (04), payloads and results in one SysV
 * segment (06-10) created 0600 (07) and IPC_RMID'd at once (10), slots
 * published with C11 atomics (12).  The program registers a handler,
 * runs tasks, looks at the board, and asks every worker, with the
 * built-in task FB_CODE_FDLIST, which descriptors it holds: none holds a
 * write end of any task pipe, so no shutdown order can hang.
 *
 * With --pause it stops (press Enter) while the pool runs: look at the
 * board with ipcs -m (key 0x00000000, status dest) and at the workers
 * with ls -l /proc/PID/fd.
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <forkboard.h>

#define NWORKERS 3
#define CODE_WORDS 1
#define MAXFDS 64

static const char *texts[] = {
	"a master pre-forks its workers",
	"each worker reads its own pipe",
	"payloads and results live in shared memory",
	"the board is removed at once",
	"no worker holds a write end",
	"close channel i then wait for worker i",
};

/*
 * TODO: the handler, run in a worker: count the words of the payload
 * (t->t_payload, t->t_len bytes, not NUL-terminated) and write the
 * result, "N words", into t->t_result (at most t->t_result_cap bytes);
 * set t->t_result_len.  Return 0, or an errno value to fail the task.
 */
static int
count_words(struct fb_task *t, void *arg)
{
	(void)t;
	(void)arg;
	return 0;
}

_Noreturn static void
fail(struct fb_pool *pool, const char *what, int err)
{
	fprintf(stderr, "%s: %s\n", what, fb_strerror(err));
	fb_pool_destroy(pool);
	exit(1);
}

/* One task, submitted and waited for. */
static int
run(struct fb_pool *pool, uint32_t code, const char *payload, size_t len,
    struct fb_result *res, void *buf, size_t cap)
{
	fb_ticket_t ticket;
	int r;

	if ((r = fb_pool_submit(pool, code, payload, len, 0, &ticket)) < 0)
		return r;
	return fb_pool_wait(pool, ticket, res, buf, cap, 5000);
}

/* The board as the kernel lists it in /proc/sysvipc/shm. */
static void
show_proc_line(int shmid)
{
	FILE *f = fopen("/proc/sysvipc/shm", "r");
	char line[512];
	int key, id;
	unsigned perms;
	unsigned long nattch;

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%d %d %o %*u %*d %*d %lu", &key, &id, &perms,
		    &nattch) == 4 && id == shmid)
			printf("/proc/sysvipc/shm: key %d, perms %o (01000 is "
			    "SHM_DEST), nattch %lu\n", key, perms, nattch);
	fclose(f);
}

struct fdlist {
	int got;
	size_t n;
	struct fb_fdinfo fd[MAXFDS];
};

/* How many workers other than "except" read the pipe with inode ino? */
static int
readers(const struct fdlist *w, ino_t ino, int except)
{
	int n = 0;

	for (int i = 0; i < NWORKERS; i++) {
		if (i == except)
			continue;
		for (size_t k = 0; k < w[i].n; k++)
			n += S_ISFIFO(w[i].fd[k].fi_mode) &&
			    w[i].fd[k].fi_accmode == O_RDONLY &&
			    w[i].fd[k].fi_ino == ino;
	}
	return n;
}

/*
 * What worker i holds.  The seed's bug would show as a write end of a
 * pipe that some worker reads (an earlier worker's task pipe); whatever
 * else a worker writes to leads to the master (the completion pipe).
 */
static void
show_fds(const struct fdlist *w, int i)
{
	int stdio = 0, rd = 0, wr = 0, other = 0, shared = 0, bad = 0;

	for (size_t k = 0; k < w[i].n; k++) {
		const struct fb_fdinfo *f = &w[i].fd[k];

		if (f->fi_fd <= 2) {
			stdio++;
		} else if (!S_ISFIFO(f->fi_mode)) {
			other++;
		} else if (f->fi_accmode == O_RDONLY) {
			rd++;
			shared += readers(w, f->fi_ino, i) > 0;
		} else {
			wr++;
			bad += readers(w, f->fi_ino, -1) > 0;
		}
	}
	printf("worker %d: fds 0-2: %d, pipe read ends: %d, pipe write ends: "
	    "%d, other: %d\n", i, stdio, rd, wr, other);
	printf("worker %d: pipes read by another worker too: %d; write ends "
	    "of a pipe some worker reads: %d\n", i, shared, bad);
}

int
main(int argc, char *argv[])
{
	static struct fdlist fds[NWORKERS];
	struct fb_board_stat st;
	struct fb_worker_info wi;
	struct fb_result res;
	struct fb_config cfg;
	struct fb_pool *pool = NULL;
	struct shmid_ds ds;
	char buf[64];
	long pagesz = sysconf(_SC_PAGESIZE);
	int r, asked = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	fb_config_init(&cfg);
	cfg.workers = NWORKERS;
	cfg.slots = 8;
	cfg.policy = FB_POLICY_ROUND_ROBIN;
	if ((r = fb_pool_create(&pool, &cfg)) < 0)
		fail(pool, "fb_pool_create", r);
	if ((r = fb_pool_register(pool, CODE_WORDS, count_words, NULL)) < 0)
		fail(pool, "fb_pool_register", r);
	if ((r = fb_pool_start(pool)) < 0)
		fail(pool, "fb_pool_start", r);
	printf("pool: %u workers, round robin\n", fb_pool_workers(pool));

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if ((r = run(pool, CODE_WORDS, texts[i], strlen(texts[i]), &res,
		    buf, sizeof(buf) - 1)) < 0)
			fail(pool, "task", r);
		buf[res.r_len] = '\0';
		printf("task %zu: \"%s\" -> %s: \"%s\" (worker %u)\n", i + 1,
		    texts[i], fb_outcome_name(res.r_outcome), buf, res.r_worker);
	}

	if ((r = fb_pool_stat(pool, &st)) < 0)
		fail(pool, "fb_pool_stat", r);
	printf("board: key 0x%08x, mode %04o, removed (IPC_RMID'd) %s, nattch "
	    "%lu (the master and %d workers)\n", (unsigned)st.bs_key,
	    st.bs_mode, st.bs_removed ? "yes" : "no", st.bs_nattch, NWORKERS);
	printf("board: %zu bytes asked for, %zu backed (%zu pages of %ld)\n",
	    st.bs_size, st.bs_size_rounded, st.bs_size_rounded / pagesz, pagesz);
	show_proc_line(st.bs_shmid);

	/*
	 * TODO: ask every worker for its descriptors: submit FB_CODE_FDLIST
	 * tasks (no payload) with run(), the result buffer being an
	 * fdlist's fd array, until fds[i] is filled in for every worker i
	 * (res.r_worker says which one answered; res.r_len / sizeof(struct
	 * fb_fdinfo) is the count).  Round robin sends them to each worker
	 * in turn; give up after 3 * NWORKERS tasks.
	 */
	(void)asked;

	for (int i = 0; i < NWORKERS; i++)
		show_fds(fds, i);

	if (argc > 1 && strcmp(argv[1], "--pause") == 0) {
		printf("master pid %d, board shmid %d: look with ipcs -m, "
		    "ls -l /proc/PID/fd; press Enter\n", (int)getpid(),
		    st.bs_shmid);
		getchar();
	}

	for (int i = 0; i < NWORKERS; i++)
		if (fb_pool_worker_info(pool, i, &wi) == 0)
			printf("worker %d: %s, %llu tasks\n", i,
			    fb_worker_state_name(wi.wi_state),
			    (unsigned long long)wi.wi_tasks);
	r = fb_pool_shutdown(pool, 5000);
	printf("fb_pool_shutdown: %s, %u workers left\n",
	    r == 0 ? "every worker exited" : fb_strerror(r),
	    fb_pool_workers(pool));
	fb_pool_destroy(pool);
	if (shmctl(st.bs_shmid, IPC_STAT, &ds) == -1)
		printf("after fb_pool_destroy: IPC_STAT on the board: %s: "
		    "the kernel freed it\n", strerrorname_np(errno));
	else
		printf("after fb_pool_destroy: the board still exists\n");
	return 0;
}
