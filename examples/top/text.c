/*
 * text.c - a board as plain text: --once prints it, the live view draws
 * the same lines (through a memory stream), so the two never disagree.
 *
 * The first lines are what `ipcs -m -i SHMID` shows; the rest is what
 * only forkboard knows.  Times are local, as ipcs prints them.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "top.h"

const char *
top_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (t == 0 || localtime_r(&t, &tm) == NULL)
		snprintf(buf, len, "not set");
	else
		strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

/* What the kernel says (ipcs -m -i). */
void
top_kernel_lines(FILE *f, const struct top_board *b)
{
	const struct top_seg *sg = &b->b_seg;
	char u[64], cu[64], at[32], dt[32], ct[32];
	long pg = sysconf(_SC_PAGESIZE);

	fprintf(f, "shmid %d  key 0x%08x  size %llu  rss %llu (%llu pages "
	    "backed)  mode %04o  removed %s%s\n", sg->sg_shmid,
	    (unsigned)sg->sg_key, (unsigned long long)sg->sg_size,
	    (unsigned long long)sg->sg_rss,
	    (unsigned long long)(sg->sg_rss / (uint64_t)(pg > 0 ? pg : 4096)),
	    sg->sg_mode, sg->sg_removed ? "yes" : "no",
	    b->b_gone ? "  [gone: the board was removed]" : "");
	fprintf(f, "owner %s (uid %u)  creator %s (uid %u)  nattch %lu  "
	    "cpid %d  lpid %d\n", top_user(sg->sg_uid, u, sizeof(u)),
	    (unsigned)sg->sg_uid, top_user(sg->sg_cuid, cu, sizeof(cu)),
	    (unsigned)sg->sg_cuid, sg->sg_nattch, (int)sg->sg_cpid,
	    (int)sg->sg_lpid);
	fprintf(f, "attached %s  detached %s  changed %s\n",
	    top_time(sg->sg_atime, at, sizeof(at)),
	    top_time(sg->sg_dtime, dt, sizeof(dt)),
	    top_time(sg->sg_ctime, ct, sizeof(ct)));
}

/* What the board says: geometry, counters, slots. */
void
top_pool_lines(FILE *f, const struct top_board *b)
{
	const struct fb_counters *c = &b->b_ctr;

	fprintf(f, "forkboard layout %u  master pid %d  workers max %u  "
	    "slots %u  payload %zu  result %zu  trace %u\n", FB__BOARD_VERSION,
	    (int)b->b_master, b->b_geo.g_max_workers, b->b_geo.g_slots,
	    b->b_geo.g_slot_size, b->b_geo.g_result_size, b->b_geo.g_trace);
	fprintf(f, "tasks: submitted %llu  done %llu  failed %llu  "
	    "nohandler %llu  crashed %llu  timedout %llu\n",
	    (unsigned long long)c->c_submitted, (unsigned long long)c->c_done,
	    (unsigned long long)c->c_failed, (unsigned long long)c->c_nohandler,
	    (unsigned long long)c->c_crashed, (unsigned long long)c->c_timedout);
	fprintf(f, "       badresult %llu  cancelled %llu  retried %llu  "
	    "respawns %llu  in flight %u\n",
	    (unsigned long long)c->c_badresult,
	    (unsigned long long)c->c_cancelled,
	    (unsigned long long)c->c_retried,
	    (unsigned long long)c->c_respawns, b->b_inflight);
	if (b->b_have_rate)
		fprintf(f, "rate: %.1f done/s  %.1f submitted/s\n",
		    b->b_rate_done, b->b_rate_submitted);
	fprintf(f, "slots used %u of %u: %s\n", b->b_slots_used,
	    b->b_geo.g_slots, b->b_slotmap != NULL ? b->b_slotmap : "");
}

/* The scoreboard, rows in the order given (NULL: by index). */
void
top_rows_lines(FILE *f, const struct top_board *b, const unsigned *order)
{
	const struct top_row *r;
	unsigned i;

	fprintf(f, "%5s %8s %-9s %6s %10s %10s %6s %10s %8s\n", "INDEX",
	    "PID", "STATE", "GEN", "TASKS", "CODE", "SLOT", "STATE_MS",
	    "RESTARTS");
	for (i = 0; i < b->b_nrows; i++) {
		r = &b->b_rows[order != NULL ? order[i] : i];
		fprintf(f, "%5u %8d %-9s %6u %10llu %10u ", r->tr_index,
		    (int)r->tr_pid, top_state_name(r->tr_state),
		    r->tr_generation, (unsigned long long)r->tr_tasks,
		    r->tr_code);
		if (r->tr_slot >= 0)
			fprintf(f, "%6lld ", (long long)r->tr_slot);
		else
			fprintf(f, "%6s ", "-");
		fprintf(f, "%10lld %8u%s\n", (long long)r->tr_state_ms,
		    r->tr_restarts, r->tr_torn ? " (torn)" : "");
	}
}

const char *
top_trace_state(const struct fb_trace_rec *t, unsigned v)
{
	return t->tr_kind == FB_TRACE_SLOT ?
	    fb_slot_state_name((enum fb_slot_state)v) :
	    fb_worker_state_name((enum fb_worker_state)v);
}

void
top_trace_lines(FILE *f, const struct top_board *b)
{
	const struct fb_trace_rec *t;
	unsigned i;

	if (!b->b_trace_on) {
		fprintf(f, "trace: off\n");
		return;
	}
	fprintf(f, "trace (last %u):\n", b->b_ntrace);
	for (i = 0; i < b->b_ntrace; i++) {
		t = &b->b_trace[i];
		fprintf(f, "  #%llu %-6s slot %-5d worker %-4d pid %-7d task "
		    "%-6llu %s -> %s (%s)\n", (unsigned long long)t->tr_seq,
		    t->tr_kind == FB_TRACE_SLOT ? "slot" : "worker",
		    t->tr_slot == UINT32_MAX ? -1 : (int)t->tr_slot,
		    t->tr_worker == UINT32_MAX ? -1 : (int)t->tr_worker,
		    (int)t->tr_pid, (unsigned long long)t->tr_task,
		    top_trace_state(t, t->tr_from), top_trace_state(t, t->tr_to),
		    fb_trace_cause_name((enum fb_trace_cause)t->tr_cause));
	}
}

void
top_text(FILE *f, const struct top_board *b)
{
	top_kernel_lines(f, b);
	top_pool_lines(f, b);
	top_rows_lines(f, b, NULL);
	top_trace_lines(f, b);
}
