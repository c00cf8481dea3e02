/*
 * pool_glue.c - everything that touches the forkboard API.
 *
 * The pool's descriptor is an EV_READ event in the libevent base; on it
 * the glue calls fb_pool_process(), which hands every finished task to
 * the pool's completion callback.  Each task carries its struct gtask as
 * its udata, so the callback reaches the request without a lookup, and
 * passes the result (a view into the board, no copy) to the task's done
 * callback.  Submits never block: a slot is reserved with FB_NONBLOCK,
 * the body copied straight from the request's evbuffer into the board,
 * and committed with FB_DEFER; one low-priority event per loop turn calls
 * fb_pool_flush(), so the tasks of concurrent requests reach each worker
 * in one write.  When no slot is free (or every worker already has
 * --ahead tasks) a task waits in a bounded FIFO, the "listen queue",
 * pumped as tasks finish.  A task that waits there is cancelled by
 * removing it; one in the pool with fb_pool_cancel() while no worker has
 * started it.
 *
 * A rolling restart (SIGHUP) starts a new pool and makes it current; the
 * old one takes no new task, finishes what it has, and is shut down once
 * empty.  Clients never see the switch.
 */
#include <sys/queue.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "server.h"

enum { T_WAITING = 1, T_INPOOL };

struct gpool;

struct gtask {
	TAILQ_ENTRY(gtask)	 t_wait;	/* wait queue, or pool's list */
	struct gpool		*t_pool;
	fb_ticket_t		 t_ticket;
	unsigned		 t_kind;
	int			 t_state;
	struct evbuffer		*t_body;	/* while waiting */
	glue_done_fn		 t_fn;		/* NULL: detached */
	unsigned		 t_timeout_ms;	/* 0: the kind's or the pool's */
	void			*t_arg;
	double			 t_submit;
};

TAILQ_HEAD(tlist, gtask);

struct gpool {
	struct fb_pool		*p_pool;
	struct event		*p_ev;
	struct tlist		 p_tasks;	/* in the pool */
	unsigned		 p_inpool;
	unsigned		 p_gen;
	unsigned		 p_workers;	/* target */
	void			*p_mods;	/* module set its workers run */
	int			 p_retiring;
	LIST_ENTRY(gpool)	 p_entry;
};

static struct {
	struct event_base	*g_base;
	const struct conf	*g_conf;
	struct gpool		*g_cur;
	LIST_HEAD(, gpool)	 g_old;
	TAILQ_HEAD(, gtask)	 g_queue;
	unsigned		 g_queued;
	struct event		*g_flush;
	int			 g_dirty;
	int			 g_draining;
	int			 g_failed;
	unsigned		 g_gen;
	struct fb_counters	 g_dead;	/* counters of retired pools */
} g;

static void	pool_cb(evutil_socket_t, short, void *);
static void	done_cb(void *, const struct fb_result *, const void *);
static void	pump(void);

static int
wrk_init(unsigned index, void *arg, void **ctx)
{
	(void)ctx;
	return modules_worker_init(arg, index);
}

static void
pool_free(struct gpool *p)
{
	struct fb_counters c;
	struct gtask *t;

	if (p == NULL)
		return;
	if (p->p_ev != NULL)
		event_free(p->p_ev);
	if (p->p_pool != NULL) {
		fb_pool_counters(p->p_pool, &c);
		g.g_dead.c_submitted += c.c_submitted;
		g.g_dead.c_done += c.c_done;
		g.g_dead.c_failed += c.c_failed;
		g.g_dead.c_nohandler += c.c_nohandler;
		g.g_dead.c_crashed += c.c_crashed;
		g.g_dead.c_timedout += c.c_timedout;
		g.g_dead.c_badresult += c.c_badresult;
		g.g_dead.c_cancelled += c.c_cancelled;
		g.g_dead.c_retried += c.c_retried;
		g.g_dead.c_respawns += c.c_respawns;
		fb_pool_destroy(p->p_pool);
	}
	while ((t = TAILQ_FIRST(&p->p_tasks)) != NULL) {
		TAILQ_REMOVE(&p->p_tasks, t, t_wait);
		free(t);
	}
	modules_unref(p->p_mods);	/* no worker of p can start now */
	free(p);
}

