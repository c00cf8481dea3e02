/*
 * fb-bench - forkboard side by side with its baselines.
 *
 *   fb-bench [--smoke] [--rounds N] [--out DIR] [--workers N] [--secs S]
 *            [--samples N] [--python CMD] [--pyscript FILE] [--no-python]
 *   fb-bench --run NAME [--workers N] [--secs S] [--samples N]
 *            [--inflight N] [--spin US]       (one scenario, in-process)
 *
 * Each round runs every measurement once, each in a forked process of its
 * own (clean address space, alarm()-bounded, every child reaped), the
 * forkboard side and its baseline back to back, in swapped order on odd
 * rounds.  Ratios are taken within each round.  The table goes to stdout,
 * progress to stderr, results.json and the gnuplot data files to DIR.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define MAXSTEPS	48
#define MAXSAMPLES	1000000
#define STEP_TIMEOUT	60	/* s, one measurement */
#define PY_TIMEOUT	180	/* s, the Python baselines of one round */
#define ROUND_TIMEOUT	300	/* s, budget per round for the whole run */
#define READY_WORKERS	64
#define ONEBYONE_INFLIGHT 128
#define SPIN_US		50

enum kind { K_RATE, K_LAT, K_TIME, K_MEM, K_PY };

/* One measurement of the plan and the metrics it feeds. */
struct step {
	const char	*s_name;	/* scenario name (--run) */
	enum kind	 s_kind;
	enum rsect	 s_sect;
	bench_fn	 s_fn;
	struct bparams	 s_bp;
	unsigned	 s_group;	/* run back to back with its group */
	int		 s_plot;	/* pool latency samples: 1 fb, 2 raw */
	int		 s_m[3];
};

struct opts {
	int		 o_smoke;
	unsigned	 o_rounds;
	const char	*o_out;
	unsigned	 o_workers;
	double		 o_secs;
	unsigned	 o_samples;
	unsigned	 o_reps;
	double		 o_pysecs;
	const char	*o_python;
	const char	*o_pyscript;
	const char	*o_run;
	unsigned	 o_inflight;
	unsigned	 o_spin;
};

struct pool64 {
	int64_t		*p_v;
	size_t		 p_n;
	size_t		 p_cap;
};

static const struct {
	const char	*n_name;
	bench_fn	 n_fn;
} scenarios[] = {
	{ "fb_batched", fbs_batched },
	{ "fb_onebyone", fbs_onebyone },
	{ "fb_latency", fbs_latency },
	{ "fb_big", fbs_big },
	{ "fb_big_copy", fbs_big_copy },
	{ "fb_ready", fbs_ready },
	{ "fb_memory", fbs_memory },
	{ "raw_coalesced", raw_coalesced },
	{ "raw_percode", raw_percode },
	{ "raw_pingpong", raw_pingpong },
	{ "raw_ready", raw_ready },
	{ "raw_memory", raw_memory },
	{ "seed_noop", seed_noop },
	{ "seed_big", seed_big },
	{ "fork_per_task", fork_per_task },
	{ "memcpy_big", memcpy_big },
};

static const unsigned scale_workers[] = { 1, 2, 4, 16, 64 };
#define NSCALE (sizeof(scale_workers) / sizeof(scale_workers[0]))

static struct step plan[MAXSTEPS];
static unsigned nplan;
static struct pool64 lat_fb, lat_raw;
static struct rinfo info;
static int python_ok = 1;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: fb-bench [--smoke] [--rounds N] [--out DIR] "
	    "[--workers N] [--secs S]\n"
	    "                [--samples N] [--python CMD] [--pyscript FILE] "
	    "[--no-python]\n"
	    "       fb-bench --run NAME [--workers N] [--secs S] "
	    "[--samples N] [--inflight N] [--spin US]\n");
	exit(2);
}

static struct step *
step_add(const char *name, enum kind k, enum rsect sect, bench_fn fn,
    unsigned group)
{
	struct step *s;

	if (nplan == MAXSTEPS)
		errx(1, "plan too long");
	s = &plan[nplan++];
	memset(s, 0, sizeof(*s));
	s->s_name = name;
	s->s_kind = k;
	s->s_sect = sect;
	s->s_fn = fn;
	s->s_group = group;
	s->s_m[0] = s->s_m[1] = s->s_m[2] = -1;
	return s;
}

