/*
 * report.c - the driver's results: one value per metric per round,
 * ratios taken within each round, medians and ranges over the rounds, and
 * the three outputs (table, JSON, gnuplot data).
 */
#include <sys/types.h>

#include <err.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define R_MAXMETRICS	64
#define R_MAXRATIOS	16
#define R_LABELW	58

struct metric {
	const char	*m_key;
	const char	*m_label;
	const char	*m_unit;
	enum rsect	 m_sect;
	double		 m_v[R_MAXROUNDS];
	unsigned char	 m_have[R_MAXROUNDS];
};

/* num/den within each round; r_target 0: shown, not judged. */
struct ratio {
	const char	*r_label;
	const char	*r_num;
	const char	*r_den;
	int		 r_le;		/* pass if <= target (else >=) */
	double		 r_target;
};

struct stats {
	unsigned	 st_n;
	double		 st_med;
	double		 st_min;
	double		 st_max;
	double		 st_v[R_MAXROUNDS];	/* per round, NAN if none */
};

static struct metric metrics[R_MAXMETRICS];
static unsigned nmetrics;
static struct ratio ratios[R_MAXRATIOS];
static unsigned nratios;
static unsigned nrounds;

static const char *sect_title[S_NSECT] = {
	"No-op throughput, %u workers, 64-byte payload and result",
	"Batched no-op throughput vs workers (forkboard | raw coalesced loop)",
	"Single-task round trip, one at a time, 1 worker",
	"1 MiB payload tasks, %u workers: worker sums the payload, returns 8 bytes",
	"Time until %u workers are ready",
	"Memory per worker (idle worker, after 1000 no-op tasks)",
};

int
m_add(const char *key, const char *label, const char *unit, enum rsect sect)
{
	struct metric *m;

	if (nmetrics == R_MAXMETRICS)
		errx(1, "too many metrics");
	m = &metrics[nmetrics];
	m->m_key = key;
	m->m_label = label;
	m->m_unit = unit;
	m->m_sect = sect;
	return (int)nmetrics++;
}

int
m_find(const char *key)
{
	unsigned i;

	for (i = 0; i < nmetrics; i++)
		if (strcmp(metrics[i].m_key, key) == 0)
			return (int)i;
	return -1;
}

void
m_set(int m, unsigned round, double v)
{
	if (m < 0 || round >= R_MAXROUNDS)
		return;
	metrics[m].m_v[round] = v;
	metrics[m].m_have[round] = 1;
	if (round + 1 > nrounds)
		nrounds = round + 1;
}

