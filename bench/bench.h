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
	int		 bp_pin;	/* run everything on one CPU */
};

/* Kernel counts per task over the timed part (counters.c). */
enum {
	B_CTR_SYSCALLS = 0,
	B_CTR_SWITCHES,
	B_CTR_WAKEUPS,
	B_CTR_MIGRATIONS,
	B_CTR_CPUNS,		/* CPU time, ns */
	B_NCTR
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
	double		 br_per[B_NCTR]; /* per task; NAN: not counted */
};

typedef int (*bench_fn)(const struct bparams *, struct bres *);

/*
 * A throughput window: a warm-up (a quarter of the window, at most
 * 100 ms: let the scheduler settle), then the tasks completed during
 * bp_secs.  The tail, tasks still in flight at the end, is drained and
 * checked but not timed.
 */
struct bwin {
	int64_t		 w_warm;	/* warm-up ends, window opens */
	int64_t		 w_end;		/* window closes: stop submitting */
	int64_t		 w_t0;
	int64_t		 w_t1;
	uint64_t	 w_done0;
	uint64_t	 w_done1;
	int		 w_state;	/* 0 warming, 1 open, 2 closed */
	unsigned	 w_calls;	/* b_win_tick() calls */
};

/* counters.c */
extern const char *const b_ctr_key[B_NCTR];	/* "sys", ... in metric keys */
void	 b_ctr_open(void);
void	 b_ctr_start(void);
void	 b_ctr_stop(void);
void	 b_ctr_per(struct bres *, uint64_t);

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
void	 b_res_init(struct bres *);
void	 b_throughput(struct bres *, uint64_t, int64_t);
int64_t	*b_samples(struct bres *, unsigned);
int	 b_median_of(struct bres *, int64_t *, unsigned);
void	 b_win_start(struct bwin *, double);
int	 b_win_tick(struct bwin *, uint64_t);
void	 b_win_end(struct bwin *, uint64_t, struct bres *);
int	 b_pin(void);

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
int	 fbs_batched_trace(const struct bparams *, struct bres *);
int	 fbs_batched_clock(const struct bparams *, struct bres *);
int	 fbs_onebyone_clock(const struct bparams *, struct bres *);
int	 fbs_onebyone_trace(const struct bparams *, struct bres *);
int	 fbs_onebyone_rusage(const struct bparams *, struct bres *);

#endif /* FB_BENCH_H */
