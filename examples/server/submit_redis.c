/*
 * submit_redis.c - forkboard-submit --redis: a producer for the stream
 * that forkboard-servers consume.
 *
 * Every task is one XADD (fields task, id, reply, payload[, timeout]),
 * pipelined a thousand at a time: one round trip per thousand tasks.
 * The ids are BATCH:N, with BATCH 64 random bits, and every result lands
 * in one hash, STREAM:results:BATCH, under its id; so the producer
 * follows the run with one HLEN per tick (the progress bar), reads the
 * results with HSCAN at the end, and deletes the hash (unless --keep).
 * A task run twice (at-least-once) overwrites its own field: the count
 * is exact.  How many results were overwritten is in
 * STREAM:results:BATCH:duplicates, reported in the summary.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "submit.h"
#include "rurl.h"

#define WINDOW	1000

static redisContext	*rc;
static char		 batch[17], reply_key[512];
static char		**results;
static size_t		*result_len;

static int
fail(const char *what)
{
	fprintf(stderr, "%s: redis: %s: %s\n", PROG, what,
	    rc->err ? rc->errstr : "unexpected reply");
	return -1;
}

static int
connect_to(const char *url)
{
	struct timeval tv = { 5, 0 };
	struct rurl u;
	char err[256];

	if (rurl_parse(url, &u, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: --redis: %s\n", PROG, err);
		return -1;
	}
	rc = u.ru_path[0] ? redisConnectUnixWithTimeout(u.ru_path, tv) :
	    redisConnectWithTimeout(u.ru_host, u.ru_port, tv);
	if (rc == NULL || rc->err) {
		fprintf(stderr, "%s: cannot connect to %s: %s\n", PROG, url,
		    rc ? rc->errstr : "out of memory");
		return -1;
	}
	tv.tv_sec = 30;
	redisSetTimeout(rc, tv);
	return 0;
}

/*
 * After a lost connection (Redis restarting, say) or a LOADING answer:
 * try again for 30 s.  Sending a window of XADDs again is safe: an
 * entry added twice is a task run twice, and its result overwrites the
 * same field (the ids do not change).
 */
static int
reconnect(const char *why)
{
	struct timespec ts = { 0, 200 * 1000000L };
	struct timeval tv = { 30, 0 };
	double give_up = now() + 30;

	fprintf(stderr, "%s: redis: %s; reconnecting\n", PROG, why);
	while (now() < give_up) {
		nanosleep(&ts, NULL);
		if (redisReconnect(rc) == REDIS_OK) {
			redisSetTimeout(rc, tv);
			return 0;
		}
	}
	fprintf(stderr, "%s: redis: no connection for 30 s\n", PROG);
	return -1;
}

/* XADD every task, WINDOW commands per write and read. */
static int
enqueue(const struct ropts *o)
{
	char tid[64], ms[16];
	const char *argv[13];
	size_t lens[13], i, j, end;
	redisReply *r;
	int argc, again;

	snprintf(ms, sizeof(ms), "%u", o->ro_timeout_ms);
	for (i = 0; i < nitems; i = again ? i : end) {
		again = 0;
		end = i + WINDOW < nitems ? i + WINDOW : nitems;
		for (j = i; j < end; j++) {
			snprintf(tid, sizeof(tid), "%s:%zu", batch, j);
			argc = 0;
#define ARG(s, l) do { argv[argc] = (s); lens[argc++] = (l); } while (0)
			ARG("XADD", 4);
			ARG(o->ro_stream, strlen(o->ro_stream));
			ARG("*", 1);
			ARG("task", 4);
			ARG(kind, strlen(kind));
			ARG("id", 2);
			ARG(tid, strlen(tid));
			ARG("reply", 5);
			ARG(reply_key, strlen(reply_key));
			ARG("payload", 7);
			ARG(items[j].i_data, items[j].i_len);
			if (o->ro_timeout_ms > 0) {
				ARG("timeout", 7);
				ARG(ms, strlen(ms));
			}
#undef ARG
			if (redisAppendCommandArgv(rc, argc, argv, lens) !=
			    REDIS_OK)
				return fail("XADD");
		}
		for (j = i; j < end && !again; j++) {
			if (redisGetReply(rc, (void **)&r) != REDIS_OK) {
				if (reconnect(rc->errstr) == -1)
					return -1;
				again = 1;
				break;
			}
			if (r->type == REDIS_REPLY_ERROR &&
			    strncmp(r->str, "LOADING", 7) == 0) {
				/* Read the rest of the window, then again. */
				again = 1;
				freeReplyObject(r);
				for (j++; j < end; j++)
					if (redisGetReply(rc, (void **)&r) ==
					    REDIS_OK)
						freeReplyObject(r);
				nanosleep(&(struct timespec){ 0, 100000000L },
				    NULL);
				break;
			}
			if (r->type == REDIS_REPLY_ERROR) {
				fprintf(stderr, "%s: XADD %s: %s\n", PROG,
				    o->ro_stream, r->str);
				freeReplyObject(r);
				return -1;
			}
			freeReplyObject(r);
		}
	}
	return 0;
}

static long long
integer(const char *fmt, const char *key)
{
	redisReply *r;
	long long v = -1;

	while ((r = redisCommand(rc, fmt, key)) == NULL ||
	    (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "LOADING", 7) ==
	    0)) {
		if (r != NULL)
			freeReplyObject(r);
		if (reconnect(rc->err ? rc->errstr : "Redis is loading") ==
		    -1)
			return -1;
	}
	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	else if (r != NULL && r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	else if (r != NULL && r->type == REDIS_REPLY_NIL)
		v = 0;
	if (r != NULL)
		freeReplyObject(r);
	return v;
}

