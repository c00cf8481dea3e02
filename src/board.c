/*
 * board.c - the System V shared-memory task board.
 *
 * One segment: header, worker table (the scoreboard), slot table, then the
 * slots' data areas (payload then result), every part aligned to a cache
 * line.  The layout is computed once, from the geometry alone, and checked
 * to add up; the segment holds no pointers, only offsets.
 *
 * A private board is IPC_RMID'd as soon as the master has attached it:
 * from then on the kernel frees it when the last process detaches or dies,
 * so no crash can leak it.  A keyed board (for study and inspection with
 * ipcs) is created IPC_CREAT|IPC_EXCL and removed at destroy; a stale one,
 * left by a forkboard master that died with nothing attached, is reclaimed.
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

_Static_assert(sizeof(struct fb__worker_row) == FB__CACHELINE,
    "worker row is one cache line");
_Static_assert(sizeof(struct fb__slot_row) == FB__CACHELINE,
    "slot row is one cache line");
_Static_assert(sizeof(struct fb__trace_slot) == 40, "trace record is 40 bytes");
_Static_assert(sizeof(struct fb__board_hdr) <= 4 * FB__CACHELINE,
    "header fits four cache lines");

/*
 * Fill *h with the layout for g and return the segment size, or 0 if the
 * geometry overflows.
 */
size_t
fb__board_layout(const struct fb__geometry *g, struct fb__board_hdr *h)
{
	size_t stride, data, workers, slots, trace;

	memset(h, 0, sizeof(*h));
	if (g->g_slot_size > SIZE_MAX / 4 || g->g_result_size > SIZE_MAX / 4)
		return 0;
	stride = FB__ALIGN(g->g_slot_size, FB__CACHELINE) +
	    FB__ALIGN(g->g_result_size, FB__CACHELINE);
	if (stride == 0)
		stride = FB__CACHELINE;
	workers = (size_t)g->g_max_workers * sizeof(struct fb__worker_row);
	slots = (size_t)g->g_slots * sizeof(struct fb__slot_row);
	trace = FB__ALIGN((size_t)g->g_trace * sizeof(struct fb__trace_slot),
	    FB__CACHELINE);
	if (__builtin_mul_overflow(stride, (size_t)g->g_slots, &data))
		return 0;

	h->bh_magic = FB__MAGIC;
	h->bh_version = FB__BOARD_VERSION;
	h->bh_max_workers = g->g_max_workers;
	h->bh_slots = g->g_slots;
	h->bh_slot_size = g->g_slot_size;
	h->bh_result_size = g->g_result_size;
	h->bh_stride = stride;
	h->bh_workers_off = FB__ALIGN(sizeof(*h), FB__CACHELINE);
	h->bh_slots_off = h->bh_workers_off + workers;
	h->bh_trace_off = h->bh_slots_off + slots;
	h->bh_trace_n = g->g_trace;
	h->bh_data_off = h->bh_trace_off + trace;
	if (__builtin_add_overflow(h->bh_data_off, data, &h->bh_size))
		return 0;

	/* The carve-up adds up, with nothing between or past the parts. */
	assert(h->bh_workers_off >= sizeof(*h));
	assert(h->bh_size == h->bh_workers_off + workers + slots + trace +
	    data);
	assert(h->bh_data_off % FB__CACHELINE == 0);
	return h->bh_size;
}

/*
 * Check that size bytes at base hold a board of this version whose header
 * agrees with the layout its own geometry implies, and return that
 * geometry.  For readers that attach a board they did not create (the
 * inspector): every offset they will use is then inside the segment.
 * Returns 0, -EPROTO (not a board, or another version) or -EINVAL (a
 * header that does not add up).
 */
