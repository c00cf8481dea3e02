/*
 * http.c - routing, request limits, the mapping of task outcomes to HTTP
 * statuses, and synchronous task requests.
 *
 * A synchronous request is kept (Bitcoin Core's httpserver.cpp does the
 * same) until its task ends, and answered exactly once.  If the client
 * goes first, the connection's close callback detaches the task from the
 * request: the pool finishes it, the glue drops the result, and nothing
 * else is spent on it.
 */
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "server.h"

#define TASKS_PREFIX	"/v1/tasks/"

struct preq {
	struct evhttp_request	*q_req;
	struct conn		*q_conn;
	struct gtask		*q_task;
	struct event		*q_watch;	/* EOF while the task runs */
	unsigned		 q_kind;
	double			 q_start;
};

static const struct conf *conf;
static struct event_base *ev_base;
static unsigned		  npending;	/* synchronous tasks not answered */
static unsigned		  nwriting;	/* task replies being written */
static int		  draining;

unsigned
http_inflight(void)
{
	return npending + nwriting;
}

int
http_draining(void)
{
	return draining;
}

void
http_drain(void)
{
	draining = 1;
}

static const char *
peer(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	char *host = NULL;
	ev_uint16_t port;

	if (evcon != NULL)
		evhttp_connection_get_peer(evcon, &host, &port);
	return host != NULL ? host : "-";
}

static int
cidr_match(const struct cidr *c, int family, const unsigned char *a)
{
	unsigned bits = c->c_bits, i;

	if (c->c_family != family)
		return 0;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (a[i] != c->c_addr[i])
			return 0;
	return bits == 0 ||
	    ((a[i] ^ c->c_addr[i]) & (0xff00 >> bits) & 0xff) == 0;
}

/* Status, metrics and the board page: only for --status-allow networks
 * (default: loopback; unix-socket clients always). */
int
http_status_allowed(struct evhttp_request *req)
{
	const char *h = peer(req);
	unsigned char a[16];
	int family;
	size_t i;

	if (inet_pton(AF_INET, h, a) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, h, a) == 1)
		family = AF_INET6;
	else
		return 1;	/* unix socket: the file mode decides */
	if (family == AF_INET6 && memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff",
	    12) == 0) {
		memmove(a, a + 12, 4);
		family = AF_INET;
	}
	if (conf->cf_nallow == 0)
		return (family == AF_INET && a[0] == 127) ||
		    (family == AF_INET6 && memcmp(a, &in6addr_loopback, 16) == 0);
	for (i = 0; i < conf->cf_nallow; i++)
		if (cidr_match(&conf->cf_allow[i], family, a))
			return 1;
	return 0;
}

void
http_reply(struct evhttp_request *req, int code, const char *reason,
    struct evbuffer *body)
{
	size_t n = body != NULL ? evbuffer_get_length(body) : 0;

	stats_status(code);
	if (draining)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
	log_access(req, code, n, NULL, -1, 0);
	evhttp_send_reply(req, code, reason, body);
}

