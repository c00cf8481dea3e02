/*
 * main.c - forkboard-server: options, start-up, signals, the event loop.
 *
 * Start-up order matters and is the one nginx and OpenBSD httpd use:
 * load modules and bind the sockets first (errors reach the terminal),
 * open the pidfile (a second instance stops here), detach (-d), drop
 * privileges (-u), then create the pool (the board and every worker
 * belong to the unprivileged user), then say where we listen
 * (--port-file) and write the pidfile: both mean "ready".
 *
 * Signals arrive as libevent signal events, never as raw handlers:
 *   TERM, INT  graceful stop: no new connection or task, in-flight tasks
 *              finish (up to --drain-timeout), exit 0
 *   QUIT       immediate stop: workers are killed, exit 0
 *   HUP        rolling restart: modules are reloaded, a new pool takes
 *              new tasks, the old one finishes its own and goes
 *   TTIN, TTOU one worker more, one fewer
 *   USR1       reopen the logs
 */
#include <sys/prctl.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>

#include "server.h"
#include "rstream.h"

static struct conf	 cf;
static struct event_base *base;
static struct event	*drain_ev;
static double		 drain_deadline;
static int		 stopping;

double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: %s [-d] [-l addr]... [-w workers] [-p pidfile] [-u user] [options]\n"
"  -l, --listen ADDR       host:port, [v6]:port or unix:/path (repeatable;\n"
"                          port 0 picks a free one); default 127.0.0.1:8080\n"
"  -w, --workers N         workers (default 4); --max-workers N (default 4*N)\n"
"      --slots N           board slots (default 32)\n"
"      --slot-size BYTES   largest body, k/M suffixes (default 1M)\n"
"      --queue N           tasks waiting for a slot (default 1024), then 503\n"
"      --ahead N           tasks sent ahead to each worker (default 2)\n"
"      --max-conns N       open connections (default 1024)\n"
"      --max-header BYTES  request headers (default 8192)\n"
"      --read-timeout S    idle/slow client timeout (default 30)\n"
"      --task-timeout MS   per-task deadline (default 30000, 0: none)\n"
"      --retries N         re-runs of a task whose worker crashed (default 0)\n"
"      --drain-timeout MS  graceful stop deadline (default 10000)\n"
"      --keep N            async results kept (default 1000)\n"
"      --keep-secs S       ... for at most S seconds (default 300)\n"
"      --module PATH.so    load task kinds from a module (repeatable)\n"
"      --status-allow CIDR who may read /, /status, /metrics (repeatable;\n"
"                          default loopback and unix sockets)\n"
"      --port-file FILE    write the first TCP port there once ready\n"
"      --access-log FILE   ('-': stdout; default none)\n"
"      --error-log FILE    (default stderr)\n"
"      --redis URL         also consume tasks from a Redis stream:\n"
"                          redis://host[:port] or unix:/path\n"
"      --stream S, --group G  the stream and its consumer group (required)\n"
"      --consumer NAME     (default host:pid)\n"
"      --dead-letter KEY   dead-letter stream (default S:dead)\n"
"      --prefetch N        entries held at most (default 64)\n"
"      --block-ms MS       XREADGROUP BLOCK (default 1000)\n"
"      --visibility-ms MS  then others claim them (default 30000)\n"
"      --max-deliveries K  then the dead-letter stream (default 3)\n"
"      --keep-entries      do not XDEL entries once acknowledged\n"
"  -p, --pidfile FILE      refuse to start if another instance holds it\n"
"  -u, --user USER         run as USER after binding\n"
"  -d, --daemon            detach after binding\n"
"  -V, --version, -h, --help\n", FBS_NAME);
}

static int
num(const char *opt, const char *s, unsigned long long lo,
    unsigned long long hi, unsigned long long *out)
{
	unsigned long long v, mul = 1;
	char *end;

	errno = 0;
	if (*s == '-' || *s == '\0')
		goto bad;
	v = strtoull(s, &end, 10);
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1024 * 1024, end++;
	if (errno != 0 || *end != '\0' || v > hi / mul || v * mul < lo)
		goto bad;
	*out = v * mul;
	return 0;
bad:
	fprintf(stderr, "%s: %s: '%s' is not a number in [%llu, %llu]\n",
	    FBS_NAME, opt, s, lo, hi);
	return -1;
}

