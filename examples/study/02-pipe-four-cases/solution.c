/*
 * 02 the four cases of a pipe (solution)
 *
 *   ./solution
 *
 * 1. read() on an empty pipe whose write end is open somewhere blocks.
 * 2. read() on an empty pipe whose write ends are all closed returns 0:
 *    end of file.
 * 3. write() to a pipe whose read ends are all closed raises SIGPIPE,
 *    which kills the writer; with SIGPIPE ignored, write() fails: EPIPE.
 * 4. write() to a full pipe blocks (O_NONBLOCK: EAGAIN).  A write of at
 *    most PIPE_BUF bytes is atomic: all of it or (non-blocking) none of
 *    it, never mixed with another writer's bytes.
 *
 * "Blocks" is shown safely: a timer (SIGALRM, handler installed without
 * SA_RESTART) interrupts the blocked call, which then fails with EINTR.
 */
#include <sys/types.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECORDS 1000	/* per writer, in the atomicity test */

_Noreturn static void
die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(1);
}

static void
on_alarm(int sig)
{
	(void)sig;	/* only there to interrupt a blocked call */
}

/* Interrupt whatever blocks ms milliseconds from now (0: disarm). */
static void
arm_timer(int ms)
{
	struct itimerval it = { { 0, 0 }, { ms / 1000, (ms % 1000) * 1000 } };

	if (setitimer(ITIMER_REAL, &it, NULL) == -1)
		die("setitimer");
}

static void
set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK :
	    fl & ~O_NONBLOCK) == -1)
		die("fcntl");
}

static pid_t
wait_child(pid_t pid, int *status)
{
	pid_t r;

	while ((r = waitpid(pid, status, 0)) == -1 && errno == EINTR)
		;
	if (r == -1)
		die("waitpid");
	return r;
}

static void
case1_empty_with_writer(void)
{
	int p[2];
	char c;

	if (pipe(p) == -1)
		die("pipe");
	arm_timer(100);		/* p[1] is open: here, in this process */
	if (read(p[0], &c, 1) == -1 && errno == EINTR)
		printf("case 1: empty pipe, a write end open: read blocked "
		    "(until the timer interrupted it: EINTR)\n");
	else
		printf("case 1: read did not block\n");
	arm_timer(0);
	close(p[0]);
	close(p[1]);
}

static void
case2_empty_no_writer(void)
{
	char buf[64];
	ssize_t n, total = 0;
	int p[2], status;
	pid_t pid;

	if (pipe(p) == -1)
		die("pipe");
	switch (pid = fork()) {
	case -1:
		die("fork");
	case 0:
		close(p[0]);
		if (write(p[1], "hello", 5) != 5)
			die("write");
		_exit(0);	/* closes the child's write end */
	}
	close(p[1]);		/* or read() could never see end of file */
	arm_timer(1000);
	while ((n = read(p[0], buf + total, sizeof(buf) - 1 - total)) > 0)
		total += n;
	arm_timer(0);
	buf[total] = '\0';
	if (n == 0)
		printf("case 2: read %zd bytes (\"%s\"), then read returned 0: "
		    "end of file, no write end is left\n", total, buf);
	else if (errno == EINTR)
		printf("case 2: read %zd bytes (\"%s\"), then read blocked: "
		    "a write end is still open somewhere\n", total, buf);
	else
		die("read");
	wait_child(pid, &status);
	close(p[0]);
}

