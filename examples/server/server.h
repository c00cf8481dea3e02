/*
 * server.h - forkboard-server's internal interfaces, one block per file.
 *
 * Only pool_glue.c calls the forkboard API; every other file sees the
 * pool through the glue_* interface below (a ticket -> task map, a wait
 * queue, a completion callback per task), so moving to the library's
 * completion callbacks and per-task data later changes pool_glue.c alone.
 */
#ifndef FBS_SERVER_H
#define FBS_SERVER_H

#include <sys/types.h>
#include <sys/cdefs.h>
#include <sys/tree.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "forkboard.h"
#include "forkboard-module.h"

struct event_base;
struct evbuffer;
struct evhttp;
struct evhttp_request;

#define FBS_NAME	"forkboard-server"
#define FBS_MAX_LISTEN	8
#define FBS_MAX_MODULES	8
#define FBS_MAX_ALLOW	16
#define FBS_MAX_KINDS	64

/* --- configuration (main.c) ------------------------------------------- */

struct cidr {
	int		c_family;	/* AF_INET, AF_INET6 */
	unsigned char	c_addr[16];
	unsigned	c_bits;
};

struct conf {
	const char	*cf_listen[FBS_MAX_LISTEN];
	size_t		 cf_nlisten;
	unsigned	 cf_workers;
	unsigned	 cf_max_workers;
	unsigned	 cf_slots;
	size_t		 cf_slot_size;
	unsigned	 cf_queue_max;		/* wait queue ("listen queue") */
	unsigned	 cf_ahead;		/* tasks in the pool per worker */
	unsigned	 cf_max_conns;
	size_t		 cf_max_header;
	unsigned	 cf_read_timeout;	/* seconds */
	unsigned	 cf_task_timeout_ms;
	unsigned	 cf_retries;
	unsigned	 cf_drain_ms;
	unsigned	 cf_keep_count;		/* async results kept */
	unsigned	 cf_keep_secs;
	const char	*cf_port_file;
	const char	*cf_pidfile;
	const char	*cf_user;
	const char	*cf_access_log;
	const char	*cf_error_log;
	const char	*cf_modules[FBS_MAX_MODULES];
	size_t		 cf_nmodules;
	struct cidr	 cf_allow[FBS_MAX_ALLOW];
	size_t		 cf_nallow;		/* 0: loopback and unix only */
	int		 cf_daemon;
	int		 cf_foreground_log;	/* log to stderr */
	int		 cf_argc;
	char		**cf_argv;
	struct rconf {			/* --redis: consume a stream */
		const char	*rc_url;	/* NULL: no Redis */
		const char	*rc_stream;
		const char	*rc_group;
		const char	*rc_consumer;	/* default host:pid */
		const char	*rc_dead;	/* default STREAM:dead */
		unsigned	 rc_prefetch;	/* entries held at most */
		unsigned	 rc_block_ms;	/* XREADGROUP BLOCK */
		unsigned	 rc_visibility_ms; /* then claimed by others */
		unsigned	 rc_max_deliveries; /* K, then dead letter */
		int		 rc_keep_entries; /* no XDEL after the ack */
	}		 cf_redis;
};

/* --- statistics (status.c) -------------------------------------------- */

#define FBS_NBUCKETS	12
extern const double fbs_buckets[FBS_NBUCKETS];	/* upper bounds, s */

struct hist {
	uint64_t	h_count[FBS_NBUCKETS + 1];	/* last: +Inf */
	double		h_sum;
};

/* HTTP statuses the server answers with, exported even when 0. */
#define FBS_NSTATUS	15
extern const int fbs_statuses[FBS_NSTATUS];

/* Outcomes as the server counts them: the library's, plus its own. */
enum srv_outcome {
	SO_DONE = 0, SO_FAILED, SO_NOHANDLER, SO_CRASHED, SO_TIMEDOUT,
	SO_BADRESULT, SO_CANCELLED,
	SO_REJECTED,		/* queue full or draining: 503 */
	SO_ABANDONED,		/* client left before the result */
	SO_MAX
};
extern const char *const fbs_outcome_names[SO_MAX];

struct kind_stats {
	uint64_t	ks_outcome[SO_MAX];
	struct hist	ks_total;	/* submit to result */
	struct hist	ks_run;		/* handler time */
};

