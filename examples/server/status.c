/*
 * status.c - the server's counters and GET /status (JSON, jansson).
 *
 * Field names follow PHP-FPM's status page where one exists ("accepted
 * conn", "listen queue", "max active processes", ...), so operators find
 * what they know; what PHP-FPM has no name for gets a plain one.
 * ?full adds one record per worker and the board's IPC_STAT view.
 */
#include <errno.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "server.h"

struct stats fbs_stats;

const double fbs_buckets[FBS_NBUCKETS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5,
	1, 5
};

const int fbs_statuses[FBS_NSTATUS] = {
	200, 202, 400, 403, 404, 405, 408, 409, 413, 422, 431, 500, 502, 503,
	504
};

const char *const fbs_outcome_names[SO_MAX] = {
	"done", "failed", "nohandler", "crashed", "timedout", "badresult",
	"cancelled", "rejected", "abandoned"
};

void
hist_add(struct hist *h, double v)
{
	unsigned i;

	for (i = 0; i < FBS_NBUCKETS && v > fbs_buckets[i]; i++)
		;
	h->h_count[i]++;
	h->h_sum += v;
}

void
stats_status(int code)
{
	unsigned i;

	for (i = 0; i < FBS_NSTATUS && fbs_statuses[i] != code; i++)
		;
	fbs_stats.st_status[i]++;
}

void
stats_task(unsigned kind, enum srv_outcome o, double total_s, double run_s)
{
	struct kind_stats *ks;

	if (kind >= FBS_MAX_KINDS || o >= SO_MAX)
		return;
	ks = &fbs_stats.st_kind[kind];
	ks->ks_outcome[o]++;
	if (o == SO_REJECTED)
		return;
	hist_add(&ks->ks_total, total_s);
	hist_add(&ks->ks_run, run_s);
}

/* Resident set size of pid in bytes, 0 if unknown. */
static unsigned long long
rss_of(pid_t pid)
{
	char path[64];
	unsigned long long size, res = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return res * (unsigned long long)sysconf(_SC_PAGESIZE);
}

static json_t *
exit_cause(int st)
{
	char buf[64];

	if (st == -1)
		return json_null();
	if (WIFSIGNALED(st))
		snprintf(buf, sizeof(buf), "signal SIG%s",
		    sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) :
		    "?");
	else if (WIFEXITED(st))
		snprintf(buf, sizeof(buf), "exit %d", WEXITSTATUS(st));
	else
		snprintf(buf, sizeof(buf), "status %d", st);
	return json_string(buf);
}

static json_t *
workers_json(const struct gview *v)
{
	struct fb_worker_info wi;
	json_t *arr = json_array(), *w;
	double age;
	unsigned i;
	int ki;

	for (i = 0; i < v->gv_max_workers; i++) {
		if (glue_worker(i, &wi, &age) < 0)
			break;
		if (i >= v->gv_workers && wi.wi_state == FB_WORKER_DEAD)
			continue;
		ki = wi.wi_state == FB_WORKER_BUSY ? kind_index(wi.wi_code) : -1;
		w = json_pack("{s:I, s:I, s:s, s:I, s:I, s:I, s:I}",
		    "index", (json_int_t)wi.wi_index,
		    "pid", (json_int_t)wi.wi_pid,
		    "state", fb_worker_state_name(wi.wi_state),
		    "generation", (json_int_t)wi.wi_generation,
		    "tasks", (json_int_t)wi.wi_tasks,
		    "inflight", (json_int_t)wi.wi_inflight,
		    "restarts", (json_int_t)wi.wi_restarts);
		if (w == NULL)
			continue;
		json_object_set_new(w, "current task", ki >= 0 ?
		    json_string(fbs_kinds[ki].k_name) : json_null());
		json_object_set_new(w, "current task age",
		    wi.wi_state == FB_WORKER_BUSY ? json_real(age) : json_null());
		json_object_set_new(w, "last exit", exit_cause(
		    wi.wi_last_status));
		json_object_set_new(w, "rss", json_integer((json_int_t)(
		    wi.wi_pid > 0 ? rss_of(wi.wi_pid) : 0)));
		json_array_append_new(arr, w);
	}
	return arr;
}

static json_t *
board_json(void)
{
	struct fb_board_stat bs;
	char map[FB_SLOTS_MAX + 1];
	long pg = sysconf(_SC_PAGESIZE);
	char mode[8];

	if (glue_board(&bs) < 0)
		return json_null();
	glue_slot_map(map, sizeof(map));
	snprintf(mode, sizeof(mode), "%04o", bs.bs_mode);
	return json_pack("{s:i, s:i, s:I, s:I, s:I, s:s, s:b, s:I, s:i, s:i, "
	    "s:i, s:I, s:I, s:s}",
	    "shmid", bs.bs_shmid, "key", (int)bs.bs_key,
	    "size", (json_int_t)bs.bs_size,
	    "size rounded", (json_int_t)bs.bs_size_rounded,
	    "pages", (json_int_t)(bs.bs_size_rounded / (size_t)pg),
	    "mode", mode, "removed", bs.bs_removed,
	    "nattch", (json_int_t)bs.bs_nattch,
	    "creator pid", (int)bs.bs_cpid, "last pid", (int)bs.bs_lpid,
	    "slots", (int)bs.bs_slots, "slot size", (json_int_t)bs.bs_payload_size,
	    "result size", (json_int_t)bs.bs_result_size,
	    "slot map", map);
}