static int
pool_new(unsigned workers, struct gpool **pp)
{
	const struct conf *cf = g.g_conf;
	struct fb_config cfg;
	struct gpool *p;
	unsigned i;
	int r;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	TAILQ_INIT(&p->p_tasks);
	p->p_workers = workers;
	p->p_gen = ++g.g_gen;
	p->p_mods = modules_ref();
	fb_config_init(&cfg);
	cfg.workers = workers;
	cfg.max_workers = cf->cf_max_workers;
	cfg.slots = cf->cf_slots;
	cfg.payload_size = cf->cf_slot_size;
	/* gzip of incompressible data grows a little. */
	cfg.result_size = cf->cf_slot_size + cf->cf_slot_size / 64 + 1024;
	cfg.policy = FB_POLICY_LEAST_LOADED;
	cfg.log = log_fb;
	cfg.worker_init = wrk_init;
	cfg.worker_arg = p->p_mods;
	cfg.argc = cf->cf_argc;
	cfg.argv = cf->cf_argv;
	cfg.retries = cf->cf_retries;
	cfg.task_timeout_ms = cf->cf_task_timeout_ms;
	if ((r = fb_pool_create(&p->p_pool, &cfg)) < 0)
		goto fail;
	for (i = 0; i < fbs_nkinds; i++) {
		if ((r = fb_pool_register(p->p_pool, fbs_kinds[i].k_code,
		    fbs_kinds[i].k_fn, fbs_kinds[i].k_arg)) < 0)
			goto fail;
		if (fbs_kinds[i].k_timeout_ms != 0 && (r = fb_pool_set_timeout(
		    p->p_pool, fbs_kinds[i].k_code,
		    fbs_kinds[i].k_timeout_ms)) < 0)
			goto fail;
	}
	if ((r = fb_pool_start(p->p_pool)) < 0 ||
	    (r = fb_pool_set_callback(p->p_pool, done_cb, p)) < 0)
		goto fail;
	p->p_ev = event_new(g.g_base, fb_pool_fd(p->p_pool),
	    EV_READ | EV_PERSIST, pool_cb, p);
	if (p->p_ev == NULL || event_add(p->p_ev, NULL) == -1) {
		r = -ENOMEM;
		goto fail;
	}
	*pp = p;
	return 0;
fail:
	log_err("pool: %s", fb_strerror(r));
	pool_free(p);
	return r;
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	int r;

	(void)fd;
	(void)what;
	(void)arg;
	g.g_dirty = 0;
	if (g.g_cur != NULL && (r = fb_pool_flush(g.g_cur->p_pool)) < 0)
		log_err("flush: %s", fb_strerror(r));
}

static void
mark_dirty(void)
{
	if (!g.g_dirty) {
		g.g_dirty = 1;
		event_active(g.g_flush, EV_TIMEOUT, 0);
	}
}

int
glue_init(struct event_base *base, const struct conf *cf)
{
	g.g_base = base;
	g.g_conf = cf;
	LIST_INIT(&g.g_old);
	TAILQ_INIT(&g.g_queue);
	/* Priority 2 of 3 (everything else runs at the default, 1): the
	 * flush runs after all the requests of this loop turn. */
	if ((g.g_flush = event_new(base, -1, 0, flush_cb, NULL)) == NULL ||
	    event_priority_set(g.g_flush, 2) == -1)
		return -ENOMEM;
	return pool_new(cf->cf_workers, &g.g_cur);
}

/* Send t to the current pool: one copy, from the evbuffer to the slot. */
static int
dispatch(struct gtask *t, struct evbuffer *body)
{
	struct gpool *p = g.g_cur;
	size_t len = evbuffer_get_length(body), cap;
	struct fb_job job;
	fb_ticket_t ticket;
	void *payload;
	unsigned busy;
	int r;

	if (p == NULL)
		return -ESHUTDOWN;
	/* At most --ahead tasks per worker in the pool: a task sent to a
	 * worker's pipe waits behind that worker's tasks, however long,
	 * while the wait queue gives it to whichever worker frees first. */
	if (p->p_inpool >= p->p_workers * g.g_conf->cf_ahead)
		return -EAGAIN;
	if ((r = fb_pool_reserve(p->p_pool, FB_NONBLOCK, &payload, &cap,
	    &ticket)) < 0)
		return r;
	if (len > cap || evbuffer_copyout(body, payload, len) != (ev_ssize_t)len) {
		fb_pool_release(p->p_pool, ticket);
		return -EMSGSIZE;
	}
	memset(&job, 0, sizeof(job));
	job.j_code = fbs_kinds[t->t_kind].k_code;
	job.j_len = len;
	job.j_udata = (uint64_t)(uintptr_t)t;
	job.j_timeout_ms = t->t_timeout_ms;
	if ((r = fb_pool_commit_job(p->p_pool, ticket, &job, FB_DEFER)) < 0) {
		fb_pool_release(p->p_pool, ticket);
		return r;
	}
	t->t_pool = p;
	t->t_ticket = ticket;
	t->t_state = T_INPOOL;
	TAILQ_INSERT_TAIL(&p->p_tasks, t, t_wait);
	p->p_inpool++;
	busy = p->p_inpool < p->p_workers ? p->p_inpool : p->p_workers;
	if (busy > fbs_stats.st_active_max)
		fbs_stats.st_active_max = busy;
	mark_dirty();
	return 0;
}