struct stats {
	time_t		st_start;
	uint64_t	st_accepted;		/* connections */
	unsigned	st_conns;		/* open now */
	unsigned	st_conns_max;
	uint64_t	st_conns_refused;	/* over the cap */
	uint64_t	st_emfile;
	uint64_t	st_requests;
	uint64_t	st_status[FBS_NSTATUS + 1];	/* last: other */
	unsigned	st_queue_max;		/* max listen queue seen */
	uint64_t	st_queue_full;		/* times it was full */
	unsigned	st_active_max;		/* max busy workers seen */
	uint64_t	st_hup;			/* rolling restarts */
	struct kind_stats st_kind[FBS_MAX_KINDS];
};

extern struct stats fbs_stats;

void	 stats_status(int);
void	 stats_task(unsigned kind, enum srv_outcome, double total_s,
	    double run_s);
void	 hist_add(struct hist *, double);

/* --- task kinds (tasks.c, module.c) ----------------------------------- */

struct kind {
	const char	*k_name;
	uint32_t	 k_code;
	fb_handler_fn	 k_fn;
	void		*k_arg;
	const char	*k_ctype;
	unsigned	 k_timeout_ms;		/* 0: the server's */
	const char	*k_module;		/* NULL: built in */
};

extern struct kind	fbs_kinds[FBS_MAX_KINDS];
extern unsigned		fbs_nkinds;

void		 tasks_builtin(void);
int		 kind_add(const struct kind *);
const struct kind *kind_find(const char *name, size_t len);
int		 kind_index(uint32_t code);

int		 modules_load(const struct conf *);
int		 modules_reload(const struct conf *);
void		*modules_ref(void);		/* a pool's module set */
void		 modules_unref(void *);
void		 modules_unload(void);
int		 modules_worker_init(void *set, unsigned index);

/* --- the pool (pool_glue.c: the only file that calls fb_*) ------------- */

struct gtask;

struct gres {
	enum fb_outcome	 gr_outcome;
	int		 gr_status;		/* FB_FAILED: the handler's */
	int		 gr_wait_status;	/* crashed, timed out: the
						   worker's wait status */
	unsigned	 gr_worker;
	pid_t		 gr_pid;
	unsigned	 gr_attempts;
	double		 gr_queued_s;
	double		 gr_run_s;
	unsigned	 gr_generation;	/* of the pool that ran it */
};

/* Called once per task unless it was detached or cancelled first.  data
 * is valid during the call only. */
typedef void (*glue_done_fn)(void *arg, const struct gres *,
    const void *data, size_t len);

int	 glue_init(struct event_base *, const struct conf *);
int	 glue_submit(unsigned kind, struct evbuffer *body, glue_done_fn,
	    void *arg, struct gtask **);
int	 glue_submit_ms(unsigned kind, struct evbuffer *body,
	    unsigned timeout_ms, glue_done_fn, void *arg, struct gtask **);
void	 glue_detach(struct gtask *);
int	 glue_cancel(struct gtask *);
const char *glue_task_state(struct gtask *);
int	 glue_restart(void);		/* rolling restart: a new pool */
int	 glue_resize(int delta);
unsigned glue_pending(void);		/* waiting + in the pool */
int	 glue_drain(void);		/* stop taking new tasks */
void	 glue_shutdown(int timeout_ms);
int	 glue_failed(void);

/* Read-only views for status.c, metrics.c. */
struct gview {
	unsigned	 gv_workers;		/* target size */
	unsigned	 gv_max_workers;
	unsigned	 gv_alive;
	unsigned	 gv_idle, gv_busy, gv_starting;
	unsigned	 gv_queue;		/* wait queue length */
	unsigned	 gv_queue_max;		/* its capacity */
	unsigned	 gv_inpool;
	unsigned	 gv_generation;
	unsigned	 gv_slots;
	size_t		 gv_slot_size;
	struct fb_counters gv_counters;	/* summed over pools */
};
void	 glue_view(struct gview *);
int	 glue_worker(unsigned index, struct fb_worker_info *,
	    double *age_s);
int	 glue_board(struct fb_board_stat *);
size_t	 glue_slot_map(char *buf, size_t cap);

/* --- HTTP (http.c, async.c, status.c, metrics.c, board_page.c) -------- */

