/*
 * consumer.c - forkboard-server as a consumer of a Redis stream.
 *
 * XREADGROUP GROUP G NAME COUNT room BLOCK b STREAMS S >, where room is
 * --redis-prefetch less the entries held (read or claimed, not yet
 * acknowledged): a consumer never takes more than it can start soon, so
 * the others get the rest (back-pressure).  Each entry becomes a record
 * (struct rrec) and a task in the local pool; its result goes to
 * store.c, which stores it and only then acknowledges the entry.  The
 * entry format is in the manual (forkboard-server(8), "REDIS STREAMS").
 *
 * One low-priority event per loop turn (the same trick as the pool's
 * flush) sends every result of that turn in one pipelined batch and then
 * asks for more entries.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "rstream.h"

#define READ_MARGIN_MS	3000	/* XREADGROUP BLOCK plus this, then reset */

struct rrec_list	 rrecs = TAILQ_HEAD_INITIALIZER(rrecs);
const struct rconf	*rcf;
struct rstats		 fbs_rstats;

static struct {
	const struct conf	*c_conf;
	struct rurl		 c_url;
	char			 c_host[256];
	char			*c_name;
	struct event		*c_kick;
	unsigned		 c_held;
	int			 c_group_ok;	/* XGROUP CREATE answered */
	int			 c_reading;	/* XREADGROUP outstanding */
	int			 c_draining;
} C;

static void	read_more(void);

int
redis_enabled(void)
{
	return rcf != NULL;
}

const char *
consumer_name(void)
{
	return C.c_name;
}

const char *
consumer_host(void)
{
	return C.c_host;
}

unsigned
consumer_room(void)
{
	if (C.c_draining || C.c_held >= rcf->rc_prefetch)
		return 0;
	return rcf->rc_prefetch - C.c_held;
}

/* Room for claimed entries: the same, plus a reserve (reclaim.c). */
unsigned
consumer_room_claim(void)
{
	if (C.c_draining || C.c_held >= rcf->rc_prefetch + RC_CLAIM_RESERVE)
		return 0;
	return rcf->rc_prefetch + RC_CLAIM_RESERVE - C.c_held;
}

static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	store_flush();
	read_more();
}

void
consumer_kick(void)
{
	if (C.c_kick != NULL)
		event_active(C.c_kick, EV_TIMEOUT, 0);
}

static void
group_cb(void *r, void *arg)
{
	redisReply *reply = r;

	(void)arg;
	if (reply == NULL)
		return;
	/* BUSYGROUP: another consumer made it first, which is fine. */
	if (reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "BUSYGROUP", 9) != 0) {
		log_err("redis: XGROUP CREATE %s %s: %s", rcf->rc_stream,
		    rcf->rc_group, reply->str);
		rlink_reset("cannot create the consumer group");
		return;
	}
	C.c_group_ok = 1;
	consumer_kick();
}

/* Called by redis.c each time the pair of connections is up. */
void
consumer_up(void)
{
	C.c_reading = 0;
	C.c_group_ok = 0;
	/* From 0, not $: entries added before the group existed are work
	 * too.  MKSTREAM: consumers may start before any producer. */
	rlink_cmdf(RC_WRITE, group_cb, NULL, "XGROUP CREATE %s %s 0 MKSTREAM",
	    rcf->rc_stream, rcf->rc_group);
	reclaim_up();
	store_relink();
	consumer_kick();
}

static void
rec_free(struct rrec *r)
{
	free(r->r_tid);
	free(r->r_reply);
	free(r->r_task);
	free(r->r_payload);
	free(r->r_val);
	free(r->r_cause);
	free(r);
}

void
consumer_release(struct rrec *r)
{
	TAILQ_REMOVE(&rrecs, r, r_entry);
	C.c_held--;
	fbs_rstats.rs_held = C.c_held;
	rec_free(r);
	if (C.c_held == 0)
		store_xdel();	/* idle: leave a clean stream */
	consumer_kick();
}

static char *
dup_bytes(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/* A field's value as a string reply, or NULL. */
static const redisReply *
field(const redisReply *f, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i + 1 < f->elements; i += 2)
		if (f->element[i]->type == REDIS_REPLY_STRING &&
		    f->element[i]->len == n &&
		    memcmp(f->element[i]->str, name, n) == 0)
			return f->element[i + 1];
	return NULL;
}