int
glue_submit(unsigned kind, struct evbuffer *body, glue_done_fn fn,
    void *arg, struct gtask **tp)
{
	return glue_submit_ms(kind, body, 0, fn, arg, tp);
}

int
glue_submit_ms(unsigned kind, struct evbuffer *body, unsigned timeout_ms,
    glue_done_fn fn, void *arg, struct gtask **tp)
{
	struct gtask *t;
	int r;

	if (g.g_failed)
		return -ECHILD;
	if (g.g_draining || g.g_cur == NULL)
		return -ESHUTDOWN;
	if (evbuffer_get_length(body) > g.g_conf->cf_slot_size)
		return -EMSGSIZE;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	t->t_kind = kind;
	t->t_timeout_ms = timeout_ms;
	t->t_fn = fn;
	t->t_arg = arg;
	t->t_submit = now_s();
	if (TAILQ_EMPTY(&g.g_queue)) {
		if ((r = dispatch(t, body)) == 0)
			goto done;
		if (r != -EAGAIN) {
			free(t);
			return r;
		}
	}
	if (g.g_queued >= g.g_conf->cf_queue_max) {
		fbs_stats.st_queue_full++;
		free(t);
		return -EAGAIN;
	}
	/* Take the body's chains over (no copy): the request may go. */
	if ((t->t_body = evbuffer_new()) == NULL ||
	    evbuffer_add_buffer(t->t_body, body) == -1) {
		if (t->t_body != NULL)
			evbuffer_free(t->t_body);
		free(t);
		return -ENOMEM;
	}
	t->t_state = T_WAITING;
	TAILQ_INSERT_TAIL(&g.g_queue, t, t_wait);
	if (++g.g_queued > fbs_stats.st_queue_max)
		fbs_stats.st_queue_max = g.g_queued;
done:
	*tp = t;
	return 0;
}

static void
unqueue(struct gtask *t)
{
	TAILQ_REMOVE(&g.g_queue, t, t_wait);
	g.g_queued--;
	evbuffer_free(t->t_body);
	t->t_body = NULL;
}

/* Move waiting tasks into free slots, oldest first. */
static void
pump(void)
{
	struct gtask *t;
	struct evbuffer *body;
	int r;

	while ((t = TAILQ_FIRST(&g.g_queue)) != NULL) {
		/* Off the queue first: t_wait links the pool's list too. */
		TAILQ_REMOVE(&g.g_queue, t, t_wait);
		body = t->t_body;
		if ((r = dispatch(t, body)) == -EAGAIN) {
			TAILQ_INSERT_HEAD(&g.g_queue, t, t_wait);
			return;
		}
		g.g_queued--;
		t->t_body = NULL;
		evbuffer_free(body);
		if (r < 0) {
			struct gres res;

			memset(&res, 0, sizeof(res));
			res.gr_outcome = FB_CANCELLED;
			res.gr_status = r;
			if (t->t_fn != NULL)
				t->t_fn(t->t_arg, &res, NULL, 0);
			free(t);
		}
	}
}

static void
retire_done(struct gpool *p)
{
	int r;

	if (!p->p_retiring || p->p_inpool > 0)
		return;
	LIST_REMOVE(p, p_entry);
	if ((r = fb_pool_shutdown(p->p_pool, g.g_conf->cf_drain_ms)) < 0)
		log_err("old pool %u shutdown: %s", p->p_gen, fb_strerror(r));
	log_info("pool generation %u retired", p->p_gen);
	pool_free(p);
}

/* The pool's completion callback: res and data are valid during the call
 * only (data is the result inside the board). */
