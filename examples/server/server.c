/*
 * server.c - listening sockets, the connection cap, EMFILE back-off.
 *
 * Sockets are bound before anything else (before daemonizing, before
 * dropping privileges), so a bind error reaches the terminal.  Listeners
 * are wrapped in evconnlistener objects handed to evhttp.
 *
 * libevent 2.1's evhttp has no connection cap, and no hook that runs for
 * every connection when it goes (a bufferevent filter's free_context
 * would, but evhttp's write path stalls on a filter: enabling EV_WRITE
 * on a filter does not push what is already buffered).  The one
 * per-connection "gone" hook is evhttp_connection_set_closecb(), and a
 * connection can only be reached from a request.  So a connection is
 * counted from its first request to its close; at the cap the listeners
 * are disabled (the kernel's backlog holds the rest) until one closes.
 * A connection that never sends a complete request is not counted: it
 * is bounded by --read-timeout instead.
 *
 * On EMFILE/ENFILE the listener's error callback disables the listeners
 * for 100 ms instead of letting libevent spin on a readable socket it
 * cannot accept from.
 */
#include <sys/cdefs.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/tree.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "server.h"

struct lsock {
	int			 l_fd;
	int			 l_family;
	int			 l_port;
	char			 l_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct evconnlistener	*l_lev;
	struct evhttp_bound_socket *l_bound;
};

static struct lsock	 lsocks[FBS_MAX_LISTEN];
static size_t		 nlsocks;
static unsigned		 max_conns;
static int		 paused_cap, paused_emfile, stopped;
static struct event	*resume_ev;
static struct evhttp	*srv_http;

static int
bind_unix(const char *path, struct lsock *ls)
{
	struct sockaddr_un sun;
	int fd, probe;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "%s: unix socket path too long: %s\n", FBS_NAME,
		    path);
		return -1;
	}
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	/* A socket file nobody answers on is stale: remove it.  One that
	 * answers belongs to a running server: refuse. */
	if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1) {
		if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			fprintf(stderr, "%s: %s: a server already listens there\n",
			    FBS_NAME, path);
			return -1;
		}
		if (errno == ECONNREFUSED)
			unlink(path);
		close(probe);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 511) == -1) {
		fprintf(stderr, "%s: %s: %s\n", FBS_NAME, path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	ls->l_fd = fd;
	ls->l_family = AF_UNIX;
	ls->l_port = -1;
	strlcpy(ls->l_path, path, sizeof(ls->l_path));
	printf("%s: listening on unix:%s\n", FBS_NAME, path);
	return 0;
}

/* host:port, [v6]:port or unix:/path. */
static int
bind_one(const char *spec, struct lsock *ls)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], hbuf[NI_MAXHOST], sbuf[NI_MAXSERV];
	const char *port, *colon;
	int fd = -1, one = 1, r;
	size_t hl;

	if (strncmp(spec, "unix:", 5) == 0)
		return bind_unix(spec + 5, ls);
	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');

		if (rb == NULL || rb[1] != ':')
			goto bad;
		hl = (size_t)(rb - spec - 1);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, spec + 1, hl);
		port = rb + 2;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL)
			goto bad;
		hl = (size_t)(colon - spec);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, spec, hl);
		port = colon + 1;
	}
	host[hl] = '\0';
	if (*port == '\0')
		goto bad;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((r = getaddrinfo(hl > 0 ? host : NULL, port, &hints, &res)) != 0) {
		fprintf(stderr, "%s: %s: %s\n", FBS_NAME, spec, gai_strerror(r));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (fd == -1)
		goto syserr;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, 511) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		goto syserr;
	getnameinfo((struct sockaddr *)&ss, sl, hbuf, sizeof(hbuf), sbuf,
	    sizeof(sbuf), NI_NUMERICHOST | NI_NUMERICSERV);
	ls->l_fd = fd;
	ls->l_family = res->ai_family;
	ls->l_port = atoi(sbuf);
	printf(res->ai_family == AF_INET6 ? "%s: listening on [%s]:%s\n" :
	    "%s: listening on %s:%s\n", FBS_NAME, hbuf, sbuf);
	freeaddrinfo(res);
	return 0;
syserr:
	fprintf(stderr, "%s: %s: %s\n", FBS_NAME, spec, strerror(errno));
	if (fd != -1)
		close(fd);
	freeaddrinfo(res);
	return -1;
bad:
	fprintf(stderr, "%s: bad listen address '%s' (host:port, [v6]:port "
	    "or unix:/path)\n", FBS_NAME, spec);
	return -1;
}

int
server_bind(const struct conf *cf)
{
	size_t i;

	for (i = 0; i < cf->cf_nlisten; i++) {
		if (bind_one(cf->cf_listen[i], &lsocks[nlsocks]) == -1)
			return -1;
		nlsocks++;
	}
	fflush(stdout);
	return 0;
}

int
server_chown(const char *user)
{
	size_t i;

	(void)user;
	for (i = 0; i < nlsocks; i++)
		if (lsocks[i].l_family == AF_UNIX && chown(lsocks[i].l_path,
		    daemon_uid(), daemon_gid()) == -1)
			return -1;
	return 0;
}