static int
parse_cidr(const char *s, struct cidr *c)
{
	char buf[64], *slash;
	unsigned long bits;
	char *end;

	if (strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		goto bad;
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, c->c_addr) == 1)
		c->c_family = AF_INET, c->c_bits = 32;
	else if (inet_pton(AF_INET6, buf, c->c_addr) == 1)
		c->c_family = AF_INET6, c->c_bits = 128;
	else
		goto bad;
	if (slash != NULL) {
		bits = strtoul(slash, &end, 10);
		if (*slash == '\0' || *end != '\0' || bits > c->c_bits)
			goto bad;
		c->c_bits = (unsigned)bits;
	}
	return 0;
bad:
	fprintf(stderr, "%s: --status-allow: bad network '%s' (a.b.c.d/n or "
	    "v6/n)\n", FBS_NAME, s);
	return -1;
}

enum {
	O_MAXW = 256, O_SLOTS, O_SLOTSZ, O_QUEUE, O_CONNS, O_HDR, O_RTO, O_TTO,
	O_RETRIES, O_DRAIN, O_KEEP, O_KEEPS, O_MODULE, O_ALLOW, O_PORTF,
	O_ALOG, O_ELOG, O_AHEAD, O_REDIS, O_STREAM, O_GROUP, O_CONSUMER,
	O_DEAD, O_PREFETCH, O_BLOCK, O_VIS, O_MAXDELIV, O_KEEPENT
};

static const struct option lopts[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "workers", required_argument, NULL, 'w' },
	{ "pidfile", required_argument, NULL, 'p' },
	{ "user", required_argument, NULL, 'u' },
	{ "daemon", no_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "max-workers", required_argument, NULL, O_MAXW },
	{ "slots", required_argument, NULL, O_SLOTS },
	{ "slot-size", required_argument, NULL, O_SLOTSZ },
	{ "queue", required_argument, NULL, O_QUEUE },
	{ "ahead", required_argument, NULL, O_AHEAD },
	{ "max-conns", required_argument, NULL, O_CONNS },
	{ "max-header", required_argument, NULL, O_HDR },
	{ "read-timeout", required_argument, NULL, O_RTO },
	{ "task-timeout", required_argument, NULL, O_TTO },
	{ "retries", required_argument, NULL, O_RETRIES },
	{ "drain-timeout", required_argument, NULL, O_DRAIN },
	{ "keep", required_argument, NULL, O_KEEP },
	{ "keep-secs", required_argument, NULL, O_KEEPS },
	{ "module", required_argument, NULL, O_MODULE },
	{ "status-allow", required_argument, NULL, O_ALLOW },
	{ "port-file", required_argument, NULL, O_PORTF },
	{ "access-log", required_argument, NULL, O_ALOG },
	{ "error-log", required_argument, NULL, O_ELOG },
	{ "redis", required_argument, NULL, O_REDIS },
	{ "stream", required_argument, NULL, O_STREAM },
	{ "group", required_argument, NULL, O_GROUP },
	{ "consumer", required_argument, NULL, O_CONSUMER },
	{ "dead-letter", required_argument, NULL, O_DEAD },
	{ "prefetch", required_argument, NULL, O_PREFETCH },
	{ "block-ms", required_argument, NULL, O_BLOCK },
	{ "visibility-ms", required_argument, NULL, O_VIS },
	{ "max-deliveries", required_argument, NULL, O_MAXDELIV },
	{ "keep-entries", no_argument, NULL, O_KEEPENT },
	{ NULL, 0, NULL, 0 }
};

/* --redis and its companions: checked here, so errors reach the
 * terminal before anything starts. */
