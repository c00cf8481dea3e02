/*
 * bench/http/bare.c - the bare libevent (evhttp) server of the HTTP
 * benchmark (bench/README.md, "HTTP servers"): what forkboard-server does
 * per request, minus the pool.  One event loop, the work done inline:
 *
 *   POST /v1/tasks/noop    200, empty body
 *   POST /v1/tasks/sha256  200, hex sha256 of the body + "\n" (OpenSSL EVP,
 *                          as forkboard-server's sha256 kind)
 *
 *   bare [-l 127.0.0.1] [-p PORT] [--port-file FILE] [--max-body BYTES]
 *
 * Port 0 (the default) picks a free one; --port-file gets it once the
 * socket listens.  SIGTERM/SIGINT: leave the loop, exit 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>
#include <openssl/evp.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static void
reply_text(struct evhttp_request *req, int code, const char *why,
    const char *text)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	evbuffer_add(out, text, strlen(text));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain");
	evhttp_send_reply(req, code, why, NULL);
}

static void
on_noop(struct evhttp_request *req, void *arg)
{
	(void)arg;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		reply_text(req, 405, "Method Not Allowed", "POST only\n");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/octet-stream");
	evhttp_send_reply(req, 200, "OK", NULL);
}

static void
on_sha256(struct evhttp_request *req, void *arg)
{
	EVP_MD_CTX *ctx = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evbuffer_iovec *v = NULL, one;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	char hex[2 * EVP_MAX_MD_SIZE + 2];
	int n, ok;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		reply_text(req, 405, "Method Not Allowed", "POST only\n");
		return;
	}
	/* Hash the body where it lies, chain by chain: no copy. */
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	n = evbuffer_peek(in, -1, NULL, NULL, 0);
	if (n > 1)
		v = calloc((size_t)n, sizeof(*v));
	if (n > 1 && v == NULL) {
		reply_text(req, 500, "Internal Server Error", "out of memory\n");
		return;
	}
	if (n > 0)
		evbuffer_peek(in, -1, NULL, n > 1 ? v : &one, n);
	for (i = 0; ok && (int)i < n; i++) {
		struct evbuffer_iovec *e = n > 1 ? &v[i] : &one;
		ok = EVP_DigestUpdate(ctx, e->iov_base, e->iov_len) == 1;
	}
	free(v);
	if (!ok || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1) {
		reply_text(req, 500, "Internal Server Error", "EVP failed\n");
		return;
	}
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[2 * mdlen] = '\n';
	hex[2 * mdlen + 1] = '\0';
	reply_text(req, 200, "OK", hex);
}

static void
on_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	reply_text(req, 404, "Not Found", "kinds: noop sha256\n");
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopexit(arg, NULL);
}

int
main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *portfile = NULL;
	unsigned long port = 0, maxbody = 2u << 20;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *bs;
	struct event *sigterm, *sigint;
	struct sockaddr_storage ss;
	ev_socklen_t sl = sizeof(ss);
	EVP_MD_CTX *ctx;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-l") == 0 && i + 1 < argc)
			host = argv[++i];
		else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
			port = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc)
			portfile = argv[++i];
		else if (strcmp(argv[i], "--max-body") == 0 && i + 1 < argc)
			maxbody = strtoul(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: bare [-l HOST] [-p PORT] "
			    "[--port-file FILE] [--max-body BYTES]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL || (http = evhttp_new(base)) == NULL ||
	    (ctx = EVP_MD_CTX_new()) == NULL) {
		fprintf(stderr, "bare: out of memory\n");
		return 1;
	}
	evhttp_set_max_body_size(http, (ev_ssize_t)maxbody);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_POST | EVHTTP_REQ_GET);
	evhttp_set_cb(http, "/v1/tasks/noop", on_noop, NULL);
	evhttp_set_cb(http, "/v1/tasks/sha256", on_sha256, ctx);
	evhttp_set_gencb(http, on_other, NULL);
	if ((bs = evhttp_bind_socket_with_handle(http, host, (ev_uint16_t)port)) == NULL) {
		fprintf(stderr, "bare: cannot listen on %s:%lu: %s\n", host, port,
		    strerror(errno));
		return 1;
	}
	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) == -1) {
		perror("bare: getsockname");
		return 1;
	}
	port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	if (portfile != NULL) {
		/* Written whole under a temporary name, then renamed. */
		char tmp[4096];
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
		if ((f = fopen(tmp, "w")) == NULL || fprintf(f, "%lu\n", port) < 0 ||
		    fclose(f) != 0 || rename(tmp, portfile) == -1) {
			perror("bare: port file");
			return 1;
		}
	}
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) == -1 ||
	    evsignal_add(sigint, NULL) == -1) {
		fprintf(stderr, "bare: signals\n");
		return 1;
	}
	event_base_dispatch(base);
	event_free(sigterm);
	event_free(sigint);
	evhttp_free(http);
	EVP_MD_CTX_free(ctx);
	event_base_free(base);
	return 0;
}
