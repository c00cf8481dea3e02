/*
 * 01 fork and descriptors (solution)
 *
 *   ./solution [DIR]
 *
 * fork() copies the descriptor table: the child's descriptors refer to the
 * same open file descriptions as the parent's (same pipe, same file
 * offset).  exec() keeps every descriptor except those marked
 * close-on-exec (FD_CLOEXEC, set by O_CLOEXEC / pipe2(O_CLOEXEC)).
 *
 * The program opens a file and two pipes, one of them close-on-exec, forks,
 * and lists the descriptors above 2 in the parent, in the child after
 * fork(), and in the child after it exec()s this same program again.
 * Then it shows that parent and child share the file's offset.
 */
#include <sys/types.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
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

/* Print every open descriptor above 2: what it is, how it is open. */
static void
list_fds(const char *who)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fd, max = -1;

	if (d == NULL)
		die("opendir /proc/self/fd");
	while ((e = readdir(d)) != NULL)	/* find the highest first */
		if ((fd = atoi(e->d_name)) > max && fd != dirfd(d))
			max = fd;
	closedir(d);

	printf("%s:\n", who);
	for (fd = 3; fd <= max; fd++) {
		char link[64], target[256];
		int fl, fdfl;
		ssize_t n;

		if ((fdfl = fcntl(fd, F_GETFD)) == -1)
			continue;			/* not open */
		fl = fcntl(fd, F_GETFL);
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		if ((n = readlink(link, target, sizeof(target) - 1)) == -1)
			die("readlink");
		target[n] = '\0';
		printf("  fd %d: %s%s%s\n", fd,
		    strncmp(target, "pipe:", 5) == 0 ? "pipe" : basename(target),
		    (fl & O_ACCMODE) == O_RDONLY ? ", read end" :
		    (fl & O_ACCMODE) == O_WRONLY ? ", write end" : ", read-write",
		    (fdfl & FD_CLOEXEC) ? ", close-on-exec" : "");
	}
}

int
main(int argc, char *argv[])
{
	char path[4096], buf[64];
	int file, plain[2], cloexec[2], status;
	ssize_t n;
	pid_t pid;

	if (argc > 1 && strcmp(argv[1], "--after-exec") == 0) {
		list_fds("child after exec");
		return 0;
	}
	/* Line buffering: a fork() must not find unwritten output to copy. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	snprintf(path, sizeof(path), "%s/shared.txt", argc > 1 ? argv[1] : ".");
	if ((file = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		die(path);
	if (pipe(plain) == -1)
		die("pipe");
	if (pipe2(cloexec, O_CLOEXEC) == -1)
		die("pipe2");
	list_fds("parent");

	switch (pid = fork()) {
	case -1:
		die("fork");
	case 0:
		list_fds("child after fork");
		if (write(file, "child\n", 6) != 6)
			die("write");
		execl("/proc/self/exe", argv[0], "--after-exec", (char *)NULL);
		die("execl");
	}
	if (waitpid(pid, &status, 0) == -1)
		die("waitpid");

	/* The child wrote through its copy of the descriptor: same offset. */
	printf("parent: the child wrote 6 bytes; my offset is now %lld\n",
	    (long long)lseek(file, 0, SEEK_CUR));
	if (write(file, "parent\n", 7) != 7)
		die("write");
	close(file);
	if ((file = open(path, O_RDONLY)) == -1)
		die(path);
	if ((n = read(file, buf, sizeof(buf) - 1)) == -1)
		die("read");
	buf[n] = '\0';
	printf("parent: shared.txt holds \"");
	for (char *p = buf; *p != '\0'; p++)
		if (*p == '\n')
			fputs("\\n", stdout);
		else
			putchar(*p);
	printf("\"\n");
	return 0;
}