void
http_error(struct evhttp_request *req, int code, const char *reason,
    const char *fmt, ...)
{
	struct evbuffer *b = evbuffer_new();
	va_list ap;

	if (b != NULL) {
		evbuffer_add_printf(b, "%s: ", FBS_NAME);
		va_start(ap, fmt);
		evbuffer_add_vprintf(b, fmt, ap);
		va_end(ap);
		evbuffer_add(b, "\n", 1);
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	http_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

int
http_result_status(const struct gres *r, const char **reason)
{
	switch (r->gr_outcome) {
	case FB_DONE:
		*reason = "OK";
		return 200;
	case FB_FAILED:
		*reason = "Unprocessable Entity";
		return 422;
	case FB_CRASHED:
	case FB_BADRESULT:
		*reason = "Bad Gateway";
		return 502;
	case FB_TIMEDOUT:
		*reason = "Gateway Timeout";
		return 504;
	case FB_CANCELLED:
		*reason = "Service Unavailable";
		return 503;
	case FB_NOHANDLER:
	default:
		*reason = "Internal Server Error";
		return 500;
	}
}

static void
hdr(struct evkeyvalq *h, const char *name, const char *fmt, ...)
{
	char v[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	evhttp_add_header(h, name, v);
}

void
http_result_headers(struct evhttp_request *req, const struct kind *k,
    const struct gres *r)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	hdr(h, "X-Task-Kind", "%s", k->k_name);
	hdr(h, "X-Task-Outcome", "%s", fbs_outcome_names[r->gr_outcome]);
	if (r->gr_outcome != FB_CANCELLED) {
		hdr(h, "X-Task-Worker", "%u", r->gr_worker);
		hdr(h, "X-Task-Worker-Pid", "%d", (int)r->gr_pid);
		hdr(h, "X-Task-Attempts", "%u", r->gr_attempts);
	}
	hdr(h, "X-Task-Queued-Ms", "%.3f", r->gr_queued_s * 1e3);
	hdr(h, "X-Task-Run-Ms", "%.3f", r->gr_run_s * 1e3);
	if (r->gr_outcome == FB_FAILED)
		hdr(h, "X-Task-Status", "%d", r->gr_status);
	if ((r->gr_outcome == FB_CRASHED || r->gr_outcome == FB_TIMEDOUT) &&
	    r->gr_wait_status > 0 && WIFSIGNALED(r->gr_wait_status)) {
		const char *s = sigabbrev_np(WTERMSIG(r->gr_wait_status));

		hdr(h, "X-Task-Signal", "SIG%s", s != NULL ? s : "?");
	}
	if (r->gr_outcome == FB_DONE)
		hdr(h, "Content-Type", "%s", k->k_ctype != NULL ? k->k_ctype :
		    "application/octet-stream");
	else
		hdr(h, "Content-Type", "text/plain; charset=utf-8");
}

/* The body of a non-DONE answer: say what happened, plainly. */
static void
outcome_text(struct evbuffer *b, const struct kind *k, const struct gres *r)
{
	int st = r->gr_status, ws = r->gr_wait_status;

	switch (r->gr_outcome) {
	case FB_FAILED:
		evbuffer_add_printf(b, "%s: task %s failed with status %d "
		    "(%s)\n", FBS_NAME, k->k_name, st, st > 0 ? strerror(st) :
		    "application code");
		break;
	case FB_CRASHED:
	case FB_TIMEDOUT:
		evbuffer_add_printf(b, "%s: task %s %s: worker %u (pid %d) ",
		    FBS_NAME, k->k_name, r->gr_outcome == FB_CRASHED ?
		    "crashed" : "timed out", r->gr_worker, (int)r->gr_pid);
		if (ws > 0 && WIFSIGNALED(ws))
			evbuffer_add_printf(b, "killed by SIG%s (%s)\n",
			    sigabbrev_np(WTERMSIG(ws)) ?
			    sigabbrev_np(WTERMSIG(ws)) : "?",
			    sigdescr_np(WTERMSIG(ws)) ?
			    sigdescr_np(WTERMSIG(ws)) : "?");
		else if (ws > 0 && WIFEXITED(ws))
			evbuffer_add_printf(b, "exited with status %d\n",
			    WEXITSTATUS(ws));
		else
			evbuffer_add_printf(b, "died\n");
		break;
	case FB_BADRESULT:
		evbuffer_add_printf(b, "%s: task %s: the worker wrote an "
		    "impossible result\n", FBS_NAME, k->k_name);
		break;
	case FB_CANCELLED:
		evbuffer_add_printf(b, "%s: task %s cancelled: the server is "
		    "stopping\n", FBS_NAME, k->k_name);
		break;
	default:
		evbuffer_add_printf(b, "%s: task %s: no handler\n", FBS_NAME,
		    k->k_name);
		break;
	}
}

enum srv_outcome
http_outcome(enum fb_outcome o)
{
	return (enum srv_outcome)o;	/* the first SO_* are the library's */
}

static void
write_done(struct evhttp_request *req, void *arg)
{
	(void)req;
	(void)arg;
	nwriting--;
}

static void
client_gone(void *arg)
{
	struct preq *q = arg;

	if (q->q_watch != NULL)
		event_free(q->q_watch);
	glue_detach(q->q_task);
	stats_task(q->q_kind, SO_ABANDONED, now_s() - q->q_start, 0);
	/* After an EOF evhttp has unhooked the request from the
	 * connection and left it to us; otherwise it frees it itself. */
	if (evhttp_request_get_connection(q->q_req) == NULL)
		evhttp_request_free(q->q_req);
	npending--;
	free(q);
}

static void
sync_done(void *arg, const struct gres *r, const void *data, size_t len)
{
	struct preq *q = arg;
	const struct kind *k = &fbs_kinds[q->q_kind];
	struct evhttp_request *req = q->q_req;
	struct evbuffer *b;
	const char *reason;
	double ms = (now_s() - q->q_start) * 1e3;
	int code;

	if (q->q_conn != NULL)
		q->q_conn->c_gone = NULL, q->q_conn->c_pending = NULL;
	if (q->q_watch != NULL)
		event_free(q->q_watch);
	npending--;
	code = http_result_status(r, &reason);
	stats_task(q->q_kind, http_outcome(r->gr_outcome), ms / 1e3,
	    r->gr_run_s);
	stats_status(code);
	b = evhttp_request_get_output_buffer(req);
	if (r->gr_outcome == FB_DONE)
		evbuffer_add(b, data, len);
	else
		outcome_text(b, k, r);
	http_result_headers(req, k, r);
	if (draining)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
	log_access(req, code, evbuffer_get_length(b), k->k_name,
	    (int)r->gr_worker, ms);
	nwriting++;
	evhttp_request_set_on_complete_cb(req, write_done, NULL);
	evhttp_send_reply(req, code, reason, NULL);
	free(q);
}

static int
prefers_async(struct evhttp_request *req)
{
	const char *p = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Prefer");

	return p != NULL && strstr(p, "respond-async") != NULL;
}

void
http_unavailable(struct evhttp_request *req, const char *why)
{
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Retry-After", "1");
	http_error(req, 503, "Service Unavailable", "%s", why);
}

/*
 * evhttp stops reading a connection while its request is being served
 * (and treats any byte that arrives then as fatal), so it cannot notice a
 * client that leaves.  The server watches the socket itself: readable
 * with nothing to read (EOF) or an error means the client is gone, and
 * freeing the connection runs the close callback, which detaches the
 * task.  Readable with data (a pipelined request) ends the watch: that
 * client is still there.
 */
static void
watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct preq *q = arg;
	char c;
	ssize_t n;

	(void)what;
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		event_add(q->q_watch, NULL);
		return;
	}
	if (n > 0 || q->q_conn == NULL)
		return;
	evhttp_connection_free(q->q_conn->c_evcon);	/* frees q */
}

