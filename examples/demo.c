/*
 * fb-demo - the classic pipe-based process pool, told with forkboard.
 *
 * A master pre-forks a few workers, each with its own task pipe, and deals
 * them task codes round-robin (or to the least loaded one, -p least).  The
 * payloads and results do not cross the pipes: they live in the System V
 * shared-memory board.  The demo shows a pool's whole life: configure,
 * register handlers for five real kinds of task (crc32, wordcount, upper,
 * primes, sleep), start, look at the board through IPC_STAT, keep the board
 * full with non-blocking submits while taking results in completion order,
 * check each result against the master's own computation, print a summary
 * per worker, then shut down and prove the kernel freed the segment.
 *
 * Payloads are derived from (seed, task number) alone, so a run can be
 * repeated (-S) and the master need not keep them.  Exit status is 1 if
 * any task failed or any result did not match.
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libutil.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "forkboard.h"

#define PROG		"fb-demo"
#define NKINDS		5
#define PRIMES_MAX	200000
#define SLEEP_MAX	50
#define UPPER_SHOW	40
#define PAYLOAD_MAX	512	/* generated payloads are shorter than this */
#define SLOT_MIN	64
#define SLOT_MAX	(16u << 20)

enum { K_CRC32 = 1, K_WORDS, K_UPPER, K_PRIMES, K_SLEEP };

static const char *kind_name[NKINDS + 1] = {
	"?", "crc32", "wordcount", "upper", "primes", "sleep"
};

static const char *words[] = {
	"fork", "pipe", "master", "worker", "board", "slot", "ticket", "pool",
	"shared", "memory", "process", "kernel", "reap", "signal", "Linux",
	"round-robin", "shmget", "task", "code", "result"
};

struct opts {
	unsigned	 o_workers;
	size_t		 o_tasks;
	enum fb_policy	 o_policy;
	size_t		 o_slot_size;
	uint64_t	 o_seed;
	int		 o_quiet;
	int		 o_argc;	/* for the workers' process titles */
	char		**o_argv;
};

/* Ticket -> task number for tasks in flight: linear probing. */
struct tmap_entry {
	fb_ticket_t	 e_ticket;	/* 0: empty, never a valid ticket */
	size_t		 e_task;
};

struct wstat {
	uint64_t	 w_tasks;
	uint64_t	 w_kind[NKINDS + 1];
	uint64_t	 w_run_ns;
};

struct run {
	const struct opts *r_opt;
	struct fb_pool	*r_pool;
	struct tmap_entry *r_map;
	size_t		 r_mask;	/* map size - 1 (a power of 2) */
	struct wstat	*r_ws;		/* one per worker */
	char		*r_buf;		/* a result, + 1 for a NUL */
	size_t		 r_cap;
	size_t		 r_paycap;
	size_t		 r_done;
	size_t		 r_failed;	/* outcome other than FB_DONE */
	size_t		 r_mismatch;	/* done, but not what the master got */
	const char	*r_what;	/* the step that failed */
	int		 r_twidth;	/* digits in a task number */
	int		 r_wwidth;	/* digits in a worker index */
};

static uint32_t
crc32_ieee(const unsigned char *p, size_t len)
{
	uint32_t crc = 0xffffffffu;
	int k;

	while (len-- > 0) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1u));
	}
	return ~crc;
}

static uint32_t
count_words(const unsigned char *p, size_t len)
{
	uint32_t n = 0;
	int in = 0;

	for (; len > 0; p++, len--) {
		if (isspace(*p))
			in = 0;
		else if (!in) {
			in = 1;
			n++;
		}
	}
	return n;
}

static uint32_t
count_primes(uint32_t n)
{
	static unsigned char composite[PRIMES_MAX + 1];	/* no malloc per task */
	uint32_t i, j, count = 0;

	memset(composite, 0, sizeof(composite));
	for (i = 2; i <= n; i++) {
		if (composite[i])
			continue;
		count++;
		if (i <= n / i)
			for (j = i * i; j <= n; j += i)
				composite[j] = 1;
	}
	return count;
}

/* A short decimal payload in [0, max], or -1. */
static long long
parse_num(const void *p, size_t len, long long max)
{
	const char *errstr;
	char s[16];
	long long v;

	if (len == 0 || len >= sizeof(s))
		return -1;
	memcpy(s, p, len);
	s[len] = '\0';
	v = strtonum(s, 0, max, &errstr);
	return errstr != NULL ? -1 : v;
}