static int
parse_ms(const redisReply *v, unsigned *out)
{
	unsigned long ms = 0;
	size_t i;

	if (v->len == 0 || v->len > 9)
		return -1;
	for (i = 0; i < v->len; i++) {
		if (v->str[i] < '0' || v->str[i] > '9')
			return -1;
		ms = ms * 10 + (unsigned long)(v->str[i] - '0');
	}
	*out = (unsigned)ms;
	return 0;
}

/*
 * An entry (its id and its field list, a reply array) as a record held
 * by this consumer.  A malformed entry still gives a record: it goes to
 * the dead-letter stream with its cause (r_cause set) instead of the
 * pool.  NULL only when out of memory.
 */
struct rrec *
consumer_parse(const void *fields, const char *id)
{
	const redisReply *f = fields, *v;
	const struct kind *k;
	struct rrec *r;
	char cause[160] = "";

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	strlcpy(r->r_eid, id, sizeof(r->r_eid));
	r->r_touched = now_s();
	TAILQ_INSERT_TAIL(&rrecs, r, r_entry);
	fbs_rstats.rs_held = ++C.c_held;
#define SAVE(dst, dlen, rep) do {					\
	if (((dst) = dup_bytes((rep)->str, (rep)->len)) == NULL)	\
		goto nomem;						\
	(dlen) = (rep)->len;						\
} while (0)
	if (f == NULL || f->type != REDIS_REPLY_ARRAY || f->elements % 2) {
		snprintf(cause, sizeof(cause), "the entry has no field list");
		goto bad;
	}
	for (size_t i = 0; i < f->elements; i++)
		if (f->element[i]->type != REDIS_REPLY_STRING) {
			snprintf(cause, sizeof(cause), "field %zu is not a "
			    "string", i);
			goto bad;
		}
	if ((v = field(f, "id")) != NULL && v->len > 0 && v->len <= 256)
		SAVE(r->r_tid, r->r_tidlen, v);
	if ((v = field(f, "reply")) != NULL && v->len > 0 && v->len <= 256)
		SAVE(r->r_reply, r->r_replylen, v);
	else if (v == NULL) {
		char def[300];

		snprintf(def, sizeof(def), "%s:results", rcf->rc_stream);
		if ((r->r_reply = strdup(def)) == NULL)
			goto nomem;
		r->r_replylen = strlen(def);
	}
	if ((v = field(f, "task")) != NULL)
		SAVE(r->r_task, r->r_tasklen, v);
	if ((v = field(f, "payload")) != NULL &&
	    v->len <= C.c_conf->cf_slot_size)
		SAVE(r->r_payload, r->r_plen, v);
	if (r->r_tid == NULL)
		snprintf(cause, sizeof(cause), "field 'id' (the task id, 1 to "
		    "256 bytes) is missing, empty or too long");
	else if (r->r_reply == NULL)
		snprintf(cause, sizeof(cause), "field 'reply' (the results "
		    "hash, 1 to 256 bytes) is empty or too long");
	else if (r->r_task == NULL)
		snprintf(cause, sizeof(cause), "field 'task' is missing");
	else if ((k = kind_find(r->r_task, r->r_tasklen)) == NULL)
		snprintf(cause, sizeof(cause), "unknown task '%.64s'",
		    r->r_task);
	else if (v != NULL && r->r_payload == NULL)
		snprintf(cause, sizeof(cause), "payload of %zu bytes is over "
		    "the slot size (%zu)", v->len, C.c_conf->cf_slot_size);
	else if ((v = field(f, "timeout")) != NULL &&
	    parse_ms(v, &r->r_timeout_ms) == -1)
		snprintf(cause, sizeof(cause), "field 'timeout' is not a "
		    "number of milliseconds (0 to 999999999)");
	else
		r->r_kind = (unsigned)(k - fbs_kinds);
#undef SAVE
bad:
	if (cause[0] != '\0') {
		fbs_rstats.rs_bad++;
		if ((r->r_cause = strdup(cause)) == NULL)
			goto nomem;
	}
	return r;
nomem:
	consumer_release(r);
	return NULL;
}

/* The pool finished r's task: build its result ("outcome=... \n" then
 * the bytes, as the manual says) or leave it for another delivery. */