static void
watch(struct preq *q)
{
	struct bufferevent *bev;
	evutil_socket_t fd;

	if (q->q_conn == NULL ||
	    (bev = evhttp_connection_get_bufferevent(q->q_conn->c_evcon)) ==
	    NULL || (fd = bufferevent_getfd(bev)) < 0)
		return;
	q->q_watch = event_new(ev_base, fd, EV_READ, watch_cb, q);
	if (q->q_watch != NULL && event_add(q->q_watch, NULL) == -1) {
		event_free(q->q_watch);
		q->q_watch = NULL;
	}
}

/* POST /v1/tasks/{name} */
static void
task_post(struct evhttp_request *req, const char *name)
{
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	const struct kind *k = kind_find(name, strlen(name));
	struct preq *q;
	int r;

	if (k == NULL) {
		struct evbuffer *b = evbuffer_new();
		unsigned i;

		for (i = 0; b != NULL && i < fbs_nkinds; i++)
			evbuffer_add_printf(b, "%s%s", i ? ", " : "",
			    fbs_kinds[i].k_name);
		http_error(req, 404, "Not Found", "unknown task kind '%.64s'; "
		    "known: %.*s", name, b ? (int)evbuffer_get_length(b) : 0,
		    b ? (const char *)evbuffer_pullup(b, -1) : "");
		if (b != NULL)
			evbuffer_free(b);
		return;
	}
	if (evbuffer_get_length(body) > conf->cf_slot_size) {
		http_error(req, 413, "Payload Too Large", "body of %zu bytes "
		    "is over the limit of %zu bytes (the slot size, "
		    "--slot-size)", evbuffer_get_length(body),
		    conf->cf_slot_size);
		return;
	}
	if (draining) {
		stats_task((unsigned)(k - fbs_kinds), SO_REJECTED, 0, 0);
		http_unavailable(req, "draining: the server is stopping");
		return;
	}
	if (prefers_async(req)) {
		async_submit(req, k, (unsigned)(k - fbs_kinds));
		return;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		http_error(req, 500, "Internal Server Error", "out of memory");
		return;
	}
	q->q_req = req;
	q->q_conn = server_conn(req);
	q->q_kind = (unsigned)(k - fbs_kinds);
	q->q_start = now_s();
	if ((r = glue_submit(q->q_kind, body, sync_done, q, &q->q_task)) < 0) {
		free(q);
		stats_task((unsigned)(k - fbs_kinds), SO_REJECTED, 0, 0);
		if (r == -EAGAIN)
			http_unavailable(req, "queue full: every slot is busy "
			    "and the wait queue (--queue) is full");
		else if (r == -EMSGSIZE)
			http_error(req, 413, "Payload Too Large", "body over "
			    "the slot size of %zu bytes", conf->cf_slot_size);
		else if (r == -ECHILD)
			http_unavailable(req, "the pool failed: workers keep "
			    "dying at start (see the error log)");
		else
			http_unavailable(req, fb_strerror(r));
		return;
	}
	npending++;
	if (q->q_conn != NULL) {
		q->q_conn->c_gone = client_gone;
		q->q_conn->c_pending = q;
		watch(q);
	}
}