static int
nap(const void *p, size_t len, char *out, size_t cap, size_t *outlen)
{
	struct timespec ts = { 0, 0 };
	long long ms;
	int n;

	if ((ms = parse_num(p, len, SLEEP_MAX)) < 1)
		return EINVAL;
	ts.tv_nsec = ms * 1000000L;
	while (nanosleep(&ts, &ts) == -1)
		if (errno != EINTR)
			return errno;
	if ((n = snprintf(out, cap, "slept %lld ms", ms)) < 0 ||
	    (size_t)n >= cap)
		return EMSGSIZE;
	*outlen = n;
	return 0;
}

/*
 * Run one task.  The workers run it on the board; the master runs it on
 * its own copy of the payload to check what came back (all but K_SLEEP).
 */
static int
compute(uint32_t code, const unsigned char *p, size_t len, unsigned char *out,
    size_t cap, size_t *outlen)
{
	long long n;
	uint32_t v;
	size_t i;

	if (code == K_SLEEP)
		return nap(p, len, (char *)out, cap, outlen);
	if (code == K_UPPER) {
		if (len > cap)
			return EMSGSIZE;
		for (i = 0; i < len; i++)
			out[i] = toupper(p[i]);
		*outlen = len;
		return 0;
	}
	if (code == K_CRC32)
		v = crc32_ieee(p, len);
	else if (code == K_WORDS)
		v = count_words(p, len);
	else if (code == K_PRIMES && (n = parse_num(p, len, PRIMES_MAX)) >= 0)
		v = count_primes(n);
	else
		return EINVAL;
	if (cap < sizeof(v))
		return EMSGSIZE;
	memcpy(out, &v, sizeof(v));
	*outlen = sizeof(v);
	return 0;
}

/* The handler for every code: runs in a worker, on the slot. */
static int
handler(struct fb_task *t, void *arg)
{
	(void)arg;
	return compute(t->t_code, t->t_payload, t->t_len, t->t_result,
	    t->t_result_cap, &t->t_result_len);
}

static uint64_t
splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t
xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Task i's kind and payload, from (seed, i) alone; returns the length. */
static size_t
make_task(uint64_t seed, size_t i, uint32_t *code, char *buf, size_t cap)
{
	uint64_t s = splitmix64(seed ^ splitmix64(i)) | 1;
	size_t len = 0, wl, nw;
	const char *w;

	*code = 1 + xorshift64(&s) % NKINDS;
	if (*code == K_PRIMES || *code == K_SLEEP)
		return snprintf(buf, cap, "%" PRIu64, *code == K_PRIMES ?
		    xorshift64(&s) % (PRIMES_MAX + 1) : 1 + xorshift64(&s) % 5);
	for (nw = 1 + xorshift64(&s) % 24; nw > 0; nw--) {
		w = words[xorshift64(&s) % (sizeof(words) / sizeof(words[0]))];
		if (len + (wl = strlen(w)) + 2 > cap)
			break;
		if (len > 0)
			buf[len++] = ' ';
		if (xorshift64(&s) % 8 == 0)	/* runs of blanks, too */
			buf[len++] = ' ';
		memcpy(buf + len, w, wl);
		len += wl;
	}
	return len;
}

static size_t
tmap_home(const struct run *rn, fb_ticket_t t)
{
	return splitmix64(t) & rn->r_mask;
}

/* The map has twice as many entries as the board has slots: never full. */
static void
tmap_put(struct run *rn, fb_ticket_t t, size_t task)
{
	size_t i = tmap_home(rn, t);

	while (rn->r_map[i].e_ticket != 0)
		i = (i + 1) & rn->r_mask;
	rn->r_map[i].e_ticket = t;
	rn->r_map[i].e_task = task;
}

/* Remove t, moving later entries of its probe run back into the hole. */
static int
tmap_take(struct run *rn, fb_ticket_t t, size_t *task)
{
	struct tmap_entry *e = rn->r_map;
	size_t i = tmap_home(rn, t), j, m = rn->r_mask;

	for (; e[i].e_ticket != t; i = (i + 1) & m)
		if (e[i].e_ticket == 0)
			return -ENOENT;
	*task = e[i].e_task;
	for (j = (i + 1) & m; e[j].e_ticket != 0; j = (j + 1) & m) {
		if (((j - tmap_home(rn, e[j].e_ticket)) & m) >= ((j - i) & m)) {
			e[i] = e[j];
			i = j;
		}
	}
	e[i].e_ticket = 0;
	return 0;
}