static json_t *
kinds_json(void)
{
	json_t *o = json_object(), *k, *oc;
	const struct kind_stats *ks;
	uint64_t n;
	unsigned i, j;

	for (i = 0; i < fbs_nkinds; i++) {
		ks = &fbs_stats.st_kind[i];
		oc = json_object();
		for (j = 0, n = 0; j < SO_MAX; j++) {
			json_object_set_new(oc, fbs_outcome_names[j],
			    json_integer((json_int_t)ks->ks_outcome[j]));
			if (j != SO_REJECTED)
				n += ks->ks_outcome[j];
		}
		k = json_pack("{s:I, s:f, s:f, s:o, s:s?}",
		    "count", (json_int_t)n,
		    "mean seconds", n ? ks->ks_total.h_sum / (double)n : 0.0,
		    "mean run seconds", n ? ks->ks_run.h_sum / (double)n : 0.0,
		    "outcomes", oc,
		    "module", fbs_kinds[i].k_module);
		json_object_set_new(o, fbs_kinds[i].k_name, k);
	}
	return o;
}

/* The Redis link and the stream consumer, when --redis is on. */
static json_t *
redis_json(void)
{
	const struct rstats *r = &fbs_rstats;

	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "link", rlink_state_names[r->rs_state],
	    "last error", r->rs_error,
	    "connects", (json_int_t)r->rs_connects,
	    "links lost", (json_int_t)r->rs_losses,
	    "held", (json_int_t)r->rs_held,
	    "group pending", (json_int_t)r->rs_group_pending,
	    "lag", (json_int_t)r->rs_group_lag,
	    "read", (json_int_t)r->rs_read,
	    "claimed", (json_int_t)r->rs_claimed,
	    "claimed deleted", (json_int_t)r->rs_claimed_deleted,
	    "stored", (json_int_t)r->rs_stored,
	    "acked", (json_int_t)r->rs_acked,
	    "duplicates", (json_int_t)r->rs_duplicates,
	    "dead letters", (json_int_t)r->rs_dead,
	    "bad entries", (json_int_t)r->rs_bad,
	    "left for redelivery", (json_int_t)r->rs_redeliver,
	    "consumers removed", (json_int_t)r->rs_consumers_removed);
}

static json_t *
status_json(int full)
{
	struct gview v;
	json_t *o, *oc;
	char tbuf[64];
	struct tm tm;
	time_t now = time(NULL);
	unsigned i;

	glue_view(&v);
	localtime_r(&fbs_stats.st_start, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S%z", &tm);
	o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:i, s:i, s:i, s:I, "
	    "s:i, s:i, s:i, s:i, s:i, s:i, s:I, s:i, s:i, s:I, s:I, s:b, s:b}",
	    "pool", "forkboard",
	    "process manager", "static",
	    "start time", tbuf,
	    "start since", (json_int_t)(now - fbs_stats.st_start),
	    "accepted conn", (json_int_t)fbs_stats.st_accepted,
	    "requests", (json_int_t)fbs_stats.st_requests,
	    "listen queue", (int)v.gv_queue,
	    "max listen queue", (int)fbs_stats.st_queue_max,
	    "listen queue len", (int)v.gv_queue_max,
	    "listen queue full", (json_int_t)fbs_stats.st_queue_full,
	    "idle processes", (int)v.gv_idle,
	    "active processes", (int)v.gv_busy,
	    "total processes", (int)v.gv_alive,
	    "max active processes", (int)fbs_stats.st_active_max,
	    "max processes", (int)v.gv_max_workers,
	    "tasks in pool", (int)v.gv_inpool,
	    "respawns", (json_int_t)v.gv_counters.c_respawns,
	    "connections", (int)fbs_stats.st_conns,
	    "pool generation", (int)v.gv_generation,
	    "rolling restarts", (json_int_t)fbs_stats.st_hup,
	    "async tasks kept", (json_int_t)async_count(),
	    "draining", http_draining(),
	    "pool failed", glue_failed());
	if (o == NULL)
		return NULL;
	oc = json_object();
	for (i = 0; i < SO_MAX; i++) {
		unsigned k;
		uint64_t n = 0;

		for (k = 0; k < fbs_nkinds; k++)
			n += fbs_stats.st_kind[k].ks_outcome[i];
		json_object_set_new(oc, fbs_outcome_names[i],
		    json_integer((json_int_t)n));
	}
	json_object_set_new(o, "outcomes", oc);
	json_object_set_new(o, "retried", json_integer((json_int_t)
	    v.gv_counters.c_retried));
	json_object_set_new(o, "kinds", kinds_json());
	json_object_set_new(o, "slots", json_integer(v.gv_slots));
	json_object_set_new(o, "slot size", json_integer((json_int_t)
	    v.gv_slot_size));
	if (redis_enabled())
		json_object_set_new(o, "redis", redis_json());
	if (full) {
		json_object_set_new(o, "workers", workers_json(&v));
		json_object_set_new(o, "board", board_json());
	}
	return o;
}

void
status_page(struct evhttp_request *req, int full)
{
	struct evbuffer *b;
	json_t *o = status_json(full);
	char *s;

	if (o == NULL || (s = json_dumps(o, JSON_INDENT(1) |
	    JSON_PRESERVE_ORDER)) == NULL) {
		json_decref(o);
		http_error(req, 500, "Internal Server Error", "out of memory");
		return;
	}
	json_decref(o);
	if ((b = evbuffer_new()) != NULL) {
		evbuffer_add(b, s, strlen(s));
		evbuffer_add(b, "\n", 1);
	}
	free(s);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	http_reply(req, 200, "OK", b);
	if (b != NULL)
		evbuffer_free(b);
}