static void
task_done(void *arg, const struct gres *g, const void *data, size_t len)
{
	struct rrec *r = arg;
	char head[600];
	int n;

	r->r_gtask = NULL;
	stats_task(r->r_kind, (enum srv_outcome)g->gr_outcome,
	    g->gr_queued_s + g->gr_run_s, g->gr_run_s);
	if (g->gr_outcome == FB_CANCELLED) {
		/* Not run (shutting down): someone claims it later. */
		fbs_rstats.rs_redeliver++;
		consumer_release(r);
		return;
	}
	if (g->gr_outcome == FB_CRASHED || g->gr_outcome == FB_TIMEDOUT) {
		/* The task may be what kills workers: let another delivery
		 * (maybe on another host) try, up to K, then dead-letter. */
		if (r->r_deliveries >= rcf->rc_max_deliveries) {
			store_dead(r, "%s on delivery %u of %u",
			    fb_outcome_name(g->gr_outcome), r->r_deliveries,
			    rcf->rc_max_deliveries);
			return;
		}
		fbs_rstats.rs_redeliver++;
		consumer_release(r);
		return;
	}
	n = snprintf(head, sizeof(head), "outcome=%s status=%d worker=%u "
	    "attempts=%u deliveries=%u run_ms=%.3f host=%s consumer=%s\n",
	    fb_outcome_name(g->gr_outcome), g->gr_status, g->gr_worker,
	    g->gr_attempts, r->r_deliveries, g->gr_run_s * 1e3, C.c_host,
	    C.c_name);
	if (g->gr_outcome != FB_DONE)
		len = 0;
	if ((r->r_val = malloc((size_t)n + len)) == NULL) {
		consumer_release(r);	/* pending: redelivered later */
		return;
	}
	memcpy(r->r_val, head, (size_t)n);
	if (len > 0)
		memcpy(r->r_val + n, data, len);
	r->r_vallen = (size_t)n + len;
	free(r->r_payload);	/* kept only for a dead letter */
	r->r_payload = NULL;
	store_result(r);
}

void
consumer_run(struct rrec *r)
{
	struct evbuffer *b;
	int rc;

	if (r->r_cause != NULL) {
		store_dead(r, "%s", r->r_cause);
		return;
	}
	if (C.c_draining) {
		/* Read just as we stop (a blocked read returning): left
		 * pending for another consumer to claim. */
		fbs_rstats.rs_redeliver++;
		consumer_release(r);
		return;
	}
	if (r->r_deliveries > rcf->rc_max_deliveries) {
		store_dead(r, "delivered %u times (--redis-max-deliveries %u)",
		    r->r_deliveries, rcf->rc_max_deliveries);
		return;
	}
	r->r_state = RR_RUN;
	if ((b = evbuffer_new()) == NULL)
		rc = -ENOMEM;
	else if (evbuffer_add(b, r->r_payload, r->r_plen) == -1)
		rc = -ENOMEM;
	else
		rc = glue_submit_ms(r->r_kind, b, r->r_timeout_ms, task_done,
		    r, &r->r_gtask);
	if (b != NULL)
		evbuffer_free(b);	/* a queued task took its chains */
	if (rc == 0)
		return;
	/* Not run here (pool stopping, or full): left pending, it is
	 * claimed after the visibility timeout. */
	log_err("redis: entry %s not run: %s", r->r_eid, fb_strerror(rc));
	fbs_rstats.rs_redeliver++;
	consumer_release(r);
}

static void
read_cb(void *rp, void *arg)
{
	const redisReply *reply = rp, *s, *e;
	unsigned epoch = (unsigned)(uintptr_t)arg;
	struct rrec *r;
	size_t i, j;

	if (reply == NULL || epoch != rlink_epoch())
		return;		/* link lost: redis.c starts over */
	C.c_reading = 0;
	rlink_guard(RC_READ, 0);
	if (reply->type == REDIS_REPLY_ERROR) {
		log_err("redis: XREADGROUP: %s", reply->str);
		/* NOGROUP: Redis lost the group (restarted without its
		 * data); a new link makes it again. */
		rlink_reset(reply->str);
		return;
	}
	for (i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements;
	    i++) {
		s = reply->element[i];
		if (s->type != REDIS_REPLY_ARRAY || s->elements != 2 ||
		    s->element[1]->type != REDIS_REPLY_ARRAY)
			continue;
		for (j = 0; j < s->element[1]->elements; j++) {
			e = s->element[1]->element[j];
			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
			    e->element[0]->type != REDIS_REPLY_STRING)
				continue;
			fbs_rstats.rs_read++;
			if ((r = consumer_parse(e->element[1],
			    e->element[0]->str)) == NULL)
				continue;	/* pending: claimed later */
			r->r_deliveries = 1;
			consumer_run(r);
		}
	}
	consumer_kick();
}