static void
done_cb(void *arg, const struct fb_result *res, const void *data)
{
	struct gpool *p = arg;
	struct gtask *t = (struct gtask *)(uintptr_t)res->r_udata;
	struct gres gr;
	double now;

	if (t == NULL)
		return;
	TAILQ_REMOVE(&p->p_tasks, t, t_wait);
	p->p_inpool--;
	if (t->t_fn != NULL) {
		now = now_s();
		memset(&gr, 0, sizeof(gr));
		gr.gr_outcome = res->r_outcome;
		gr.gr_status = res->r_status;
		gr.gr_wait_status = res->r_wait_status;
		gr.gr_worker = res->r_worker;
		gr.gr_pid = res->r_pid;
		gr.gr_attempts = res->r_attempts;
		gr.gr_run_s = (double)res->r_run_ns / 1e9;
		gr.gr_queued_s = now - t->t_submit - gr.gr_run_s;
		if (gr.gr_queued_s < 0)
			gr.gr_queued_s = 0;
		gr.gr_generation = p->p_gen;
		t->t_fn(t->t_arg, &gr, data, res->r_len);
	}
	free(t);
}

static void
pool_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gpool *p = arg;
	int r;

	(void)fd;
	(void)what;
	if ((r = fb_pool_process(p->p_pool)) < 0 && r != -EAGAIN) {
		if (r == -ECHILD && !g.g_failed) {
			log_err("pool generation %u failed: workers keep dying "
			    "before they are ready", p->p_gen);
			g.g_failed = 1;
		}
	}
	if (p == g.g_cur)
		pump();
	retire_done(p);
}

void
glue_detach(struct gtask *t)
{
	if (t == NULL)
		return;
	if (t->t_state == T_WAITING) {	/* never sent: nothing to pay */
		unqueue(t);
		free(t);
		return;
	}
	t->t_fn = NULL;		/* the result is dropped when it comes */
	t->t_arg = NULL;
}

/* 0: cancelled (its callback will not be called); -EBUSY: a worker runs
 * it; -EALREADY: it is finishing. */
int
glue_cancel(struct gtask *t)
{
	int r;

	if (t->t_state == T_WAITING) {
		unqueue(t);
		free(t);
		return 0;
	}
	/* Not started: the pool drops it and reports it FB_CANCELLED, to a
	 * task that no longer has an owner. */
	if ((r = fb_pool_cancel(t->t_pool->p_pool, t->t_ticket, 0)) < 0)
		return r;
	t->t_fn = NULL;
	t->t_arg = NULL;
	return 0;
}

const char *
glue_task_state(struct gtask *t)
{
	struct fb_slot_info si;
	unsigned i, n;

	if (t->t_state == T_WAITING)
		return "waiting";
	n = g.g_conf->cf_slots;
	for (i = 0; i < n; i++)
		if (fb_pool_slot_info(t->t_pool->p_pool, i, &si) == 0 &&
		    si.si_ticket == t->t_ticket)
			return si.si_state == FB_SLOT_QUEUED ? "queued" :
			    "running";
	return "running";
}

int
glue_restart(void)
{
	struct gpool *np, *op = g.g_cur;
	int r;

	if (g.g_draining || op == NULL)
		return -ESHUTDOWN;
	if ((r = pool_new(op->p_workers, &np)) < 0)
		return r;
	fb_pool_flush(op->p_pool);
	op->p_retiring = 1;
	LIST_INSERT_HEAD(&g.g_old, op, p_entry);
	g.g_cur = np;
	g.g_failed = 0;
	fbs_stats.st_hup++;
	log_info("rolling restart: pool generation %u started, %u retiring "
	    "with %u task(s)", np->p_gen, op->p_gen, op->p_inpool);
	pump();
	retire_done(op);
	return 0;
}

int
glue_resize(int delta)
{
	struct gpool *p = g.g_cur;
	unsigned n;
	int r;

	if (p == NULL || g.g_draining)
		return -ESHUTDOWN;
	if ((delta < 0 && p->p_workers <= 1) ||
	    (delta > 0 && p->p_workers >= g.g_conf->cf_max_workers))
		return -ERANGE;
	n = delta < 0 ? p->p_workers - 1 : p->p_workers + 1;
	if ((r = fb_pool_resize(p->p_pool, n)) < 0)
		return r;
	p->p_workers = n;
	fb_pool_flush(p->p_pool);
	pool_cb(-1, 0, p);	/* whatever the resize made ready */
	log_info("workers: %u", n);
	return 0;
}

unsigned
glue_pending(void)
{
	struct gpool *p;
	unsigned n = g.g_queued;

	if (g.g_cur != NULL)
		n += g.g_cur->p_inpool;
	LIST_FOREACH(p, &g.g_old, p_entry)
		n += p->p_inpool;
	return n;
}

