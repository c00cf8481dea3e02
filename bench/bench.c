/*
 * fb-bench - forkboard side by side with its baselines.
 *
 *   fb-bench [--smoke] [--rounds N] [--out DIR] [--workers N] [--secs S]
 *            [--samples N] [--python CMD] [--pyscript FILE] [--no-python]
 *   fb-bench --run NAME [--workers N] [--secs S] [--samples N]
 *            [--inflight N] [--spin US] [--pin]  (one scenario, here)
 *
 * Each round runs every measurement of the plan (plan.c) once per
 * placement, each in a forked process of its own (clean address space,
 * alarm()-bounded, every child reaped, no SysV segment may outlive it):
 * the forkboard side and its baselines back to back, in swapped order on
 * odd rounds.  Ratios are taken within each round (report.c).  The table
 * goes to stdout, progress to stderr, results.json and the gnuplot data
 * files to DIR.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"

#define MAXSAMPLES	1000000
#define STEP_TIMEOUT	60	/* s, one measurement */
#define PY_TIMEOUT	180	/* s, the Python baselines of one round */
#define ROUND_TIMEOUT	300	/* s, budget per round for the whole run */

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
	{ "fb_batched_trace", fbs_batched_trace },
	{ "fb_batched_clock", fbs_batched_clock },
	{ "fb_onebyone_clock", fbs_onebyone_clock },
	{ "fb_onebyone_trace", fbs_onebyone_trace },
	{ "fb_onebyone_rusage", fbs_onebyone_rusage },
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

static const struct option longopts[] = {
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
	{ "pin", no_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static struct pool64 lat[NLAT];
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
	    "[--samples N] [--inflight N] [--spin US]\n"
	    "                [--pin]\n");
	exit(2);
}

/* A SysV segment created by pid that still exists: its id, or -1. */
static int
shm_of(pid_t pid)
{
	char line[512];
	FILE *f;
	int id, cpid, found = -1;

	if ((f = fopen("/proc/sysvipc/shm", "r")) == NULL)
		return -1;
	while (found == -1 && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%*s %d %*s %*s %d", &id, &cpid) == 2 &&
		    cpid == (int)pid)
			found = id;
	(void)fclose(f);
	return found;
}

/* Every segment a measurement made must be gone once it is reaped (its
 * workers die asynchronously if it was killed: allow them a second). */
static int
check_shm(pid_t pid)
{
	int i, id;

	for (i = 0; i < 20 && (id = shm_of(pid)) != -1; i++)
		(void)usleep(50000);
	if (id == -1)
		return 0;
	warnx("SysV segment %d made by %d outlived it", id, (int)pid);
	return -1;
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
		b_res_init(br);
		b_ctr_open();
		if ((bp->bp_pin && b_pin() == -1) || fn(bp, br) != 0 ||
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
	if (check_shm(pid) == -1)
		ok = 0;
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
	enum place pl = s->s_place;
	int i;

	for (i = 0; i < B_NCTR; i++)
		if (!isnan(br->br_per[i]))
			m_set(s->s_pt[i], pl, round, br->br_per[i]);
	switch (s->s_kind) {
	case K_RATE:
		m_set(s->s_m[0], pl, round, br->br_value);
		fprintf(stderr, " %.0f tasks/s\n", br->br_value);
		break;
	case K_TIME:
		m_set(s->s_m[0], pl, round, br->br_value / 1e6);
		fprintf(stderr, " %.2f ms\n", br->br_value / 1e6);
		break;
	case K_MEM:
		m_set(s->s_m[0], pl, round, br->br_value);
		m_set(s->s_m[1], pl, round, br->br_aux[0]);
		fprintf(stderr, " Pss %.0f KiB\n", br->br_value);
		break;
	case K_LAT:
		if (s->s_plot > 0 && s->s_plot <= NLAT)
			pool_add(&lat[s->s_plot - 1], br->br_samples, n);
		qsort(br->br_samples, n, sizeof(int64_t), b_cmp_i64);
		m_set(s->s_m[0], pl, round, b_pct(br->br_samples, n, 50) / 1e3);
		m_set(s->s_m[1], pl, round, b_pct(br->br_samples, n, 99) / 1e3);
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
			m_set(m, s->s_place, round, v);
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
		alarm(PY_TIMEOUT);	/* survives exec, as affinity does */
		if (s->s_bp.bp_pin && b_pin() == -1)
			_exit(1);
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

	fprintf(stderr, "bench: round %u/%u %-8s %-20s", round + 1,
	    o->o_rounds, s->s_place == P_ONECPU ? "one-cpu" : "unpinned",
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
	int64_t *v[NLAT];
	size_t n[NLAT];
	unsigned i;
	int r = 0;

	mkdir_p(o->o_out);
	(void)snprintf(path, sizeof(path), "%s/results.json", o->o_out);
	r |= rep_json(path, &info);
	(void)snprintf(path, sizeof(path), "%s/throughput.dat", o->o_out);
	r |= rep_scale_dat(path);
	(void)snprintf(path, sizeof(path), "%s/latency.dat", o->o_out);
	for (i = 0; i < NLAT; i++) {
		v[i] = lat[i].p_v;
		n[i] = lat[i].p_n;
	}
	r |= rep_lat_dat(path, v, n, NLAT);
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
	bp.bp_pin = o->o_pin;
	if (bp.bp_pin && b_pin() == -1)
		return 1;
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (strcmp(scenarios[i].n_name, o->o_run) != 0)
			continue;
		b_res_init(&br);
		b_ctr_open();
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
		printf("%s: per task: %.3f syscalls, %.3f context switches, "
		    "%.3f wake-ups, %.4f migrations, %.0f ns CPU\n", o->o_run,
		    br.br_per[B_CTR_SYSCALLS], br.br_per[B_CTR_SWITCHES],
		    br.br_per[B_CTR_WAKEUPS], br.br_per[B_CTR_MIGRATIONS],
		    br.br_per[B_CTR_CPUNS]);
		return 0;
	}
	warnx("unknown scenario %s; one of:", o->o_run);
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		fprintf(stderr, " %s", scenarios[i].n_name);
	fprintf(stderr, "\n");
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
	double secs = 0;
	unsigned rounds = 0, samples = 0;
	int c;

	memset(o, 0, sizeof(*o));
	o->o_out = "bench/out";
	o->o_workers = 2;
	o->o_python = "python3";
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'S':
			o->o_smoke = 1;
			break;
		case 'r':
			rounds = num(optarg, 1, R_MAXROUNDS);
			break;
		case 'o':
			o->o_out = optarg;
			break;
		case 'w':
			o->o_workers = num(optarg, 1, 1024);
			break;
		case 's':
			if ((secs = strtod(optarg, NULL)) <= 0 || secs > 30)
				errx(2, "bad --secs %s", optarg);
			break;
		case 'n':
			samples = num(optarg, 1, MAXSAMPLES);
			break;
		case 'p':
			o->o_python = optarg;
			break;
		case 'P':
			o->o_pyscript = optarg;
			break;
		case 'N':
			o->o_pyscript = NULL;
			o->o_python = NULL;
			break;
		case 'R':
			o->o_run = optarg;
			break;
		case 'i':
			o->o_inflight = num(optarg, 1, 65536);
			break;
		case 'x':
			o->o_spin = num(optarg, 0, 1000000);
			break;
		case 'c':
			o->o_pin = 1;
			break;
		default:
			usage();
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
		o.o_python = NULL;
		python_ok = 0;
	}
	plan_build(&o);
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