static int
parse_redis(void)
{
	struct rconf *rc = &cf.cf_redis;
	struct rurl u;
	char err[256];

	if (rc->rc_url == NULL) {
		if (rc->rc_stream != NULL || rc->rc_group != NULL) {
			fprintf(stderr, "%s: --stream and --group need "
			    "--redis\n", FBS_NAME);
			return -1;
		}
		return 0;
	}
	if (rurl_parse(rc->rc_url, &u, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: --redis: %s\n", FBS_NAME, err);
		return -1;
	}
	if (rc->rc_stream == NULL || rc->rc_group == NULL ||
	    rc->rc_stream[0] == '\0' || rc->rc_group[0] == '\0') {
		fprintf(stderr, "%s: --redis needs --stream and --group\n",
		    FBS_NAME);
		return -1;
	}
	if (rc->rc_dead == NULL) {
		char *d;

		if (asprintf(&d, "%s:dead", rc->rc_stream) == -1)
			return -1;
		rc->rc_dead = d;
	}
	/* Everything held must fit in the pool and its wait queue, or a
	 * held entry could be refused (and wait for a claim). */
	if (rc->rc_prefetch + RC_CLAIM_RESERVE > cf.cf_queue_max +
	    cf.cf_workers * cf.cf_ahead) {
		fprintf(stderr, "%s: --prefetch %u + %u is over --queue + "
		    "workers x --ahead (%u)\n", FBS_NAME, rc->rc_prefetch,
		    RC_CLAIM_RESERVE, cf.cf_queue_max +
		    cf.cf_workers * cf.cf_ahead);
		return -1;
	}
	if (rc->rc_block_ms * 2 >= rc->rc_visibility_ms) {
		fprintf(stderr, "%s: --visibility-ms must be more than twice "
		    "--block-ms\n", FBS_NAME);
		return -1;
	}
	return 0;
}

static int
parse(int argc, char **argv)
{
	unsigned long long v;
	int c;

	cf.cf_workers = 4;
	cf.cf_slots = 32;
	cf.cf_slot_size = 1u << 20;
	cf.cf_queue_max = 1024;
	cf.cf_ahead = 2;
	cf.cf_max_conns = 1024;
	cf.cf_max_header = 8192;
	cf.cf_read_timeout = 30;
	cf.cf_task_timeout_ms = 30000;
	cf.cf_drain_ms = 10000;
	cf.cf_keep_count = 1000;
	cf.cf_keep_secs = 300;
	cf.cf_redis.rc_prefetch = 64;
	cf.cf_redis.rc_block_ms = 1000;
	cf.cf_redis.rc_visibility_ms = 30000;
	cf.cf_redis.rc_max_deliveries = 3;
	/* Copies: the workers' setproctitle() reuses argv's memory. */
#define STR(dst) do { if (((dst) = strdup(optarg)) == NULL) return -1; } while (0)
#define NUM(lo, hi, dst) do {						\
	if (num(argv[optind - 1], optarg, (lo), (hi), &v) == -1)	\
		return -1;						\
	(dst) = v;							\
} while (0)
	while ((c = getopt_long(argc, argv, "l:w:p:u:dhV", lopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (cf.cf_nlisten == FBS_MAX_LISTEN) {
				fprintf(stderr, "%s: at most %d -l\n", FBS_NAME,
				    FBS_MAX_LISTEN);
				return -1;
			}
			STR(cf.cf_listen[cf.cf_nlisten]);
			cf.cf_nlisten++;
			break;
		case 'w': NUM(1, FB_WORKERS_MAX, cf.cf_workers); break;
		case 'p': STR(cf.cf_pidfile); break;
		case 'u': STR(cf.cf_user); break;
		case 'd': cf.cf_daemon = 1; break;
		case 'h': usage(stdout); exit(0);
		case 'V':
			printf("%s %d.%d.%d\n", FBS_NAME, FB_VERSION_MAJOR,
			    FB_VERSION_MINOR, FB_VERSION_PATCH);
			exit(0);
		case O_MAXW: NUM(1, FB_WORKERS_MAX, cf.cf_max_workers); break;
		case O_SLOTS: NUM(1, FB_SLOTS_MAX, cf.cf_slots); break;
		case O_SLOTSZ: NUM(64, 256u << 20, cf.cf_slot_size); break;
		case O_QUEUE: NUM(0, 1000000, cf.cf_queue_max); break;
		case O_AHEAD: NUM(1, 64, cf.cf_ahead); break;
		case O_CONNS: NUM(1, 1000000, cf.cf_max_conns); break;
		case O_HDR: NUM(256, 1u << 20, cf.cf_max_header); break;
		case O_RTO: NUM(1, 86400, cf.cf_read_timeout); break;
		case O_TTO: NUM(0, 86400000, cf.cf_task_timeout_ms); break;
		case O_RETRIES: NUM(0, 100, cf.cf_retries); break;
		case O_DRAIN: NUM(0, 86400000, cf.cf_drain_ms); break;
		case O_KEEP: NUM(0, 1000000, cf.cf_keep_count); break;
		case O_KEEPS: NUM(1, 86400 * 7, cf.cf_keep_secs); break;
		case O_MODULE:
			if (cf.cf_nmodules == FBS_MAX_MODULES) {
				fprintf(stderr, "%s: at most %d modules\n",
				    FBS_NAME, FBS_MAX_MODULES);
				return -1;
			}
			STR(cf.cf_modules[cf.cf_nmodules]);
			cf.cf_nmodules++;
			break;
		case O_ALLOW:
			if (cf.cf_nallow == FBS_MAX_ALLOW) {
				fprintf(stderr, "%s: at most %d --status-allow\n",
				    FBS_NAME, FBS_MAX_ALLOW);
				return -1;
			}
			if (parse_cidr(optarg, &cf.cf_allow[cf.cf_nallow]) == -1)
				return -1;
			cf.cf_nallow++;
			break;
		case O_PORTF: STR(cf.cf_port_file); break;
		case O_ALOG: STR(cf.cf_access_log); break;
		case O_ELOG: STR(cf.cf_error_log); break;
		case O_REDIS: STR(cf.cf_redis.rc_url); break;
		case O_STREAM: STR(cf.cf_redis.rc_stream); break;
		case O_GROUP: STR(cf.cf_redis.rc_group); break;
		case O_CONSUMER: STR(cf.cf_redis.rc_consumer); break;
		case O_DEAD: STR(cf.cf_redis.rc_dead); break;
		case O_PREFETCH: NUM(1, 4096, cf.cf_redis.rc_prefetch); break;
		case O_BLOCK: NUM(10, 60000, cf.cf_redis.rc_block_ms); break;
		case O_VIS: NUM(100, 86400000, cf.cf_redis.rc_visibility_ms);
			break;
		case O_MAXDELIV: NUM(1, 1000, cf.cf_redis.rc_max_deliveries);
			break;
		case O_KEEPENT: cf.cf_redis.rc_keep_entries = 1; break;
		default:
			usage(stderr);
			return -1;
		}
	}
#undef STR
#undef NUM
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", FBS_NAME,
		    argv[optind]);
		usage(stderr);
		return -1;
	}
	if (cf.cf_nlisten == 0)
		cf.cf_listen[cf.cf_nlisten++] = "127.0.0.1:8080";
	if (cf.cf_max_workers == 0)
		cf.cf_max_workers = cf.cf_workers * 4 > FB_WORKERS_MAX ?
		    FB_WORKERS_MAX : cf.cf_workers * 4;
	if (cf.cf_max_workers < cf.cf_workers) {
		fprintf(stderr, "%s: --max-workers %u is below -w %u\n",
		    FBS_NAME, cf.cf_max_workers, cf.cf_workers);
		return -1;
	}
	cf.cf_argc = argc;
	cf.cf_argv = argv;
	return parse_redis();
}

