/*
 * submit.h - what forkboard-submit's two transports share (submit.c):
 * the tasks, the progress bar, the outcome counts, saving a result.
 */
#ifndef FBS_SUBMIT_H
#define FBS_SUBMIT_H

#include <stddef.h>

#define PROG	"forkboard-submit"
#define NOUT	16

struct item {
	char	*i_data;
	size_t	 i_len;
};

struct outcome {
	char	 name[32];
	size_t	 n;
};

extern struct item	*items;
extern size_t		 nitems, ndone, nfailed;
extern const char	*kind, *outdir;
extern int		 quiet, tty;
extern double		 t_start;
extern struct outcome	 outcomes[NOUT];

double	 now(void);
void	 count(const char *name);
void	 progress(int final);
void	 save(size_t idx, const void *data, size_t len);
void	 summary(const char *extra);
void	 free_items(void);

/* --redis (submit_redis.c) */
struct ropts {
	const char	*ro_url;
	const char	*ro_stream;
	unsigned	 ro_timeout_ms;	/* per task, 0: the server's */
	unsigned	 ro_wait_s;	/* give up after S s without a result */
	int		 ro_keep;	/* leave the results hash in Redis */
};
int	 redis_submit(const struct ropts *);

#endif /* FBS_SUBMIT_H */