int	 http_init(struct event_base *, struct evhttp *, const struct conf *);
int	 http_status_allowed(struct evhttp_request *);
void	 http_error(struct evhttp_request *, int code, const char *reason,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	 http_reply(struct evhttp_request *, int code, const char *reason,
	    struct evbuffer *);
void	 http_result_headers(struct evhttp_request *, const struct kind *,
	    const struct gres *);
int	 http_result_status(const struct gres *, const char **reason);
unsigned http_inflight(void);
enum srv_outcome http_outcome(enum fb_outcome);
void	 http_unavailable(struct evhttp_request *, const char *why);
void	 http_drain(void);
int	 http_draining(void);

void	 async_init(struct event_base *, const struct conf *);
void	 async_submit(struct evhttp_request *, const struct kind *,
	    unsigned kind);
void	 async_get(struct evhttp_request *, const char *id);
void	 async_delete(struct evhttp_request *, const char *id);
unsigned async_count(void);
void	 async_free_all(void);

void	 status_page(struct evhttp_request *, int full);
void	 metrics_page(struct evhttp_request *);
void	 board_page(struct evhttp_request *);

/* --- listeners and connections (server.c) ----------------------------- */

/* A client connection, from its first request to its close. */
struct conn {
	RB_ENTRY(conn)		 c_node;
	struct evhttp_connection *c_evcon;
	void			(*c_gone)(void *);	/* closed with ... */
	void			*c_pending;		/* ... this pending */
};
struct evhttp_connection;
struct conn *server_conn(struct evhttp_request *);

int	 server_bind(const struct conf *);
int	 server_chown(const char *user);
int	 server_start(struct event_base *, struct evhttp *,
	    const struct conf *);
void	 server_stop_accepting(void);
void	 server_close(void);
void	 server_unlink(void);
int	 server_port(void);		/* first TCP port, -1 none */

/* --- Redis Streams consumer (redis.c, consumer.c, store.c, reclaim.c) --- */

enum rlink_state { RL_OFF = 0, RL_DOWN, RL_CONNECTING, RL_UP };
extern const char *const rlink_state_names[RL_UP + 1];

struct rstats {
	enum rlink_state rs_state;
	uint64_t	 rs_connects;	/* links made (first one included) */
	uint64_t	 rs_losses;	/* links lost */
	uint64_t	 rs_read;	/* entries read with XREADGROUP */
	uint64_t	 rs_claimed;	/* entries taken over (XAUTOCLAIM) */
	uint64_t	 rs_claimed_deleted; /* pending, gone from the stream */
	uint64_t	 rs_stored;	/* results stored */
	uint64_t	 rs_acked;
	uint64_t	 rs_duplicates;	/* a result was already there */
	uint64_t	 rs_dead;	/* sent to the dead-letter stream */
	uint64_t	 rs_bad;	/* ... of them, malformed entries */
	uint64_t	 rs_redeliver;	/* left pending after a crash */
	uint64_t	 rs_consumers_removed;
	unsigned	 rs_held;	/* entries held now (read, not acked) */
	long long	 rs_group_pending; /* XINFO GROUPS, -1 unknown */
	long long	 rs_group_lag;
	char		 rs_error[128];	/* last link error */
};
extern struct rstats fbs_rstats;

/* The consumer's entry points (consumer.c); the rest is in rstream.h. */
int	 redis_start(struct event_base *, const struct conf *);
void	 redis_drain(void);		/* read nothing more */
int	 redis_idle(void);		/* every entry held is acked */
void	 redis_stop(void);
int	 redis_enabled(void);

/* --- logs (log.c) ------------------------------------------------------ */

int	 log_open(const struct conf *);
int	 log_reopen(void);
void	 log_close(void);
void	 log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_access(struct evhttp_request *, int code, size_t bytes,
	    const char *task, int worker, double ms);
void	 log_fb(void *arg, enum fb_log_level, const char *msg);

/* --- daemon mode (daemon.c) -------------------------------------------- */

int	 daemon_pidfile_open(const char *path);
int	 daemon_detach(void);
int	 daemon_pidfile_write(void);
void	 daemon_pidfile_remove(void);
int	 daemon_lookup_user(const char *user);
int	 daemon_drop(void);
int	 daemon_has_user(void);
uid_t	 daemon_uid(void);
gid_t	 daemon_gid(void);

/* --- helpers (main.c) --------------------------------------------------- */

double	 now_s(void);	/* CLOCK_MONOTONIC seconds */

#endif /* FBS_SERVER_H */
