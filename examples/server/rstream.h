/*
 * rstream.h - the Redis Streams consumer's private interfaces.
 *
 * Four files share them: redis.c (the connection pair, reconnects),
 * consumer.c (XREADGROUP, entries, the pool), store.c (results, acks,
 * dead letters) and reclaim.c (heartbeat, keeping our entries ours,
 * XAUTOCLAIM of the entries of consumers that died).  The rest of the
 * server sees only the redis_* calls in server.h.
 */
#ifndef FBS_RSTREAM_H
#define FBS_RSTREAM_H

#include <sys/queue.h>

#include <stddef.h>

#include "server.h"
#include "rurl.h"

/* An entry this consumer holds: read or claimed, not acknowledged yet. */
enum rrec_state {
	RR_NEW = 0,		/* claimed, its delivery count not known yet */
	RR_RUN,			/* in the pool */
	RR_STORE, RR_STORE_SENT,	/* result to store (HSET) */
	RR_DEAD, RR_DEAD_SENT,		/* to the dead-letter stream (XADD) */
	RR_ACK, RR_ACK_SENT		/* XACK (and XDEL) */
};

struct rrec {
	TAILQ_ENTRY(rrec) r_entry;
	enum rrec_state	 r_state;
	char		 r_eid[48];	/* the stream entry's id */
	char		*r_tid;		/* task id (NULL: entry had none) */
	size_t		 r_tidlen;
	char		*r_reply;	/* the results hash */
	size_t		 r_replylen;
	char		*r_task;	/* kind name as sent */
	size_t		 r_tasklen;
	char		*r_payload;	/* kept for a dead letter */
	size_t		 r_plen;
	unsigned	 r_timeout_ms;
	unsigned	 r_kind;
	unsigned	 r_deliveries;
	char		*r_val;		/* result value, then HSET */
	size_t		 r_vallen;
	char		*r_cause;	/* dead letter: why */
	int		 r_resent;	/* sent again after a lost link */
	int		 r_nostore;	/* the result cannot be stored */
	double		 r_touched;	/* last XCLAIM ... JUSTID of it */
	struct gtask	*r_gtask;
};
TAILQ_HEAD(rrec_list, rrec);

extern struct rrec_list	 rrecs;		/* every entry held */
extern const struct rconf *rcf;

/* redis.c: the connection pair.  RC_READ carries XREADGROUP alone (a
 * blocking read occupies its connection); RC_WRITE everything else. */
enum { RC_READ = 0, RC_WRITE = 1 };
typedef void (*rcmd_fn)(void *reply, void *arg);	/* NULL: link lost */
int	 rlink_init(struct event_base *, const struct rurl *,
	    const char *name);
int	 rlink_cmd(int conn, rcmd_fn, void *arg, int argc, const char **argv,
	    const size_t *lens);
int	 rlink_cmdf(int conn, rcmd_fn, void *arg, const char *fmt, ...);
void	 rlink_reset(const char *why);
void	 rlink_close(void);
int	 rlink_up(void);
unsigned rlink_epoch(void);		/* changes on every new link */
void	 rlink_guard(int conn, unsigned ms);	/* 0: disarm */
int	 rlink_guarded(int conn);

/* consumer.c */
void	 consumer_up(void);		/* called by redis.c: link (re)made */
void	 consumer_kick(void);		/* flush and read once this turn */
struct rrec *consumer_parse(const void *fields, const char *id);
void	 consumer_run(struct rrec *);
void	 consumer_release(struct rrec *);	/* done with it, acked or not */
unsigned consumer_room(void);
unsigned consumer_room_claim(void);

/* A consumer that is always full (a busy group) would never have room
 * for a claim, and the entries of a dead one would wait for the end of
 * the run: claims may take this many entries beyond --prefetch. */
#define RC_CLAIM_RESERVE	16
const char *consumer_name(void);
const char *consumer_host(void);

/* store.c */
void	 store_result(struct rrec *);
void	 store_dead(struct rrec *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 store_flush(void);
void	 store_relink(void);
void	 store_xdel(void);

/* reclaim.c */
int	 reclaim_init(struct event_base *);
void	 reclaim_up(void);
void	 reclaim_close(void);

#endif /* FBS_RSTREAM_H */
