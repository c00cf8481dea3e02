/*
 * main.c - forkboard-top: options, the three modes, the exit status.
 *
 *   forkboard-top [--once | --json] [-d SECONDS] [-n ITERATIONS]
 *                 [-m SHMID] [-k KEY] [-f PATH[:PROJ]] [-p MASTER_PID]...
 *
 * Exit status: 0 when a board was shown (or there is none and no selector
 * was given), 1 when a selected board is missing or unreadable, 2 on a
 * usage error.  See forkboard-top(1).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "top.h"

#define TOP_MAX_SEL 64

static void
usage(FILE *f)
{
	fprintf(f, "usage: forkboard-top [--once | --json] [-d SECONDS] "
	    "[-n ITERATIONS]\n"
	    "                     [-m SHMID] [-k KEY] [-f PATH[:PROJ]] "
	    "[-p MASTER_PID]...\n");
}

static int
usage_error(const char *msg)
{
	fprintf(stderr, "forkboard-top: %s\n", msg);
	usage(stderr);
	return 2;
}

static void
nap(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Rates for each board of cur that prev has too. */
static void
match_rates(struct top_list *cur, const struct top_list *prev)
{
	size_t i, j;

	for (i = 0; i < cur->l_n; i++)
		for (j = 0; j < prev->l_n; j++)
			if (cur->l_v[i].b_seg.sg_shmid ==
			    prev->l_v[j].b_seg.sg_shmid)
				top_rates(&cur->l_v[i], &prev->l_v[j]);
}

static void
print_errors(const struct top_errs *e)
{
	size_t i;

	for (i = 0; i < e->e_n; i++)
		if (e->e_v[i].ee_shmid >= 0)
			fprintf(stderr, "forkboard-top: shmid %d: %s\n",
			    e->e_v[i].ee_shmid, e->e_v[i].ee_msg);
		else
			fprintf(stderr, "forkboard-top: %s\n",
			    e->e_v[i].ee_msg);
}

/* Print one gathering; returns the exit status it implies. */
static int
report(const struct top_list *l, const struct top_errs *e, int json,
    size_t nsel)
{
	size_t i;

	print_errors(e);
	if (json) {
		if (top_json(stdout, l, e) < 0) {
			fprintf(stderr, "forkboard-top: cannot write JSON\n");
			return 1;
		}
	} else {
		for (i = 0; i < l->l_n; i++) {
			if (i > 0)
				putchar('\n');
			top_text(stdout, &l->l_v[i]);
		}
		if (l->l_n == 0 && e->e_n == 0)
			printf("no forkboard board on this machine\n");
	}
	if (fflush(stdout) == EOF)
		return 1;
	if (nsel != 0)
		return e->e_n != 0;
	return l->l_n == 0 && e->e_n != 0;
}

/* --once and --json: rounds printed; with -d, one silent sample first so
 * that even the first printed one has rates. */
static int
run_once(struct top_sel *s, size_t nsel, int json, double delay,
    long rounds)
{
	struct top_list prev = { NULL, 0, 0 }, cur;
	struct top_errs e;
	long k, prime = delay > 0, n = json ? 1 : (rounds > 0 ? rounds : 1);
	int r, status = 0;

	for (k = 0; k < n + prime; k++) {
		if (k > 0)
			nap(delay);
		memset(&cur, 0, sizeof(cur));
		memset(&e, 0, sizeof(e));
		if ((r = top_gather(s, nsel, &cur, &e)) < 0) {
			fprintf(stderr, "forkboard-top: /proc/sysvipc/shm: "
			    "%s\n", strerror(-r));
			top_list_free(&cur);
			top_list_free(&prev);
			top_errs_free(&e);
			return 1;
		}
		match_rates(&cur, &prev);
		if (k >= prime) {
			if (!json && k > prime)
				printf("\n");
			status = report(&cur, &e, json, nsel);
		}
		top_list_free(&prev);
		prev = cur;
		top_errs_free(&e);
	}
	top_list_free(&prev);
	return status;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "shmid", required_argument, NULL, 'm' },
		{ "key", required_argument, NULL, 'k' },
		{ "ftok", required_argument, NULL, 'f' },
		{ "pid", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct top_sel sel[TOP_MAX_SEL];
	char err[PATH_MAX + 128], *end;
	double delay = 0;
	long iters = 0;
	size_t nsel = 0;
	int c, r, once = 0, json = 0;

	while ((c = getopt_long(argc, argv, "d:n:m:k:f:p:h", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'o':
			once = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'd':
			errno = 0;
			delay = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !isfinite(delay) || delay < 0.1 || delay > 3600)
				return usage_error("-d: SECONDS must be a "
				    "number from 0.1 to 3600");
			break;
		case 'n':
			errno = 0;
			iters = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    iters < 1)
				return usage_error("-n: ITERATIONS must be a "
				    "positive number");
			break;
		case 'm': case 'k': case 'f': case 'p':
			if (nsel == TOP_MAX_SEL)
				return usage_error("too many selectors");
			if ((r = top_sel_parse(&sel[nsel], c, optarg, err,
			    sizeof(err))) == -2) {
				fprintf(stderr, "forkboard-top: %s\n", err);
				return 1;
			}
			if (r < 0)
				return usage_error(err);
			nsel++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc)
		return usage_error("unexpected argument (selectors are "
		    "-m, -k, -f, -p)");
	if (once && json)
		return usage_error("--once and --json do not go together");
	if (once || json)
		return run_once(sel, nsel, json, delay, iters);
	return top_view(sel, nsel, delay > 0 ? delay : 2.0, iters);
}
