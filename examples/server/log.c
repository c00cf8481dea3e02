/*
 * log.c - the access log and the error log.
 *
 * Access log: one line per answered request,
 *   time client "METHOD path" status bytes task worker ms
 * Error log: time, level, message.  Both are files opened O_APPEND, or
 * stderr/stdout when not given (and not daemonized).  SIGUSR1 reopens
 * them (logrotate's "move, then signal" dance); the library's own log
 * lines go to the error log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/http.h>

#include "server.h"

static const struct conf *conf;
static FILE *acc, *err;

static FILE *
open_log(const char *path, FILE *dflt)
{
	FILE *f;
	int fd;

	if (path == NULL || strcmp(path, "-") == 0)
		return dflt;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640)) == -1)
		return NULL;
	/* Owned by the -u user, so that USR1 can reopen them after the
	 * privileges are dropped. */
	if (daemon_has_user() && fchown(fd, daemon_uid(), daemon_gid()) == -1) {
		close(fd);
		return NULL;
	}
	if ((f = fdopen(fd, "a")) == NULL) {
		close(fd);
		return NULL;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

int
log_open(const struct conf *cf)
{
	conf = cf;
	/* No access log unless asked for ("-": standard output). */
	if (cf->cf_access_log != NULL && (acc = open_log(cf->cf_access_log,
	    cf->cf_daemon ? NULL : stdout)) == NULL &&
	    strcmp(cf->cf_access_log, "-") != 0) {
		fprintf(stderr, "%s: %s: %s\n", FBS_NAME, cf->cf_access_log,
		    strerror(errno));
		return -1;
	}
	if ((err = open_log(cf->cf_error_log, cf->cf_daemon ? NULL :
	    stderr)) == NULL && cf->cf_error_log != NULL &&
	    strcmp(cf->cf_error_log, "-") != 0) {
		fprintf(stderr, "%s: %s: %s\n", FBS_NAME, cf->cf_error_log,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
log_reopen(void)
{
	FILE *na, *ne;

	if (conf->cf_access_log != NULL && acc != stdout) {
		if ((na = open_log(conf->cf_access_log, NULL)) == NULL) {
			log_err("reopen %s: %s", conf->cf_access_log,
			    strerror(errno));
			return -1;
		}
		if (acc != NULL)
			fclose(acc);
		acc = na;
	}
	if (conf->cf_error_log != NULL && err != stderr) {
		if ((ne = open_log(conf->cf_error_log, NULL)) == NULL) {
			log_err("reopen %s: %s", conf->cf_error_log,
			    strerror(errno));
			return -1;
		}
		if (err != NULL)
			fclose(err);
		err = ne;
	}
	log_info("logs reopened");
	return 0;
}

void
log_close(void)
{
	if (acc != NULL && acc != stdout)
		fclose(acc);
	if (err != NULL && err != stderr)
		fclose(err);
	acc = err = NULL;
}

static void
stamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ld", ts.tv_nsec / 1000000);
}

static void
vlog(const char *level, const char *fmt, va_list ap)
{
	char t[64];

	if (err == NULL)
		return;
	stamp(t, sizeof(t));
	fprintf(err, "%s %s [%d] %s: ", t, FBS_NAME, (int)getpid(), level);
	vfprintf(err, fmt, ap);
	fputc('\n', err);
	fflush(err);
}

void
log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error", fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("info", fmt, ap);
	va_end(ap);
}

void
log_fb(void *arg, enum fb_log_level level, const char *msg)
{
	(void)arg;
	if (level == FB_LOG_DEBUG)
		return;
	log_err("%s: %s", level == FB_LOG_ERROR ? "pool error" :
	    level == FB_LOG_WARN ? "pool warning" : "pool", msg);
}

static const char *
method(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	default: return "?";
	}
}

/* The path is client input: print it with control bytes escaped. */
static void
put_path(FILE *f, const char *p)
{
	size_t n = 0;

	for (; *p != '\0' && n < 200; p++, n++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

void
log_access(struct evhttp_request *req, int code, size_t bytes,
    const char *task, int worker, double ms)
{
	struct evhttp_connection *evcon;
	char *host = NULL;
	const char *uri;
	ev_uint16_t port = 0;
	char t[64];

	if (acc == NULL)
		return;
	evcon = evhttp_request_get_connection(req);
	if (evcon != NULL)
		evhttp_connection_get_peer(evcon, &host, &port);
	uri = evhttp_request_get_uri(req);
	stamp(t, sizeof(t));
	fprintf(acc, "%s %s \"%s ", t, host != NULL && *host ? host : "unix",
	    method(evhttp_request_get_command(req)));
	put_path(acc, uri != NULL ? uri : "-");
	fprintf(acc, "\" %d %zu %s ", code, bytes, task != NULL ? task : "-");
	if (worker >= 0)
		fprintf(acc, "%d %.3f\n", worker, ms);
	else
		fprintf(acc, "- -\n");
}
