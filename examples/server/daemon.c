/*
 * daemon.c - daemon mode: pidfile, detaching, dropping privileges.
 *
 * The pidfile is libbsd's pidfile_open(3): it is locked with flock for as
 * long as the server runs, so a second instance finds it locked and names
 * the pid in it instead of starting.  The order in main() is: bind
 * sockets, open the pidfile, detach (-d), drop privileges (-u), start the
 * pool (the board and the workers then belong to the unprivileged user),
 * write the pidfile.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libutil.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server.h"

static struct pidfh *pfh;
static uid_t uid;
static gid_t gid;
static int have_user;
static char uname[64];

int
daemon_pidfile_open(const char *path)
{
	pid_t other = -1;

	if (path == NULL)
		return 0;
	if ((pfh = pidfile_open(path, 0644, &other)) == NULL) {
		if (errno == EEXIST)
			fprintf(stderr, "%s: already running, pid %d (pidfile "
			    "%s)\n", FBS_NAME, (int)other, path);
		else
			fprintf(stderr, "%s: pidfile %s: %s\n", FBS_NAME, path,
			    strerror(errno));
		return -1;
	}
	return 0;
}

int
daemon_pidfile_write(void)
{
	if (pfh != NULL && pidfile_write(pfh) == -1) {
		log_err("pidfile: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void
daemon_pidfile_remove(void)
{
	if (pfh != NULL)
		pidfile_remove(pfh);
	pfh = NULL;
}

/* Fork, let the parent go, new session, stdio on /dev/null. */
int
daemon_detach(void)
{
	pid_t pid;
	int fd;

	fflush(NULL);
	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		return -1;
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	if (chdir("/") == -1)
		return -1;
	return 0;
}

int
daemon_lookup_user(const char *user)
{
	struct passwd *pw;

	if (user == NULL)
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		fprintf(stderr, "%s: unknown user '%s'\n", FBS_NAME, user);
		return -1;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	strlcpy(uname, user, sizeof(uname));
	have_user = 1;
	return 0;
}

int
daemon_has_user(void)
{
	return have_user;
}

uid_t
daemon_uid(void)
{
	return uid;
}

gid_t
daemon_gid(void)
{
	return gid;
}

/* Drop to the -u user for good: groups, gid, uid, and check it stuck. */
int
daemon_drop(void)
{
	if (!have_user)
		return 0;
	/* The pidfile goes to the user, who must remove it at exit. */
	if (pfh != NULL && fchown(pidfile_fileno(pfh), uid, gid) == -1) {
		fprintf(stderr, "%s: pidfile: %s\n", FBS_NAME, strerror(errno));
		return -1;
	}
	if (initgroups(uname, gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		fprintf(stderr, "%s: cannot become %s: %s\n", FBS_NAME, uname,
		    strerror(errno));
		return -1;
	}
	if (uid != 0 && (setuid(0) != -1 || geteuid() == 0)) {
		fprintf(stderr, "%s: could regain root after dropping to %s\n",
		    FBS_NAME, uname);
		return -1;
	}
	return 0;
}
