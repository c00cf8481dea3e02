/*
 * store.c - results, acknowledgements and dead letters, in that order.
 *
 * At-least-once hinges on one rule: an entry is acknowledged only after
 * its result is stored.  So XACK is sent from the callback of the HSET
 * that stored the result, never in the same pipeline as a blind
 * follower (Redis would run the XACK even if the HSET failed).
 *
 * Results go into the hash the entry names (field "reply"), under the
 * task id: a second run of the same task (a claim after a crash or a
 * cut link) overwrites the same field instead of adding a result.  HSET
 * answers how many fields were new, so the duplicates are counted for
 * free, reported in /status and /metrics and added to REPLY:duplicates
 * for the producer.  Every result finished in one loop turn for one hash
 * goes in one HSET, and their acks in one XACK (XDEL by 64): a busy consumer
 * sends far fewer than one command per task.
 *
 * A dead letter is an XADD to the dead-letter stream with the cause; a
 * result saying "outcome=dead" is then stored like any other, so the
 * producer waiting for it learns what happened, and the entry is acked.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "rstream.h"

#define BATCH_MAX	512

/* A result sent again after a lost link may find its own first copy:
 * only a copy another consumer wrote is a duplicate. */
static const char resend_lua[] =
"local old = redis.call('HGET', KEYS[1], ARGV[1])\n"
"redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
"if old and not string.find(old, ' consumer=' .. ARGV[3] .. '\\n', 1, true)\n"
"then return 0 end\n"
"return 1\n";

/* HSET batches in flight: at most one new one is sent while another
 * waits for its reply, so results finishing meanwhile gather into the
 * next batch (batches grow with the load: fewer round trips per task). */
static unsigned storing;

static int	send_results(void);

#define DEL_BATCH	64
static char	 dels[DEL_BATCH][48];	/* acked, to XDEL */
static unsigned	 ndels;

struct sbatch {
	unsigned	 b_epoch;
	unsigned	 b_n;
	struct rrec	*b_r[];
};

static struct sbatch *
batch_new(unsigned n)
{
	struct sbatch *b = malloc(sizeof(*b) + n * sizeof(b->b_r[0]));

	if (b != NULL) {
		b->b_epoch = rlink_epoch();
		b->b_n = 0;
	}
	return b;
}

/* A reply for this link, or NULL (lost link, stale batch): then the
 * records stay *_SENT and store_relink() sends them again. */
static const redisReply *
batch_reply(void *reply, struct sbatch *b)
{
	if (reply == NULL || b->b_epoch != rlink_epoch()) {
		free(b);
		return NULL;
	}
	return reply;
}

void
store_result(struct rrec *r)
{
	r->r_state = RR_STORE;
	consumer_kick();
}

void
store_dead(struct rrec *r, const char *fmt, ...)
{
	va_list ap;
	char *c;

	va_start(ap, fmt);
	if (vasprintf(&c, fmt, ap) == -1)
		c = NULL;
	va_end(ap);
	free(r->r_cause);
	r->r_cause = c;
	r->r_state = RR_DEAD;
	consumer_kick();
}

void
store_relink(void)
{
	struct rrec *r;

	storing = 0;
	TAILQ_FOREACH(r, &rrecs, r_entry) {
		if (r->r_state == RR_STORE_SENT) {
			r->r_state = RR_STORE;
			r->r_resent = 1;
		} else if (r->r_state == RR_DEAD_SENT)
			r->r_state = RR_DEAD;
		else if (r->r_state == RR_ACK_SENT)
			r->r_state = RR_ACK;
	}
}

static void
ack_cb(void *rp, void *arg)
{
	struct sbatch *b = arg;
	const redisReply *reply = batch_reply(rp, b);
	unsigned i;

	if (reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR)
		log_err("redis: XACK: %s (the entries stay pending and are "
		    "claimed again)", reply->str);
	else
		fbs_rstats.rs_acked += b->b_n;
	for (i = 0; i < b->b_n; i++)
		consumer_release(b->b_r[i]);
	free(b);
}

/* XDEL of the acknowledged entries gathered so far; also called when the
 * consumer has nothing left to hold (consumer.c) and on its tick. */
void
store_xdel(void)
{
	const char *argv[2 + DEL_BATCH];
	unsigned i;

	if (ndels == 0)
		return;
	argv[0] = "XDEL";
	argv[1] = rcf->rc_stream;
	for (i = 0; i < ndels; i++)
		argv[2 + i] = dels[i];
	if (rlink_cmd(RC_WRITE, NULL, NULL, (int)(2 + ndels), argv, NULL) == 0)
		ndels = 0;
}

