/*
 * fdutil.c - descriptor and process helpers: close keeping errno, full
 * reads and writes that retry EINTR and short transfers, closing all but a
 * kept set, keeping library descriptors off 0-2, pidfds with fallbacks.
 */
#include <sys/types.h>
#include <sys/syscall.h>

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#if defined(HAVE_PIDFD_OPEN) || defined(HAVE_PIDFD_SEND_SIGNAL)
#include <sys/pidfd.h>
#endif

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

/*
 * Library descriptors never sit on 0, 1 or 2: in a daemon that closed its
 * standard descriptors, a pipe on 2 would receive every handler's
 * fprintf(stderr).  Returns fd itself, a close-on-exec copy above 2 (the
 * low one closed), or -errno (fd closed).
 */
int
fb__fd_high(int fd)
{
	int hi;

	if (fd < 0 || fd > 2)
		return fd;
	hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (hi == -1) {
		hi = -errno;
		(void)close(fd);
		return hi;
	}
	(void)close(fd);
	return hi;
}

/* Is fd an open descriptor? */
int
fb__fd_valid(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) != -1;
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

/* Close [lo, hi]: close_range(2), or one by one where the kernel (< 5.9),
 * the C library or a seccomp filter refuses it. */
static void
close_gap(int lo, int hi)
{
	int fd;

#ifdef HAVE_CLOSE_RANGE
	if (close_range((unsigned)lo, (unsigned)hi, 0) == 0)
		return;
#elif defined(SYS_close_range)
	if (syscall(SYS_close_range, (unsigned)lo, (unsigned)hi, 0u) == 0)
		return;
#endif
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

/*
 * The master's bookkeeping clock (task ages, deadlines, back-off): the
 * coarse monotonic clock costs a fraction of the precise one.  Every
 * comparison in the master uses this one clock; the precise one is only
 * used for differences taken within one process.
 */
int64_t
fb__coarse_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
fb__pidfd_open(pid_t pid)
{
#ifdef HAVE_PIDFD_OPEN
	return pidfd_open(pid, 0);
#elif defined(SYS_pidfd_open)
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* Signal the process behind a pidfd: never a process that reused the pid. */
int
fb__pidfd_signal(int pidfd, int sig)
{
#ifdef HAVE_PIDFD_SEND_SIGNAL
	return pidfd_send_signal(pidfd, sig, NULL, 0);
#elif defined(SYS_pidfd_send_signal)
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0u);
#else
	(void)pidfd;
	(void)sig;
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * One turn of a spin_us wait.  Yield as well as pause: a spinner that
 * shares its CPU with the process it waits for (one CPU, or a scheduler
 * that put both on one) would otherwise hold that CPU for all of spin_us
 * while the other cannot run, and every round trip would cost two whole
 * spins (p99 106 us for spin_us = 50 on one CPU).  With nothing else to
 * run here, sched_yield() returns at once.
 */
void
fb__spin_pause(void)
{
	fb__cpu_relax();
	(void)sched_yield();
}