/* Poll HLEN until every result is in, or --wait seconds pass with none
 * new. */
static int
wait_results(const struct ropts *o)
{
	struct timespec ts = { 0, 20 * 1000000L };
	double last_new = now(), last_bar = 0;
	long long n;

	for (;;) {
		if ((n = integer("HLEN %s", reply_key)) < 0)
			return fail("HLEN");
		if ((size_t)n != ndone)
			last_new = now();
		ndone = (size_t)n;
		if (ndone >= nitems)
			return 0;
		if (now() - last_bar >= (tty ? 0.1 : 1.0)) {
			progress(0);
			last_bar = now();
		}
		if (o->ro_wait_s > 0 && now() - last_new > o->ro_wait_s) {
			fprintf(stderr, "%s: no new result for %u s: giving "
			    "up with %zu of %zu\n", PROG, o->ro_wait_s, ndone,
			    nitems);
			return 0;
		}
		nanosleep(&ts, NULL);
	}
}

static void
keep_result(const redisReply *f, const redisReply *v)
{
	size_t blen = strlen(batch), idx;
	char *end;

	if (f->len <= blen + 1 || memcmp(f->str, batch, blen) != 0 ||
	    f->str[blen] != ':')
		return;
	idx = strtoul(f->str + blen + 1, &end, 10);
	if (*end != '\0' || idx >= nitems || results[idx] != NULL)
		return;
	if ((results[idx] = malloc(v->len + 1)) == NULL)
		return;
	memcpy(results[idx], v->str, v->len);
	results[idx][v->len] = '\0';
	result_len[idx] = v->len;
}

static int
fetch_results(void)
{
	char cursor[32] = "0";
	redisReply *r;
	size_t i;

	do {
		r = redisCommand(rc, "HSCAN %s %s COUNT 1000", reply_key,
		    cursor);
		if (r == NULL || r->type != REDIS_REPLY_ARRAY ||
		    r->elements != 2) {
			if (r != NULL)
				freeReplyObject(r);
			return fail("HSCAN");
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		for (i = 0; i + 1 < r->element[1]->elements; i += 2)
			keep_result(r->element[1]->element[i],
			    r->element[1]->element[i + 1]);
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	return 0;
}

/* "outcome=done status=0 ...\n<bytes>": count it, save the bytes. */
static void
report(size_t idx)
{
	const char *v = results[idx], *nl, *oc;
	char name[32];
	size_t n;

	if (v == NULL) {
		count("missing");
		nfailed++;
		fprintf(stderr, "%s: task %zu: no result\n", PROG, idx);
		return;
	}
	nl = memchr(v, '\n', result_len[idx]);
	oc = strncmp(v, "outcome=", 8) == 0 ? v + 8 : NULL;
	if (nl == NULL || oc == NULL) {
		count("malformed");
		nfailed++;
		return;
	}
	n = strcspn(oc, " \n");
	snprintf(name, sizeof(name), "%.*s", (int)n, oc);
	count(name);
	if (strcmp(name, "done") == 0) {
		save(idx, nl + 1, result_len[idx] - (size_t)(nl + 1 - v));
		return;
	}
	nfailed++;
	fprintf(stderr, "%s: task %zu: %.*s%s%.*s\n", PROG, idx,
	    (int)(nl - v), v, nl + 1 < v + result_len[idx] ? ": " : "",
	    (int)(result_len[idx] - (size_t)(nl + 1 - v)), nl + 1);
}

int
redis_submit(const struct ropts *o)
{
	unsigned char rnd[8];
	char extra[64] = "";
	long long dups;
	size_t i;
	int rv = 2;

	if (o->ro_stream == NULL) {
		fprintf(stderr, "%s: --redis needs --stream\n", PROG);
		return 2;
	}
	/* A write to a connection Redis closed (a restart) must be an
	 * error to reconnect from, not the end of the process. */
	signal(SIGPIPE, SIG_IGN);
	if (connect_to(o->ro_url) == -1)
		return 2;
	arc4random_buf(rnd, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(batch + 2 * i, 3, "%02x", rnd[i]);
	snprintf(reply_key, sizeof(reply_key), "%s:results:%s", o->ro_stream,
	    batch);
	results = calloc(nitems, sizeof(*results));
	result_len = calloc(nitems, sizeof(*result_len));
	if (results == NULL || result_len == NULL)
		goto out;
	t_start = now();
	if (enqueue(o) == -1 || wait_results(o) == -1 || fetch_results() == -1)
		goto out;
	ndone = nitems;
	for (i = 0; i < nitems; i++)
		report(i);
	snprintf(extra, sizeof(extra), "%s:", reply_key);
	dups = integer("GET %s", strcat(extra, "duplicates"));
	snprintf(extra, sizeof(extra), "; duplicates %lld", dups);
	summary(extra);
	if (!o->ro_keep) {
		redisReply *r = redisCommand(rc, "DEL %s %s:duplicates",
		    reply_key, reply_key);

		if (r != NULL)
			freeReplyObject(r);
	}
	rv = nfailed > 0 ? 1 : 0;
out:
	for (i = 0; results != NULL && i < nitems; i++)
		free(results[i]);
	free(results);
	free(result_len);
	free_items();
	redisFree(rc);
	return rv;
}
