/*
 * snapshot.c - read one board: attach it read-only (SHM_RDONLY: whatever
 * goes wrong here, the pool cannot be disturbed), check the header with
 * the library's own fb__board_check (every offset then lies inside the
 * segment), copy the scoreboard rows through their seqlock, the slot
 * words, the counter block and the tail of the trace ring, and detach.
 * Nothing read is believed beyond what it is: states out of range become
 * "unknown", slots out of range become none.
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "top.h"

char
top_slot_char(uint64_t word)
{
	static const char map[] = "_QRPDFC";

	return FB__WORD_STATE(word) < sizeof(map) - 1 ?
	    map[FB__WORD_STATE(word)] : '?';
}

const char *
top_state_name(unsigned st)
{
	return fb_worker_state_name((enum fb_worker_state)st);
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
copy_row(struct top_row *tr, unsigned i, const struct fb__worker_row *wr,
    const struct fb__geometry *g, int64_t now)
{
	struct fb__row_copy rc;

	memset(tr, 0, sizeof(*tr));
	tr->tr_index = i;
	tr->tr_torn = fb__row_read(wr, &rc) != 0;
	tr->tr_pid = rc.rc_pid > 0 ? rc.rc_pid : 0;
	tr->tr_state = rc.rc_state <= FB_WORKER_EXITING ? rc.rc_state :
	    UINT32_MAX;
	tr->tr_generation = rc.rc_generation;
	tr->tr_tasks = rc.rc_tasks;
	tr->tr_code = rc.rc_code;
	tr->tr_slot = rc.rc_state == FB_WORKER_BUSY && rc.rc_slot <
	    g->g_slots ? (int64_t)rc.rc_slot : -1;
	tr->tr_restarts = rc.rc_restarts;
	/* CLOCK_MONOTONIC is one clock for every process on the machine. */
	tr->tr_state_ms = rc.rc_changed_ns > 0 && rc.rc_changed_ns <= now ?
	    (now - rc.rc_changed_ns) / 1000000 : -1;
}

static void
copy_counters(struct top_board *b, const struct fb__board_ctr *bc)
{
	struct fb_counters *c = &b->b_ctr;

	memset(c, 0, sizeof(*c));
	c->c_filled = sizeof(*c);
	c->c_submitted = atomic_load_explicit(&bc->bc_submitted,
	    memory_order_relaxed);
	c->c_done = atomic_load_explicit(&bc->bc_done, memory_order_relaxed);
	c->c_failed = atomic_load_explicit(&bc->bc_failed,
	    memory_order_relaxed);
	c->c_nohandler = atomic_load_explicit(&bc->bc_nohandler,
	    memory_order_relaxed);
	c->c_crashed = atomic_load_explicit(&bc->bc_crashed,
	    memory_order_relaxed);
	c->c_timedout = atomic_load_explicit(&bc->bc_timedout,
	    memory_order_relaxed);
	c->c_badresult = atomic_load_explicit(&bc->bc_badresult,
	    memory_order_relaxed);
	c->c_cancelled = atomic_load_explicit(&bc->bc_cancelled,
	    memory_order_relaxed);
	c->c_retried = atomic_load_explicit(&bc->bc_retried,
	    memory_order_relaxed);
	c->c_respawns = atomic_load_explicit(&bc->bc_respawns,
	    memory_order_relaxed);
	b->b_slots_used = atomic_load_explicit(&bc->bc_slots_used,
	    memory_order_relaxed);
	b->b_inflight = atomic_load_explicit(&bc->bc_inflight,
	    memory_order_relaxed);
	if (b->b_slots_used > b->b_geo.g_slots)
		b->b_slots_used = b->b_geo.g_slots;
}

static void
copy_trace(struct top_board *b, const unsigned char *base,
    const struct fb__board_hdr *h)
{
	uint64_t head, cursor;
	int n;

	b->b_trace_on = b->b_geo.g_trace != 0;
	if (!b->b_trace_on)
		return;
	head = atomic_load_explicit(&h->bh_trace_head, memory_order_acquire);
	cursor = head > TOP_TRACE_TAIL ? head - TOP_TRACE_TAIL : 0;
	n = fb__trace_read((const struct fb__trace_slot *)(const void *)
	    (base + h->bh_trace_off), b->b_geo.g_trace, head, &cursor,
	    b->b_trace, TOP_TRACE_TAIL);
	b->b_ntrace = n > 0 ? (unsigned)n : 0;
}