/* Check a result against the master's own run; format it into out. */
static int
check(struct run *rn, size_t task, const struct fb_result *res, char *out,
    size_t outsz)
{
	unsigned char pay[PAYLOAD_MAX], want[PAYLOAD_MAX];
	size_t len, wlen = 0;
	uint32_t code, v = 0;
	int bad = 0;

	len = make_task(rn->r_opt->o_seed, task, &code, (char *)pay,
	    rn->r_paycap);
	if (code == K_SLEEP)	/* what it says, without the nap */
		wlen = snprintf((char *)want, sizeof(want), "slept %.*s ms",
		    (int)len, pay);
	else
		bad = compute(code, pay, len, want, sizeof(want), &wlen);
	bad = bad || wlen != res->r_len || memcmp(want, rn->r_buf, wlen) != 0;
	memcpy(&v, rn->r_buf, res->r_len < sizeof(v) ? res->r_len : sizeof(v));
	rn->r_buf[res->r_len] = '\0';
	if (code == K_CRC32)
		snprintf(out, outsz, "%08" PRIx32, v);
	else if (code == K_WORDS)
		snprintf(out, outsz, "%" PRIu32 " words", v);
	else if (code == K_PRIMES)
		snprintf(out, outsz, "%" PRIu32 " primes <= %.*s", v,
		    (int)len, pay);
	else if (code == K_UPPER)
		snprintf(out, outsz, "\"%.*s%s", UPPER_SHOW, rn->r_buf,
		    res->r_len > UPPER_SHOW ? "...\"" : "\"");
	else
		snprintf(out, outsz, "%s", rn->r_buf);
	return bad;
}

/* Take the oldest finished task, check it, count it, print its line. */
static int
take_one(struct run *rn)
{
	struct fb_result res;
	struct wstat *w;
	char line[80];
	size_t task;
	int rc, failed, bad = 0;

	rn->r_what = "fb_pool_next";
	if ((rc = fb_pool_next(rn->r_pool, &res, rn->r_buf, rn->r_cap, -1)) < 0)
		return rc;
	rn->r_what = "result for an unknown ticket";
	if ((rc = tmap_take(rn, res.r_ticket, &task)) < 0)
		return rc;
	rn->r_done++;
	if ((failed = res.r_outcome != FB_DONE))
		snprintf(line, sizeof(line), "%s, status %d",
		    fb_outcome_name(res.r_outcome), res.r_outcome ==
		    FB_FAILED ? res.r_status : res.r_wait_status);
	else
		bad = check(rn, task, &res, line, sizeof(line));
	rn->r_failed += failed;
	rn->r_mismatch += bad;
	if (res.r_worker < rn->r_opt->o_workers && res.r_code <= NKINDS &&
	    res.r_outcome != FB_CANCELLED) {
		w = &rn->r_ws[res.r_worker];
		w->w_tasks++;
		w->w_kind[res.r_code]++;
		w->w_run_ns += res.r_run_ns;
	}
	if (!rn->r_opt->o_quiet || failed || bad)
		printf("task %*zu %-9s worker %*u pid %-7d -> %s%s\n",
		    rn->r_twidth, task, kind_name[res.r_code <= NKINDS ?
		    res.r_code : 0], rn->r_wwidth, res.r_worker, (int)res.r_pid,
		    line, bad ? "  MISMATCH" : "");
	return 0;
}

/*
 * Submit every task without blocking.  A full board answers -EAGAIN (or
 * -EDEADLK if every slot holds an untaken result): take one result, retry.
 */
static int
dispatch(struct run *rn)
{
	char pay[PAYLOAD_MAX];
	fb_ticket_t t;
	uint32_t code;
	size_t i, len;
	int rc;

	for (i = 0; i < rn->r_opt->o_tasks; i++) {
		len = make_task(rn->r_opt->o_seed, i, &code, pay, rn->r_paycap);
		while ((rc = fb_pool_submit(rn->r_pool, code, pay, len,
		    FB_NONBLOCK, &t)) == -EAGAIN || rc == -EDEADLK)
			if ((rc = take_one(rn)) < 0)
				return rc;
		rn->r_what = "fb_pool_submit";
		if (rc < 0)
			return rc;
		tmap_put(rn, t, i);
	}
	while (fb_pool_slots_used(rn->r_pool) > 0)
		if ((rc = take_one(rn)) < 0)
			return rc;
	return 0;
}

static void
print_board(const struct fb_board_stat *st)
{
	printf("board: shmid %d key 0x%08x size %zu (%zu in pages) mode %04o "
	    "nattch %lu creator %d removed %s\n", st->bs_shmid,
	    (unsigned)st->bs_key, st->bs_size, st->bs_size_rounded, st->bs_mode,
	    st->bs_nattch, (int)st->bs_cpid, st->bs_removed ? "yes" : "no");
	printf("       %u slots of %zu payload + %zu result bytes\n\n",
	    st->bs_slots, st->bs_payload_size, st->bs_result_size);
}

