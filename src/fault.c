/*
 * fault.c - fault injection: parse a spec (forkboard.h, FAULTS) in the
 * master, and act on it in the workers at the named points, so that every
 * recovery path can be made to run on purpose.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static const char *const point_names[FB__FP_N] = {
	[FB__FP_START] = "start", [FB__FP_READ] = "read",
	[FB__FP_CLAIM] = "claim", [FB__FP_PUBLISH] = "publish",
	[FB__FP_PUBLISHED] = "published",
};

static int
parse_uint(const char *v, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(v, &end, 0);
	if (errno != 0 || *end != '\0' || *out > max)
		return -EINVAL;
	return 0;
}

/* One key=value of a rule. */
static int
parse_kv(struct fb__fault_rule *r, const char *k, const char *v, int *have)
{
	unsigned long long n;
	char *end;
	int i;

	if (strcmp(k, "point") == 0) {
		for (i = 0; i < FB__FP_N; i++)
			if (strcmp(v, point_names[i]) == 0) {
				r->fr_point = (enum fb__fault_point)i;
				*have |= 1;
				return 0;
			}
		return -EINVAL;
	}
	if (strcmp(k, "action") == 0) {
		if (strcmp(v, "crash") == 0)
			r->fr_action = FB__FA_CRASH;
		else if (strcmp(v, "hang") == 0)
			r->fr_action = FB__FA_HANG;
		else if (strcmp(v, "exit") == 0)
			r->fr_action = FB__FA_EXIT;
		else
			return -EINVAL;
		*have |= 2;
		return 0;
	}
	if (strcmp(k, "worker") == 0) {
		if (strcmp(v, "*") == 0) {
			r->fr_worker = -1;
			return 0;
		}
		if (parse_uint(v, FB_WORKERS_MAX - 1, &n) < 0)
			return -EINVAL;
		r->fr_worker = (int)n;
		return 0;
	}
	if (strcmp(k, "code") == 0) {
		if (parse_uint(v, UINT32_MAX, &n) < 0)
			return -EINVAL;
		r->fr_code = (int64_t)n;
		return 0;
	}
	if (strcmp(k, "every") == 0) {
		if (parse_uint(v, UINT32_MAX, &n) < 0 || n == 0)
			return -EINVAL;
		r->fr_every = (unsigned)n;
		return 0;
	}
	if (strcmp(k, "prob") == 0) {
		errno = 0;
		r->fr_prob = strtod(v, &end);
		if (errno != 0 || *end != '\0' || end == v ||
		    !(r->fr_prob > 0.0 && r->fr_prob <= 1.0))
			return -EINVAL;
		r->fr_every = 0;
		return 0;
	}
	if (strcmp(k, "seed") == 0) {
		if (parse_uint(v, UINT64_MAX, &n) < 0)
			return -EINVAL;
		r->fr_seed = n;
		return 0;
	}
	return -EINVAL;
}

/* Parse "k=v,k=v;k=v,...".  Every rule needs point and action.  An empty
 * or NULL spec means no faults. */
int
fb__fault_parse(const char *spec, struct fb__faults *f)
{
	char buf[512], *rule, *kv, *save1, *save2, *eq;
	struct fb__fault_rule *r;
	int have, e;

	memset(f, 0, sizeof(*f));
	if (spec == NULL || *spec == '\0')
		return 0;
	if (strlen(spec) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, spec, strlen(spec) + 1);
	for (rule = strtok_r(buf, ";", &save1); rule != NULL;
	    rule = strtok_r(NULL, ";", &save1)) {
		if (f->f_n == FB__FAULT_RULES)
			return -EINVAL;
		r = &f->f_rules[f->f_n];
		r->fr_worker = -1;
		r->fr_code = -1;
		r->fr_every = 1;
		have = 0;
		for (kv = strtok_r(rule, ",", &save2); kv != NULL;
		    kv = strtok_r(NULL, ",", &save2)) {
			if ((eq = strchr(kv, '=')) == NULL)
				return -EINVAL;
			*eq = '\0';
			if ((e = parse_kv(r, kv, eq + 1, &have)) < 0)
				return e;
		}
		if (have != 3)
			return -EINVAL;
		f->f_n++;
	}
	return 0;
}

/* In a new worker: start counting afresh, with a generator of its own. */
void
fb__fault_arm(struct fb__faults *f, unsigned worker, uint32_t generation)
{
	memset(f->f_hits, 0, sizeof(f->f_hits));
	f->f_rand = fb__mix64((f->f_n > 0 ? f->f_rules[0].fr_seed : 0) ^
	    ((uint64_t)worker << 32) ^ generation) | 1;
}

static void __attribute__((noreturn))
act(enum fb__fault_action a)
{
	switch (a) {
	case FB__FA_CRASH:
		abort();
	case FB__FA_HANG:
		for (;;)
			pause();
	case FB__FA_EXIT:
		break;
	}
	_exit(3);
}

/* The worker passes point p (running code, or 0): act if a rule says so. */
void
fb__fault_check(struct fb__faults *f, enum fb__fault_point p, unsigned worker,
    uint32_t code)
{
	struct fb__fault_rule *r;
	unsigned i;

	for (i = 0; i < f->f_n; i++) {
		r = &f->f_rules[i];
		if (r->fr_point != p ||
		    (r->fr_worker >= 0 && (unsigned)r->fr_worker != worker) ||
		    (r->fr_code >= 0 && (uint32_t)r->fr_code != code))
			continue;
		if (r->fr_every > 0) {
			if (++f->f_hits[i] % r->fr_every == 0)
				act(r->fr_action);
			continue;
		}
		f->f_rand = fb__mix64(f->f_rand);
		if ((double)(f->f_rand >> 11) / 9007199254740992.0 <
		    r->fr_prob)
			act(r->fr_action);
	}
}