/* Everything past the checked header. */
static int
copy_board(struct top_board *b, const unsigned char *base)
{
	const struct fb__board_hdr *h = (const void *)base;
	const struct fb__worker_row *rows;
	const struct fb__slot_row *slots;
	const struct fb__geometry *g = &b->b_geo;
	uint32_t i;
	uint64_t w;

	b->b_when_ns = mono_ns();
	b->b_master = h->bh_creator > 0 ? h->bh_creator : 0;
	rows = (const void *)(base + h->bh_workers_off);
	slots = (const void *)(base + h->bh_slots_off);
	if ((b->b_rows = calloc(g->g_max_workers, sizeof(*b->b_rows))) ==
	    NULL || (b->b_slotmap = malloc((size_t)g->g_slots + 1)) == NULL)
		return -ENOMEM;
	for (i = 0; i < g->g_max_workers; i++) {
		copy_row(&b->b_rows[b->b_nrows], i, &rows[i], g, b->b_when_ns);
		/* Generations start at 1: 0 is a row never used. */
		if (b->b_rows[b->b_nrows].tr_generation != 0)
			b->b_nrows++;
	}
	for (i = 0; i < g->g_slots; i++) {
		w = atomic_load_explicit(&slots[i].sr_word,
		    memory_order_relaxed);
		b->b_slotmap[i] = top_slot_char(w);
	}
	b->b_slotmap[g->g_slots] = '\0';
	copy_counters(b, &h->bh_ctr);
	copy_trace(b, base, h);
	return 0;
}

/* Read the board of b->b_seg; sets b_err (and b_errno) on failure. */
void
top_snapshot(struct top_board *b)
{
	struct fb__board_hdr h;
	struct shmid_ds ds;
	void *base;
	int r;

	top_board_clear(b);
	b->b_err = TOP_OK;
	if ((base = shmat(b->b_seg.sg_shmid, NULL, SHM_RDONLY)) ==
	    (void *)-1) {
		b->b_errno = errno;
		b->b_err = errno == EACCES ? TOP_EACCES :
		    errno == EINVAL || errno == EIDRM ? TOP_EGONE : TOP_ESYS;
		return;
	}
	/* The size of what is attached, from the kernel, now: the shmid
	 * could have been freed and reused since /proc was read.  Reads stay
	 * inside it. */
	if (shmctl(b->b_seg.sg_shmid, IPC_STAT, &ds) == -1) {
		b->b_errno = errno;
		b->b_err = errno == EACCES ? TOP_EACCES : TOP_EGONE;
		goto out;
	}
	b->b_seg.sg_size = ds.shm_segsz;
	if (b->b_seg.sg_size < sizeof(h)) {
		b->b_err = TOP_ENOTBOARD;
		goto out;
	}
	memcpy(&h, base, sizeof(h));
	if (h.bh_magic != FB__MAGIC) {
		b->b_err = TOP_ENOTBOARD;
		goto out;
	}
	if (h.bh_version != FB__BOARD_VERSION) {
		b->b_err = TOP_EVERSION;
		b->b_version = h.bh_version;
		goto out;
	}
	if (fb__board_check(base, b->b_seg.sg_size, &b->b_geo) != 0) {
		b->b_err = TOP_ECORRUPT;
		goto out;
	}
	if ((r = copy_board(b, base)) < 0) {
		b->b_err = TOP_ESYS;
		b->b_errno = -r;
		top_board_clear(b);
	}
out:
	(void)shmdt(base);
}

/* Rates from two snapshots of the same board. */
void
top_rates(struct top_board *now, const struct top_board *before)
{
	double dt;

	now->b_have_rate = 0;
	if (now->b_err != TOP_OK || before->b_err != TOP_OK ||
	    now->b_when_ns <= before->b_when_ns ||
	    now->b_ctr.c_done < before->b_ctr.c_done ||
	    now->b_ctr.c_submitted < before->b_ctr.c_submitted)
		return;
	dt = (double)(now->b_when_ns - before->b_when_ns) / 1e9;
	now->b_rate_done = (double)(now->b_ctr.c_done -
	    before->b_ctr.c_done) / dt;
	now->b_rate_submitted = (double)(now->b_ctr.c_submitted -
	    before->b_ctr.c_submitted) / dt;
	now->b_have_rate = 1;
}

/* Why b could not be read, in the words forkboard-top prints after
 * "shmid N: ". */
const char *
top_err_text(const struct top_board *b, char *buf, size_t len)
{
	char user[64];

	switch (b->b_err) {
	case TOP_OK:
		snprintf(buf, len, "ok");
		break;
	case TOP_EACCES:
		snprintf(buf, len, "permission denied: the board is mode "
		    "%04o, owned by uid %u (%s); run as root or as that user",
		    b->b_seg.sg_mode, (unsigned)b->b_seg.sg_uid,
		    top_user(b->b_seg.sg_uid, user, sizeof(user)));
		break;
	case TOP_ENOTBOARD:
		snprintf(buf, len, "not a forkboard board");
		break;
	case TOP_EVERSION:
		snprintf(buf, len, "forkboard board layout version %u, this "
		    "forkboard-top reads %u", b->b_version, FB__BOARD_VERSION);
		break;
	case TOP_ECORRUPT:
		snprintf(buf, len, "forkboard board with a header that does "
		    "not add up (corrupt)");
		break;
	case TOP_EGONE:
		snprintf(buf, len, "gone: the segment was removed");
		break;
	case TOP_ESYS:
		snprintf(buf, len, "%s", strerror(b->b_errno));
		break;
	}
	return buf;
}