static void
not_allowed(struct evhttp_request *req, const char *allow)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
	    allow);
	http_error(req, 405, "Method Not Allowed", "method not allowed here; "
	    "allowed: %s", allow);
}

static void
forbidden(struct evhttp_request *req)
{
	http_error(req, 403, "Forbidden", "not in --status-allow");
}

static void
route(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	int get = m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD;

	(void)arg;
	fbs_stats.st_requests++;
	server_conn(req);
	if (path == NULL || path[0] != '/') {
		http_error(req, 400, "Bad Request", "malformed request target");
		return;
	}
	if (strncmp(path, TASKS_PREFIX, strlen(TASKS_PREFIX)) == 0) {
		const char *rest = path + strlen(TASKS_PREFIX);

		if (*rest == '\0' || strchr(rest, '/') != NULL ||
		    strlen(rest) > 64) {
			http_error(req, 404, "Not Found", "no such task path");
			return;
		}
		if (m == EVHTTP_REQ_POST)
			task_post(req, rest);
		else if (get)
			async_get(req, rest);
		else if (m == EVHTTP_REQ_DELETE)
			async_delete(req, rest);
		else
			not_allowed(req, "POST, GET, HEAD, DELETE");
		return;
	}
	if (strcmp(path, "/healthz") == 0) {
		struct evbuffer *b;

		if (!get) {
			not_allowed(req, "GET, HEAD");
			return;
		}
		if (draining || glue_failed()) {
			http_unavailable(req, draining ? "draining" :
			    "pool failed");
			return;
		}
		if ((b = evbuffer_new()) != NULL)
			evbuffer_add_printf(b, "ok\n");
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "text/plain");
		http_reply(req, 200, "OK", b);
		if (b != NULL)
			evbuffer_free(b);
		return;
	}
	if (strcmp(path, "/status") == 0 || strcmp(path, "/metrics") == 0 ||
	    strcmp(path, "/") == 0) {
		if (!get) {
			not_allowed(req, "GET, HEAD");
			return;
		}
		if (!http_status_allowed(req)) {
			forbidden(req);
			return;
		}
		if (path[1] == 's')
			status_page(req, query != NULL &&
			    strncmp(query, "full", 4) == 0);
		else if (path[1] == 'm')
			metrics_page(req);
		else
			board_page(req);
		return;
	}
	http_error(req, 404, "Not Found", "no such path");
}

int
http_init(struct event_base *base, struct evhttp *http, const struct conf *cf)
{
	struct timeval tv;

	conf = cf;
	ev_base = base;
	/* Let evhttp refuse only what is far over the limit (cheaply, from
	 * Content-Length); between the slot size and this, task_post()
	 * answers 413 itself, with the limit in the message. */
	evhttp_set_max_body_size(http, (ev_ssize_t)(cf->cf_slot_size +
	    (cf->cf_slot_size < (1u << 20) ? cf->cf_slot_size : (1u << 20))));
	evhttp_set_max_headers_size(http, (ev_ssize_t)cf->cf_max_header);
	tv.tv_sec = cf->cf_read_timeout;
	tv.tv_usec = 0;
	evhttp_set_timeout_tv(http, &tv);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_default_content_type(http, "text/plain; charset=utf-8");
	evhttp_set_gencb(http, route, NULL);
	return 0;
}