static void
step_params(struct step *s, const struct opts *o, unsigned workers,
    unsigned inflight)
{
	s->s_bp.bp_workers = workers;
	s->s_bp.bp_inflight = inflight;
	s->s_bp.bp_secs = o->o_secs;
	s->s_bp.bp_samples = o->o_samples;
	s->s_bp.bp_reps = o->o_reps;
}

/* A throughput measurement feeding one metric. */
static struct step *
rate(const struct opts *o, const char *key, const char *label,
    enum rsect sect, bench_fn fn, unsigned group, unsigned workers,
    unsigned inflight)
{
	struct step *s = step_add(key, K_RATE, sect, fn, group);

	step_params(s, o, workers, inflight);
	s->s_m[0] = m_add(key, label, sect == S_BIG ? "tasks/s (= MiB/s)" :
	    "tasks/s", sect);
	return s;
}

static void
plan_noop(const struct opts *o)
{
	unsigned w = o->o_workers;
	struct step *s;

	rate(o, "noop.fb_batched", "forkboard: submit_batch(256) + next_view",
	    S_NOOP, fbs_batched, 1, w, 0);
	rate(o, "noop.raw_coalesced", "raw loop, coalesced (1 write/worker/"
	    "wake-up)", S_NOOP, raw_coalesced, 1, w, 0);
	rate(o, "noop.fb_onebyone", "forkboard: submit + next, one by one, "
	    "128 in flight", S_NOOP, fbs_onebyone, 2, w, ONEBYONE_INFLIGHT);
	rate(o, "noop.raw_percode", "raw loop, 1 write per task, 128 in "
	    "flight", S_NOOP, raw_percode, 2, w, ONEBYONE_INFLIGHT);
	rate(o, "noop.seed_pool", "seed-style pool (payloads through pipes), "
	    "128 in flight", S_NOOP, seed_noop, 3, w, ONEBYONE_INFLIGHT);
	rate(o, "noop.fork_per_task", "fork per task (one child per worker "
	    "at a time)", S_NOOP, fork_per_task, 3, w, 0);
	s = step_add("python", K_PY, S_NOOP, NULL, 4);
	step_params(s, o, w, 0);
	s->s_m[0] = m_add("noop.py_pool_map_cs1", "Python multiprocessing."
	    "Pool.map, chunksize=1", "tasks/s", S_NOOP);
	s->s_m[1] = m_add("noop.py_pool_map_auto", "Python Pool.map, "
	    "default chunksize", "tasks/s", S_NOOP);
	s->s_m[2] = m_add("noop.py_executor", "Python ProcessPoolExecutor."
	    "map, chunksize=1", "tasks/s", S_NOOP);
}

static void
plan_scale(const struct opts *o)
{
	char key[32], label[64];
	unsigned i, w;

	for (i = 0; i < NSCALE; i++) {
		w = scale_workers[i];
		(void)snprintf(key, sizeof(key), "scale.fb.w%u", w);
		(void)snprintf(label, sizeof(label), "forkboard, batched, %u "
		    "worker%s", w, w > 1 ? "s" : "");
		rate(o, strdup(key), strdup(label), S_SCALE, fbs_batched,
		    10 + i, w, 0);
		(void)snprintf(key, sizeof(key), "scale.raw.w%u", w);
		(void)snprintf(label, sizeof(label), "raw coalesced loop, %u "
		    "worker%s", w, w > 1 ? "s" : "");
		rate(o, strdup(key), strdup(label), S_SCALE, raw_coalesced,
		    10 + i, w, 0);
	}
}

static struct step *
latency(const struct opts *o, const char *name, const char *label,
    bench_fn fn, unsigned spin, int plot)
{
	struct step *s = step_add(name, K_LAT, S_LAT, fn, 20);
	char key[48], lab[96];

	step_params(s, o, 1, 0);
	s->s_bp.bp_spin_us = spin;
	s->s_plot = plot;
	(void)snprintf(key, sizeof(key), "%s.p50", name);
	(void)snprintf(lab, sizeof(lab), "%s, p50", label);
	s->s_m[0] = m_add(strdup(key), strdup(lab), "us", S_LAT);
	(void)snprintf(key, sizeof(key), "%s.p99", name);
	(void)snprintf(lab, sizeof(lab), "%s, p99", label);
	s->s_m[1] = m_add(strdup(key), strdup(lab), "us", S_LAT);
	return s;
}

