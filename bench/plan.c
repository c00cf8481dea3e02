/*
 * plan.c - what fb-bench measures in each round, in which order, and the
 * ratios it judges.
 *
 * Measurements come in groups: a forkboard scenario and its baselines,
 * run back to back in one placement, then again in the other.
 */
#include <sys/types.h>

#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

#define ONLY_FREE	1	/* sp_flags: not worth pinning */

/* One line of the plan, before placements are applied. */
struct spec {
	const char	*sp_key;
	const char	*sp_label;
	enum kind	 sp_kind;
	enum rsect	 sp_sect;
	bench_fn	 sp_fn;
	unsigned	 sp_workers;	/* 0: --workers */
	unsigned	 sp_inflight;	/* 0: the scenario's default */
	unsigned	 sp_spin;
	int		 sp_plot;	/* latency samples plotted: 1 or 2 */
	int		 sp_flags;
};

struct step plan[PLAN_MAX];
unsigned nplan;
const unsigned scale_workers[NSCALE] = { 1, 2, 4, 16, 64 };
static unsigned ngroups;

static char *
xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
xprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		err(1, "vasprintf");
	va_end(ap);
	return s;
}

/* Register the metrics a spec feeds; the step records their indices. */
static void
spec_metrics(const struct spec *sp, struct step *s)
{
	static const char *ctr_unit[B_NCTR] = { "syscalls/task",
	    "switches/task", "wake-ups/task", "migrations/task",
	    "CPU ns/task" };
	const char *k = sp->sp_key, *l = sp->sp_label;
	int i;

	for (i = 0; i < B_NCTR; i++)
		s->s_pt[i] = sp->sp_kind == K_PY || sp->sp_kind == K_MEM ? -1 :
		    m_add(xprintf("%s.pt.%s", k, b_ctr_key[i]), l, ctr_unit[i],
		    S_PERTASK);
	switch (sp->sp_kind) {
	case K_RATE:
		s->s_m[0] = m_add(k, l, sp->sp_sect == S_BIG ?
		    "tasks/s = MiB/s" : "tasks/s", sp->sp_sect);
		break;
	case K_TIME:
		s->s_m[0] = m_add(k, l, "ms", sp->sp_sect);
		break;
	case K_LAT:
		s->s_m[0] = m_add(xprintf("%s.p50", k), xprintf("%s, p50", l),
		    "us", sp->sp_sect);
		s->s_m[1] = m_add(xprintf("%s.p99", k), xprintf("%s, p99", l),
		    "us", sp->sp_sect);
		break;
	case K_MEM:
		s->s_m[0] = m_add(xprintf("%s.pss", k), xprintf("%s: Pss", l),
		    "KiB", sp->sp_sect);
		s->s_m[1] = m_add(xprintf("%s.private", k), xprintf("%s: "
		    "private (clean + dirty)", l), "KiB", sp->sp_sect);
		break;
	case K_PY:
		s->s_m[0] = m_add("noop.py_pool_map_cs1", "Python multi"
		    "processing.Pool.map, chunksize=1", "tasks/s", S_NOOP);
		s->s_m[1] = m_add("noop.py_pool_map_auto", "Python Pool.map, "
		    "default chunksize (info)", "tasks/s", S_NOOP);
		s->s_m[2] = m_add("noop.py_executor", "Python ProcessPool"
		    "Executor.map", "tasks/s", S_NOOP);
		break;
	}
}

static void
step_add(const struct opts *o, const struct spec *sp, enum place pl)
{
	struct step *s;

	if (nplan == PLAN_MAX)
		errx(1, "plan too long");
	s = &plan[nplan++];
	memset(s, 0, sizeof(*s));
	s->s_name = sp->sp_key;
	s->s_kind = sp->sp_kind;
	s->s_place = pl;
	s->s_fn = sp->sp_fn;
	s->s_group = ngroups;
	s->s_plot = sp->sp_plot ? sp->sp_plot + 2 * (int)pl : 0;
	s->s_m[0] = s->s_m[1] = s->s_m[2] = -1;
	s->s_bp.bp_workers = sp->sp_workers ? sp->sp_workers : o->o_workers;
	s->s_bp.bp_inflight = sp->sp_inflight;
	s->s_bp.bp_spin_us = sp->sp_spin;
	s->s_bp.bp_pin = pl == P_ONECPU;
	s->s_bp.bp_secs = o->o_secs;
	s->s_bp.bp_samples = o->o_samples;
	s->s_bp.bp_reps = o->o_reps;
	spec_metrics(sp, s);
}

