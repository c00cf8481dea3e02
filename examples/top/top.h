/*
 * top.h - forkboard-top, the board inspector: what its files share.
 *
 *   discover.c   the kernel's list of segments (/proc/sysvipc/shm)
 *   snapshot.c   attach one read-only, check it, copy it out, detach
 *   select.c     the selectors (-m -k -f -p) and which segments they pick
 *   text.c       --once: plain text
 *   json.c       --json: one JSON document
 *   view.c       the live ncurses view
 *   main.c       options, modes, exit status
 *
 * A board is untrusted input: a worker (any process of the pool's user)
 * can write anything into it.  Everything read from it is copied out and
 * range-checked before it is shown; nothing points into the segment after
 * the snapshot detaches.
 */
#ifndef FB_TOP_H
#define FB_TOP_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "internal.h"

#define TOP_TRACE_TAIL 16       /* trace records kept per snapshot */

/* One segment as the kernel describes it (ipcs -m -i). */
struct top_seg {
	int sg_shmid;
	key_t sg_key;
	uint64_t sg_size;
	uint64_t sg_rss;         /* bytes really backed (resident) */
	uint64_t sg_swap;
	unsigned sg_mode;        /* permission bits */
	int sg_removed;          /* SHM_DEST: IPC_RMID'd, freed at last detach */
	uid_t sg_uid;
	gid_t sg_gid;
	uid_t sg_cuid;
	unsigned long sg_nattch;
	pid_t sg_cpid;
	pid_t sg_lpid;
	time_t sg_atime;
	time_t sg_dtime;
	time_t sg_ctime;
};

/* One scoreboard row, copied and checked. */
struct top_row {
	unsigned tr_index;
	pid_t tr_pid;
	unsigned tr_state;       /* enum fb_worker_state, checked */
	int tr_torn;             /* no consistent copy could be had */
	uint32_t tr_generation;
	uint64_t tr_tasks;
	uint32_t tr_code;
	int64_t tr_slot;         /* -1: none */
	int64_t tr_state_ms;     /* time in this state; -1: unknown */
	uint32_t tr_restarts;
};

/* Why a segment could not be shown. */
enum top_err {
	TOP_OK = 0,
	TOP_EACCES,              /* no read permission */
	TOP_ENOTBOARD,           /* no forkboard magic */
	TOP_EVERSION,            /* magic, another layout version */
	TOP_ECORRUPT,            /* header does not add up */
	TOP_EGONE,               /* removed before it could be read */
	TOP_ESYS                 /* anything else: see b_errno */
};

/* A snapshot of one board: the kernel's view and the board's. */
struct top_board {
	struct top_seg b_seg;
	enum top_err b_err;
	int b_errno;
	uint32_t b_version;      /* layout version found (TOP_EVERSION) */
	int b_gone;              /* live view: it disappeared */
	int64_t b_when_ns;       /* CLOCK_MONOTONIC at the copy */
	pid_t b_master;
	struct fb__geometry b_geo;
	struct top_row *b_rows;  /* rows ever used */
	unsigned b_nrows;
	char *b_slotmap;         /* one character per slot, NUL-ended */
	uint32_t b_slots_used;
	uint32_t b_inflight;
	struct fb_counters b_ctr;
	int b_trace_on;
	struct fb_trace_rec b_trace[TOP_TRACE_TAIL];
	unsigned b_ntrace;
	int b_have_rate;
	double b_rate_done;      /* tasks finished a second */
	double b_rate_submitted;
};

/* A list of segments or boards. */
struct top_list {
	struct top_board *l_v;
	size_t l_n;
	size_t l_cap;
};

/* discover.c */
int top_discover(struct top_list *);
int top_list_add(struct top_list *, const struct top_board *);
const char *top_user(uid_t, char *, size_t);
void top_list_free(struct top_list *);
void top_board_clear(struct top_board *);

/* snapshot.c */
void top_snapshot(struct top_board *);
void top_rates(struct top_board *now, const struct top_board *before);
char top_slot_char(uint64_t word);
const char *top_err_text(const struct top_board *, char *, size_t);

/* select.c */
enum top_sel_kind { TOP_SEL_SHMID, TOP_SEL_KEY, TOP_SEL_PID };
struct top_sel {
	enum top_sel_kind s_kind;
	long long s_val;
	const char *s_arg;       /* as given, for messages */
	int s_ftok;              /* a key from -f */
	int s_hits;
};

/* What could not be shown: a segment (shmid), or a selector (-1). */
struct top_err_ent {
	int ee_shmid;
	char ee_msg[256];
};
struct top_errs {
	struct top_err_ent *e_v;
	size_t e_n;
	size_t e_cap;
};
int top_sel_parse(struct top_sel *, int opt, const char *arg, char *err,
    size_t errlen);
int top_sel_match(struct top_sel *, size_t n, const struct top_board *);
void top_sel_miss(const struct top_sel *, char *, size_t);
int top_gather(struct top_sel *, size_t, struct top_list *,
    struct top_errs *);
void top_errs_free(struct top_errs *);

/* text.c, json.c, view.c */
void top_text(FILE *, const struct top_board *);
int top_json(FILE *, const struct top_list *, const struct top_errs *);
int top_view(struct top_sel *, size_t nsel, double interval,
    long iterations);

/* Shared by the renderings (text.c). */
const char *top_state_name(unsigned);
const char *top_time(time_t, char *, size_t);
void top_kernel_lines(FILE *, const struct top_board *);
void top_pool_lines(FILE *, const struct top_board *);
void top_rows_lines(FILE *, const struct top_board *, const unsigned *);
void top_trace_lines(FILE *, const struct top_board *);
const char *top_trace_state(const struct fb_trace_rec *, unsigned);

#endif /* FB_TOP_H */