static void
plan_rest(const struct opts *o)
{
	unsigned w = o->o_workers;
	struct step *s;

	latency(o, "lat.fb", "forkboard: submit + wait", fbs_latency, 0, 1);
	latency(o, "lat.pingpong", "raw pipe ping-pong (16-byte records)",
	    raw_pingpong, 0, 2);
	latency(o, "lat.fb_spin", "forkboard with spin_us=50 (info)",
	    fbs_latency, SPIN_US, 0);

	rate(o, "big.fb_zerocopy", "forkboard: reserve, write in place, "
	    "commit", S_BIG, fbs_big, 30, w, 2 * w);
	rate(o, "big.seed_pool", "seed-style pool: payload through the pipe",
	    S_BIG, seed_big, 30, w, 2 * w);
	rate(o, "big.fb_copy", "forkboard: fb_pool_submit (copies the "
	    "payload)", S_BIG, fbs_big_copy, 31, w, 2 * w);
	rate(o, "big.memcpy", "memcpy of 1 MiB alone, one process (info)",
	    S_BIG, memcpy_big, 31, 1, 0);

	s = step_add("ready.fb", K_TIME, S_READY, fbs_ready, 40);
	step_params(s, o, READY_WORKERS, 0);
	s->s_m[0] = m_add("ready.fb", "forkboard: create + start until all "
	    "rows IDLE", "ms", S_READY);
	s = step_add("ready.raw", K_TIME, S_READY, raw_ready, 40);
	step_params(s, o, READY_WORKERS, 0);
	s->s_m[0] = m_add("ready.raw", "raw fork, each child writes a byte "
	    "when up", "ms", S_READY);

	s = step_add("mem.fb", K_MEM, S_MEM, fbs_memory, 50);
	step_params(s, o, w, 0);
	s->s_m[0] = m_add("mem.fb.pss", "forkboard worker: Pss", "KiB",
	    S_MEM);
	s->s_m[1] = m_add("mem.fb.private", "forkboard worker: private "
	    "(clean + dirty)", "KiB", S_MEM);
	s = step_add("mem.raw", K_MEM, S_MEM, raw_memory, 50);
	step_params(s, o, 1, 0);
	s->s_m[0] = m_add("mem.raw.pss", "raw forked child: Pss", "KiB",
	    S_MEM);
	s->s_m[1] = m_add("mem.raw.private", "raw forked child: private "
	    "(clean + dirty)", "KiB", S_MEM);
}

static void
plan_ratios(void)
{
	r_add("batched no-op / raw coalesced loop", "noop.fb_batched",
	    "noop.raw_coalesced", 0, 0.5);
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
	r_add("batched at 64 workers / at 2 workers", "scale.fb.w64",
	    "scale.fb.w2", 0, 0.7);
	r_add("1 MiB copying submit / pipe-transport pool", "big.fb_copy",
	    "big.seed_pool", 0, 0);
	r_add("1 MiB zero-copy / memcpy of 1 MiB", "big.fb_zerocopy",
	    "big.memcpy", 0, 0);
	r_add("latency p50 with spin_us=50 / ping-pong p50", "lat.fb_spin.p50",
	    "lat.pingpong.p50", 0, 0);
	r_add("one-by-one / seed-style pool", "noop.fb_onebyone",
	    "noop.seed_pool", 0, 0);
	r_add("worker Pss / raw child Pss", "mem.fb.pss", "mem.raw.pss", 0, 0);
}

