/*
 * pertask.c - the per-task counts the table prints under each judged
 * ratio, for the measurements on both sides of it: system calls,
 * context switches, wake-ups, migrations and CPU time a task (counters.c
 * counts them; report.c keeps them as metrics KEY.pt.NAME).
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "driver.h"

/* The measurement behind a ratio's term: the term's key if it has
 * counts, or the key less its last part (lat.fb.p50 -> lat.fb). */
static int
pt_base(const char *key, char *base, size_t len)
{
	char probe[128], *dot;

	(void)snprintf(base, len, "%s", key);
	(void)snprintf(probe, sizeof(probe), "%s.pt.%s", base, b_ctr_key[0]);
	if (m_find(probe) >= 0)
		return 0;
	if ((dot = strrchr(base, '.')) == NULL)
		return -1;
	*dot = '\0';
	(void)snprintf(probe, sizeof(probe), "%s.pt.%s", base, b_ctr_key[0]);
	return m_find(probe) >= 0 ? 0 : -1;
}

/* "sys 0.085 sw 0.036 wk 0.019 mig 0.000 cpu 219": medians. */
static void
pt_cell(const char *base, enum place pl, char *buf, size_t len)
{
	static const char *abbr[B_NCTR] = { "sys", "sw", "wk", "mig", "cpu" };
	char probe[128];
	size_t at = 0;
	double v;
	int i;

	buf[0] = '\0';
	for (i = 0; i < B_NCTR && at < len; i++) {
		(void)snprintf(probe, sizeof(probe), "%s.pt.%s", base,
		    b_ctr_key[i]);
		if (m_median(probe, pl, &v) < 0)
			at += (size_t)snprintf(buf + at, len - at, "%s%s -",
			    i ? " " : "", abbr[i]);
		else
			at += (size_t)snprintf(buf + at, len - at,
			    i == B_CTR_CPUNS ? "%s%s %.0f" : "%s%s %.3f",
			    i ? " " : "", abbr[i], v);
	}
}

/* One line per side of the ratio num / den (once when both are one
 * measurement, as p99 / p50): one CPU | unpinned. */
void
pt_lines(FILE *f, const char *num, const char *den)
{
	const char *term[2] = { num, den };
	char base[128], c[P_NPLACE][128];
	unsigned k, p;

	for (k = 0; k < 2; k++) {
		if (k == 1 && strcmp(term[0], term[1]) != 0 &&
		    pt_base(term[0], base, sizeof(base)) == 0 &&
		    strncmp(base, term[1], strlen(base)) == 0)
			break;
		if (pt_base(term[k], base, sizeof(base)) < 0)
			continue;
		for (p = 0; p < P_NPLACE; p++)
			pt_cell(base, (enum place)p, c[p], sizeof(c[p]));
		fprintf(f, "      per task, %-22s %-48s | %s\n", base,
		    c[P_ONECPU], c[P_FREE]);
	}
}
