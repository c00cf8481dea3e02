/*
 * reclaim.c - what keeps the group going when consumers die.
 *
 * Heartbeat: every visibility/4 each consumer sets STREAM:GROUP:alive:NAME
 * with a TTL of the visibility timeout.  Its reply also proves the write
 * connection works: it is guarded by a timer (hiredis 0.14 has none).
 *
 * Keeping ours ours: an entry a live consumer holds (a long task, or one
 * waiting in its queue) is re-claimed by it with XCLAIM ... JUSTID every
 * visibility/4, which resets its idle time without counting a delivery.
 * So an entry idle for longer than the visibility timeout belongs to a
 * consumer that stopped doing that: one that died, hung, or lost its
 * link, i.e. whose heartbeat expired.
 *
 * Claiming: XAUTOCLAIM STREAM GROUP NAME visibility cursor COUNT room.
 * Redis 7.0 answers three things: the next cursor, the entries claimed
 * (their delivery count is now one more), and the ids of entries that
 * were pending but deleted from the stream meanwhile (Redis drops them
 * from the pending list itself: they are counted and logged).  The
 * delivery counts come from one XPENDING over the claimed range; an
 * entry delivered more than --redis-max-deliveries times goes to the
 * dead-letter stream (consumer.c), so a poison task cannot circle
 * forever.
 *
 * Removing consumers: XGROUP DELCONSUMER drops the consumer's pending
 * entries without a trace, so it runs only inside a Lua script that
 * checks, atomically, that the consumer has nothing pending, has been
 * idle longer than the visibility timeout, and has no heartbeat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "rstream.h"

#define CLAIM_MAX	100

static const char reap_lua[] =
"local n = 0\n"
"local ok, cs = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])\n"
"if not ok then return 0 end\n"
"for _, c in ipairs(cs) do\n"
"  local f = {}\n"
"  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end\n"
"  if f['pending'] == 0 and f['idle'] > tonumber(ARGV[3]) and\n"
"     redis.call('EXISTS', ARGV[2] .. f['name']) == 0 then\n"
"    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])\n"
"    n = n + 1\n"
"  end\n"
"end\n"
"return n\n";

static struct {
	struct event	*r_tick;
	unsigned	 r_tick_ms;
	unsigned	 r_ticks;
	char		 r_cursor[48];
	int		 r_claiming;
	char		*r_alive;	/* heartbeat key prefix */
	char		*r_hb;		/* our heartbeat key */
} R;

struct claim {
	unsigned	 cl_epoch;
	unsigned	 cl_n;
	struct rrec	*cl_r[CLAIM_MAX];
};

static int
held(const char *eid)
{
	struct rrec *r;

	TAILQ_FOREACH(r, &rrecs, r_entry)
		if (strcmp(r->r_eid, eid) == 0)
			return 1;
	return 0;
}

static void
pending_cb(void *rp, void *arg)
{
	const redisReply *reply = rp, *p;
	struct claim *cl = arg;
	unsigned i;
	size_t j;

	for (i = 0; i < cl->cl_n; i++) {
		struct rrec *r = cl->cl_r[i];

		if (reply == NULL || cl->cl_epoch != rlink_epoch()) {
			consumer_release(r);	/* still pending: again */
			continue;
		}
		r->r_deliveries = 2;	/* at least, if XPENDING lost it */
		for (j = 0; reply->type == REDIS_REPLY_ARRAY &&
		    j < reply->elements; j++) {
			p = reply->element[j];
			if (p->type == REDIS_REPLY_ARRAY && p->elements == 4 &&
			    p->element[0]->type == REDIS_REPLY_STRING &&
			    strcmp(p->element[0]->str, r->r_eid) == 0 &&
			    p->element[3]->type == REDIS_REPLY_INTEGER) {
				r->r_deliveries = (unsigned)
				    p->element[3]->integer;
				break;
			}
		}
		consumer_run(r);
	}
	free(cl);
	if (reply != NULL)
		consumer_kick();
}