/* Written whole, then renamed: a reader never sees half a number. */
static int
write_port_file(void)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (cf.cf_port_file == NULL)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", cf.cf_port_file, (int)getpid());
	if ((f = fopen(tmp, "we")) == NULL)
		goto fail;
	fprintf(f, "%d\n", server_port());
	if (fclose(f) != 0 || rename(tmp, cf.cf_port_file) == -1)
		goto fail;
	return 0;
fail:
	log_err("port file %s: %s", cf.cf_port_file, strerror(errno));
	unlink(tmp);
	return -1;
}

static void
drain_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (glue_pending() == 0 && http_inflight() == 0 && redis_idle()) {
		log_info("drained: exiting");
		event_base_loopexit(base, NULL);
	} else if (now_s() > drain_deadline) {
		log_err("drain timeout: %u task(s) left, exiting",
		    glue_pending());
		event_base_loopexit(base, NULL);
	}
}

static void
sig_cb(evutil_socket_t sig, short what, void *arg)
{
	struct timeval tv = { 0, 20000 };
	int r;

	(void)what;
	(void)arg;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		if (stopping)
			return;
		stopping = 1;
		log_info("SIG%s: graceful stop, %u task(s) in flight",
		    sigabbrev_np(sig), glue_pending());
		server_stop_accepting();
		http_drain();
		redis_drain();
		glue_drain();
		drain_deadline = now_s() + cf.cf_drain_ms / 1e3;
		drain_ev = event_new(base, -1, EV_PERSIST, drain_cb, NULL);
		if (drain_ev == NULL || event_add(drain_ev, &tv) == -1)
			event_base_loopexit(base, NULL);
		break;
	case SIGQUIT:
		log_info("SIGQUIT: immediate stop");
		stopping = 2;
		event_base_loopbreak(base);
		break;
	case SIGHUP:
		/* New module code first: the new pool forks with it.  A
		 * module that fails to load keeps the old code running. */
		if (modules_reload(&cf) == -1)
			break;
		if ((r = glue_restart()) < 0)
			log_err("SIGHUP: rolling restart: %s", fb_strerror(r));
		break;
	case SIGTTIN:
	case SIGTTOU:
		if ((r = glue_resize(sig == SIGTTIN ? 1 : -1)) < 0)
			log_err("SIG%s: %s", sigabbrev_np(sig), r == -ERANGE ?
			    "at the limit (1 .. --max-workers)" :
			    fb_strerror(r));
		break;
	case SIGUSR1:
		log_reopen();
		break;
	}
}

