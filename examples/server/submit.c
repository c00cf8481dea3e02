/*
 * forkboard-submit - send many tasks to a forkboard-server.
 *
 *   forkboard-submit [-c conns] [-o dir] [-q] URL KIND [file ...]
 *   forkboard-submit --redis URL --stream S [-o dir] [-q] KIND [file ...]
 *
 * Each file given is one task (its bytes are the body); with no file,
 * each line of standard input is one task.  Tasks go over -c concurrent
 * keep-alive connections (libevent's HTTP client).  Results go to -o DIR
 * (one file per task, named by its number, NNNNNN.out) or to standard
 * output, in completion order, one per line.  On a terminal a progress
 * bar with rate, ETA and failures is redrawn on stderr; otherwise a
 * plain line is printed every second.  The exit status is 0 only if
 * every task succeeded (HTTP 200); a summary per outcome ends the run.
 * With --redis the tasks go to a Redis stream instead, for the
 * forkboard-servers consuming it (submit_redis.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "submit.h"

#define MAX_CONNS	256

struct client {
	struct evhttp_connection *c_evcon;
	size_t			 c_item;
};

static struct event_base *base;
struct item		*items;
size_t			 nitems, ndone, nfailed;
static size_t		 next_item;
const char		*kind, *outdir;
static const char	*host, *path_prefix = "";
int			 quiet, tty;
static int		 port;
static struct client	 clients[MAX_CONNS];
static int		 nclients;
double			 t_start;
struct outcome		 outcomes[NOUT];

double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
count(const char *name)
{
	int i;

	for (i = 0; i < NOUT && outcomes[i].name[0] != '\0'; i++)
		if (strcmp(outcomes[i].name, name) == 0)
			break;
	if (i == NOUT)
		i = NOUT - 1;
	snprintf(outcomes[i].name, sizeof(outcomes[i].name), "%s", name);
	outcomes[i].n++;
}

void
progress(int final)
{
	double el = now() - t_start, rate = el > 0 ? (double)ndone / el : 0;
	double eta = rate > 0 ? (double)(nitems - ndone) / rate : 0;
	char bar[31];
	size_t i, fill = nitems ? ndone * 30 / nitems : 30;

	if (quiet)
		return;
	if (tty) {
		for (i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[30] = '\0';
		fprintf(stderr, "\r[%s] %zu/%zu %.1f/s ETA %.0fs failed %zu%s",
		    bar, ndone, nitems, rate, eta, nfailed, final ? "\n" : "");
	} else
		fprintf(stderr, "%s: %zu/%zu done, %zu failed, %.1f/s\n", PROG,
		    ndone, nitems, nfailed, rate);
	fflush(stderr);
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	progress(0);
}

/* The closing lines: the bar's last state, then outcome counts. */
void
summary(const char *extra)
{
	int i;

	progress(1);
	fprintf(stderr, "%s: %zu task(s) in %.2f s:", PROG, nitems,
	    now() - t_start);
	for (i = 0; i < NOUT && outcomes[i].name[0] != '\0'; i++)
		fprintf(stderr, " %s %zu%s", outcomes[i].name, outcomes[i].n,
		    i + 1 < NOUT && outcomes[i + 1].name[0] ? "," : "");
	fprintf(stderr, "%s\n", extra != NULL ? extra : "");
}

void
free_items(void)
{
	size_t k;

	for (k = 0; k < nitems; k++)
		free(items[k].i_data);
	free(items);
	items = NULL;
}

static void	send_next(struct client *);

void
save(size_t idx, const void *data, size_t len)
{
	char path[4096];
	int fd;

	if (outdir == NULL) {
		if (len > 0)
			fwrite(data, 1, len, stdout);
		if (len == 0 || ((const char *)data)[len - 1] != '\n')
			fputc('\n', stdout);
		return;
	}
	snprintf(path, sizeof(path), "%s/%06zu.out", outdir, idx);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644))
	    == -1 || (len > 0 && write(fd, data, len) != (ssize_t)len)) {
		fprintf(stderr, "%s: %s: %s\n", PROG, path, strerror(errno));
		nfailed++;
	}
	if (fd != -1)
		close(fd);
}

static void
done_cb(struct evhttp_request *req, void *arg)
{
	struct client *c = arg;
	const char *oc;
	char name[32];
	int code;

	ndone++;
	if (req == NULL || (code = evhttp_request_get_response_code(req)) == 0) {
		nfailed++;
		count("connection-error");
		/* evhttp reconnects on the next request. */
		send_next(c);
		return;
	}
	oc = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "X-Task-Outcome");
	if (oc != NULL)
		snprintf(name, sizeof(name), "%s", oc);
	else
		snprintf(name, sizeof(name), "http-%d", code);
	count(name);
	if (code == 200) {
		struct evbuffer *b = evhttp_request_get_input_buffer(req);

		save(c->c_item, evbuffer_pullup(b, -1), evbuffer_get_length(b));
	}
	else {
		nfailed++;
		if (tty && !quiet)
			fputc('\n', stderr);
		fprintf(stderr, "%s: task %zu: HTTP %d %s\n", PROG, c->c_item,
		    code, name);
	}
	send_next(c);
}

static void
send_next(struct client *c)
{
	struct evhttp_request *req;
	char uri[512];

	if (next_item >= nitems) {
		if (ndone == nitems)
			event_base_loopexit(base, NULL);
		return;
	}
	c->c_item = next_item++;
	if (c->c_evcon == NULL || (req = evhttp_request_new(done_cb, c)) ==
	    NULL) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		exit(2);
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host);
	evbuffer_add(evhttp_request_get_output_buffer(req),
	    items[c->c_item].i_data, items[c->c_item].i_len);
	snprintf(uri, sizeof(uri), "%s/v1/tasks/%s", path_prefix, kind);
	if (evhttp_make_request(c->c_evcon, req, EVHTTP_REQ_POST, uri) == -1) {
		ndone++;
		nfailed++;
		count("connection-error");
		send_next(c);
	}
}