/* A group: its specs back to back on one CPU, then unpinned. */
static void
group(const struct opts *o, const struct spec *sp, size_t n)
{
	struct step none;
	unsigned p;
	size_t i;

	for (p = 0; p < P_NPLACE; p++) {
		for (i = 0; i < n; i++) {
			if (p == P_ONECPU && (sp[i].sp_flags & ONLY_FREE))
				continue;
			/* Skipped: its rows stay in the table, empty. */
			if (sp[i].sp_kind == K_PY && o->o_python == NULL) {
				spec_metrics(&sp[i], &none);
				continue;
			}
			step_add(o, &sp[i], (enum place)p);
		}
		ngroups++;
	}
}

#define GROUP(o, a) group((o), (a), sizeof(a) / sizeof((a)[0]))

static void
plan_noop(const struct opts *o)
{
	const struct spec batched[] = {
		{ "noop.fb_batched", "forkboard: submit_batch(256) + "
		    "take(256)", K_RATE, S_NOOP, fbs_batched, 0, 0, 0, 0, 0 },
		{ "noop.fb_batched_clock", "forkboard batched, task_clock = "
		    "FB_CLOCK_BATCH", K_RATE, S_NOOP, fbs_batched_clock, 0, 0,
		    0, 0, 0 },
		{ "noop.raw_coalesced", "raw loop, coalesced (1 write/worker/"
		    "wake-up)", K_RATE, S_NOOP, raw_coalesced, 0, 0, 0, 0, 0 },
		{ "noop.fb_batched_trace", "forkboard batched, trace ring on "
		    "(info)", K_RATE, S_NOOP, fbs_batched_trace, 0, 0, 0, 0,
		    0 },
	}, onebyone[] = {
		{ "noop.fb_onebyone", "forkboard: submit + next, 128 in "
		    "flight", K_RATE, S_NOOP, fbs_onebyone, 0,
		    ONEBYONE_INFLIGHT, 0, 0, 0 },
		{ "noop.raw_percode", "raw loop, 1 write per task, 128 in "
		    "flight", K_RATE, S_NOOP, raw_percode, 0,
		    ONEBYONE_INFLIGHT, 0, 0, 0 },
		{ "noop.fb_onebyone_trace", "forkboard one-by-one, trace ring "
		    "on (info)", K_RATE, S_NOOP, fbs_onebyone_trace, 0,
		    ONEBYONE_INFLIGHT, 0, 0, 0 },
		{ "noop.fb_onebyone_rusage", "forkboard one-by-one, rusage on "
		    "(info)", K_RATE, S_NOOP, fbs_onebyone_rusage, 0,
		    ONEBYONE_INFLIGHT, 0, 0, 0 },
	}, others[] = {
		{ "noop.seed_pool", "seed-style pool, payload via pipe, 128 in "
		    "flight", K_RATE, S_NOOP, seed_noop, 0,
		    ONEBYONE_INFLIGHT, 0, 0, 0 },
		{ "noop.fork_per_task", "fork per task (one per worker at a "
		    "time)", K_RATE, S_NOOP, fork_per_task, 0, 0, 0, 0, 0 },
		{ "python", "", K_PY, S_NOOP, NULL, 0, 0, 0, 0, 0 },
	};

	GROUP(o, batched);
	GROUP(o, onebyone);
	GROUP(o, others);
}

static void
plan_scale(const struct opts *o)
{
	struct spec sp[2];
	unsigned i, w;

	memset(sp, 0, sizeof(sp));
	for (i = 0; i < NSCALE; i++) {
		w = scale_workers[i];
		sp[0].sp_key = xprintf("scale.fb.w%u", w);
		sp[0].sp_label = xprintf("forkboard, batched, %2u worker%s", w,
		    w > 1 ? "s" : "");
		sp[0].sp_fn = fbs_batched;
		sp[1].sp_key = xprintf("scale.raw.w%u", w);
		sp[1].sp_label = xprintf("raw coalesced loop, %2u worker%s", w,
		    w > 1 ? "s" : "");
		sp[1].sp_fn = raw_coalesced;
		sp[0].sp_kind = sp[1].sp_kind = K_RATE;
		sp[0].sp_sect = sp[1].sp_sect = S_SCALE;
		sp[0].sp_workers = sp[1].sp_workers = w;
		GROUP(o, sp);
	}
}