/* The per-worker table and the totals; returns the tasks that failed. */
static uint64_t
summary(struct run *rn, double secs)
{
	struct fb_worker_info wi;
	struct fb_counters c;
	struct wstat *w;
	unsigned i;
	int k;

	printf("\nworker     pid state    tasks  crc32  words  upper primes "
	    " sleep     run ms\n");
	for (i = 0; i < rn->r_opt->o_workers; i++) {
		w = &rn->r_ws[i];
		if (fb_pool_worker_info(rn->r_pool, i, &wi) < 0)
			continue;
		printf("%6u %7d %-7s %6" PRIu64, i, (int)wi.wi_pid,
		    fb_worker_state_name(wi.wi_state), w->w_tasks);
		for (k = 1; k <= NKINDS; k++)
			printf(" %6" PRIu64, w->w_kind[k]);
		printf(" %10.3f\n", w->w_run_ns / 1e6);
	}
	fb_pool_counters(rn->r_pool, &c);
	printf("total: %zu tasks in %.3f s (%.0f tasks/s); submitted %" PRIu64
	    " done %" PRIu64 " failed %" PRIu64 " crashed %" PRIu64
	    " respawns %" PRIu64 "; mismatches %zu\n", rn->r_done, secs,
	    rn->r_done / (secs > 0 ? secs : 1e-9), c.c_submitted, c.c_done,
	    c.c_failed, c.c_crashed, c.c_respawns, rn->r_mismatch);
	return c.c_failed + c.c_nohandler + c.c_crashed + c.c_timedout +
	    c.c_badresult + c.c_cancelled;
}

/* Shut down and destroy, then ask the kernel whether the board is gone. */
static int
finish(struct run *rn, int shmid)
{
	struct fb_worker_info wi;
	struct shmid_ds ds;
	unsigned i, reaped = 0;
	int rc;

	rn->r_what = "fb_pool_shutdown";
	if ((rc = fb_pool_shutdown(rn->r_pool, 5000)) < 0)
		return rc;
	for (i = 0; i < rn->r_opt->o_workers; i++)
		if (fb_pool_worker_info(rn->r_pool, i, &wi) == 0 &&
		    wi.wi_state == FB_WORKER_DEAD)
			reaped++;
	fb_pool_destroy(rn->r_pool);
	rn->r_pool = NULL;
	rn->r_what = "shutdown: a worker is still alive";
	if (reaped != rn->r_opt->o_workers)
		return -ECHILD;
	rn->r_what = "shutdown: the board still exists";
	if (shmctl(shmid, IPC_STAT, &ds) == 0)
		return -EEXIST;
	printf("shutdown: all %u workers reaped, board removed\n", reaped);
	return 0;
}

static int
setup(struct run *rn, struct fb_board_stat *st)
{
	struct fb_config cfg;
	size_t n = 16;
	int rc, k;

	fb_config_init(&cfg);
	cfg.workers = rn->r_opt->o_workers;
	cfg.payload_size = rn->r_opt->o_slot_size;
	cfg.policy = rn->r_opt->o_policy;
	cfg.argc = rn->r_opt->o_argc;
	cfg.argv = rn->r_opt->o_argv;
	rn->r_what = "fb_pool_create";
	if ((rc = fb_pool_create(&rn->r_pool, &cfg)) < 0)
		return rc;
	rn->r_what = "fb_pool_register";
	for (k = 1; k <= NKINDS; k++)
		if ((rc = fb_pool_register(rn->r_pool, k, handler, NULL)) < 0)
			return rc;
	rn->r_what = "fb_pool_start";
	if ((rc = fb_pool_start(rn->r_pool)) < 0)
		return rc;
	rn->r_what = "fb_pool_stat";
	if ((rc = fb_pool_stat(rn->r_pool, st)) < 0)
		return rc;
	while (n < 2 * (size_t)st->bs_slots)
		n *= 2;
	rn->r_mask = n - 1;
	rn->r_cap = st->bs_result_size;
	rn->r_paycap = st->bs_payload_size < PAYLOAD_MAX ? st->bs_payload_size :
	    PAYLOAD_MAX;
	rn->r_twidth = snprintf(NULL, 0, "%zu", rn->r_opt->o_tasks - 1);
	rn->r_wwidth = snprintf(NULL, 0, "%u", cfg.workers - 1);
	rn->r_what = "setup";
	if ((rn->r_map = calloc(n, sizeof(*rn->r_map))) == NULL ||
	    (rn->r_buf = malloc(rn->r_cap + 1)) == NULL ||
	    (rn->r_ws = calloc(cfg.workers, sizeof(*rn->r_ws))) == NULL)
		return -ENOMEM;
	return 0;
}

