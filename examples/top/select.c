/*
 * select.c - which boards to show.  -m SHMID, -k KEY and -f PATH[:PROJ]
 * pick segments by what the kernel says (so a segment is attached only
 * when picked); -p PID picks boards whose master is PID, which only the
 * board says, so every segment is read for it.  No selector: every
 * forkboard board; segments that are not boards are skipped quietly.
 */
#include <sys/types.h>
#include <sys/ipc.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "top.h"

static int
parse_num(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* -f PATH[:PROJ]: the key fb_pool_create would compute (ftok, proj 'F'
 * by default, as fb_config_init sets). */
static int
parse_ftok(struct top_sel *s, const char *arg, char *err, size_t len)
{
	char path[PATH_MAX];
	const char *colon = strrchr(arg, ':');
	long long proj = 'F';
	size_t n = strlen(arg);
	key_t key;

	if (colon != NULL) {
		n = (size_t)(colon - arg);
		if (strlen(colon + 1) == 1 && (colon[1] < '0' ||
		    colon[1] > '9'))
			proj = (unsigned char)colon[1];
		else if (parse_num(colon + 1, 1, 255, &proj) != 0) {
			snprintf(err, len, "-f %s: PROJ must be one character "
			    "or a number 1..255", arg);
			return -1;
		}
	}
	if (n == 0 || n >= sizeof(path)) {
		snprintf(err, len, "-f %s: bad path", arg);
		return -1;
	}
	memcpy(path, arg, n);
	path[n] = '\0';
	if ((key = ftok(path, (int)proj)) == -1) {
		snprintf(err, len, "-f %s: ftok: %s", path, strerror(errno));
		return -2; /* not a usage error: nothing to select */
	}
	s->s_kind = TOP_SEL_KEY;
	s->s_val = key;
	s->s_ftok = 1;
	return 0;
}

/* Returns 0, or -1 with a message in err (a usage error), or -2 (an
 * ftok path that cannot be used: the board cannot be found). */
int
top_sel_parse(struct top_sel *s, int opt, const char *arg, char *err,
    size_t len)
{
	memset(s, 0, sizeof(*s));
	s->s_arg = arg;
	switch (opt) {
	case 'm':
		s->s_kind = TOP_SEL_SHMID;
		if (parse_num(arg, 0, INT_MAX, &s->s_val) == 0)
			return 0;
		snprintf(err, len, "-m %s: not a shmid", arg);
		return -1;
	case 'k':
		s->s_kind = TOP_SEL_KEY;
		/* Keys print as 0x%08x: take 0xffffffff as well as -1. */
		if (parse_num(arg, INT_MIN, UINT32_MAX, &s->s_val) == 0) {
			s->s_val = (key_t)(uint32_t)s->s_val;
			return 0;
		}
		snprintf(err, len, "-k %s: not a key (0x... or decimal)", arg);
		return -1;
	case 'p':
		s->s_kind = TOP_SEL_PID;
		if (parse_num(arg, 1, INT_MAX, &s->s_val) == 0)
			return 0;
		snprintf(err, len, "-p %s: not a pid", arg);
		return -1;
	case 'f':
		return parse_ftok(s, arg, err, len);
	}
	snprintf(err, len, "unknown selector");
	return -1;
}

/* Does one selector pick b?  by_kernel: judge from the kernel's view
 * alone (before reading the board). */
static int
picks(const struct top_sel *s, const struct top_board *b, int by_kernel)
{
	switch (s->s_kind) {
	case TOP_SEL_SHMID:
		return b->b_seg.sg_shmid == s->s_val;
	case TOP_SEL_KEY:
		return b->b_seg.sg_key == (key_t)s->s_val;
	case TOP_SEL_PID:
		if (by_kernel)
			return 1; /* maybe: read it to know */
		/* An unreadable board: its creator is the best guess. */
		return b->b_err == TOP_OK ? b->b_master == s->s_val :
		    b->b_seg.sg_cpid == s->s_val;
	}
	return 0;
}

/* Nonzero if some selector picks b (counting the hits); always with none. */
int
top_sel_match(struct top_sel *s, size_t n, const struct top_board *b)
{
	size_t i;
	int any = n == 0;

	for (i = 0; i < n; i++)
		if (picks(&s[i], b, 0)) {
			s[i].s_hits++;
			any = 1;
		}
	return any;
}

static int
maybe(const struct top_sel *s, size_t n, const struct top_board *b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (picks(&s[i], b, 1))
			return 1;
	return n == 0;
}

/* The message for a selector that picked nothing. */
void
top_sel_miss(const struct top_sel *s, char *buf, size_t len)
{
	switch (s->s_kind) {
	case TOP_SEL_SHMID:
		snprintf(buf, len, "no segment with shmid %lld", s->s_val);
		break;
	case TOP_SEL_KEY:
		snprintf(buf, len, "no forkboard board with key 0x%08x%s%s%s",
		    (unsigned)(uint32_t)s->s_val, s->s_ftok ? " (ftok " : "",
		    s->s_ftok ? s->s_arg : "", s->s_ftok ? ")" : "");
		break;
	case TOP_SEL_PID:
		snprintf(buf, len, "no forkboard board with master pid %lld",
		    s->s_val);
		break;
	}
}

static int
add_error(struct top_errs *e, int shmid, const char *msg)
{
	struct top_err_ent *v;

	if (e->e_n == e->e_cap) {
		if ((v = reallocarray(e->e_v, e->e_cap ? e->e_cap * 2 : 8,
		    sizeof(*v))) == NULL)
			return -ENOMEM;
		e->e_v = v;
		e->e_cap = e->e_cap ? e->e_cap * 2 : 8;
	}
	e->e_v[e->e_n].ee_shmid = shmid;
	snprintf(e->e_v[e->e_n].ee_msg, sizeof(e->e_v[0].ee_msg), "%s", msg);
	e->e_n++;
	return 0;
}

void
top_errs_free(struct top_errs *e)
{
	free(e->e_v);
	memset(e, 0, sizeof(*e));
}

/*
 * Read every board the selectors pick into out; what could not be shown
 * goes to errs (a selector that picked nothing with shmid -1).  Returns 0
 * or -errno (the segment list could not be read).
 */
int
top_gather(struct top_sel *s, size_t n, struct top_list *out,
    struct top_errs *errs)
{
	struct top_list all = { NULL, 0, 0 };
	struct top_board *b;
	char msg[256];
	size_t i;
	int r;

	for (i = 0; i < n; i++)
		s[i].s_hits = 0;
	if ((r = top_discover(&all)) < 0)
		return r;
	for (i = 0; i < all.l_n && r == 0; i++) {
		b = &all.l_v[i];
		if (!maybe(s, n, b))
			continue;
		top_snapshot(b);
		if (!top_sel_match(s, n, b))
			continue;
		if (b->b_err == TOP_OK) {
			r = top_list_add(out, b);
			memset(b, 0, sizeof(*b)); /* out owns its buffers */
		} else if (n != 0 || (b->b_err != TOP_ENOTBOARD &&
		    b->b_err != TOP_EGONE))
			r = add_error(errs, b->b_seg.sg_shmid,
			    top_err_text(b, msg, sizeof(msg)));
	}
	for (i = 0; i < n && r == 0; i++)
		if (s[i].s_hits == 0) {
			top_sel_miss(&s[i], msg, sizeof(msg));
			r = add_error(errs, -1, msg);
		}
	top_list_free(&all);
	return r;
}