static void
plan_rest(const struct opts *o)
{
	unsigned w2 = 2 * o->o_workers;
	const struct spec lat[] = {
		{ "lat.fb", "forkboard: submit + wait", K_LAT, S_LAT,
		    fbs_latency, 1, 0, 0, 1, 0 },
		{ "lat.pingpong", "raw pipe ping-pong, 16-byte records", K_LAT,
		    S_LAT, raw_pingpong, 1, 0, 0, 2, 0 },
		{ "lat.fb_spin", "forkboard with spin_us=50 (info)", K_LAT,
		    S_LAT, fbs_latency, 1, 0, SPIN_US, 0, 0 },
	}, big1[] = {
		{ "big.fb_zerocopy", "forkboard: reserve, fill in place, "
		    "commit", K_RATE, S_BIG, fbs_big, 0, w2, 0, 0, 0 },
		{ "big.seed_pool", "seed-style pool: payload through the pipe",
		    K_RATE, S_BIG, seed_big, 0, w2, 0, 0, 0 },
	}, big2[] = {
		{ "big.fb_copy", "forkboard: fb_pool_submit copies it",
		    K_RATE, S_BIG, fbs_big_copy, 0, w2, 0, 0, 0 },
		{ "big.memcpy", "memcpy of 1 MiB, nothing else (info)", K_RATE,
		    S_BIG, memcpy_big, 1, 0, 0, 0, 0 },
	}, ready[] = {
		{ "ready.fb", "forkboard: create + start until all IDLE",
		    K_TIME, S_READY, fbs_ready, READY_WORKERS, 0, 0, 0, 0 },
		{ "ready.raw", "raw forks, each writes a byte when up", K_TIME,
		    S_READY, raw_ready, READY_WORKERS, 0, 0, 0, 0 },
	}, mem[] = {
		{ "mem.fb", "forkboard worker", K_MEM, S_MEM, fbs_memory, 0, 0,
		    0, 0, ONLY_FREE },
		{ "mem.raw", "raw forked child", K_MEM, S_MEM, raw_memory, 1,
		    0, 0, 0, ONLY_FREE },
	};

	GROUP(o, lat);
	GROUP(o, big1);
	GROUP(o, big2);
	GROUP(o, ready);
	GROUP(o, mem);
}

static void
plan_ratios(void)
{
	r_add("batched no-op / raw coalesced loop", "noop.fb_batched",
	    "noop.raw_coalesced", 0, 0.5);
	r_add("batched, FB_CLOCK_BATCH / raw coalesced loop",
	    "noop.fb_batched_clock", "noop.raw_coalesced", 0, 0.5);
	r_add("batched no-op / Pool.map chunksize=1", "noop.fb_batched",
	    "noop.py_pool_map_cs1", 0, 85);
	r_add("one-by-one / raw per-code loop", "noop.fb_onebyone",
	    "noop.raw_percode", 0, 0.8);
	r_add("latency p50 / ping-pong p50", "lat.fb.p50", "lat.pingpong.p50",
	    1, 1.2);
	r_add("latency p99 / its own p50", "lat.fb.p99", "lat.fb.p50", 1, 3);
	r_add("1 MiB zero-copy / pipe-transport pool", "big.fb_zerocopy",
	    "big.seed_pool", 0, 10);
	r_add("64 workers ready / raw fork of 64", "ready.fb", "ready.raw", 1,
	    2);
	r_add("batched, 64 workers / 2 workers", "scale.fb.w64",
	    "scale.fb.w2", 0, 0.7);
	r_add("1 MiB copying submit / pipe-transport pool", "big.fb_copy",
	    "big.seed_pool", 0, 0);
	r_add("1 MiB zero-copy / memcpy of 1 MiB", "big.fb_zerocopy",
	    "big.memcpy", 0, 0);
	r_add("one-by-one / seed-style pool", "noop.fb_onebyone",
	    "noop.seed_pool", 0, 0);
	r_add("spin_us=50 latency p50 / ping-pong p50", "lat.fb_spin.p50",
	    "lat.pingpong.p50", 0, 0);
	r_add("worker private memory / raw child's", "mem.fb.private",
	    "mem.raw.private", 0, 0);
	r_add("batched, trace on / off", "noop.fb_batched_trace",
	    "noop.fb_batched", 0, 0);
	r_add("batched, clock per batch / per task", "noop.fb_batched_clock",
	    "noop.fb_batched", 0, 0);
	r_add("raw coalesced loop / Pool.map chunksize=1",
	    "noop.raw_coalesced", "noop.py_pool_map_cs1", 0, 0);
	r_add("batched, FB_CLOCK_BATCH / Pool.map chunksize=1",
	    "noop.fb_batched_clock", "noop.py_pool_map_cs1", 0, 0);
	r_add("one-by-one, trace on / off", "noop.fb_onebyone_trace",
	    "noop.fb_onebyone", 0, 0);
	r_add("one-by-one, rusage on / off", "noop.fb_onebyone_rusage",
	    "noop.fb_onebyone", 0, 0);
}

void
plan_build(const struct opts *o)
{
	plan_noop(o);
	plan_scale(o);
	plan_rest(o);
	plan_ratios();
}
