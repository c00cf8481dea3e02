/*
 * bench.h - what the benchmark programs share: the shape of one
 * measurement, its result, and the helpers and scenarios of each file.
 *
 * Every scenario is a function that runs in a process of its own (the
 * driver forks one per measurement), forks whatever workers it needs, reaps
 * them all before it returns, and reports through struct bres.  It returns
 * 0, or -1 after printing why (warn(3)).
 */
#ifndef FB_BENCH_H
#define FB_BENCH_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define B_SMALL		64		/* no-op payload and result bytes */
#define B_BIG		(1u << 20)	/* the big payload: 1 MiB */
#define B_SLOTS_PER_WORKER 64		/* forkboard's default */
#define B_CODE_NOOP	1		/* copy payload to result */
#define B_CODE_SUM	2		/* 64-bit word sum of the payload */
#define B_BATCH		256		/* jobs per fb_pool_submit_batch() */
#define B_WARMUP	200		/* untimed round trips before latency */

/* What a measurement is asked to do. */
struct bparams {
	unsigned	 bp_workers;
	unsigned	 bp_inflight;	/* tasks kept in flight; 0: default */
	double		 bp_secs;	/* length of a throughput window */
	unsigned	 bp_samples;	/* latency samples */
	unsigned	 bp_reps;	/* repetitions (ready time) */
	unsigned	 bp_spin_us;	/* forkboard's spin_us */
};

/* What it reports.  br_samples (latencies, ns) is malloc'd by the
 * scenario; the driver carries it back over a pipe. */
struct bres {
	double		 br_value;	/* tasks/s, ns or KiB, by scenario */
	double		 br_aux[3];	/* scenario-specific extras */
	uint64_t	 br_tasks;	/* tasks run in the timed window */
	double		 br_secs;	/* timed window, as measured */
	uint32_t	 br_nsamples;
	int64_t		*br_samples;
};

typedef int (*bench_fn)(const struct bparams *, struct bres *);

/* util.c */
int64_t	 b_now_ns(void);
ssize_t	 b_read_full(int, void *, size_t);
ssize_t	 b_write_full(int, const void *, size_t);
void	*b_shm_create(size_t);
void	 b_shm_free(void *);
void	 b_child_init(void);
int	 b_reap(pid_t, int *);
int	 b_reap_all(pid_t *, unsigned);
void	 b_fill(void *, size_t, uint64_t);
uint64_t b_fill_sum(size_t, uint64_t);
uint64_t b_sum64(const void *, size_t);
int	 b_smaps(pid_t, double *, double *, double *);
int	 b_cmp_i64(const void *, const void *);
double	 b_pct(const int64_t *, size_t, double);
void	 b_throughput(struct bres *, uint64_t, int64_t);
int64_t	*b_samples(struct bres *, unsigned);
int	 b_median_of(struct bres *, int64_t *, unsigned);

/* raw.c: the hand-written pipe+shm loop, ping-pong, raw forks */
int	 raw_coalesced(const struct bparams *, struct bres *);
int	 raw_percode(const struct bparams *, struct bres *);
int	 raw_pingpong(const struct bparams *, struct bres *);
int	 raw_ready(const struct bparams *, struct bres *);
int	 raw_memory(const struct bparams *, struct bres *);

/* seed.c: pipe-transport pool, fork per task, memcpy */
int	 seed_noop(const struct bparams *, struct bres *);
int	 seed_big(const struct bparams *, struct bres *);
int	 fork_per_task(const struct bparams *, struct bres *);
int	 memcpy_big(const struct bparams *, struct bres *);

/* fbside.c: forkboard, through its public header only */
int	 fbs_batched(const struct bparams *, struct bres *);
int	 fbs_onebyone(const struct bparams *, struct bres *);
int	 fbs_latency(const struct bparams *, struct bres *);
int	 fbs_big(const struct bparams *, struct bres *);
int	 fbs_big_copy(const struct bparams *, struct bres *);
int	 fbs_ready(const struct bparams *, struct bres *);
int	 fbs_memory(const struct bparams *, struct bres *);

/* report.c: the driver's results, statistics and outputs */
#define R_MAXROUNDS	64

enum rsect {
	S_NOOP = 0,	/* no-op throughput at the default worker count */
	S_SCALE,	/* batched no-op throughput vs workers */
	S_LAT,		/* single-task round trip */
	S_BIG,		/* 1 MiB payload tasks */
	S_READY,	/* workers ready */
	S_MEM,		/* memory per worker */
	S_NSECT
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

int	 m_add(const char *, const char *, const char *, enum rsect);
int	 m_find(const char *);
void	 m_set(int, unsigned, double);
void	 r_add(const char *, const char *, const char *, int, double);
void	 rep_table(FILE *, const struct rinfo *);
int	 rep_json(const char *, const struct rinfo *);
int	 rep_scale_dat(const char *, const unsigned *, unsigned);
int	 rep_lat_dat(const char *, int64_t *, size_t, int64_t *, size_t);

#endif /* FB_BENCH_H */