/* Run fn in a child of its own; its result comes back over a pipe. */
static int
measure(bench_fn fn, const struct bparams *bp, struct bres *br)
{
	size_t bytes;
	ssize_t n;
	pid_t pid;
	int fds[2], st, ok;

	fflush(NULL);
	if (pipe2(fds, O_CLOEXEC) == -1 || (pid = fork()) == -1)
		err(1, "pipe/fork");
	if (pid == 0) {
		(void)close(fds[0]);
		alarm(STEP_TIMEOUT);
		memset(br, 0, sizeof(*br));
		if (fn(bp, br) != 0 ||
		    b_write_full(fds[1], br, sizeof(*br)) == -1 ||
		    b_write_full(fds[1], br->br_samples,
		    br->br_nsamples * sizeof(int64_t)) == -1)
			_exit(1);
		_exit(0);
	}
	(void)close(fds[1]);
	n = b_read_full(fds[0], br, sizeof(*br));
	ok = n == sizeof(*br) && br->br_nsamples <= MAXSAMPLES;
	br->br_samples = NULL;
	if (ok && br->br_nsamples > 0) {
		bytes = br->br_nsamples * sizeof(int64_t);
		if ((br->br_samples = malloc(bytes)) == NULL)
			err(1, "malloc");
		ok = b_read_full(fds[0], br->br_samples, bytes) ==
		    (ssize_t)bytes;
	}
	(void)close(fds[0]);
	if (b_reap(pid, &st) == -1)
		err(1, "waitpid");
	if (WIFSIGNALED(st))
		warnx("killed by signal %d%s", WTERMSIG(st),
		    WTERMSIG(st) == SIGALRM ? " (timed out)" : "");
	if (!ok || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		free(br->br_samples);
		br->br_samples = NULL;
		return -1;
	}
	return 0;
}

static void
pool_add(struct pool64 *p, const int64_t *v, size_t n)
{
	if (p->p_n + n > p->p_cap) {
		p->p_cap = (p->p_n + n) * 2;
		if ((p->p_v = realloc(p->p_v, p->p_cap * sizeof(*v))) == NULL)
			err(1, "realloc");
	}
	memcpy(p->p_v + p->p_n, v, n * sizeof(*v));
	p->p_n += n;
}

/* Turn one measurement into metric values for this round. */
static void
record(const struct step *s, struct bres *br, unsigned round)
{
	size_t n = br->br_nsamples;

	switch (s->s_kind) {
	case K_RATE:
		m_set(s->s_m[0], round, br->br_value);
		fprintf(stderr, " %.0f tasks/s\n", br->br_value);
		break;
	case K_TIME:
		m_set(s->s_m[0], round, br->br_value / 1e6);
		fprintf(stderr, " %.2f ms\n", br->br_value / 1e6);
		break;
	case K_MEM:
		m_set(s->s_m[0], round, br->br_value);
		m_set(s->s_m[1], round, br->br_aux[0]);
		fprintf(stderr, " Pss %.0f KiB\n", br->br_value);
		break;
	case K_LAT:
		if (s->s_plot == 1)
			pool_add(&lat_fb, br->br_samples, n);
		else if (s->s_plot == 2)
			pool_add(&lat_raw, br->br_samples, n);
		qsort(br->br_samples, n, sizeof(int64_t), b_cmp_i64);
		m_set(s->s_m[0], round, b_pct(br->br_samples, n, 50) / 1e3);
		m_set(s->s_m[1], round, b_pct(br->br_samples, n, 99) / 1e3);
		fprintf(stderr, " p50 %.1f us, p99 %.1f us\n",
		    b_pct(br->br_samples, n, 50) / 1e3,
		    b_pct(br->br_samples, n, 99) / 1e3);
		break;
	case K_PY:
		break;
	}
}

/* One "key value" line of the Python script's output. */
static void
py_line(const struct step *s, const char *line, unsigned round)
{
	char key[64], mkey[80];
	double v;
	int i, m;

	if (sscanf(line, "python %127[^\n]", info.ri_python) == 1)
		return;
	if (sscanf(line, "%63s %lf", key, &v) != 2)
		return;
	(void)snprintf(mkey, sizeof(mkey), "noop.py_%s", key);
	if ((m = m_find(mkey)) < 0)
		return;
	for (i = 0; i < 3; i++)
		if (s->s_m[i] == m)
			m_set(m, round, v);
	fprintf(stderr, " %s %.0f", key, v);
}

static pid_t
py_spawn(const struct opts *o, const struct step *s, int *fd)
{
	char w[16], secs[32];
	int fds[2];
	pid_t pid;

	(void)snprintf(w, sizeof(w), "%u", s->s_bp.bp_workers);
	(void)snprintf(secs, sizeof(secs), "%g", o->o_pysecs);
	fflush(NULL);
	if (pipe2(fds, O_CLOEXEC) == -1 || (pid = fork()) == -1)
		err(1, "pipe/fork");
	if (pid == 0) {
		if (dup2(fds[1], STDOUT_FILENO) == -1)
			_exit(127);
		alarm(PY_TIMEOUT);	/* survives exec */
		execlp(o->o_python, o->o_python, o->o_pyscript, "--workers",
		    w, "--secs", secs, (char *)NULL);
		_exit(127);
	}
	(void)close(fds[1]);
	*fd = fds[0];
	return pid;
}