int
glue_drain(void)
{
	g.g_draining = 1;
	return 0;
}

int
glue_failed(void)
{
	return g.g_failed;
}

void
glue_shutdown(int timeout_ms)
{
	struct gpool *p;
	struct gtask *t;

	while ((t = TAILQ_FIRST(&g.g_queue)) != NULL) {
		unqueue(t);
		free(t);
	}
	while ((p = LIST_FIRST(&g.g_old)) != NULL) {
		LIST_REMOVE(p, p_entry);
		fb_pool_shutdown(p->p_pool, timeout_ms);
		pool_free(p);
	}
	if (g.g_cur != NULL) {
		fb_pool_shutdown(g.g_cur->p_pool, timeout_ms);
		pool_free(g.g_cur);
		g.g_cur = NULL;
	}
	if (g.g_flush != NULL) {
		event_free(g.g_flush);
		g.g_flush = NULL;
	}
}

void
glue_view(struct gview *v)
{
	struct fb_worker_info wi;
	struct fb_counters c;
	struct gpool *p = g.g_cur;
	unsigned i;

	memset(v, 0, sizeof(*v));
	v->gv_queue = g.g_queued;
	v->gv_queue_max = g.g_conf->cf_queue_max;
	v->gv_max_workers = g.g_conf->cf_max_workers;
	v->gv_slots = g.g_conf->cf_slots;
	v->gv_slot_size = g.g_conf->cf_slot_size;
	v->gv_counters = g.g_dead;
	v->gv_generation = g.g_gen;
	if (p == NULL)
		return;
	v->gv_workers = p->p_workers;
	v->gv_inpool = p->p_inpool;
	v->gv_alive = fb_pool_workers(p->p_pool);
	for (i = 0; i < g.g_conf->cf_max_workers; i++) {
		if (fb_pool_worker_info(p->p_pool, i, &wi) < 0)
			break;
		if (wi.wi_state == FB_WORKER_IDLE)
			v->gv_idle++;
		else if (wi.wi_state == FB_WORKER_BUSY)
			v->gv_busy++;
		else if (wi.wi_state == FB_WORKER_STARTING)
			v->gv_starting++;
	}
	fb_pool_counters(p->p_pool, &c);
	v->gv_counters.c_submitted += c.c_submitted;
	v->gv_counters.c_done += c.c_done;
	v->gv_counters.c_failed += c.c_failed;
	v->gv_counters.c_nohandler += c.c_nohandler;
	v->gv_counters.c_crashed += c.c_crashed;
	v->gv_counters.c_timedout += c.c_timedout;
	v->gv_counters.c_badresult += c.c_badresult;
	v->gv_counters.c_cancelled += c.c_cancelled;
	v->gv_counters.c_retried += c.c_retried;
	v->gv_counters.c_respawns += c.c_respawns;
}

int
glue_worker(unsigned index, struct fb_worker_info *wi, double *age_s)
{
	struct fb_slot_info si;
	int r;

	*age_s = 0;
	if (g.g_cur == NULL)
		return -ESHUTDOWN;
	if ((r = fb_pool_worker_info(g.g_cur->p_pool, index, wi)) < 0)
		return r;
	if (wi->wi_state == FB_WORKER_BUSY && wi->wi_slot != UINT32_MAX &&
	    fb_pool_slot_info(g.g_cur->p_pool, wi->wi_slot, &si) == 0)
		*age_s = (double)si.si_age_ns / 1e9;
	return 0;
}

int
glue_board(struct fb_board_stat *st)
{
	if (g.g_cur == NULL)
		return -ESHUTDOWN;
	return fb_pool_stat(g.g_cur->p_pool, st);
}

/* One character per slot: . free, r reserved, q queued, R running,
 * c complete, h held. */
size_t
glue_slot_map(char *buf, size_t cap)
{
	static const char ch[] = ".rqRch";
	struct fb_slot_info si;
	size_t i, n = 0;

	if (g.g_cur == NULL || cap == 0)
		return 0;
	for (i = 0; i < g.g_conf->cf_slots && n + 1 < cap; i++) {
		if (fb_pool_slot_info(g.g_cur->p_pool, (unsigned)i, &si) < 0)
			break;
		buf[n++] = si.si_state <= FB_SLOT_HELD ? ch[si.si_state] : '?';
	}
	buf[n] = '\0';
	return n;
}
