/*
 * metrics.c - GET /metrics in the Prometheus text format (0.0.4).
 *
 * Counters end in _total, durations are _seconds histograms, workers are
 * labelled by index (a pid changes on every respawn and would make a new
 * series each time), and every label set known in advance (each kind x
 * outcome, each HTTP status the server can answer, each worker slot up to
 * the current size) is exported even at 0, so rate() sees the first one.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "server.h"

static void
head(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

static void
histogram(struct evbuffer *b, const char *name, const char *kind,
    const struct hist *h)
{
	uint64_t cum = 0;
	unsigned i;

	for (i = 0; i < FBS_NBUCKETS; i++) {
		cum += h->h_count[i];
		evbuffer_add_printf(b, "%s_bucket{kind=\"%s\",le=\"%g\"} %llu\n",
		    name, kind, fbs_buckets[i], (unsigned long long)cum);
	}
	cum += h->h_count[FBS_NBUCKETS];
	evbuffer_add_printf(b, "%s_bucket{kind=\"%s\",le=\"+Inf\"} %llu\n",
	    name, kind, (unsigned long long)cum);
	evbuffer_add_printf(b, "%s_sum{kind=\"%s\"} %.9f\n", name, kind,
	    h->h_sum);
	evbuffer_add_printf(b, "%s_count{kind=\"%s\"} %llu\n", name, kind,
	    (unsigned long long)cum);
}

static void
gauge(struct evbuffer *b, const char *name, const char *help, double v)
{
	head(b, name, "gauge", help);
	evbuffer_add_printf(b, "%s %.17g\n", name, v);
}

static void
counter(struct evbuffer *b, const char *name, const char *help, uint64_t v)
{
	head(b, name, "counter", help);
	evbuffer_add_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void
workers(struct evbuffer *b, const struct gview *v)
{
	struct fb_worker_info wi[FB_WORKERS_MAX];
	unsigned i, n = 0;
	double age;

	for (i = 0; i < v->gv_max_workers && i < FB_WORKERS_MAX; i++) {
		if (glue_worker(i, &wi[i], &age) < 0)
			break;
		n = i + 1;
	}
	if (n > v->gv_workers)
		n = v->gv_workers;
	head(b, "forkboard_worker_busy", "gauge",
	    "1 if the worker runs a task now");
	for (i = 0; i < n; i++)
		evbuffer_add_printf(b, "forkboard_worker_busy{worker=\"%u\"} "
		    "%d\n", i, wi[i].wi_state == FB_WORKER_BUSY);
	head(b, "forkboard_worker_tasks_total", "counter",
	    "Tasks finished by the worker's current process");
	for (i = 0; i < n; i++)
		evbuffer_add_printf(b, "forkboard_worker_tasks_total{worker="
		    "\"%u\"} %llu\n", i, (unsigned long long)wi[i].wi_tasks);
	head(b, "forkboard_worker_restarts_total", "counter",
	    "Times the worker was replaced");
	for (i = 0; i < n; i++)
		evbuffer_add_printf(b, "forkboard_worker_restarts_total{worker="
		    "\"%u\"} %u\n", i, wi[i].wi_restarts);
}

static void
redis(struct evbuffer *b)
{
	const struct rstats *r = &fbs_rstats;
	unsigned i;

	head(b, "forkboard_redis_link", "gauge", "Redis link state (1 for "
	    "the current one)");
	for (i = RL_DOWN; i <= RL_UP; i++)
		evbuffer_add_printf(b, "forkboard_redis_link{state=\"%s\"} "
		    "%d\n", rlink_state_names[i], r->rs_state == i);
	counter(b, "forkboard_redis_links_lost_total", "Redis links lost",
	    r->rs_losses);
	gauge(b, "forkboard_redis_held", "Entries held (read or claimed, "
	    "not acknowledged)", r->rs_held);
	gauge(b, "forkboard_redis_group_pending", "Entries pending in the "
	    "group, all consumers (-1: unknown)", (double)r->rs_group_pending);
	gauge(b, "forkboard_redis_group_lag", "Entries in the stream not yet "
	    "delivered to the group (-1: unknown)", (double)r->rs_group_lag);
	counter(b, "forkboard_redis_read_total", "Entries read",
	    r->rs_read);
	counter(b, "forkboard_redis_claimed_total", "Entries claimed from "
	    "dead consumers", r->rs_claimed);
	counter(b, "forkboard_redis_claimed_deleted_total", "Claimed ids "
	    "deleted from the stream while pending", r->rs_claimed_deleted);
	counter(b, "forkboard_redis_stored_total", "Results stored",
	    r->rs_stored);
	counter(b, "forkboard_redis_acked_total", "Entries acknowledged",
	    r->rs_acked);
	counter(b, "forkboard_redis_duplicates_total", "Results that "
	    "overwrote one stored by another delivery", r->rs_duplicates);
	counter(b, "forkboard_redis_dead_letters_total", "Entries sent to the "
	    "dead-letter stream", r->rs_dead);
	counter(b, "forkboard_redis_bad_entries_total", "Malformed entries",
	    r->rs_bad);
}

void
metrics_page(struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();
	struct gview v;
	unsigned i, j;

	if (b == NULL) {
		http_error(req, 500, "Internal Server Error", "out of memory");
		return;
	}
	glue_view(&v);
	gauge(b, "forkboard_start_time_seconds", "Start time, Unix seconds",
	    (double)fbs_stats.st_start);
	counter(b, "forkboard_connections_accepted_total",
	    "Connections accepted", fbs_stats.st_accepted);
	gauge(b, "forkboard_connections", "Connections open",
	    fbs_stats.st_conns);
	counter(b, "forkboard_connection_cap_reached_total",
	    "Times the connection cap paused the listeners",
	    fbs_stats.st_conns_refused);
	counter(b, "forkboard_accept_emfile_total",
	    "Times accept ran out of descriptors", fbs_stats.st_emfile);
	head(b, "forkboard_http_responses_total", "counter",
	    "HTTP responses by status code");
	for (i = 0; i < FBS_NSTATUS; i++)
		evbuffer_add_printf(b, "forkboard_http_responses_total{code="
		    "\"%d\"} %llu\n", fbs_statuses[i],
		    (unsigned long long)fbs_stats.st_status[i]);
	evbuffer_add_printf(b, "forkboard_http_responses_total{code=\"other\"}"
	    " %llu\n", (unsigned long long)fbs_stats.st_status[FBS_NSTATUS]);
	gauge(b, "forkboard_listen_queue", "Tasks waiting for a free slot",
	    v.gv_queue);
	gauge(b, "forkboard_listen_queue_max", "Most tasks ever waiting",
	    fbs_stats.st_queue_max);
	gauge(b, "forkboard_listen_queue_capacity", "Wait queue capacity",
	    v.gv_queue_max);
	counter(b, "forkboard_listen_queue_full_total",
	    "Tasks refused with 503 because the wait queue was full",
	    fbs_stats.st_queue_full);
	head(b, "forkboard_workers", "gauge", "Workers by state");
	evbuffer_add_printf(b, "forkboard_workers{state=\"idle\"} %u\n"
	    "forkboard_workers{state=\"busy\"} %u\n"
	    "forkboard_workers{state=\"starting\"} %u\n",
	    v.gv_idle, v.gv_busy, v.gv_starting);
	gauge(b, "forkboard_workers_target", "Workers the pool should run",
	    v.gv_workers);
	gauge(b, "forkboard_workers_max_active", "Most workers busy at once",
	    fbs_stats.st_active_max);
	counter(b, "forkboard_worker_respawns_total", "Workers replaced",
	    v.gv_counters.c_respawns);
	counter(b, "forkboard_task_retries_total", "Tasks re-run after a "
	    "crash", v.gv_counters.c_retried);
	counter(b, "forkboard_pool_cancelled_total", "Tasks the pool "
	    "cancelled before they ran", v.gv_counters.c_cancelled);
	counter(b, "forkboard_rolling_restarts_total", "SIGHUP restarts",
	    fbs_stats.st_hup);
	gauge(b, "forkboard_pool_generation", "Pools started so far",
	    v.gv_generation);
	gauge(b, "forkboard_async_tasks", "Asynchronous tasks kept",
	    async_count());
	head(b, "forkboard_tasks_total", "counter",
	    "Tasks by kind and outcome");
	for (i = 0; i < fbs_nkinds; i++)
		for (j = 0; j < SO_MAX; j++)
			evbuffer_add_printf(b, "forkboard_tasks_total{kind=\"%s\","
			    "outcome=\"%s\"} %llu\n", fbs_kinds[i].k_name,
			    fbs_outcome_names[j], (unsigned long long)
			    fbs_stats.st_kind[i].ks_outcome[j]);
	head(b, "forkboard_task_duration_seconds", "histogram",
	    "Time from submit to result");
	for (i = 0; i < fbs_nkinds; i++)
		histogram(b, "forkboard_task_duration_seconds",
		    fbs_kinds[i].k_name, &fbs_stats.st_kind[i].ks_total);
	head(b, "forkboard_task_run_seconds", "histogram",
	    "Time the handler ran");
	for (i = 0; i < fbs_nkinds; i++)
		histogram(b, "forkboard_task_run_seconds", fbs_kinds[i].k_name,
		    &fbs_stats.st_kind[i].ks_run);
	workers(b, &v);
	if (redis_enabled())
		redis(b);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	http_reply(req, 200, "OK", b);
	evbuffer_free(b);
}