/* XACK every record in RR_ACK (then XDEL, unless --keep-entries). */
static void
send_acks(void)
{
	const char *argv[3 + BATCH_MAX];
	struct sbatch *b;
	struct rrec *r;
	int argc = 3;

	if ((b = batch_new(BATCH_MAX)) == NULL)
		return;
	argv[0] = "XACK";
	argv[1] = rcf->rc_stream;
	argv[2] = rcf->rc_group;
	TAILQ_FOREACH(r, &rrecs, r_entry) {
		if (r->r_state != RR_ACK)
			continue;
		argv[argc++] = r->r_eid;
		b->b_r[b->b_n++] = r;
		if (b->b_n == BATCH_MAX)
			break;
	}
	if (b->b_n == 0 || rlink_cmd(RC_WRITE, ack_cb, b, argc, argv, NULL)) {
		free(b);
		return;
	}
	for (unsigned i = 0; i < b->b_n; i++)
		b->b_r[i]->r_state = RR_ACK_SENT;
	/* Done entries would fill the stream (and Redis's memory): they are
	 * deleted, DEL_BATCH at a time.  Their results are stored, so an
	 * entry deleted even before its XACK lands is not lost. */
	for (unsigned i = 0; i < b->b_n && !rcf->rc_keep_entries; i++) {
		if (ndels == DEL_BATCH)
			store_xdel();
		strlcpy(dels[ndels++], b->b_r[i]->r_eid, sizeof(dels[0]));
	}
	if (ndels == DEL_BATCH)
		store_xdel();
	if (b->b_n == BATCH_MAX)
		send_acks();
}

static void
hset_cb(void *rp, void *arg)
{
	struct sbatch *b = arg;
	const redisReply *reply = batch_reply(rp, b);
	unsigned i;
	long long dups;
	char key[300];

	if (reply == NULL)
		return;
	storing--;
	if (reply->type == REDIS_REPLY_ERROR) {
		if (strncmp(reply->str, "WRONGTYPE", 9) == 0) {
			for (i = 0; i < b->b_n; i++) {
				b->b_r[i]->r_nostore = 1;
				store_dead(b->b_r[i], "cannot store the result "
				    "in '%s': %s", b->b_r[i]->r_reply,
				    reply->str);
			}
			free(b);
			return;
		}
		/* LOADING, OOM, READONLY...: Redis's state, not the
		 * entry's; try again on a new link, after the back-off. */
		log_err("redis: HSET: %s", reply->str);
		free(b);
		rlink_reset("HSET refused");
		return;
	}
	for (i = 0; i < b->b_n; i++)
		b->b_r[i]->r_state = RR_ACK;
	/* Fields that already existed: a result another delivery stored.
	 * (A re-sent one goes alone through resend_lua, which answers 0
	 * when another consumer's copy was there, 1 otherwise.) */
	dups = (long long)b->b_n - reply->integer;
	fbs_rstats.rs_stored += b->b_n;
	if (reply->type == REDIS_REPLY_INTEGER && dups > 0) {
		fbs_rstats.rs_duplicates += (uint64_t)dups;
		snprintf(key, sizeof(key), "%s:duplicates", b->b_r[0]->r_reply);
		rlink_cmdf(RC_WRITE, NULL, NULL, "INCRBY %s %lld", key, dups);
	}
	free(b);
	send_acks();
	while (send_results())	/* what gathered meanwhile */
		;
}

