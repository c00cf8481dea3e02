/*
 * fuzz_done.c - libFuzzer target: everything the master reads that a
 * worker could have written, fed arbitrary bytes.
 *
 * The input is cut in two: the first part becomes the board's slot rows
 * and scoreboard rows (states, sequences, lengths, outcomes, seqlock
 * counts), the rest is written into the completion pipe as if by
 * workers.  Then the master reads the pipe, collects from the board,
 * sweeps for overdue tasks and copies every scoreboard row.  Whatever the
 * bytes, it must not crash, hang, read outside the board, or break its
 * own accounting (every task in flight or ready exactly once).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define NSLOTS 64
#define NWORKERS 4

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int LLVMFuzzerInitialize(int *, char ***);

static struct fb_pool *pool;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct fb_config cfg;

	(void)argc;
	(void)argv;
	fb_config_init(&cfg);
	cfg.workers = NWORKERS;
	cfg.slots = NSLOTS;
	cfg.payload_size = 64;
	cfg.task_timeout_ms = 1;
	if (fb_pool_create(&pool, &cfg) != 0)
		abort();
	return 0;
}

/* Every slot in flight on some worker, as the master sees it. */
static void
reset(struct fb_pool *p)
{
	struct fb__mslot *ms;
	unsigned i;

	TAILQ_INIT(&p->p_ready);
	TAILQ_INIT(&p->p_pending);
	p->p_nfree = 0;
	p->p_inflight = NSLOTS;
	p->p_timed = NSLOTS;
	p->p_seq = NSLOTS;
	p->p_nworkers = NWORKERS;
	p->p_done_rd.rd_have = 0;
	for (i = 0; i < NWORKERS; i++) {
		p->p_workers[i].w_pid = 1000 + (pid_t)i; /* never signalled */
		p->p_workers[i].w_stopping = 0;
		p->p_workers[i].w_inflight = NSLOTS / NWORKERS;
		p->p_workers[i].w_generation = i + 1;
		p->p_workers[i].w_ready = 0;
	}
	for (i = 0; i < NSLOTS; i++) {
		ms = &p->p_slots[i];
		memset(ms, 0, sizeof(*ms));
		ms->ms_state = FB__M_INFLIGHT;
		ms->ms_seq = i + 1;
		ms->ms_sendno = i + 1;
		ms->ms_worker = i % NWORKERS;
		ms->ms_timeout_ms = 1;
		ms->ms_sent_ns = 1;
	}
}

/* The master's books balance: each slot is free, in flight or ready,
 * and the counts agree. */
static void
check(const struct fb_pool *p)
{
	const struct fb__mslot *ms;
	unsigned i, inflight = 0, ready = 0, queued = 0;

	for (i = 0; i < NSLOTS; i++) {
		ms = &p->p_slots[i];
		if (ms->ms_state == FB__M_INFLIGHT)
			inflight++;
		else if (ms->ms_state == FB__M_READY)
			ready++;
		else
			abort();
		if (ms->ms_state == FB__M_READY &&
		    ms->ms_result_len > p->p_board.b_result_size)
			abort();
	}
	TAILQ_FOREACH(ms, &p->p_ready, ms_link)
		queued++;
	if (inflight != p->p_inflight || ready != queued ||
	    inflight + ready != NSLOTS)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fb__board *b = &pool->p_board;
	struct fb_worker_info wi;
	size_t rows = NSLOTS * sizeof(struct fb__slot_row);
	size_t wrows = NWORKERS * sizeof(struct fb__worker_row);
	size_t board_part, off = 0;
	unsigned i, out[NWORKERS];
	ssize_t n;

	reset(pool);
	/* Board: the first bytes, cycled over the rows. */
	board_part = size < rows + wrows ? size : rows + wrows;
	memset(b->b_slots, 0, rows);
	memset(b->b_workers, 0, wrows);
	if (board_part > rows) {
		memcpy(b->b_slots, data, rows);
		memcpy(b->b_workers, data + rows, board_part - rows);
	} else
		memcpy(b->b_slots, data, board_part);
	/* The rest into the completion pipe, in pieces up to PIPE_BUF. */
	for (off = board_part; off < size; off += (size_t)n) {
		n = write(pool->p_done[1], data + off, size - off > 4096 ?
		    4096 : size - off);
		if (n <= 0)
			break;
		if (fb__drain_done(pool) < 0)
			abort();
	}
	if (fb__drain_done(pool) < 0)
		abort();
	check(pool);
	(void)fb__collect_all(pool);
	check(pool);
	(void)fb__overdue(pool, INT64_MAX / 2, out);
	for (i = 0; i < NWORKERS; i++) {
		if (fb_pool_worker_info(pool, i, &wi) != 0)
			abort();
		if (wi.wi_state > FB_WORKER_EXITING ||
		    (wi.wi_slot != UINT32_MAX && wi.wi_slot >= NSLOTS))
			abort();
	}
	/* Leave the pipe empty for the next input. */
	pool->p_done_rd.rd_have = 0;
	while (fb__reader_fill(&pool->p_done_rd, pool->p_done[0]) > 0)
		pool->p_done_rd.rd_have = 0;
	return 0;
}