static void
autoclaim_cb(void *rp, void *arg)
{
	const redisReply *reply = rp, *e, *d;
	unsigned epoch = (unsigned)(uintptr_t)arg;
	struct claim *cl;
	struct rrec *r;
	char count[16];
	size_t i;

	if (reply == NULL || epoch != rlink_epoch())
		return;
	R.r_claiming = 0;
	if (reply->type == REDIS_REPLY_ERROR) {
		if (strncmp(reply->str, "NOGROUP", 7) != 0)
			log_err("redis: XAUTOCLAIM: %s", reply->str);
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[1]->type != REDIS_REPLY_ARRAY) {
		log_err("redis: XAUTOCLAIM: unexpected reply");
		return;
	}
	strlcpy(R.r_cursor, reply->element[0]->str, sizeof(R.r_cursor));
	if (reply->elements >= 3 && (d = reply->element[2])->type ==
	    REDIS_REPLY_ARRAY && d->elements > 0) {
		fbs_rstats.rs_claimed_deleted += d->elements;
		log_info("redis: %zu entr%s pending on a dead consumer had been "
		    "deleted from %s (first %s)", d->elements,
		    d->elements == 1 ? "y" : "ies", rcf->rc_stream,
		    d->element[0]->type == REDIS_REPLY_STRING ?
		    d->element[0]->str : "?");
	}
	e = reply->element[1];
	if (e->elements == 0 || (cl = calloc(1, sizeof(*cl))) == NULL)
		return;
	cl->cl_epoch = rlink_epoch();
	for (i = 0; i < e->elements && cl->cl_n < CLAIM_MAX; i++) {
		const redisReply *x = e->element[i];

		if (x->type != REDIS_REPLY_ARRAY || x->elements != 2 ||
		    x->element[0]->type != REDIS_REPLY_STRING ||
		    held(x->element[0]->str))
			continue;
		if ((r = consumer_parse(x->element[1], x->element[0]->str)) ==
		    NULL)
			continue;
		r->r_state = RR_NEW;
		cl->cl_r[cl->cl_n++] = r;
	}
	fbs_rstats.rs_claimed += cl->cl_n;
	if (cl->cl_n == 0) {
		free(cl);
		return;
	}
	log_info("redis: claimed %u entr%s idle over %u ms (%s .. %s)",
	    cl->cl_n, cl->cl_n == 1 ? "y" : "ies", rcf->rc_visibility_ms,
	    cl->cl_r[0]->r_eid, cl->cl_r[cl->cl_n - 1]->r_eid);
	snprintf(count, sizeof(count), "%u", cl->cl_n + rcf->rc_prefetch);
	if (rlink_cmdf(RC_WRITE, pending_cb, cl, "XPENDING %s %s %s %s %s %s",
	    rcf->rc_stream, rcf->rc_group, cl->cl_r[0]->r_eid,
	    cl->cl_r[cl->cl_n - 1]->r_eid, count, consumer_name()) == -1)
		pending_cb(NULL, cl);
}

static void
claim(void)
{
	unsigned room = consumer_room_claim();
	char idle[16], count[16];
	const char *argv[] = { "XAUTOCLAIM", rcf->rc_stream, rcf->rc_group,
	    consumer_name(), idle, R.r_cursor, "COUNT", count };

	if (R.r_claiming || room == 0)
		return;
	snprintf(idle, sizeof(idle), "%u", rcf->rc_visibility_ms);
	snprintf(count, sizeof(count), "%u", room < CLAIM_MAX ? room :
	    CLAIM_MAX);
	if (rlink_cmd(RC_WRITE, autoclaim_cb, (void *)(uintptr_t)
	    rlink_epoch(), 8, argv, NULL) == 0)
		R.r_claiming = 1;
}

/* XCLAIM ... JUSTID of what we hold: resets their idle time, so nobody
 * claims an entry from a consumer that is alive. */
static void
touch(void)
{
	const char *argv[6 + 512];
	double now = now_s(), limit = rcf->rc_visibility_ms / 4e3;
	struct rrec *r;
	int argc = 5;

	argv[0] = "XCLAIM";
	argv[1] = rcf->rc_stream;
	argv[2] = rcf->rc_group;
	argv[3] = consumer_name();
	argv[4] = "0";
	TAILQ_FOREACH(r, &rrecs, r_entry) {
		if (now - r->r_touched < limit)
			continue;
		r->r_touched = now;
		argv[argc++] = r->r_eid;
		if (argc == 5 + 512)
			break;
	}
	if (argc == 5)
		return;
	argv[argc++] = "JUSTID";
	rlink_cmd(RC_WRITE, NULL, NULL, argc, argv, NULL);
}

static void
hb_cb(void *rp, void *arg)
{
	(void)arg;
	if (rp != NULL)
		rlink_guard(RC_WRITE, 0);
}