/* One HSET per results hash: every RR_STORE record naming that hash. */
static int
send_results(void)
{
	const char *argv[2 + 2 * BATCH_MAX];
	size_t lens[2 + 2 * BATCH_MAX];
	struct rrec *r, *first = NULL;
	struct sbatch *b;
	int argc = 2;

	if (storing > 0)
		return 0;
	TAILQ_FOREACH(r, &rrecs, r_entry)
		if (r->r_state == RR_STORE) {
			first = r;
			break;
		}
	if (first == NULL || (b = batch_new(BATCH_MAX)) == NULL)
		return 0;
	if (first->r_resent) {
		/* EVAL script 1 hash id value consumer */
		argv[0] = "EVAL";
		lens[0] = 4;
		argv[1] = resend_lua;
		lens[1] = sizeof(resend_lua) - 1;
		argv[2] = "1";
		lens[2] = 1;
		argv[3] = first->r_reply;
		lens[3] = first->r_replylen;
		argv[4] = first->r_tid;
		lens[4] = first->r_tidlen;
		argv[5] = first->r_val;
		lens[5] = first->r_vallen;
		argv[6] = consumer_name();
		lens[6] = strlen(argv[6]);
		b->b_r[b->b_n++] = first;
		argc = 7;
		goto send;
	}
	argv[0] = "HSET";
	lens[0] = 4;
	argv[1] = first->r_reply;
	lens[1] = first->r_replylen;
	for (r = first; r != NULL && b->b_n < BATCH_MAX;
	    r = TAILQ_NEXT(r, r_entry)) {
		if (r->r_state != RR_STORE || r->r_resent ||
		    r->r_replylen != lens[1] ||
		    memcmp(r->r_reply, argv[1], lens[1]) != 0)
			continue;
		argv[argc] = r->r_tid;
		lens[argc++] = r->r_tidlen;
		argv[argc] = r->r_val;
		lens[argc++] = r->r_vallen;
		b->b_r[b->b_n++] = r;
	}
send:
	if (rlink_cmd(RC_WRITE, hset_cb, b, argc, argv, lens) == -1) {
		free(b);
		return 0;
	}
	for (unsigned i = 0; i < b->b_n; i++)
		b->b_r[i]->r_state = RR_STORE_SENT;
	storing++;
	return 1;
}

static void
dead_cb(void *rp, void *arg)
{
	struct sbatch *b = arg;
	const redisReply *reply = batch_reply(rp, b);
	struct rrec *r;
	int n;

	if (reply == NULL)
		return;
	r = b->b_r[0];
	free(b);
	if (reply->type == REDIS_REPLY_ERROR) {
		log_err("redis: XADD %s: %s (entry %s stays pending)",
		    rcf->rc_dead, reply->str, r->r_eid);
		consumer_release(r);
		return;
	}
	fbs_rstats.rs_dead++;
	log_info("redis: entry %s to %s: %s", r->r_eid, rcf->rc_dead,
	    r->r_cause ? r->r_cause : "?");
	if (r->r_tid == NULL || r->r_reply == NULL || r->r_nostore) {
		r->r_state = RR_ACK;
		send_acks();
		return;
	}
	free(r->r_val);
	n = asprintf(&r->r_val, "outcome=dead deliveries=%u host=%s "
	    "consumer=%s\n%s", r->r_deliveries, consumer_host(),
	    consumer_name(), r->r_cause ? r->r_cause : "");
	if (n < 0) {
		r->r_val = NULL;
		consumer_release(r);
		return;
	}
	r->r_vallen = (size_t)n;
	store_result(r);
}

static void
send_dead(struct rrec *r)
{
	char deliv[16];
	const char *argv[24];
	size_t lens[24];
	struct sbatch *b;
	int argc = 0;

#define ARG(s, l) do { argv[argc] = (s); lens[argc++] = (l); } while (0)
#define STR(s) ARG((s), strlen(s))
	snprintf(deliv, sizeof(deliv), "%u", r->r_deliveries);
	STR("XADD"); STR(rcf->rc_dead); STR("*");
	STR("entry"); STR(r->r_eid);
	STR("stream"); STR(rcf->rc_stream);
	STR("cause"); STR(r->r_cause ? r->r_cause : "unknown");
	STR("deliveries"); STR(deliv);
	STR("consumer"); STR(consumer_name());
	if (r->r_tid != NULL) { STR("id"); ARG(r->r_tid, r->r_tidlen); }
	if (r->r_task != NULL) { STR("task"); ARG(r->r_task, r->r_tasklen); }
	if (r->r_reply != NULL) {
		STR("reply");
		ARG(r->r_reply, r->r_replylen);
	}
	if (r->r_payload != NULL) {
		STR("payload");
		ARG(r->r_payload, r->r_plen);
	}
#undef STR
#undef ARG
	if ((b = batch_new(1)) == NULL)
		return;
	b->b_r[b->b_n++] = r;
	if (rlink_cmd(RC_WRITE, dead_cb, b, argc, argv, lens) == -1) {
		free(b);
		return;
	}
	r->r_state = RR_DEAD_SENT;
}

void
store_flush(void)
{
	struct rrec *r, *next;

	if (!rlink_up())
		return;
	for (r = TAILQ_FIRST(&rrecs); r != NULL; r = next) {
		next = TAILQ_NEXT(r, r_entry);
		if (r->r_state == RR_DEAD)
			send_dead(r);
	}
	while (send_results())
		;
	send_acks();
}
