/*
 * redis.c - the consumer's two Redis connections, on the server's
 * event_base through hiredis's libevent adapter.
 *
 * Two, because a blocking XREADGROUP occupies its connection until it
 * returns: results, acks, claims and the heartbeat go over the second
 * one, pipelined (hiredis queues every command of a loop turn into one
 * write).  The pair is one link: both up or both torn down, so the rest
 * of the consumer has one state to think about.
 *
 * hiredis 0.14 has no command timeout for the async API (no
 * redisAsyncSetTimeout), and a cut network link never errors by itself,
 * so this file keeps its own timers: the connect has 2 s, XREADGROUP its
 * BLOCK plus a margin, and the write side the heartbeat's reply.  When
 * one fires, or either connection fails, both are freed (their pending
 * callbacks run with a NULL reply), and a new pair is tried after a
 * back-off that doubles from 100 ms to 5 s.  Nothing held is dropped:
 * the tasks keep running and their results wait for the next link.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "rstream.h"

#define CONNECT_MS	2000
#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	5000

const char *const rlink_state_names[RL_UP + 1] = {
	"off", "down", "connecting", "up"
};

struct rconn {
	redisAsyncContext	*c_ac;
	int			 c_ready;	/* CLIENT SETNAME answered */
	struct event		*c_guard;
	int			 c_armed;
};

static struct {
	struct event_base	*l_base;
	const struct rurl	*l_url;
	const char		*l_name;
	struct rconn		 l_c[2];
	struct event		*l_retry;
	unsigned		 l_backoff_ms;
	unsigned		 l_epoch;
	int			 l_closing;
} L;

static void	link_connect(void);

static void
arm(struct event *ev, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_add(ev, &tv);
}

static void
guard_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rconn *c = arg;
	char why[96];

	(void)fd;
	(void)what;
	c->c_armed = 0;
	snprintf(why, sizeof(why), "no answer from Redis on the %s "
	    "connection in time", c == &L.l_c[RC_READ] ? "read" : "write");
	rlink_reset(why);
}

void
rlink_guard(int conn, unsigned ms)
{
	struct rconn *c = &L.l_c[conn];

	if (ms == 0) {
		event_del(c->c_guard);
		c->c_armed = 0;
	} else {
		arm(c->c_guard, ms);
		c->c_armed = 1;
	}
}

int
rlink_guarded(int conn)
{
	return L.l_c[conn].c_armed;
}

int
rlink_up(void)
{
	return fbs_rstats.rs_state == RL_UP;
}

unsigned
rlink_epoch(void)
{
	return L.l_epoch;
}

/* Free both contexts.  Their pending callbacks run now with a NULL reply
 * (or, inside one of that context's own callbacks, when it returns);
 * c_ac is cleared first so the disconnect callback knows it was us. */
static void
drop_both(void)
{
	redisAsyncContext *ac;
	int i;

	for (i = 0; i < 2; i++) {
		rlink_guard(i, 0);
		L.l_c[i].c_ready = 0;
		if ((ac = L.l_c[i].c_ac) != NULL) {
			L.l_c[i].c_ac = NULL;
			ac->data = NULL;
			redisAsyncFree(ac);
		}
	}
}

void
rlink_reset(const char *why)
{
	if (fbs_rstats.rs_state == RL_DOWN || fbs_rstats.rs_state == RL_OFF)
		return;
	if (fbs_rstats.rs_state == RL_UP) {
		fbs_rstats.rs_losses++;
		log_err("redis: link lost: %s; reconnecting", why);
	} else if (L.l_backoff_ms >= BACKOFF_MAX_MS / 2)
		log_err("redis: cannot connect: %s; retrying in %u ms", why,
		    L.l_backoff_ms);
	strlcpy(fbs_rstats.rs_error, why, sizeof(fbs_rstats.rs_error));
	fbs_rstats.rs_state = RL_DOWN;
	L.l_epoch++;		/* replies still on their way are stale */
	drop_both();
	if (!L.l_closing)
		arm(L.l_retry, L.l_backoff_ms);
	L.l_backoff_ms = L.l_backoff_ms * 2 > BACKOFF_MAX_MS ?
	    BACKOFF_MAX_MS : L.l_backoff_ms * 2;
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	struct rconn *c = ac->data;
	char why[160];

	if (status == REDIS_OK || c == NULL)
		return;
	c->c_ac = NULL;		/* hiredis frees it after this call */
	snprintf(why, sizeof(why), "connect: %s", ac->errstr);
	rlink_reset(why);
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct rconn *c = ac->data;
	char why[160];

	(void)status;
	if (c == NULL)
		return;		/* we freed it */
	c->c_ac = NULL;
	snprintf(why, sizeof(why), "%s", ac->err ? ac->errstr :
	    "connection closed by Redis");
	rlink_reset(why);
}