static void
groups_cb(void *rp, void *arg)
{
	const redisReply *reply = rp, *g;
	size_t i, j;

	(void)arg;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i < reply->elements; i++) {
		g = reply->element[i];
		if (g->type != REDIS_REPLY_ARRAY || g->elements < 2 ||
		    g->element[1]->type != REDIS_REPLY_STRING ||
		    strcmp(g->element[1]->str, rcf->rc_group) != 0)
			continue;
		for (j = 0; j + 1 < g->elements; j += 2) {
			const char *k = g->element[j]->str;
			const redisReply *v = g->element[j + 1];

			if (g->element[j]->type != REDIS_REPLY_STRING)
				continue;
			if (strcmp(k, "pending") == 0)
				fbs_rstats.rs_group_pending =
				    v->type == REDIS_REPLY_INTEGER ?
				    v->integer : -1;
			else if (strcmp(k, "lag") == 0)
				fbs_rstats.rs_group_lag =
				    v->type == REDIS_REPLY_INTEGER ?
				    v->integer : -1;
		}
	}
}

static void
reap_cb(void *rp, void *arg)
{
	const redisReply *reply = rp;

	(void)arg;
	if (reply != NULL && reply->type == REDIS_REPLY_INTEGER &&
	    reply->integer > 0) {
		fbs_rstats.rs_consumers_removed += (uint64_t)reply->integer;
		log_info("redis: removed %lld dead consumer(s) with nothing "
		    "pending from group %s", reply->integer, rcf->rc_group);
	}
}

static void
heartbeat(void)
{
	char val[300], ms[16];

	snprintf(val, sizeof(val), "%s %d", consumer_host(), (int)getpid());
	snprintf(ms, sizeof(ms), "%u", rcf->rc_visibility_ms);
	if (rlink_cmdf(RC_WRITE, hb_cb, NULL, "SET %s %s PX %s", R.r_hb, val,
	    ms) == 0 && !rlink_guarded(RC_WRITE))
		rlink_guard(RC_WRITE, rcf->rc_visibility_ms > 2000 ?
		    rcf->rc_visibility_ms : 2000);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	char idle[16];
	unsigned per_s = 1000 / R.r_tick_ms + 1;

	(void)fd;
	(void)what;
	(void)arg;
	if (!rlink_up())
		return;
	R.r_ticks++;
	heartbeat();
	touch();
	claim();
	store_xdel();
	if (R.r_ticks % per_s == 0)
		rlink_cmdf(RC_WRITE, groups_cb, NULL, "XINFO GROUPS %s",
		    rcf->rc_stream);
	/* Every two visibility timeouts (at least 1 s). */
	if (R.r_ticks % (per_s > 8 ? per_s : 8) == 0) {
		snprintf(idle, sizeof(idle), "%u", rcf->rc_visibility_ms);
		rlink_cmdf(RC_WRITE, reap_cb, NULL, "EVAL %s 1 %s %s %s %s",
		    reap_lua, rcf->rc_stream, rcf->rc_group, R.r_alive, idle);
	}
}

/* Called by consumer.c when the link is (back) up. */
void
reclaim_up(void)
{
	R.r_claiming = 0;
	strlcpy(R.r_cursor, "0-0", sizeof(R.r_cursor));
	heartbeat();
}

int
reclaim_init(struct event_base *base)
{
	struct timeval tv;

	R.r_tick_ms = rcf->rc_visibility_ms / 4;
	if (R.r_tick_ms < 50)
		R.r_tick_ms = 50;
	if (R.r_tick_ms > 1000)
		R.r_tick_ms = 1000;
	tv.tv_sec = R.r_tick_ms / 1000;
	tv.tv_usec = (R.r_tick_ms % 1000) * 1000;
	fbs_rstats.rs_group_pending = fbs_rstats.rs_group_lag = -1;
	strlcpy(R.r_cursor, "0-0", sizeof(R.r_cursor));
	if (asprintf(&R.r_alive, "%s:%s:alive:", rcf->rc_stream,
	    rcf->rc_group) == -1 || asprintf(&R.r_hb, "%s%s", R.r_alive,
	    consumer_name()) == -1)
		return -1;
	if ((R.r_tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL)) ==
	    NULL || event_add(R.r_tick, &tv) == -1)
		return -1;
	return 0;
}

void
reclaim_close(void)
{
	if (R.r_tick != NULL)
		event_free(R.r_tick);
	R.r_tick = NULL;
	free(R.r_alive);
	free(R.r_hb);
	R.r_alive = R.r_hb = NULL;
}