static int
run_python(const struct opts *o, const struct step *s, unsigned round)
{
	char line[256];
	FILE *f;
	pid_t pid;
	int fd, st;

	if (!python_ok) {
		fprintf(stderr, " %s\n", info.ri_python);
		return 0;
	}
	pid = py_spawn(o, s, &fd);
	if ((f = fdopen(fd, "r")) == NULL)
		err(1, "fdopen");
	while (fgets(line, sizeof(line), f) != NULL)
		py_line(s, line, round);
	(void)fclose(f);
	if (b_reap(pid, &st) == -1)
		err(1, "waitpid");
	fprintf(stderr, "\n");
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
		(void)snprintf(info.ri_python, sizeof(info.ri_python),
		    "skipped: cannot run %s", o->o_python);
		python_ok = 0;
		return 0;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		warnx("python baselines failed (status %#x)", st);
		return -1;
	}
	return 0;
}

static int
run_step(const struct opts *o, const struct step *s, unsigned round)
{
	struct bres br;

	fprintf(stderr, "bench: round %u/%u %-20s", round + 1, o->o_rounds,
	    s->s_name);
	if (s->s_kind == K_PY)
		return run_python(o, s, round);
	if (measure(s->s_fn, &s->s_bp, &br) == -1) {
		fprintf(stderr, " FAILED\n");
		warnx("%s: measurement failed", s->s_name);
		return -1;
	}
	record(s, &br, round);
	free(br.br_samples);
	return 0;
}

/* Every step once, groups in order; odd rounds swap the order inside
 * each group, so neither side always runs first. */
static int
run_round(const struct opts *o, unsigned round)
{
	unsigned i, j, k, n, fails = 0;

	for (i = 0; i < nplan; i = j) {
		for (j = i; j < nplan && plan[j].s_group == plan[i].s_group;
		    j++)
			;
		n = j - i;
		for (k = 0; k < n; k++)
			if (run_step(o, &plan[round % 2 ? j - 1 - k : i + k],
			    round) == -1)
				fails++;
	}
	return (int)fails;
}

static void
mkdir_p(const char *dir)
{
	char *d, *p;

	if ((d = strdup(dir)) == NULL)
		err(1, "strdup");
	for (p = d + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(d, 0755) == -1 && errno != EEXIST)
			err(1, "mkdir %s", d);
		*p = '/';
	}
	if (mkdir(d, 0755) == -1 && errno != EEXIST)
		err(1, "mkdir %s", d);
	free(d);
}

static int
write_outputs(const struct opts *o)
{
	char path[4096];
	int r = 0;

	mkdir_p(o->o_out);
	(void)snprintf(path, sizeof(path), "%s/results.json", o->o_out);
	r |= rep_json(path, &info);
	(void)snprintf(path, sizeof(path), "%s/throughput.dat", o->o_out);
	r |= rep_scale_dat(path, scale_workers, NSCALE);
	(void)snprintf(path, sizeof(path), "%s/latency.dat", o->o_out);
	r |= rep_lat_dat(path, lat_fb.p_v, lat_fb.p_n, lat_raw.p_v,
	    lat_raw.p_n);
	return r;
}

/* --run NAME: one scenario, in this process (for perf and debugging). */
static int
run_one(const struct opts *o)
{
	struct bparams bp;
	struct bres br;
	size_t i, n;

	memset(&bp, 0, sizeof(bp));
	bp.bp_workers = o->o_workers;
	bp.bp_secs = o->o_secs;
	bp.bp_samples = o->o_samples;
	bp.bp_reps = o->o_reps;
	bp.bp_inflight = o->o_inflight;
	bp.bp_spin_us = o->o_spin;
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (strcmp(scenarios[i].n_name, o->o_run) != 0)
			continue;
		memset(&br, 0, sizeof(br));
		if (scenarios[i].n_fn(&bp, &br) != 0)
			return 1;
		n = br.br_nsamples;
		if (n > 0) {
			qsort(br.br_samples, n, sizeof(int64_t), b_cmp_i64);
			printf("%s: p50 %.2f us, p99 %.2f us, max %.2f us\n",
			    o->o_run, b_pct(br.br_samples, n, 50) / 1e3,
			    b_pct(br.br_samples, n, 99) / 1e3,
			    (double)br.br_samples[n - 1] / 1e3);
		} else
			printf("%s: %.6g (aux %.6g %.6g; %llu tasks in %.3f s)"
			    "\n", o->o_run, br.br_value, br.br_aux[0],
			    br.br_aux[1], (unsigned long long)br.br_tasks,
			    br.br_secs);
		return 0;
	}
	warnx("unknown scenario %s", o->o_run);
	return 2;
}