static void
read_more(void)
{
	char count[16], block[16];
	const char *argv[] = { "XREADGROUP", "GROUP", rcf->rc_group, C.c_name,
	    "COUNT", count, "BLOCK", block, "STREAMS", rcf->rc_stream, ">" };
	unsigned room = consumer_room();

	/* Wait for a quarter of --prefetch to be free: reads of one or two
	 * entries would cost a round trip each; the held ones keep the
	 * workers busy meanwhile. */
	if (!rlink_up() || !C.c_group_ok || C.c_reading || room == 0 ||
	    room < (rcf->rc_prefetch + 3) / 4)
		return;
	snprintf(count, sizeof(count), "%u", room);
	snprintf(block, sizeof(block), "%u", rcf->rc_block_ms);
	if (rlink_cmd(RC_READ, read_cb, (void *)(uintptr_t)rlink_epoch(),
	    (int)(sizeof(argv) / sizeof(argv[0])), argv, NULL) == 0) {
		C.c_reading = 1;
		rlink_guard(RC_READ, rcf->rc_block_ms + READ_MARGIN_MS);
	}
}

int
redis_start(struct event_base *base, const struct conf *cf)
{
	char err[256];
	size_t n;

	if (cf->cf_redis.rc_url == NULL)
		return 0;
	rcf = &cf->cf_redis;
	C.c_conf = cf;
	if (rurl_parse(rcf->rc_url, &C.c_url, err, sizeof(err)) == -1) {
		log_err("--redis: %s", err);
		return -1;
	}
	if (gethostname(C.c_host, sizeof(C.c_host)) == -1)
		strlcpy(C.c_host, "unknown", sizeof(C.c_host));
	C.c_host[sizeof(C.c_host) - 1] = '\0';
	for (n = 0; C.c_host[n] != '\0'; n++)	/* results use spaces */
		if (C.c_host[n] == ' ' || C.c_host[n] == '\n')
			C.c_host[n] = '_';
	if (rcf->rc_consumer != NULL)
		C.c_name = strdup(rcf->rc_consumer);
	else if (asprintf(&C.c_name, "%s:%d", C.c_host, (int)getpid()) == -1)
		C.c_name = NULL;
	if (C.c_name == NULL)
		return -1;
	if ((C.c_kick = event_new(base, -1, 0, kick_cb, NULL)) == NULL ||
	    event_priority_set(C.c_kick, 2) == -1)
		return -1;
	if (reclaim_init(base) == -1 ||
	    rlink_init(base, &C.c_url, C.c_name) == -1)
		return -1;
	log_info("redis: consuming %s, group %s, as %s (prefetch %u, "
	    "visibility %u ms, dead letters to %s)", rcf->rc_stream,
	    rcf->rc_group, C.c_name, rcf->rc_prefetch, rcf->rc_visibility_ms,
	    rcf->rc_dead);
	return 0;
}

void
redis_drain(void)
{
	C.c_draining = 1;
}

int
redis_idle(void)
{
	/* With the link down, held results wait for it until the drain
	 * deadline: leaving drops nothing (Redis still has the entries
	 * pending), but waiting saves a second run elsewhere. */
	return rcf == NULL || TAILQ_EMPTY(&rrecs);
}

void
redis_stop(void)
{
	struct rrec *r;

	if (rcf == NULL)
		return;
	reclaim_close();
	rlink_close();		/* callbacks run with NULL first */
	while ((r = TAILQ_FIRST(&rrecs)) != NULL) {
		if (r->r_gtask != NULL)
			glue_detach(r->r_gtask);
		TAILQ_REMOVE(&rrecs, r, r_entry);
		rec_free(r);
	}
	C.c_held = 0;
	if (C.c_kick != NULL)
		event_free(C.c_kick);
	C.c_kick = NULL;
	free(C.c_name);
	C.c_name = NULL;
}
