/*
 * async.c - tasks submitted with "Prefer: respond-async".
 *
 * POST answers 202 with Location: /v1/tasks/{id}; GET there answers 202
 * while the task waits or runs, then the result as a synchronous request
 * would have had it, until the record expires (--keep-secs) or is pushed
 * out by newer ones (--keep).  DELETE cancels a task no worker has
 * started (in the server's wait queue, or queued in the pool, with
 * fb_pool_cancel() through the glue); a running one is left alone, and
 * DELETE says so with 409.
 *
 * Ids are 128 random bits (arc4random): a client cannot guess another
 * client's id.
 */
#include <sys/cdefs.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "server.h"

struct arec {
	RB_ENTRY(arec)		 a_node;
	TAILQ_ENTRY(arec)	 a_done_entry;
	char			 a_id[33];
	unsigned		 a_kind;
	struct gtask		*a_task;	/* NULL once done */
	struct gres		 a_res;
	void			*a_data;
	size_t			 a_len;
	double			 a_start;
	double			 a_finished;
};

RB_HEAD(atree, arec);

static int
acmp(const struct arec *a, const struct arec *b)
{
	return strcmp(a->a_id, b->a_id);
}

/* RB_GENERATE_STATIC with the "unused" attribute libbsd leaves out
 * (its __unused is disabled on Linux). */
RB_GENERATE_INTERNAL(atree, arec, a_node, acmp, __attribute__((__unused__)) static)

static struct atree		 recs = RB_INITIALIZER(&recs);
static TAILQ_HEAD(, arec)	 done_list = TAILQ_HEAD_INITIALIZER(done_list);
static unsigned			 nrecs, ndone;
static const struct conf	*conf;
static struct event		*expire_ev;

static void
rec_free(struct arec *a)
{
	RB_REMOVE(atree, &recs, a);
	if (a->a_task == NULL) {
		TAILQ_REMOVE(&done_list, a, a_done_entry);
		ndone--;
	} else
		glue_detach(a->a_task);
	nrecs--;
	free(a->a_data);
	free(a);
}

static void
expire(void)
{
	struct arec *a;
	double limit = now_s() - conf->cf_keep_secs;

	while ((a = TAILQ_FIRST(&done_list)) != NULL &&
	    (ndone > conf->cf_keep_count || a->a_finished < limit))
		rec_free(a);
}

static void
expire_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	expire();
}

void
async_init(struct event_base *base, const struct conf *cf)
{
	struct timeval tv = { 1, 0 };

	conf = cf;
	expire_ev = event_new(base, -1, EV_PERSIST, expire_cb, NULL);
	if (expire_ev != NULL)
		event_add(expire_ev, &tv);
}

unsigned
async_count(void)
{
	expire();
	return nrecs;
}

void
async_free_all(void)
{
	struct arec *a;

	while ((a = RB_MIN(atree, &recs)) != NULL)
		rec_free(a);
	if (expire_ev != NULL) {
		event_free(expire_ev);
		expire_ev = NULL;
	}
}

static void
async_done(void *arg, const struct gres *r, const void *data, size_t len)
{
	struct arec *a = arg;

	a->a_task = NULL;
	a->a_res = *r;
	a->a_finished = now_s();
	stats_task(a->a_kind, (enum srv_outcome)r->gr_outcome,
	    a->a_finished - a->a_start, r->gr_run_s);
	if (r->gr_outcome == FB_DONE && len > 0) {
		if ((a->a_data = malloc(len)) != NULL) {
			memcpy(a->a_data, data, len);
			a->a_len = len;
		}
	}
	TAILQ_INSERT_TAIL(&done_list, a, a_done_entry);
	ndone++;
	expire();
}

