/*
 * fdutil.c - descriptor helpers: close keeping errno, full reads and writes
 * that retry EINTR and short transfers, closing all but a kept set.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

int
fb__close(int *fdp)
{
	int saved = errno;

	if (*fdp != -1) {
		(void)close(*fdp);
		*fdp = -1;
	}
	errno = saved;
	return 0;
}

/* Read exactly n bytes.  Returns n, fewer at end of file, or -errno. */
ssize_t
fb__read_full(int fd, void *buf, size_t n)
{
	unsigned char *p = buf;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, p + got, n - got);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Write exactly n bytes (blocking descriptor).  Returns n or -errno. */
ssize_t
fb__write_full(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	size_t put = 0;
	ssize_t r;

	while (put < n) {
		r = write(fd, p + put, n - put);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		put += (size_t)r;
	}
	return (ssize_t)put;
}

int
fb__set_nonblock(int fd, int on)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -errno;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	if (fcntl(fd, F_SETFL, fl) == -1)
		return -errno;
	return 0;
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Close [lo, hi]: close_range(2), or one by one where the kernel (< 5.9)
 * or a seccomp filter refuses it. */
static void
close_gap(int lo, int hi)
{
	int fd;

	if (close_range((unsigned)lo, (unsigned)hi, 0) == 0)
		return;
	for (fd = lo; fd <= hi; fd++)
		(void)close(fd);
}

/*
 * Close every descriptor >= 3 that is not in keep[].  Used in a freshly
 * forked worker: the gaps between kept descriptors go with close_range(2),
 * the tail with libbsd's closefrom().
 */
int
fb__close_except(const int *keep, size_t n)
{
	int sorted[64];
	int lo = 3;
	size_t i;

	if (n > sizeof(sorted) / sizeof(sorted[0]))
		return -E2BIG;
	for (i = 0; i < n; i++)
		sorted[i] = keep[i];
	qsort(sorted, n, sizeof(int), cmp_int);
	for (i = 0; i < n; i++) {
		if (sorted[i] < lo)
			continue;
		if (sorted[i] > lo)
			close_gap(lo, sorted[i] - 1);
		lo = sorted[i] + 1;
	}
	closefrom(lo);
	return 0;
}

int64_t
fb__now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* For bookkeeping that tolerates a few milliseconds (task ages, timeout
 * deadlines): CLOCK_MONOTONIC_COARSE costs a fraction of the precise one. */
int64_t
fb__coarse_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