static int
run(const struct opts *o)
{
	struct run rn = { .r_opt = o };
	struct fb_board_stat st;
	struct timespec t0, t1;
	double secs;
	uint64_t failed;
	int rc;

	if ((rc = setup(&rn, &st)) < 0)
		goto fail;
	if (!o->o_quiet)
		print_board(&st);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = dispatch(&rn)) < 0)
		goto fail;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	failed = summary(&rn, secs);
	if ((rc = finish(&rn, st.bs_shmid)) < 0)
		goto fail;
	rc = failed > 0 || rn.r_failed > 0 || rn.r_mismatch > 0 ||
	    rn.r_done != o->o_tasks;
	goto out;
fail:
	fprintf(stderr, "%s: %s: %s\n", PROG, rn.r_what, fb_strerror(rc));
	fb_pool_destroy(rn.r_pool);
	rc = 1;
out:
	free(rn.r_map);
	free(rn.r_buf);
	free(rn.r_ws);
	return rc;
}

static int
usage(int help)
{
	fprintf(help ? stdout : stderr, "usage: %s [-hq] [-n tasks] "
	    "[-p rr|least] [-S seed] [-s slot-size] [-w workers]\n", PROG);
	return help ? 1 : -1;
}

/* Parse optarg as a number in [min, max], or say what is wrong with it. */
static int
num_opt(int ch, long long min, long long max, long long *v)
{
	const char *errstr;

	*v = strtonum(optarg, min, max, &errstr);
	if (errstr == NULL)
		return 0;
	fprintf(stderr, "%s: -%c %s: %s (range %lld..%lld)\n", PROG, ch, optarg,
	    errstr, min, max);
	return -1;
}

/* 0: run, 1: help shown, -1: bad usage. */
static int
parse_opts(int argc, char *argv[], struct opts *o)
{
	long long v;
	uint64_t sz;
	int ch;

	while ((ch = getopt(argc, argv, "hn:p:qS:s:w:")) != -1) {
		switch (ch) {
		case 'n':
			if (num_opt(ch, 1, 10000000, &v) < 0)
				return -1;
			o->o_tasks = v;
			break;
		case 'p':
			if (strcmp(optarg, "rr") == 0)
				o->o_policy = FB_POLICY_ROUND_ROBIN;
			else if (strcmp(optarg, "least") == 0)
				o->o_policy = FB_POLICY_LEAST_LOADED;
			else {
				fprintf(stderr, "%s: -p %s: policy must be rr "
				    "or least\n", PROG, optarg);
				return -1;
			}
			break;
		case 'q':
			o->o_quiet = 1;
			break;
		case 'S':
			if (num_opt(ch, 0, LLONG_MAX, &v) < 0)
				return -1;
			o->o_seed = v;
			break;
		case 's':
			if (expand_number(optarg, &sz) == -1 ||
			    sz < SLOT_MIN || sz > SLOT_MAX) {
				fprintf(stderr, "%s: -s %s: slot size must be "
				    "64..16m, e.g. 4k\n", PROG, optarg);
				return -1;
			}
			o->o_slot_size = sz;
			break;
		case 'w':
			if (num_opt(ch, 1, FB_WORKERS_MAX, &v) < 0)
				return -1;
			o->o_workers = v;
			break;
		default:
			return usage(ch == 'h');
		}
	}
	return optind == argc ? 0 : usage(0);
}

int
main(int argc, char *argv[])
{
	struct opts o = {
		.o_workers = 4,
		.o_tasks = 300,
		.o_policy = FB_POLICY_ROUND_ROBIN,
		.o_slot_size = 4096,
		.o_seed = 42,
		.o_argc = argc,
		.o_argv = argv,
	};
	int rc;

	if ((rc = parse_opts(argc, argv, &o)) != 0)
		return rc < 0;
	printf("%s: %u workers, %zu tasks, policy %s, slot size %zu, "
	    "seed %" PRIu64 "\n", PROG, o.o_workers, o.o_tasks,
	    o.o_policy == FB_POLICY_ROUND_ROBIN ? "rr" : "least",
	    o.o_slot_size, o.o_seed);
	return run(&o);
}