int
fb__board_check(const void *base, size_t size, struct fb__geometry *g)
{
	struct fb__board_hdr h, want;

	if (size < sizeof(h))
		return -EPROTO;
	memcpy(&h, base, sizeof(h));
	if (h.bh_magic != FB__MAGIC || h.bh_version != FB__BOARD_VERSION)
		return -EPROTO;
	if (h.bh_max_workers == 0 || h.bh_max_workers > FB_WORKERS_MAX ||
	    h.bh_slots == 0 || h.bh_slots > FB_SLOTS_MAX ||
	    h.bh_slot_size > UINT32_MAX || h.bh_result_size > UINT32_MAX ||
	    h.bh_trace_n > FB__TRACE_MAX)
		return -EINVAL;
	g->g_max_workers = h.bh_max_workers;
	g->g_trace = h.bh_trace_n;
	g->g_slots = h.bh_slots;
	g->g_slot_size = (size_t)h.bh_slot_size;
	g->g_result_size = (size_t)h.bh_result_size;
	if (fb__board_layout(g, &want) == 0 || want.bh_size > size ||
	    want.bh_size != h.bh_size || want.bh_stride != h.bh_stride ||
	    want.bh_workers_off != h.bh_workers_off ||
	    want.bh_slots_off != h.bh_slots_off ||
	    want.bh_trace_off != h.bh_trace_off ||
	    want.bh_data_off != h.bh_data_off)
		return -EINVAL;
	return 0;
}

/* Copy a row.  Returns 0, or -EAGAIN if no consistent copy could be had
 * (a writer died inside, or keeps writing): *c then holds the last try. */