static void
ready_cb(redisAsyncContext *ac, void *r, void *arg)
{
	redisReply *reply = r;
	struct rconn *c = arg;
	char why[160];

	if (ac->data == NULL || reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof(why), "CLIENT SETNAME: %.120s",
		    reply->str);
		rlink_reset(why);
		return;
	}
	c->c_ready = 1;
	if (!L.l_c[RC_READ].c_ready || !L.l_c[RC_WRITE].c_ready)
		return;
	rlink_guard(RC_READ, 0);
	rlink_guard(RC_WRITE, 0);
	fbs_rstats.rs_state = RL_UP;
	fbs_rstats.rs_connects++;
	L.l_epoch++;
	if (fbs_rstats.rs_connects > 1)
		log_info("redis: link back up (%s)", L.l_url->ru_path[0] ?
		    L.l_url->ru_path : L.l_url->ru_host);
	L.l_backoff_ms = BACKOFF_MIN_MS;
	consumer_up();
}

static int
conn_open(int i)
{
	struct rconn *c = &L.l_c[i];
	redisAsyncContext *ac;
	char name[160];

	if (L.l_url->ru_path[0] != '\0')
		ac = redisAsyncConnectUnix(L.l_url->ru_path);
	else
		ac = redisAsyncConnect(L.l_url->ru_host, L.l_url->ru_port);
	if (ac == NULL)
		return -1;
	if (ac->err) {
		strlcpy(fbs_rstats.rs_error, ac->errstr,
		    sizeof(fbs_rstats.rs_error));
		redisAsyncFree(ac);
		return -1;
	}
	ac->data = c;
	c->c_ac = ac;
	if (redisLibeventAttach(ac, L.l_base) != REDIS_OK)
		return -1;
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	/* A first command makes hiredis wait for the connect (0.14 finishes
	 * it on the first write event), and names us in CLIENT LIST. */
	snprintf(name, sizeof(name), "fb:%s:%s", L.l_name, i == RC_READ ?
	    "read" : "write");
	for (char *p = name; *p != '\0'; p++)
		if (*p == ' ')
			*p = '_';
	if (redisAsyncCommand(ac, ready_cb, c, "CLIENT SETNAME %s", name) !=
	    REDIS_OK)
		return -1;
	rlink_guard(i, CONNECT_MS);
	return 0;
}

static void
link_connect(void)
{
	fbs_rstats.rs_state = RL_CONNECTING;
	if (conn_open(RC_READ) == -1 || conn_open(RC_WRITE) == -1)
		rlink_reset(fbs_rstats.rs_error[0] ? fbs_rstats.rs_error :
		    "cannot create a connection");
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	link_connect();
}

int
rlink_init(struct event_base *base, const struct rurl *url,
    const char *name)
{
	int i;

	L.l_base = base;
	L.l_url = url;
	L.l_name = name;
	L.l_backoff_ms = BACKOFF_MIN_MS;
	if ((L.l_retry = evtimer_new(base, retry_cb, NULL)) == NULL)
		return -1;
	for (i = 0; i < 2; i++)
		if ((L.l_c[i].c_guard = evtimer_new(base, guard_cb,
		    &L.l_c[i])) == NULL)
			return -1;
	link_connect();
	return 0;
}

/* hiredis's callback type takes the context; ours does not need it. */
struct rcall {
	rcmd_fn		 rc_fn;
	void		*rc_arg;
};

static void
call_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct rcall *rc = arg;

	(void)ac;
	if (rc->rc_fn != NULL)
		rc->rc_fn(reply, rc->rc_arg);
	free(rc);
}

/* The call record both senders give hiredis, or NULL when the link is
 * down (or memory is short): then nothing is sent. */
static struct rcall *
rcall_new(int conn, rcmd_fn fn, void *arg, redisAsyncContext **acp)
{
	struct rcall *rc;

	*acp = L.l_c[conn].c_ac;
	if (!rlink_up() || *acp == NULL)
		return NULL;
	if ((rc = malloc(sizeof(*rc))) == NULL)
		return NULL;
	rc->rc_fn = fn;
	rc->rc_arg = arg;
	return rc;
}

int
rlink_cmd(int conn, rcmd_fn fn, void *arg, int argc, const char **argv,
    const size_t *lens)
{
	redisAsyncContext *ac;
	struct rcall *rc;

	if ((rc = rcall_new(conn, fn, arg, &ac)) == NULL)
		return -1;
	if (redisAsyncCommandArgv(ac, call_cb, rc, argc, argv, lens) !=
	    REDIS_OK) {
		free(rc);
		return -1;
	}
	return 0;
}

int
rlink_cmdf(int conn, rcmd_fn fn, void *arg, const char *fmt, ...)
{
	redisAsyncContext *ac;
	struct rcall *rc;
	va_list ap;
	int r;

	if ((rc = rcall_new(conn, fn, arg, &ac)) == NULL)
		return -1;
	va_start(ap, fmt);
	r = redisvAsyncCommand(ac, call_cb, rc, fmt, ap);
	va_end(ap);
	if (r != REDIS_OK) {
		free(rc);
		return -1;
	}
	return 0;
}

void
rlink_close(void)
{
	int i;

	L.l_closing = 1;
	drop_both();
	fbs_rstats.rs_state = RL_OFF;
	if (L.l_retry != NULL) {
		event_free(L.l_retry);
		L.l_retry = NULL;
	}
	for (i = 0; i < 2; i++)
		if (L.l_c[i].c_guard != NULL) {
			event_free(L.l_c[i].c_guard);
			L.l_c[i].c_guard = NULL;
		}
}