void
r_add(const char *label, const char *num, const char *den, int le,
    double target)
{
	struct ratio *r;

	if (nratios == R_MAXRATIOS)
		errx(1, "too many ratios");
	r = &ratios[nratios++];
	r->r_label = label;
	r->r_num = num;
	r->r_den = den;
	r->r_le = le;
	r->r_target = target;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median, min and max of the rounds that have a value. */
static void
stats_fill(struct stats *st)
{
	double v[R_MAXROUNDS];
	unsigned i, n = 0;

	for (i = 0; i < nrounds; i++)
		if (!isnan(st->st_v[i]))
			v[n++] = st->st_v[i];
	st->st_n = n;
	st->st_med = st->st_min = st->st_max = NAN;
	if (n == 0)
		return;
	qsort(v, n, sizeof(v[0]), cmp_double);
	st->st_min = v[0];
	st->st_max = v[n - 1];
	st->st_med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
metric_stats(const struct metric *m, struct stats *st)
{
	unsigned i;

	for (i = 0; i < nrounds; i++)
		st->st_v[i] = m->m_have[i] ? m->m_v[i] : NAN;
	stats_fill(st);
}

static void
ratio_stats(const struct ratio *r, struct stats *st)
{
	int a = m_find(r->r_num), b = m_find(r->r_den);
	unsigned i;

	for (i = 0; i < nrounds; i++) {
		st->st_v[i] = NAN;
		if (a >= 0 && b >= 0 && metrics[a].m_have[i] &&
		    metrics[b].m_have[i] && metrics[b].m_v[i] != 0)
			st->st_v[i] = metrics[a].m_v[i] / metrics[b].m_v[i];
	}
	stats_fill(st);
}

static const char *
ratio_status(const struct ratio *r, const struct stats *st)
{
	if (st->st_n == 0)
		return "n/a";
	if (r->r_target == 0)
		return "info";
	if (r->r_le)
		return st->st_med <= r->r_target ? "PASS" : "MISS";
	return st->st_med >= r->r_target ? "PASS" : "MISS";
}

/* A readable number: thousands separated, or 3 significant digits. */
static const char *
fmt(double v, char *buf, size_t len)
{
	char tmp[64], *o = buf;
	size_t i, n;

	if (isnan(v)) {
		(void)snprintf(buf, len, "-");
		return buf;
	}
	if (v < 1000) {
		(void)snprintf(buf, len, v < 10 ? "%.2f" : v < 100 ? "%.1f" :
		    "%.0f", v);
		return buf;
	}
	n = (size_t)snprintf(tmp, sizeof(tmp), "%.0f", v);
	for (i = 0; i < n && (size_t)(o - buf) + 2 < len; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			*o++ = ',';
		*o++ = tmp[i];
	}
	*o = '\0';
	return buf;
}

static void
row(FILE *f, const char *label, const struct stats *st, const char *unit)
{
	char a[32], b[32], c[32];

	if (st->st_n == 0) {
		fprintf(f, "  %-*s %14s  %s\n", R_LABELW, label, "-",
		    "(not measured)");
		return;
	}
	fprintf(f, "  %-*s %14s  [%s - %s] %s\n", R_LABELW, label,
	    fmt(st->st_med, a, sizeof(a)), fmt(st->st_min, b, sizeof(b)),
	    fmt(st->st_max, c, sizeof(c)), unit);
}

static void
sect_table(FILE *f, const struct rinfo *ri, enum rsect s)
{
	struct stats st;
	unsigned i, n;
	char title[160];

	n = s == S_READY ? ri->ri_ready_workers : ri->ri_workers;
	(void)snprintf(title, sizeof(title), sect_title[s], n);
	fprintf(f, "\n%s\n", title);
	for (i = 0; i < nmetrics; i++) {
		if (metrics[i].m_sect != s)
			continue;
		metric_stats(&metrics[i], &st);
		row(f, metrics[i].m_label, &st, metrics[i].m_unit);
	}
}

static void
ratio_table(FILE *f)
{
	struct stats st;
	const struct ratio *r;
	char a[32], b[32], c[32], t[32];
	unsigned i;

	fprintf(f, "\nTargets (each ratio taken within a round; median "
	    "[min - max] over rounds)\n");
	for (i = 0; i < nratios; i++) {
		r = &ratios[i];
		ratio_stats(r, &st);
		if (r->r_target == 0)
			(void)snprintf(t, sizeof(t), "%s", "");
		else
			(void)snprintf(t, sizeof(t), "%s %g",
			    r->r_le ? "<=" : ">=", r->r_target);
		fprintf(f, "  %-*s %8s  [%s - %s]  %-8s %s\n", R_LABELW,
		    r->r_label, fmt(st.st_med, a, sizeof(a)),
		    fmt(st.st_min, b, sizeof(b)), fmt(st.st_max, c, sizeof(c)),
		    t, ratio_status(r, &st));
	}
}

void
rep_table(FILE *f, const struct rinfo *ri)
{
	unsigned s;

	fprintf(f, "\nforkboard benchmarks: %s mode, %u round(s), %u workers "
	    "unless said, %.2f s windows, %u latency samples, %.0f s\n",
	    ri->ri_mode, ri->ri_rounds, ri->ri_workers, ri->ri_secs,
	    ri->ri_samples, ri->ri_elapsed);
	fprintf(f, "values: median [min - max] over rounds; python: %s\n",
	    ri->ri_python);
	for (s = 0; s < S_NSECT; s++)
		sect_table(f, ri, (enum rsect)s);
	ratio_table(f);
	if (ri->ri_failures > 0)
		fprintf(f, "\n%d measurement(s) FAILED: see the messages "
		    "above\n", ri->ri_failures);
}

static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void
json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fprintf(f, "null");
	else
		fprintf(f, "%.6g", v);
}

static void
json_stats(FILE *f, const struct stats *st)
{
	unsigned i;

	fprintf(f, "\"median\": ");
	json_num(f, st->st_med);
	fprintf(f, ", \"min\": ");
	json_num(f, st->st_min);
	fprintf(f, ", \"max\": ");
	json_num(f, st->st_max);
	fprintf(f, ", \"rounds\": [");
	for (i = 0; i < nrounds; i++) {
		fprintf(f, i ? ", " : "");
		json_num(f, st->st_v[i]);
	}
	fprintf(f, "]");
}

static void
json_metrics(FILE *f)
{
	struct stats st;
	unsigned i;

	fprintf(f, "  \"metrics\": {\n");
	for (i = 0; i < nmetrics; i++) {
		metric_stats(&metrics[i], &st);
		fprintf(f, "    ");
		json_str(f, metrics[i].m_key);
		fprintf(f, ": {\"label\": ");
		json_str(f, metrics[i].m_label);
		fprintf(f, ", \"unit\": ");
		json_str(f, metrics[i].m_unit);
		fprintf(f, ", ");
		json_stats(f, &st);
		fprintf(f, "}%s\n", i + 1 < nmetrics ? "," : "");
	}
	fprintf(f, "  },\n");
}

static void
json_ratios(FILE *f)
{
	struct stats st;
	const struct ratio *r;
	unsigned i;

	fprintf(f, "  \"ratios\": [\n");
	for (i = 0; i < nratios; i++) {
		r = &ratios[i];
		ratio_stats(r, &st);
		fprintf(f, "    {\"name\": ");
		json_str(f, r->r_label);
		fprintf(f, ", \"num\": ");
		json_str(f, r->r_num);
		fprintf(f, ", \"den\": ");
		json_str(f, r->r_den);
		fprintf(f, ", ");
		json_stats(f, &st);
		fprintf(f, ", \"target\": ");
		if (r->r_target == 0)
			fprintf(f, "null, \"op\": null");
		else
			fprintf(f, "%g, \"op\": \"%s\"", r->r_target,
			    r->r_le ? "<=" : ">=");
		fprintf(f, ", \"status\": \"%s\"}%s\n", ratio_status(r, &st),
		    i + 1 < nratios ? "," : "");
	}
	fprintf(f, "  ]\n");
}

int
rep_json(const char *path, const struct rinfo *ri)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL) {
		warn("%s", path);
		return -1;
	}
	fprintf(f, "{\n  \"forkboard_bench\": 1,\n  \"mode\": ");
	json_str(f, ri->ri_mode);
	fprintf(f, ",\n  \"rounds\": %u,\n  \"workers\": %u,\n"
	    "  \"inflight\": %u,\n  \"window_s\": %g,\n"
	    "  \"latency_samples\": %u,\n  \"elapsed_s\": %.1f,\n"
	    "  \"failures\": %d,\n  \"python\": ", ri->ri_rounds,
	    ri->ri_workers, ri->ri_inflight, ri->ri_secs, ri->ri_samples,
	    ri->ri_elapsed, ri->ri_failures);
	json_str(f, ri->ri_python);
	fprintf(f, ",\n");
	json_metrics(f);
	json_ratios(f);
	fprintf(f, "}\n");
	if (fclose(f) == EOF) {
		warn("%s", path);
		return -1;
	}
	return 0;
}