static int
read_file(const char *path, struct item *it)
{
	FILE *f = fopen(path, "rbe");
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) == -1 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) == -1 ||
	    (it->i_data = malloc((size_t)n + 1)) == NULL ||
	    fread(it->i_data, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: %s: %s\n", PROG, path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	it->i_len = (size_t)n;
	fclose(f);
	return 0;
}

static int
add_item(void)
{
	struct item *n;

	if ((n = realloc(items, (nitems + 1) * sizeof(*items))) == NULL)
		return -1;
	items = n;
	memset(&items[nitems], 0, sizeof(items[0]));
	return 0;
}

/* Tasks: the files named from argv[first] on, or stdin's lines. */
static int
read_items(int argc, char **argv, int first)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int i;

	for (i = first; i < argc; i++) {
		if (add_item() == -1 || read_file(argv[i], &items[nitems]) == -1)
			return -1;
		nitems++;
	}
	if (first == argc) {
		while ((n = getline(&line, &cap, stdin)) != -1) {
			if (n > 0 && line[n - 1] == '\n')
				n--;
			if (add_item() == -1 ||
			    (items[nitems].i_data = malloc((size_t)n + 1)) == NULL)
				return -1;
			memcpy(items[nitems].i_data, line, (size_t)n);
			items[nitems].i_len = (size_t)n;
			nitems++;
		}
		free(line);
	}
	if (nitems == 0) {
		fprintf(stderr, "%s: no task to send\n", PROG);
		return -1;
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-c conns] [-o dir] [-q] URL KIND [file ...]\n"
	    "       %s --redis URL --stream S [--timeout MS] [--wait S]\n"
	    "           [--keep] [-o dir] [-q] KIND [file ...]\n"
	    "  URL   http://host:port of a forkboard-server, or with --redis\n"
	    "        redis://host[:port] or unix:/path\n"
	    "  KIND  task name (sha256, gzip, ...)\n"
	    "  no file: each line of standard input is a task\n", PROG, PROG);
	exit(2);
}

static unsigned
number(const char *opt, const char *s)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 ||
	    v > 999999999UL) {
		fprintf(stderr, "%s: %s: '%s' is not a number in [0, 999999999]\n",
		    PROG, opt, s);
		exit(2);
	}
	return (unsigned)v;
}

static const struct option lopts[] = {
	{ "redis", required_argument, NULL, 'r' },
	{ "stream", required_argument, NULL, 's' },
	{ "timeout", required_argument, NULL, 't' },
	{ "wait", required_argument, NULL, 'w' },
	{ "keep", no_argument, NULL, 'k' },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char **argv)
{
	struct evhttp_uri *uri;
	struct event *tev;
	struct timeval sec = { 1, 0 };
	int c, i, conns = 4, npos;
	struct ropts ro = { NULL, NULL, 0, 0, 0 };

	while ((c = getopt_long(argc, argv, "c:o:qh", lopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			conns = atoi(optarg);
			if (conns < 1 || conns > MAX_CONNS) {
				fprintf(stderr, "%s: -c: 1 to %d\n", PROG,
				    MAX_CONNS);
				return 2;
			}
			break;
		case 'o': outdir = optarg; break;
		case 'q': quiet = 1; break;
		case 'r': ro.ro_url = optarg; break;
		case 's': ro.ro_stream = optarg; break;
		case 't': ro.ro_timeout_ms = number("--timeout", optarg); break;
		case 'w': ro.ro_wait_s = number("--wait", optarg); break;
		case 'k': ro.ro_keep = 1; break;
		default: usage();
		}
	}
	npos = ro.ro_url != NULL ? 1 : 2;	/* KIND, or URL KIND */
	if (argc - optind < npos)
		usage();
	if (ro.ro_url != NULL) {
		kind = argv[optind];
		if (read_items(argc, argv, optind + 1) == -1)
			return 2;
		tty = isatty(STDERR_FILENO);
		return redis_submit(&ro);
	}
	if ((uri = evhttp_uri_parse(argv[optind])) == NULL ||
	    evhttp_uri_get_host(uri) == NULL) {
		fprintf(stderr, "%s: bad URL '%s'\n", PROG, argv[optind]);
		return 2;
	}
	host = evhttp_uri_get_host(uri);
	port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : 80;
	if (evhttp_uri_get_path(uri) != NULL &&
	    strcmp(evhttp_uri_get_path(uri), "/") != 0)
		path_prefix = evhttp_uri_get_path(uri);
	kind = argv[optind + 1];
	if (read_items(argc, argv, optind + 2) == -1)
		return 2;
	tty = isatty(STDERR_FILENO);
	if ((base = event_base_new()) == NULL)
		return 2;
	nclients = conns < (int)nitems ? conns : (int)nitems;
	t_start = now();
	for (i = 0; i < nclients; i++) {
		clients[i].c_evcon = evhttp_connection_base_new(base, NULL, host,
		    (unsigned short)port);
		evhttp_connection_set_timeout(clients[i].c_evcon, 120);
		send_next(&clients[i]);
	}
	tev = event_new(base, -1, EV_PERSIST, tick, NULL);
	event_add(tev, &sec);
	event_base_dispatch(base);
	summary(NULL);
	event_free(tev);
	for (i = 0; i < nclients; i++)
		if (clients[i].c_evcon != NULL)
			evhttp_connection_free(clients[i].c_evcon);
	event_base_free(base);
	free_items();
	evhttp_uri_free(uri);
	return nfailed > 0 ? 1 : 0;
}
