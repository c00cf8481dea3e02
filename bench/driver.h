/*
 * driver.h - fb-bench's driver: the plan of measurements (plan.c), running
 * it (bench.c), and the results with their outputs (report.c).
 *
 * Every measurement runs in two placements: all its processes on one CPU
 * (pinned: a stable measure of what each task costs, which the targets
 * are judged on) and unpinned (where the scheduler puts them: closer to
 * real use, but on a small or shared machine it moves from run to run).
 */
#ifndef FB_DRIVER_H
#define FB_DRIVER_H

#include <stdio.h>

#include "bench.h"

#define R_MAXROUNDS	64

enum place {
	P_ONECPU = 0,
	P_FREE,
	P_NPLACE
};

enum rsect {
	S_NOOP = 0,	/* no-op throughput at the default worker count */
	S_SCALE,	/* batched no-op throughput vs workers */
	S_LAT,		/* single-task round trip */
	S_BIG,		/* 1 MiB payload tasks */
	S_READY,	/* workers ready */
	S_MEM,		/* memory per worker */
	S_NSECT,
	S_PERTASK = S_NSECT	/* per-task counts: beside the ratios */
};

enum kind { K_RATE, K_LAT, K_TIME, K_MEM, K_PY };

struct opts {
	int		 o_smoke;
	unsigned	 o_rounds;
	const char	*o_out;
	unsigned	 o_workers;
	double		 o_secs;
	unsigned	 o_samples;
	unsigned	 o_reps;
	double		 o_pysecs;
	const char	*o_python;	/* NULL: no Python baselines */
	const char	*o_pyscript;
	const char	*o_run;
	unsigned	 o_inflight;
	unsigned	 o_spin;
	int		 o_pin;
};

/* One measurement of the plan and the metrics it feeds. */
struct step {
	const char	*s_name;
	enum kind	 s_kind;
	enum place	 s_place;
	bench_fn	 s_fn;
	struct bparams	 s_bp;
	unsigned	 s_group;	/* run back to back with its group */
	int		 s_plot;	/* 1..NLAT: keep latency samples */
	int		 s_m[3];	/* metrics */
	int		 s_pt[B_NCTR];	/* per-task kernel counts: metrics */
};

/* What the table and the JSON file say about the run. */
struct rinfo {
	const char	*ri_mode;	/* "full" or "smoke" */
	unsigned	 ri_rounds;
	unsigned	 ri_workers;
	unsigned	 ri_inflight;
	unsigned	 ri_ready_workers;
	double		 ri_secs;
	unsigned	 ri_samples;
	char		 ri_python[128];	/* version, or why skipped */
	double		 ri_elapsed;
	int		 ri_failures;
};

#define PLAN_MAX	96
#define ONEBYONE_INFLIGHT 128
#define READY_WORKERS	64
#define SPIN_US		50
#define NLAT		4	/* latency distributions plotted */
#define NSCALE		5

extern struct step plan[PLAN_MAX];
extern unsigned nplan;
extern const unsigned scale_workers[NSCALE];

/* plan.c */
void	 plan_build(const struct opts *);

/* report.c */
int	 m_add(const char *, const char *, const char *, enum rsect);
int	 m_find(const char *);
void	 m_set(int, enum place, unsigned, double);
void	 r_add(const char *, const char *, const char *, int, double);
void	 rep_table(FILE *, const struct rinfo *);
int	 rep_json(const char *, const struct rinfo *);
int	 rep_scale_dat(const char *);
int	 rep_lat_dat(const char *, int64_t **, size_t *, unsigned);
int	 m_median(const char *, enum place, double *);

/* pertask.c */
void	 pt_lines(FILE *, const char *, const char *);

#endif /* FB_DRIVER_H */
