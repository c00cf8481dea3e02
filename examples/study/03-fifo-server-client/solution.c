/*
 * 03 a FIFO server and its clients (solution)
 *
 *   ./solution demo DIR           how open() on a FIFO behaves
 *   ./solution server DIR N       serve N clients on DIR/server.fifo
 *   ./solution client DIR ID      say hello and bye to the server
 *
 * A FIFO (named pipe) is a pipe with a name in the file system, so
 * processes that share no ancestor can find it.  open() for reading blocks
 * until some process opens it for writing, and the other way round.  Once
 * open, it is a pipe: read() returns 0 only when no write end is left.
 *
 * The server keeps a write end of its own FIFO open: between two clients
 * there is then always a writer, and read() blocks instead of returning
 * end of file.  It removes the FIFO when it is done.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Noreturn static void
die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(1);
}

static void
on_alarm(int sig)
{
	(void)sig;
}

/* Interrupt a blocked call ms milliseconds from now (0: disarm). */
static void
arm_timer(int ms)
{
	struct itimerval it = { { 0, 0 }, { ms / 1000, (ms % 1000) * 1000 } };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) == -1 ||
	    setitimer(ITIMER_REAL, &it, NULL) == -1)
		die("timer");
}

/*
 * The FIFO's mode: 0600, only its owner may open it.  The seed's 0666
 * (0644 after the usual umask) lets any local user open it too: for
 * reading, which steals messages from the server; with write bits, to
 * inject fake ones.
 */
#define FIFO_MODE 0600

static void
demo(const char *dir)
{
	char path[4096], buf[8];
	struct stat st;
	int rfd, wfd;

	snprintf(path, sizeof(path), "%s/demo.fifo", dir);
	if (mkfifo(path, FIFO_MODE) == -1)
		die("mkfifo");
	if (stat(path, &st) == -1)
		die("stat");
	printf("mkfifo demo.fifo: %s, mode %04o, size %lld\n",
	    S_ISFIFO(st.st_mode) ? "a FIFO (type p)" : "not a FIFO?",
	    (unsigned)(st.st_mode & 07777), (long long)st.st_size);

	if (open(path, O_WRONLY | O_NONBLOCK) == -1 && errno == ENXIO)
		printf("open(O_WRONLY | O_NONBLOCK), no reader: ENXIO\n");

	arm_timer(100);
	if (open(path, O_RDONLY) == -1 && errno == EINTR)
		printf("open(O_RDONLY), no writer: blocked (until the timer "
		    "interrupted it: EINTR)\n");
	arm_timer(0);

	if ((rfd = open(path, O_RDONLY | O_NONBLOCK)) == -1)
		die("open O_RDONLY|O_NONBLOCK");
	printf("open(O_RDONLY | O_NONBLOCK): returns at once\n");
	if ((wfd = open(path, O_WRONLY)) == -1)
		die("open O_WRONLY");
	printf("open(O_WRONLY), now that a reader exists: returns at once\n");

	if (unlink(path) == -1)
		die("unlink");
	if (write(wfd, "ping", 4) != 4 || read(rfd, buf, 4) != 4)
		die("write/read");
	buf[4] = '\0';
	printf("unlinked demo.fifo, then wrote \"ping\" and read \"%s\": "
	    "open descriptors outlive the name\n", buf);
	close(wfd);
	close(rfd);
}

static int
server(const char *dir, int nclients)
{
	char path[4096], line[256];
	int rfd, wfd = -1, byes = 0;
	FILE *in;

	snprintf(path, sizeof(path), "%s/server.fifo", dir);
	if (mkfifo(path, FIFO_MODE) == -1)
		die("mkfifo server.fifo (is another server running?)");

	/* Open the read end without waiting for a writer, then a write end
	 * of our own: from now on read() never sees end of file. */
	if ((rfd = open(path, O_RDONLY | O_NONBLOCK)) == -1)
		goto fail;
	if ((wfd = open(path, O_WRONLY)) == -1)
		goto fail;
	if (fcntl(rfd, F_SETFL, 0) == -1)	/* back to blocking reads */
		goto fail;
	if ((in = fdopen(rfd, "r")) == NULL)
		goto fail;
	printf("server: listening on server.fifo\n");

	while (byes < nclients && fgets(line, sizeof(line), in) != NULL) {
		int id;
		char word[16];

		if (sscanf(line, "%15s from client %d", word, &id) != 2)
			continue;
		printf("server: client %d says %s\n", id, word);
		byes += strcmp(word, "bye") == 0;
	}
	if (byes < nclients)
		printf("server: end of file after %d of %d clients\n", byes,
		    nclients);
	else
		printf("server: %d clients served\n", byes);
	fclose(in);
	if (wfd != -1)
		close(wfd);
	if (unlink(path) == -1)
		die("unlink");
	printf("server: server.fifo removed\n");
	return byes == nclients ? 0 : 1;
fail:
	fprintf(stderr, "server: %s\n", strerror(errno));
	unlink(path);
	return 1;
}

static int
client(const char *dir, int id)
{
	char path[4096], msg[64];
	int fd, n;

	snprintf(path, sizeof(path), "%s/server.fifo", dir);
	arm_timer(1000);	/* no reader within 1 s: no server */
	if ((fd = open(path, O_WRONLY)) == -1) {
		fprintf(stderr, "client %d: open server.fifo: %s\n", id,
		    errno == EINTR ? "no server is reading it" : strerror(errno));
		return 1;
	}
	arm_timer(0);
	/* One write() per message, well under PIPE_BUF: a message is never
	 * mixed with another client's. */
	n = snprintf(msg, sizeof(msg), "hello from client %d\n", id);
	if (write(fd, msg, n) != n)
		die("write");
	n = snprintf(msg, sizeof(msg), "bye from client %d\n", id);
	if (write(fd, msg, n) != n)
		die("write");
	close(fd);
	printf("client %d: sent hello and bye\n", id);
	return 0;
}

int
main(int argc, char *argv[])
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && strcmp(argv[1], "demo") == 0) {
		demo(argv[2]);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "server") == 0)
		return server(argv[2], atoi(argv[3]));
	if (argc == 4 && strcmp(argv[1], "client") == 0)
		return client(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: %s demo DIR | server DIR N | client DIR ID\n",
	    argv[0]);
	return 2;
}
