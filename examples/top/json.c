/*
 * json.c - --json: one document, the shape forkboard-top(1) documents
 * (JSON OUTPUT); fields are only ever added.  Built with jansson, so
 * strings (user names) are escaped properly.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <jansson.h>

#include "top.h"

/* json_integer takes json_int_t (long long): every value here fits. */
#define JI(v) json_integer((json_int_t)(v))

static json_t *
j_geometry(const struct top_board *b)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o}",
	    "max_workers", JI(b->b_geo.g_max_workers),
	    "slots", JI(b->b_geo.g_slots),
	    "payload_size", JI(b->b_geo.g_slot_size),
	    "result_size", JI(b->b_geo.g_result_size),
	    "trace_records", JI(b->b_geo.g_trace));
}

static json_t *
j_workers(const struct top_board *b)
{
	const struct top_row *r;
	json_t *a = json_array();
	unsigned i;

	for (i = 0; a != NULL && i < b->b_nrows; i++) {
		r = &b->b_rows[i];
		json_array_append_new(a, json_pack("{s:o,s:o,s:s,s:o,s:o,s:o,"
		    "s:o,s:o,s:o}", "index", JI(r->tr_index), "pid",
		    JI(r->tr_pid), "state", top_state_name(r->tr_state),
		    "generation", JI(r->tr_generation), "tasks",
		    JI(r->tr_tasks), "code", JI(r->tr_code), "slot",
		    r->tr_slot >= 0 ? JI(r->tr_slot) : json_null(),
		    "state_ms", JI(r->tr_state_ms), "restarts",
		    JI(r->tr_restarts)));
	}
	return a;
}

static json_t *
j_counters(const struct fb_counters *c)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
	    "submitted", JI(c->c_submitted), "done", JI(c->c_done),
	    "failed", JI(c->c_failed), "nohandler", JI(c->c_nohandler),
	    "crashed", JI(c->c_crashed), "timedout", JI(c->c_timedout),
	    "badresult", JI(c->c_badresult), "cancelled", JI(c->c_cancelled),
	    "retried", JI(c->c_retried), "respawns", JI(c->c_respawns));
}

static json_t *
j_trace(const struct top_board *b)
{
	const struct fb_trace_rec *t;
	json_t *a = json_array();
	unsigned i;

	for (i = 0; a != NULL && i < b->b_ntrace; i++) {
		t = &b->b_trace[i];
		json_array_append_new(a, json_pack("{s:o,s:o,s:s,s:o,s:o,s:o,"
		    "s:o,s:s,s:s,s:s}", "seq", JI(t->tr_seq), "ns",
		    JI(t->tr_ns), "kind", t->tr_kind == FB_TRACE_SLOT ?
		    "slot" : "worker", "slot", t->tr_slot == UINT32_MAX ?
		    JI(-1) : JI(t->tr_slot), "worker",
		    t->tr_worker == UINT32_MAX ? JI(-1) : JI(t->tr_worker),
		    "pid", JI(t->tr_pid), "task", JI(t->tr_task),
		    "from", top_trace_state(t, t->tr_from),
		    "to", top_trace_state(t, t->tr_to),
		    "cause", fb_trace_cause_name((enum fb_trace_cause)
		    t->tr_cause)));
	}
	return a;
}

static json_t *
j_board(const struct top_board *b)
{
	const struct top_seg *sg = &b->b_seg;
	long pg = sysconf(_SC_PAGESIZE);
	char key[16], mode[8], user[64];
	json_t *o;

	snprintf(key, sizeof(key), "0x%08x", (unsigned)sg->sg_key);
	snprintf(mode, sizeof(mode), "%04o", sg->sg_mode);
	o = json_pack("{s:o,s:s,s:o,s:o,s:o,s:s,s:o,s:s,s:o,s:o,s:o,s:o,s:o,"
	    "s:o,s:o,s:b,s:o,s:o}", "shmid", JI(sg->sg_shmid), "key", key,
	    "size", JI(sg->sg_size), "rss_bytes", JI(sg->sg_rss),
	    "pages_backed", JI(sg->sg_rss / (uint64_t)(pg > 0 ? pg : 4096)),
	    "mode", mode, "uid", JI(sg->sg_uid), "user",
	    top_user(sg->sg_uid, user, sizeof(user)), "cuid", JI(sg->sg_cuid),
	    "nattch", JI(sg->sg_nattch), "cpid", JI(sg->sg_cpid), "lpid",
	    JI(sg->sg_lpid), "atime", JI(sg->sg_atime), "dtime",
	    JI(sg->sg_dtime), "ctime", JI(sg->sg_ctime), "removed",
	    sg->sg_removed, "layout_version", JI(FB__BOARD_VERSION),
	    "master_pid", JI(b->b_master));
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "geometry", j_geometry(b));
	json_object_set_new(o, "workers", j_workers(b));
	json_object_set_new(o, "slot_map", json_string(b->b_slotmap));
	json_object_set_new(o, "slots_used", JI(b->b_slots_used));
	json_object_set_new(o, "inflight", JI(b->b_inflight));
	json_object_set_new(o, "counters", j_counters(&b->b_ctr));
	if (b->b_have_rate)
		json_object_set_new(o, "rates", json_pack("{s:f,s:f}",
		    "done_per_s", b->b_rate_done, "submitted_per_s",
		    b->b_rate_submitted));
	json_object_set_new(o, "trace", j_trace(b));
	return o;
}

/* Print the document.  Returns 0 or -ENOMEM / -EIO. */
int
top_json(FILE *f, const struct top_list *l, const struct top_errs *e)
{
	json_t *doc, *boards, *errs;
	size_t i;
	int r;

	doc = json_object();
	boards = json_array();
	errs = json_array();
	if (doc == NULL || boards == NULL || errs == NULL) {
		json_decref(doc);
		json_decref(boards);
		json_decref(errs);
		return -ENOMEM;
	}
	json_object_set_new(doc, "version", JI(1));
	for (i = 0; i < l->l_n; i++)
		json_array_append_new(boards, j_board(&l->l_v[i]));
	for (i = 0; i < e->e_n; i++)
		json_array_append_new(errs, json_pack("{s:o,s:s}", "shmid",
		    e->e_v[i].ee_shmid >= 0 ? JI(e->e_v[i].ee_shmid) :
		    json_null(), "error", e->e_v[i].ee_msg));
	json_object_set_new(doc, "boards", boards);
	json_object_set_new(doc, "errors", errs);
	r = json_dumpf(doc, f, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (r != 0 || fputc('\n', f) == EOF)
		return -EIO;
	return 0;
}