int
server_port(void)
{
	size_t i;

	for (i = 0; i < nlsocks; i++)
		if (lsocks[i].l_port >= 0)
			return lsocks[i].l_port;
	return -1;
}

static void
set_listening(void)
{
	int on = !stopped && !paused_cap && !paused_emfile;
	size_t i;

	for (i = 0; i < nlsocks; i++) {
		if (lsocks[i].l_lev == NULL)
			continue;
		if (on)
			evconnlistener_enable(lsocks[i].l_lev);
		else
			evconnlistener_disable(lsocks[i].l_lev);
	}
}

static int
conn_cmp(const struct conn *a, const struct conn *b)
{
	return a->c_evcon < b->c_evcon ? -1 : a->c_evcon > b->c_evcon;
}

RB_HEAD(ctree, conn);
/* RB_GENERATE_STATIC with the "unused" attribute libbsd leaves out. */
RB_GENERATE_INTERNAL(ctree, conn, c_node, conn_cmp,
    __attribute__((__unused__)) static)

static struct ctree conns = RB_INITIALIZER(&conns);

static void
conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;

	(void)evcon;
	if (c->c_gone != NULL)
		c->c_gone(c->c_pending);
	RB_REMOVE(ctree, &conns, c);
	free(c);
	fbs_stats.st_conns--;
	if (paused_cap && fbs_stats.st_conns < max_conns) {
		paused_cap = 0;
		set_listening();
	}
}

/* The connection of req, registered (and counted) the first time it is
 * seen: its close callback is the one place the server learns that a
 * connection went, whoever closed it. */
struct conn *
server_conn(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct conn key, *c;

	if (evcon == NULL)
		return NULL;
	key.c_evcon = evcon;
	if ((c = RB_FIND(ctree, &conns, &key)) != NULL)
		return c;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->c_evcon = evcon;
	RB_INSERT(ctree, &conns, c);
	evhttp_connection_set_closecb(evcon, conn_closed, c);
	if (++fbs_stats.st_conns > fbs_stats.st_conns_max)
		fbs_stats.st_conns_max = fbs_stats.st_conns;
	if (fbs_stats.st_conns >= max_conns && !paused_cap) {
		paused_cap = 1;
		fbs_stats.st_conns_refused++;
		set_listening();
	}
	return c;
}

static struct bufferevent *
conn_new(struct event_base *base, void *arg)
{
	(void)arg;
	fbs_stats.st_accepted++;
	return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	paused_emfile = 0;
	set_listening();
}

static void
accept_error(struct evconnlistener *lev, void *arg)
{
	struct timeval tv = { 0, 100000 };
	int err = EVUTIL_SOCKET_ERROR();

	(void)lev;
	(void)arg;
	if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM) {
		if (!paused_emfile) {
			fbs_stats.st_emfile++;
			log_err("accept: %s: pausing the listeners for 100 ms",
			    strerror(err));
		}
		paused_emfile = 1;
		set_listening();
		event_add(resume_ev, &tv);
		return;
	}
	log_err("accept: %s", strerror(err));
}

int
server_start(struct event_base *base, struct evhttp *http,
    const struct conf *cf)
{
	size_t i;

	max_conns = cf->cf_max_conns;
	srv_http = http;
	if ((resume_ev = evtimer_new(base, resume_cb, NULL)) == NULL)
		return -1;
	evhttp_set_bevcb(http, conn_new, NULL);
	for (i = 0; i < nlsocks; i++) {
		lsocks[i].l_lev = evconnlistener_new(base, NULL, NULL,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1,
		    lsocks[i].l_fd);
		if (lsocks[i].l_lev == NULL)
			return -1;
		evconnlistener_set_error_cb(lsocks[i].l_lev, accept_error);
		if ((lsocks[i].l_bound = evhttp_bind_listener(http,
		    lsocks[i].l_lev)) == NULL)
			return -1;
		/* evhttp_bind_listener resets the callback, not the error
		 * callback; set it again to be sure. */
		evconnlistener_set_error_cb(lsocks[i].l_lev, accept_error);
	}
	return 0;
}

/* Graceful stop, step 1: no new connection.  The listening sockets are
 * closed, not just left unread: a client (or a load balancer) is refused
 * at once instead of waiting in the backlog for a server that is going. */
void
server_stop_accepting(void)
{
	size_t i;

	stopped = 1;
	for (i = 0; i < nlsocks; i++) {
		if (lsocks[i].l_bound == NULL)
			continue;
		evhttp_del_accept_socket(srv_http, lsocks[i].l_bound);
		lsocks[i].l_bound = NULL;
		lsocks[i].l_lev = NULL;
	}
}

void
server_close(void)
{
	if (resume_ev != NULL) {
		event_free(resume_ev);
		resume_ev = NULL;
	}
}

void
server_unlink(void)
{
	size_t i;

	for (i = 0; i < nlsocks; i++)
		if (lsocks[i].l_family == AF_UNIX)
			unlink(lsocks[i].l_path);
}
