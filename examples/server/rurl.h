/*
 * rurl.h - a Redis address, as forkboard-server and forkboard-submit
 * take it: redis://host[:port] or unix:/path (rurl.c).
 */
#ifndef FBS_RURL_H
#define FBS_RURL_H

#include <limits.h>

struct rurl {
	char	 ru_host[256];		/* "" for a unix socket */
	int	 ru_port;
	char	 ru_path[PATH_MAX];	/* unix socket */
};

/* 0, or -1 with a message in err. */
int	 rurl_parse(const char *s, struct rurl *, char *err, size_t errlen);

#endif /* FBS_RURL_H */
