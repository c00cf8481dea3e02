/*
 * report.c - the driver's results: one value per metric, placement and
 * round; ratios taken within each round; medians and ranges over the
 * rounds; and the three outputs (table, JSON, gnuplot data).
 */
#include <sys/types.h>

#include <err.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

#define R_MAXMETRICS	256
#define R_MAXRATIOS	24
#define R_LABELW	50

struct metric {
	const char	*m_key;
	const char	*m_label;
	const char	*m_unit;
	enum rsect	 m_sect;
	double		 m_v[P_NPLACE][R_MAXROUNDS];
	unsigned char	 m_have[P_NPLACE][R_MAXROUNDS];
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

static const char *place_key[P_NPLACE] = { "one_cpu", "unpinned" };

static const char *sect_title[S_NSECT] = {
	"No-op throughput, %u workers, 64-byte payload+result",
	"Batched no-op throughput vs workers",
	"Single-task round trip, one at a time, 1 worker",
	"1 MiB payloads, %u workers (worker sums the payload)",
	"Time until %u workers are ready",
	"Memory per worker (idle, after 1000 no-op tasks)",
};

/* Register a metric; registering a key again returns the first one. */
int
m_add(const char *key, const char *label, const char *unit, enum rsect sect)
{
	struct metric *m;
	int i;

	if ((i = m_find(key)) >= 0)
		return i;
	if (nmetrics == R_MAXMETRICS)
		errx(1, "too many metrics");
	m = &metrics[nmetrics];
	memset(m, 0, sizeof(*m));
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
m_set(int m, enum place pl, unsigned round, double v)
{
	if (m < 0 || round >= R_MAXROUNDS)
		return;
	metrics[m].m_v[pl][round] = v;
	metrics[m].m_have[pl][round] = 1;
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
metric_stats(const struct metric *m, enum place pl, struct stats *st)
{
	unsigned i;

	for (i = 0; i < nrounds; i++)
		st->st_v[i] = m->m_have[pl][i] ? m->m_v[pl][i] : NAN;
	stats_fill(st);
}

/* Metric key's median over the rounds in placement pl: 0, or -1 if it
 * has no value there. */
int
m_median(const char *key, enum place pl, double *v)
{
	struct stats st;
	int m = m_find(key);

	if (m < 0)
		return -1;
	metric_stats(&metrics[m], pl, &st);
	*v = st.st_med;
	return st.st_n > 0 ? 0 : -1;
}

static void
ratio_stats(const struct ratio *r, enum place pl, struct stats *st)
{
	int a = m_find(r->r_num), b = m_find(r->r_den);
	unsigned i;

	for (i = 0; i < nrounds; i++) {
		st->st_v[i] = NAN;
		if (a >= 0 && b >= 0 && metrics[a].m_have[pl][i] &&
		    metrics[b].m_have[pl][i] && metrics[b].m_v[pl][i] != 0)
			st->st_v[i] = metrics[a].m_v[pl][i] /
			    metrics[b].m_v[pl][i];
	}
	stats_fill(st);
}

static const char *
ratio_status(const struct ratio *r, const struct stats *st)
{
	if (r->r_target == 0)
		return "info";
	if (st->st_n == 0)
		return "n/a";
	if (r->r_le)
		return st->st_med <= r->r_target ? "PASS" : "MISS";
	return st->st_med >= r->r_target ? "PASS" : "MISS";
}

/* Three significant digits, with k/M for thousands and millions. */
static const char *
fmt(double v, char *buf, size_t len)
{
	const char *unit = "";
	double a;

	if (isnan(v)) {
		(void)snprintf(buf, len, "-");
		return buf;
	}
	if (fabs(v) >= 1e6) {
		v /= 1e6;
		unit = "M";
	} else if (fabs(v) >= 1e3) {
		v /= 1e3;
		unit = "k";
	}
	a = fabs(v);
	(void)snprintf(buf, len, a < 9.995 ? "%.2f%s" : a < 99.95 ?
	    "%.1f%s" : "%.0f%s", v, unit);
	return buf;
}

/* "median [min-max]", or "-" when nothing was measured. */
static const char *
cell(const struct stats *st, char *buf, size_t len)
{
	char a[16], b[16], c[16], range[40];

	if (st->st_n == 0) {
		(void)snprintf(buf, len, "%6s %15s", "-", "");
		return buf;
	}
	(void)snprintf(range, sizeof(range), "[%s-%s]",
	    fmt(st->st_min, b, sizeof(b)), fmt(st->st_max, c, sizeof(c)));
	(void)snprintf(buf, len, "%6s %-15s", fmt(st->st_med, a, sizeof(a)),
	    range);
	return buf;
}

/* A section's title with n put where its "%u" is (titles are not format
 * strings: -Wformat-nonliteral). */
static void
sect_title_of(enum rsect s, unsigned n, char *buf, size_t len)
{
	const char *t = sect_title[s], *at = strstr(t, "%u");

	if (at == NULL)
		(void)snprintf(buf, len, "%s", t);
	else
		(void)snprintf(buf, len, "%.*s%u%s", (int)(at - t), t, n,
		    at + 2);
}

static void
sect_table(FILE *f, const struct rinfo *ri, enum rsect s)
{
	struct stats st;
	char title[160], c[P_NPLACE][64];
	unsigned i, p, n;

	n = s == S_READY ? ri->ri_ready_workers : ri->ri_workers;
	sect_title_of(s, n, title, sizeof(title));
	fprintf(f, "\n%-*s %-22s   %s\n", R_LABELW + 2, title, "   one CPU",
	    "   unpinned");
	for (i = 0; i < nmetrics; i++) {
		if (metrics[i].m_sect != s)
			continue;
		for (p = 0; p < P_NPLACE; p++) {
			metric_stats(&metrics[i], (enum place)p, &st);
			(void)cell(&st, c[p], sizeof(c[p]));
		}
		fprintf(f, "  %-*s %s   %s  %s\n", R_LABELW,
		    metrics[i].m_label, c[P_ONECPU], c[P_FREE],
		    metrics[i].m_unit);
	}
}

/* Met only when both placements pass: a target met on one CPU alone is
 * not met. */
static const char *
ratio_both(const struct ratio *r, const struct stats *st)
{
	const char *a = ratio_status(r, &st[P_ONECPU]);
	const char *b = ratio_status(r, &st[P_FREE]);

	if (r->r_target == 0)
		return "info";
	if (strcmp(a, "n/a") == 0 || strcmp(b, "n/a") == 0)
		return "n/a";
	return strcmp(a, "PASS") == 0 && strcmp(b, "PASS") == 0 ? "MET" :
	    "NOT MET";
}

static void
ratio_table(FILE *f)
{
	struct stats st[P_NPLACE];
	const struct ratio *r;
	char c[P_NPLACE][64], t[32];
	unsigned i, p;

	fprintf(f, "\n%-*s %-22s   %-22s  %-8s %s\n", R_LABELW + 2,
	    "Targets (ratio within each round; median [min-max])",
	    "   one CPU", "   unpinned", "target",
	    "one CPU / unpinned: both");
	for (i = 0; i < nratios; i++) {
		r = &ratios[i];
		for (p = 0; p < P_NPLACE; p++) {
			ratio_stats(r, (enum place)p, &st[p]);
			(void)cell(&st[p], c[p], sizeof(c[p]));
		}
		(void)snprintf(t, sizeof(t), "%s", "");
		if (r->r_target != 0)
			(void)snprintf(t, sizeof(t), "%s %g",
			    r->r_le ? "<=" : ">=", r->r_target);
		fprintf(f, "  %-*s %s   %s  %-8s %s", R_LABELW, r->r_label,
		    c[P_ONECPU], c[P_FREE], t, ratio_status(r, &st[P_ONECPU]));
		if (r->r_target != 0)
			fprintf(f, " / %s: %s", ratio_status(r, &st[P_FREE]),
			    ratio_both(r, st));
		fprintf(f, "\n");
		if (r->r_target != 0)
			pt_lines(f, r->r_num, r->r_den);
	}
}

void
rep_table(FILE *f, const struct rinfo *ri)
{
	unsigned s;

	fprintf(f, "\nforkboard benchmarks: %s mode, %u round(s), %.2f s "
	    "windows, %u latency samples, %.0f s in all\n", ri->ri_mode,
	    ri->ri_rounds, ri->ri_secs, ri->ri_samples, ri->ri_elapsed);
	fprintf(f, "Each cell: median [min-max] over the rounds.  python: "
	    "%s\n", ri->ri_python);
	for (s = 0; s < S_NSECT; s++)
		sect_table(f, ri, (enum rsect)s);
	ratio_table(f);
	fprintf(f, "\nEvery target is judged in both placements, and is MET "
	    "only when both PASS.\nPer task (start-up: per worker), one CPU "
	    "| unpinned, medians: system calls\n(sys), context switches (sw), "
	    "wake-ups of a sleeping process (wk), CPU\nmigrations (mig) and "
	    "CPU time in ns (cpu) of the measuring process and all\nit "
	    "forked, over the timed part; '-': the kernel would not count.  "
	    "A MISS\nnever fails the run.\n");
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
json_stats(FILE *f, enum place pl, const struct stats *st)
{
	unsigned i;

	fprintf(f, "\"%s\": {\"median\": ", place_key[pl]);
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
	fprintf(f, "]}");
}

static void
json_metrics(FILE *f)
{
	struct stats st;
	unsigned i, p;

	fprintf(f, "  \"metrics\": {\n");
	for (i = 0; i < nmetrics; i++) {
		fprintf(f, "    ");
		json_str(f, metrics[i].m_key);
		fprintf(f, ": {\"label\": ");
		json_str(f, metrics[i].m_label);
		fprintf(f, ", \"unit\": ");
		json_str(f, metrics[i].m_unit);
		for (p = 0; p < P_NPLACE; p++) {
			metric_stats(&metrics[i], (enum place)p, &st);
			fprintf(f, ",\n      ");
			json_stats(f, (enum place)p, &st);
		}
		fprintf(f, "}%s\n", i + 1 < nmetrics ? "," : "");
	}
	fprintf(f, "  },\n");
}

static void
json_ratio(FILE *f, const struct ratio *r)
{
	struct stats st[P_NPLACE];
	unsigned p;

	fprintf(f, "    {\"name\": ");
	json_str(f, r->r_label);
	fprintf(f, ", \"num\": ");
	json_str(f, r->r_num);
	fprintf(f, ", \"den\": ");
	json_str(f, r->r_den);
	if (r->r_target == 0)
		fprintf(f, ", \"target\": null, \"op\": null");
	else
		fprintf(f, ", \"target\": %g, \"op\": \"%s\"", r->r_target,
		    r->r_le ? "<=" : ">=");
	for (p = 0; p < P_NPLACE; p++) {
		ratio_stats(r, (enum place)p, &st[p]);
		fprintf(f, ",\n      ");
		json_stats(f, (enum place)p, &st[p]);
	}
	fprintf(f, ",\n      \"status\": \"%s\", \"status_unpinned\": \"%s\", "
	    "\"status_both\": \"%s\"}", ratio_status(r, &st[P_ONECPU]),
	    ratio_status(r, &st[P_FREE]), ratio_both(r, st));
}

int
rep_json(const char *path, const struct rinfo *ri)
{
	unsigned i;
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
	    "  \"failures\": %d,\n  \"judged_on\": \"both\",\n"
	    "  \"python\": ", ri->ri_rounds, ri->ri_workers, ri->ri_inflight,
	    ri->ri_secs, ri->ri_samples, ri->ri_elapsed, ri->ri_failures);
	json_str(f, ri->ri_python);
	fprintf(f, ",\n");
	json_metrics(f);
	fprintf(f, "  \"ratios\": [\n");
	for (i = 0; i < nratios; i++) {
		json_ratio(f, &ratios[i]);
		fprintf(f, "%s\n", i + 1 < nratios ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	if (fclose(f) == EOF) {
		warn("%s", path);
		return -1;
	}
	return 0;
}

static void
dat_stats(FILE *f, const char *key, enum place pl)
{
	struct stats st;
	int m = m_find(key);

	if (m < 0) {
		fprintf(f, " NaN NaN NaN");
		return;
	}
	metric_stats(&metrics[m], pl, &st);
	fprintf(f, " %.6g %.6g %.6g", st.st_med, st.st_min, st.st_max);
}

/* workers, then median min max of forkboard and of the raw loop, on one
 * CPU, then unpinned. */
int
rep_scale_dat(const char *path)
{
	char fb[32], raw[32];
	unsigned i, p;
	FILE *f;

	if ((f = fopen(path, "w")) == NULL) {
		warn("%s", path);
		return -1;
	}
	fprintf(f, "# workers, then median min max (tasks/s) of: forkboard "
	    "one CPU, raw one CPU, forkboard unpinned, raw unpinned\n");
	for (i = 0; i < NSCALE; i++) {
		(void)snprintf(fb, sizeof(fb), "scale.fb.w%u",
		    scale_workers[i]);
		(void)snprintf(raw, sizeof(raw), "scale.raw.w%u",
		    scale_workers[i]);
		fprintf(f, "%u", scale_workers[i]);
		for (p = 0; p < P_NPLACE; p++) {
			dat_stats(f, fb, (enum place)p);
			dat_stats(f, raw, (enum place)p);
		}
		fprintf(f, "\n");
	}
	return fclose(f) == EOF ? -1 : 0;
}

/* Percentile, then the latency there (us) of each of nv distributions
 * (every round's samples pooled). */
int
rep_lat_dat(const char *path, int64_t **v, size_t *n, unsigned nv)
{
	static const double tail[] = { 99.95, 99.99 };
	unsigned i, k;
	FILE *f;
	double p;

	if ((f = fopen(path, "w")) == NULL) {
		warn("%s", path);
		return -1;
	}
	for (i = 0; i < nv; i++)
		qsort(v[i], n[i], sizeof(int64_t), b_cmp_i64);
	fprintf(f, "# percentile, then us: forkboard one CPU, ping-pong one "
	    "CPU, forkboard unpinned, ping-pong unpinned\n");
	for (k = 0; k < 199 + 9 + 2; k++) {
		p = k < 199 ? k * 0.5 : k < 208 ? 99.1 + (k - 199) * 0.1 :
		    tail[k - 208];
		fprintf(f, "%.2f", p);
		for (i = 0; i < nv; i++) {
			if (n[i] == 0)
				fprintf(f, " NaN");
			else
				fprintf(f, " %.3f", b_pct(v[i], n[i], p) / 1e3);
		}
		fprintf(f, "\n");
	}
	return fclose(f) == EOF ? -1 : 0;
}