static unsigned
num(const char *s, unsigned lo, unsigned hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		errx(2, "bad number %s (%u..%u)", s, lo, hi);
	return (unsigned)v;
}

static void
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "smoke", no_argument, NULL, 'S' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' },
		{ "workers", required_argument, NULL, 'w' },
		{ "secs", required_argument, NULL, 's' },
		{ "samples", required_argument, NULL, 'n' },
		{ "python", required_argument, NULL, 'p' },
		{ "pyscript", required_argument, NULL, 'P' },
		{ "no-python", no_argument, NULL, 'N' },
		{ "run", required_argument, NULL, 'R' },
		{ "inflight", required_argument, NULL, 'i' },
		{ "spin", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	double secs = 0;
	unsigned rounds = 0, samples = 0;
	int c;

	memset(o, 0, sizeof(*o));
	o->o_out = "bench/out";
	o->o_workers = 2;
	o->o_python = "python3";
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'S': o->o_smoke = 1; break;
		case 'r': rounds = num(optarg, 1, R_MAXROUNDS); break;
		case 'o': o->o_out = optarg; break;
		case 'w': o->o_workers = num(optarg, 1, 1024); break;
		case 's':
			if ((secs = strtod(optarg, NULL)) <= 0 || secs > 30)
				errx(2, "bad --secs %s", optarg);
			break;
		case 'n': samples = num(optarg, 1, MAXSAMPLES); break;
		case 'p': o->o_python = optarg; break;
		case 'P': o->o_pyscript = optarg; break;
		case 'N': o->o_pyscript = NULL; o->o_python = NULL; break;
		case 'R': o->o_run = optarg; break;
		case 'i': o->o_inflight = num(optarg, 1, 65536); break;
		case 'x': o->o_spin = num(optarg, 0, 1000000); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	o->o_rounds = rounds ? rounds : o->o_smoke ? 1 : 5;
	o->o_secs = secs ? secs : o->o_smoke ? 0.02 : 0.4;
	o->o_samples = samples ? samples : o->o_smoke ? 300 : 20000;
	o->o_reps = o->o_smoke ? 1 : 5;
	o->o_pysecs = o->o_smoke ? 0.05 : 0.5;
}

int
main(int argc, char **argv)
{
	struct opts o;
	int64_t t0 = b_now_ns();
	int fails = 0;
	unsigned r;

	parse(argc, argv, &o);
	if (o.o_run != NULL)
		return run_one(&o);
	alarm(o.o_rounds * ROUND_TIMEOUT + 60);
	memset(&info, 0, sizeof(info));
	info.ri_mode = o.o_smoke ? "smoke" : "full";
	info.ri_rounds = o.o_rounds;
	info.ri_workers = o.o_workers;
	info.ri_inflight = ONEBYONE_INFLIGHT;
	info.ri_ready_workers = READY_WORKERS;
	info.ri_secs = o.o_secs;
	info.ri_samples = o.o_samples;
	if (o.o_python == NULL || o.o_pyscript == NULL) {
		(void)snprintf(info.ri_python, sizeof(info.ri_python), "%s",
		    o.o_python == NULL ? "skipped: no python3" :
		    "skipped: no --pyscript");
		python_ok = 0;
	}
	plan_noop(&o);
	plan_scale(&o);
	plan_rest(&o);
	plan_ratios();
	for (r = 0; r < o.o_rounds; r++)
		fails += run_round(&o, r);
	info.ri_elapsed = (double)(b_now_ns() - t0) / 1e9;
	info.ri_failures = fails;
	rep_table(stdout, &info);
	fflush(stdout);
	if (write_outputs(&o) != 0)
		fails++;
	return fails ? 1 : 0;
}