static void
dat_stats(FILE *f, const char *key)
{
	struct stats st;
	int m = m_find(key);

	if (m < 0) {
		fprintf(f, " NaN NaN NaN");
		return;
	}
	metric_stats(&metrics[m], &st);
	fprintf(f, " %.6g %.6g %.6g", st.st_med, st.st_min, st.st_max);
}

/* workers, then median min max for forkboard and for the raw loop. */
int
rep_scale_dat(const char *path, const unsigned *workers, unsigned n)
{
	char key[64];
	unsigned i;
	FILE *f;

	if ((f = fopen(path, "w")) == NULL) {
		warn("%s", path);
		return -1;
	}
	fprintf(f, "# workers fb_med fb_min fb_max raw_med raw_min raw_max "
	    "(tasks/s)\n");
	for (i = 0; i < n; i++) {
		fprintf(f, "%u", workers[i]);
		(void)snprintf(key, sizeof(key), "scale.fb.w%u", workers[i]);
		dat_stats(f, key);
		(void)snprintf(key, sizeof(key), "scale.raw.w%u", workers[i]);
		dat_stats(f, key);
		fprintf(f, "\n");
	}
	return fclose(f) == EOF ? -1 : 0;
}

/* Percentile, then forkboard's and ping-pong's latency there (us), from
 * every round's samples pooled. */
int
rep_lat_dat(const char *path, int64_t *a, size_t na, int64_t *b, size_t nb)
{
	FILE *f;
	double p;

	if ((f = fopen(path, "w")) == NULL) {
		warn("%s", path);
		return -1;
	}
	qsort(a, na, sizeof(*a), b_cmp_i64);
	qsort(b, nb, sizeof(*b), b_cmp_i64);
	fprintf(f, "# percentile forkboard_us pingpong_us\n");
	for (p = 0; p < 99.95; p += p < 99 ? 0.5 : 0.1)
		fprintf(f, "%.2f %.3f %.3f\n", p, b_pct(a, na, p) / 1e3,
		    b_pct(b, nb, p) / 1e3);
	fprintf(f, "99.99 %.3f %.3f\n", b_pct(a, na, 99.99) / 1e3,
	    b_pct(b, nb, 99.99) / 1e3);
	return fclose(f) == EOF ? -1 : 0;
}