static void
case3_no_reader(void)
{
	int p[2], status;
	pid_t pid;

	if (pipe(p) == -1)
		die("pipe");
	close(p[0]);		/* nobody can ever read this pipe */

	switch (pid = fork()) {
	case -1:
		die("fork");
	case 0:
		signal(SIGPIPE, SIG_DFL);
		if (write(p[1], "x", 1) == -1)
			_exit(2);	/* not reached: SIGPIPE kills us */
		_exit(0);
	}
	wait_child(pid, &status);
	if (WIFSIGNALED(status))
		printf("case 3: no reader: the writer was killed by signal %d "
		    "(SIG%s)\n", WTERMSIG(status), sigabbrev_np(WTERMSIG(status)));
	else
		printf("case 3: no reader: the writer exited with status %d\n",
		    WEXITSTATUS(status));

	signal(SIGPIPE, SIG_IGN);
	if (write(p[1], "x", 1) == -1)
		printf("case 3: same with SIGPIPE ignored: write failed with "
		    "%s\n", errno == EPIPE ? "EPIPE" : strerror(errno));
	signal(SIGPIPE, SIG_DFL);
	close(p[1]);
}

static void
case4_full(void)
{
	static char buf[2 * PIPE_BUF];
	ssize_t n, total = 0;
	int p[2];

	if (pipe(p) == -1)
		die("pipe");
	set_nonblock(p[1], 1);
	while ((n = write(p[1], buf, PIPE_BUF)) > 0)
		total += n;
	if (errno != EAGAIN)
		die("write");
	printf("case 4: the pipe took %zd bytes (F_GETPIPE_SZ: %d), then "
	    "write failed with EAGAIN\n", total, fcntl(p[1], F_GETPIPE_SZ));

	if (write(p[1], buf, PIPE_BUF) == -1 && errno == EAGAIN)
		printf("case 4: full pipe, non-blocking write of PIPE_BUF (%d) "
		    "bytes: EAGAIN, nothing written\n", PIPE_BUF);

	set_nonblock(p[1], 0);
	arm_timer(100);
	if (write(p[1], buf, 1) == -1 && errno == EINTR)
		printf("case 4: full pipe, blocking write: blocked (until the "
		    "timer interrupted it: EINTR)\n");
	arm_timer(0);

	if (read(p[0], buf, PIPE_BUF) != PIPE_BUF)
		die("read");
	set_nonblock(p[1], 1);
	n = write(p[1], buf, 2 * PIPE_BUF);
	printf("case 4: %d bytes read out, non-blocking write of %d bytes "
	    "wrote %zd: more than PIPE_BUF is not atomic\n", PIPE_BUF,
	    2 * PIPE_BUF, n);
	close(p[0]);
	close(p[1]);
}

/* Two writers, records of PIPE_BUF bytes each: none may come out mixed. */
static void
atomicity(void)
{
	static char rec[PIPE_BUF];
	int p[2], w, status, mixed = 0, records = 0;
	pid_t pids[2];

	if (pipe(p) == -1)
		die("pipe");
	for (w = 0; w < 2; w++) {
		if ((pids[w] = fork()) == -1)
			die("fork");
		if (pids[w] == 0) {
			close(p[0]);
			memset(rec, 'a' + w, sizeof(rec));
			for (int i = 0; i < RECORDS; i++)
				if (write(p[1], rec, sizeof(rec)) != sizeof(rec))
					_exit(1);
			_exit(0);
		}
	}
	close(p[1]);
	for (;;) {
		size_t got = 0;
		ssize_t n = 0;

		while (got < sizeof(rec) &&
		    (n = read(p[0], rec + got, sizeof(rec) - got)) > 0)
			got += n;
		if (n == -1)
			die("read");
		if (got < sizeof(rec))
			break;
		records++;
		for (size_t i = 1; i < sizeof(rec); i++)
			if (rec[i] != rec[0]) {
				mixed++;
				break;
			}
	}
	close(p[0]);
	for (w = 0; w < 2; w++)
		wait_child(pids[w], &status);
	printf("atomicity: 2 writers x %d writes of PIPE_BUF bytes: %d records "
	    "read, %d mixed\n", RECORDS, records, mixed);
}

int
main(void)
{
	struct sigaction sa;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: calls fail, EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		die("sigaction");

	case1_empty_with_writer();
	case2_empty_no_writer();
	case3_no_reader();
	case4_full();
	atomicity();
	return 0;
}