int
main(int argc, char **argv)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGTTIN,
	    SIGTTOU, SIGUSR1 };
	struct event *sigev[sizeof(sigs) / sizeof(sigs[0])];
	struct evhttp *http = NULL;
	sigset_t block;
	size_t i;
	int rc = 1;

	memset(sigev, 0, sizeof(sigev));
	if (parse(argc, argv) == -1)
		return 2;
	/*
	 * The workers' titles ("forkboard: worker 0 busy code 1") are the
	 * library's, from cfg.argc/argv, set up in each new worker.  The
	 * master does not rewrite its own argv: libbsd's setproctitle_init()
	 * there would move argv and environ under the library's feet in
	 * every worker forked after it.  It sets its short name instead.
	 */
	prctl(PR_SET_NAME, "fbs-master", 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	fbs_stats.st_start = time(NULL);
	tasks_builtin();
	if (modules_load(&cf) == -1 || daemon_lookup_user(cf.cf_user) == -1 ||
	    server_bind(&cf) == -1 || daemon_pidfile_open(cf.cf_pidfile) == -1 ||
	    log_open(&cf) == -1)
		return 1;
	if (cf.cf_daemon && daemon_detach() == -1) {
		fprintf(stderr, "%s: daemon: %s\n", FBS_NAME, strerror(errno));
		return 1;
	}
	if (server_chown(cf.cf_user) == -1 || daemon_drop() == -1)
		return 1;

	if ((base = event_base_new()) == NULL ||
	    event_base_priority_init(base, 3) == -1 ||
	    (http = evhttp_new(base)) == NULL) {
		log_err("libevent: cannot create the event base");
		goto out;
	}
	http_init(base, http, &cf);
	async_init(base, &cf);
	if (server_start(base, http, &cf) == -1) {
		log_err("cannot start the listeners");
		goto out;
	}
	if (glue_init(base, &cf) < 0 || redis_start(base, &cf) == -1)
		goto out;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if ((sigev[i] = evsignal_new(base, sigs[i], sig_cb, NULL)) ==
		    NULL || event_add(sigev[i], NULL) == -1) {
			log_err("cannot watch signal %d", sigs[i]);
			goto out;
		}
	if (daemon_pidfile_write() == -1 || write_port_file() == -1)
		goto out;
	log_info("ready: %u workers, %u slots of %zu bytes", cf.cf_workers,
	    cf.cf_slots, cf.cf_slot_size);

	event_base_dispatch(base);
	rc = 0;
out:
	/* Stopping already: a second TERM must not kill the master halfway
	 * through.  Freeing the signal events below restores the default
	 * actions, so the signals are blocked (for good: the process is
	 * leaving).  QUIT stays deliverable: it means "now". */
	sigemptyset(&block);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigs[i] != SIGQUIT)
			sigaddset(&block, sigs[i]);
	sigprocmask(SIG_BLOCK, &block, NULL);
	/* Requests first (their close callbacks detach their tasks), then
	 * the pool. */
	async_free_all();
	redis_stop();
	if (http != NULL)
		evhttp_free(http);
	glue_shutdown(stopping == 2 ? 0 : (int)cf.cf_drain_ms);
	server_close();
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigev[i] != NULL)
			event_free(sigev[i]);
	if (drain_ev != NULL)
		event_free(drain_ev);
	if (base != NULL)
		event_base_free(base);
	modules_unload();
	server_unlink();
	if (cf.cf_port_file != NULL && rc == 0)
		unlink(cf.cf_port_file);
	daemon_pidfile_remove();
	log_info("exit %d", rc);
	log_close();
	return rc;
}