int
fb__row_read(const struct fb__worker_row *r, struct fb__row_copy *c)
{
	uint32_t v1, v2;
	int tries;

	for (tries = 0; tries < 100; tries++) {
		v1 = atomic_load_explicit(&r->wr_lock, memory_order_acquire);
		c->rc_state = atomic_load_explicit(&r->wr_state,
		    memory_order_relaxed);
		c->rc_pid = atomic_load_explicit(&r->wr_pid,
		    memory_order_relaxed);
		c->rc_generation = atomic_load_explicit(&r->wr_generation,
		    memory_order_relaxed);
		c->rc_slot = atomic_load_explicit(&r->wr_slot,
		    memory_order_relaxed);
		c->rc_code = atomic_load_explicit(&r->wr_code,
		    memory_order_relaxed);
		c->rc_tasks = atomic_load_explicit(&r->wr_tasks,
		    memory_order_relaxed);
		c->rc_changed_ns = atomic_load_explicit(&r->wr_changed_ns,
		    memory_order_relaxed);
		c->rc_restarts = atomic_load_explicit(&r->wr_restarts,
		    memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		v2 = atomic_load_explicit(&r->wr_lock, memory_order_relaxed);
		if (v1 == v2 && (v1 & 1u) == 0)
			return 0;
		fb__cpu_relax();
	}
	return -EAGAIN;
}

/*
 * Mirror the master's counters into the board for inspectors: relaxed
 * stores to lines only the master writes (already in its cache), once
 * per turn of its loop; no clock read, no fence.  Nothing in the library
 * reads them.
 */
void
fb__board_publish(const struct fb__board *b, const struct fb_counters *c,
    uint32_t slots_used, uint32_t inflight)
{
	struct fb__board_ctr *bc = &b->b_hdr->bh_ctr;

	atomic_store_explicit(&bc->bc_submitted, c->c_submitted,
	    memory_order_relaxed);
	atomic_store_explicit(&bc->bc_done, c->c_done, memory_order_relaxed);
	atomic_store_explicit(&bc->bc_failed, c->c_failed,
	    memory_order_relaxed);
	atomic_store_explicit(&bc->bc_nohandler, c->c_nohandler,
	    memory_order_relaxed);
	atomic_store_explicit(&bc->bc_crashed, c->c_crashed,
	    memory_order_relaxed);
	atomic_store_explicit(&bc->bc_timedout, c->c_timedout,
	    memory_order_relaxed);
	atomic_store_explicit(&bc->bc_badresult, c->c_badresult,
	    memory_order_relaxed);
	atomic_store_explicit(&bc->bc_cancelled, c->c_cancelled,
	    memory_order_relaxed);
	atomic_store_explicit(&bc->bc_retried, c->c_retried,
	    memory_order_relaxed);
	atomic_store_explicit(&bc->bc_respawns, c->c_respawns,
	    memory_order_relaxed);
	atomic_store_explicit(&bc->bc_slots_used, slots_used,
	    memory_order_relaxed);
	atomic_store_explicit(&bc->bc_inflight, inflight,
	    memory_order_relaxed);
}

static int
board_key(const struct fb_config *cfg, key_t *key)
{
	switch (cfg->key_mode) {
	case FB_BOARD_PRIVATE:
		*key = IPC_PRIVATE;
		return 0;
	case FB_BOARD_KEY:
		if (cfg->key == IPC_PRIVATE)
			return -EINVAL;
		*key = cfg->key;
		return 0;
	case FB_BOARD_FTOK:
		if (cfg->ftok_path == NULL)
			return -EINVAL;
		if ((*key = ftok(cfg->ftok_path, cfg->ftok_proj)) == -1)
			return -errno;
		return 0;
	}
	return -EINVAL;
}

/*
 * A segment with our key exists.  Reclaim it if it is a forkboard board
 * whose creator is dead and to which nobody is attached (PostgreSQL's
 * rule); refuse one owned by another user.  Returns 0 if removed.
 */
static int
board_reclaim(key_t key)
{
	struct shmid_ds ds;
	struct fb__board_hdr *h;
	int id, ours;

	if ((id = shmget(key, 0, 0)) == -1)
		return errno == EACCES ? -EACCES : -EEXIST;
	if (shmctl(id, IPC_STAT, &ds) == -1)
		return -errno;
	if (ds.shm_perm.uid != geteuid())
		return -EACCES;
	if (ds.shm_nattch != 0 || ds.shm_segsz < sizeof(*h))
		return -EEXIST;
	if (kill(ds.shm_cpid, 0) == 0 || errno != ESRCH)
		return -EEXIST;
	if ((h = shmat(id, NULL, SHM_RDONLY)) == (void *)-1)
		return -EEXIST;
	ours = h->bh_magic == FB__MAGIC;
	(void)shmdt(h);
	if (!ours)
		return -EEXIST;
	if (shmctl(id, IPC_RMID, NULL) == -1)
		return -errno;
	return 0;
}

int
fb__board_create(struct fb__board *b, const struct fb__geometry *g,
    const struct fb_config *cfg)
{
	struct fb__board_hdr h;
	int flags, r, tries;
	key_t key;
	void *base;
	size_t size;

	memset(b, 0, sizeof(*b));
	b->b_shmid = -1;
	if ((size = fb__board_layout(g, &h)) == 0)
		return -EINVAL;
	if ((r = board_key(cfg, &key)) < 0)
		return r;
	flags = IPC_CREAT | (int)(cfg->mode & 0777);
	if (key != IPC_PRIVATE)
		flags |= IPC_EXCL;
	for (tries = 0;; tries++) {
		if ((b->b_shmid = shmget(key, size, flags)) != -1)
			break;
		if (errno != EEXIST || tries > 0)
			return -errno;
		if ((r = board_reclaim(key)) < 0)
			return r;
	}
	if ((base = shmat(b->b_shmid, NULL, 0)) == (void *)-1) {
		r = -errno;
		(void)shmctl(b->b_shmid, IPC_RMID, NULL);
		return r;
	}
	if (key == IPC_PRIVATE)
		(void)shmctl(b->b_shmid, IPC_RMID, NULL);
	b->b_base = base;
	b->b_size = size;
	b->b_key = key;
	b->b_keyed = key != IPC_PRIVATE;
	b->b_nslots = g->g_slots;
	b->b_nworkers = g->g_max_workers;
	b->b_slot_size = g->g_slot_size;
	b->b_result_size = g->g_result_size;
	b->b_stride = h.bh_stride;
	h.bh_creator = (int32_t)getpid();
	memcpy(base, &h, sizeof(h));
	b->b_hdr = base;
	b->b_workers = (void *)((unsigned char *)base + h.bh_workers_off);
	b->b_slots = (void *)((unsigned char *)base + h.bh_slots_off);
	b->b_trace = (void *)((unsigned char *)base + h.bh_trace_off);
	b->b_ntrace = g->g_trace;
	b->b_pid = getpid();
	b->b_data = (unsigned char *)base + h.bh_data_off;
	return 0;
}

/* Detach; remove a keyed board too if remove (the owner's destroy, never
 * a forked child's). */
void
fb__board_close(struct fb__board *b, int remove)
{
	if (b->b_base != NULL) {
		(void)shmdt(b->b_base);
		b->b_base = NULL;
	}
	if (remove && b->b_keyed && b->b_shmid != -1)
		(void)shmctl(b->b_shmid, IPC_RMID, NULL);
	b->b_shmid = -1;
}

int
fb__board_stat(const struct fb__board *b, struct fb_board_stat *st)
{
	struct shmid_ds ds;
	long pg = sysconf(_SC_PAGESIZE);

	memset(st, 0, sizeof(*st));
	if (b->b_base == NULL)
		return -ESHUTDOWN;
	if (shmctl(b->b_shmid, IPC_STAT, &ds) == -1)
		return -errno;
	st->bs_shmid = b->b_shmid;
	st->bs_key = ds.shm_perm.__key;
	st->bs_size = ds.shm_segsz;
	st->bs_size_rounded = FB__ALIGN(ds.shm_segsz, (size_t)(pg > 0 ? pg : 4096));
	st->bs_mode = ds.shm_perm.mode & 0777;
	st->bs_removed = (ds.shm_perm.mode & SHM_DEST) != 0;
	st->bs_nattch = ds.shm_nattch;
	st->bs_cpid = ds.shm_cpid;
	st->bs_lpid = ds.shm_lpid;
	st->bs_slots = b->b_nslots;
	st->bs_payload_size = b->b_slot_size;
	st->bs_result_size = b->b_result_size;
	st->bs_trace_records = b->b_ntrace;
	return 0;
}

/*
 * Append a record to the trace ring, if the board has one.  Any process
 * attached to the board may append: the master and every worker.
 */
void
fb__trace_append(const struct fb__board *b, enum fb_trace_kind kind,
    uint32_t slot, uint32_t worker, uint64_t task, unsigned from, unsigned to,
    enum fb_trace_cause cause)
{
	struct fb__trace_slot *ts;
	uint64_t i;

	i = atomic_fetch_add_explicit(&b->b_hdr->bh_trace_head, 1,
	    memory_order_relaxed);
	ts = &b->b_trace[i % b->b_ntrace];
	atomic_store_explicit(&ts->ts_seq, 0, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	ts->ts_ns = fb__now_ns();
	ts->ts_task = task;
	ts->ts_slot = slot;
	ts->ts_worker = worker;
	ts->ts_pid = (int32_t)b->b_pid;
	ts->ts_kind = (uint8_t)kind;
	ts->ts_from = (uint8_t)from;
	ts->ts_to = (uint8_t)to;
	ts->ts_cause = (uint8_t)cause;
	atomic_store_explicit(&ts->ts_seq, i + 1, memory_order_release);
}

/*
 * Copy records after *cursor from a ring of n records whose head counter
 * reads head, at most count of them; records being rewritten are skipped.
 * Returns how many were copied and moves *cursor past what was read.
 * Usable on a board attached by another process.
 */
int
fb__trace_read(const struct fb__trace_slot *ring, uint32_t n, uint64_t head,
    uint64_t *cursor, struct fb_trace_rec *out, size_t count)
{
	const struct fb__trace_slot *ts;
	struct fb_trace_rec r;
	uint64_t pos, s1, s2;
	size_t got = 0;

	if (n == 0)
		return -ENOTSUP;
	pos = *cursor;
	if (head > n && pos < head - n)
		pos = head - n; /* the oldest still in the ring */
	for (; pos < head && got < count; pos++) {
		ts = &ring[pos % n];
		s1 = atomic_load_explicit(&ts->ts_seq, memory_order_acquire);
		memset(&r, 0, sizeof(r));
		r.tr_seq = s1;
		r.tr_ns = ts->ts_ns;
		r.tr_task = ts->ts_task;
		r.tr_slot = ts->ts_slot;
		r.tr_worker = ts->ts_worker;
		r.tr_pid = ts->ts_pid;
		r.tr_kind = ts->ts_kind;
		r.tr_from = ts->ts_from;
		r.tr_to = ts->ts_to;
		r.tr_cause = ts->ts_cause;
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&ts->ts_seq, memory_order_relaxed);
		if (s1 != pos + 1 || s2 != s1)
			continue; /* being written, or already overwritten */
		out[got++] = r;
	}
	*cursor = pos;
	return (int)got;
}