void
async_submit(struct evhttp_request *req, const struct kind *k, unsigned kind)
{
	struct evbuffer *b;
	struct arec *a;
	unsigned char rnd[16];
	char loc[64];
	int i, r;

	if (nrecs >= conf->cf_keep_count + conf->cf_slots + conf->cf_queue_max) {
		stats_task(kind, SO_REJECTED, 0, 0);
		http_unavailable(req, "too many asynchronous tasks kept "
		    "(--keep): fetch or delete some");
		return;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		http_error(req, 500, "Internal Server Error", "out of memory");
		return;
	}
	arc4random_buf(rnd, sizeof(rnd));
	for (i = 0; i < 16; i++)
		snprintf(a->a_id + 2 * i, 3, "%02x", rnd[i]);
	a->a_kind = kind;
	a->a_start = now_s();
	if ((r = glue_submit(kind, evhttp_request_get_input_buffer(req),
	    async_done, a, &a->a_task)) < 0) {
		free(a);
		stats_task(kind, SO_REJECTED, 0, 0);
		if (r == -EAGAIN)
			http_unavailable(req, "queue full");
		else
			http_unavailable(req, fb_strerror(r));
		return;
	}
	RB_INSERT(atree, &recs, a);
	nrecs++;
	snprintf(loc, sizeof(loc), "/v1/tasks/%s", a->a_id);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location",
	    loc);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "X-Task-Kind", k->k_name);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain");
	if ((b = evbuffer_new()) != NULL)
		evbuffer_add_printf(b, "%s\n", loc);
	http_reply(req, 202, "Accepted", b);
	if (b != NULL)
		evbuffer_free(b);
}

static struct arec *
lookup(const char *id)
{
	struct arec key;

	expire();	/* the timer is 1 s coarse: be exact on access */
	if (strlen(id) != 32)
		return NULL;
	strlcpy(key.a_id, id, sizeof(key.a_id));
	return RB_FIND(atree, &recs, &key);
}

void
async_get(struct evhttp_request *req, const char *id)
{
	struct arec *a = lookup(id);
	struct evbuffer *b;
	const char *reason;
	int code;

	if (a == NULL) {
		http_error(req, 404, "Not Found", "no task %.64s (unknown, "
		    "expired or deleted)", id);
		return;
	}
	if (a->a_task != NULL) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "1");
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "X-Task-State", glue_task_state(a->a_task));
		http_error(req, 202, "Accepted", "task %s is %s", id,
		    glue_task_state(a->a_task));
		return;
	}
	code = http_result_status(&a->a_res, &reason);
	http_result_headers(req, &fbs_kinds[a->a_kind], &a->a_res);
	if ((b = evbuffer_new()) == NULL) {
		http_error(req, 500, "Internal Server Error", "out of memory");
		return;
	}
	if (a->a_res.gr_outcome == FB_DONE)
		evbuffer_add(b, a->a_data, a->a_len);
	else
		evbuffer_add_printf(b, "%s: task %s: %s\n", FBS_NAME, id,
		    fb_outcome_name(a->a_res.gr_outcome));
	http_reply(req, code, reason, b);
	evbuffer_free(b);
}

void
async_delete(struct evhttp_request *req, const char *id)
{
	struct arec *a = lookup(id);
	const char *state;
	int r;

	if (a == NULL) {
		http_error(req, 404, "Not Found", "no task %.64s", id);
		return;
	}
	if (a->a_task == NULL) {
		rec_free(a);
		http_error(req, 200, "OK", "task %s: result deleted", id);
		return;
	}
	state = glue_task_state(a->a_task);
	if ((r = glue_cancel(a->a_task)) == 0) {
		a->a_task = NULL;
		stats_task(a->a_kind, SO_CANCELLED, now_s() - a->a_start, 0);
		a->a_res.gr_outcome = FB_CANCELLED;
		TAILQ_INSERT_TAIL(&done_list, a, a_done_entry);
		ndone++;
		rec_free(a);
		http_error(req, 200, "OK", "task %s cancelled before it "
		    "started (it was %s)", id, state);
		return;
	}
	http_error(req, 409, "Conflict", "task %s is %s: a task a worker "
	    "has started is not stopped; it will finish, then DELETE drops "
	    "its result", id, r == -EALREADY ? "finishing" : state);
}
