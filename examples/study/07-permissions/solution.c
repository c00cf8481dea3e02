/*
 * 07 who may attach a segment: 0600 against 0666 (solution)
 *
 *   sudo ./solution [DIR]       (it switches a child to user nobody)
 *
 * A segment's mode bits work like a file's: read to attach read-only
 * and to IPC_STAT, read+write to attach for writing.  shmget() checks
 * only the access asked for in its flags' low bits (0 asks for none):
 * the check that counts is shmat()'s.  The seeds create
 * everything 0666: then every local user can read the segment and write
 * into it, and a server would trust what a stranger wrote.  0600 lets in
 * the owner only.  Removing a segment (IPC_RMID) or changing it (IPC_SET)
 * takes more than a mode bit: being its owner or creator.
 *
 * root is not held back by any of it: CAP_IPC_OWNER skips the mode check
 * and CAP_SYS_ADMIN lets it remove anything.  Tests run as root prove
 * nothing about permissions unless they switch to another user, as here.
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEGSIZE 4096

_Noreturn static void
die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(1);
}

/* "ok" or the errno's name, for a call that returns -1 on failure. */
static const char *
outcome(long r)
{
	return r == -1 ? strerrorname_np(errno) : "ok";
}

static const char *
at_outcome(void *p)
{
	return p == (void *)-1 ? strerrorname_np(errno) : "ok";
}

static int
create(key_t key, int mode)
{
	int id = shmget(key, SEGSIZE, IPC_CREAT | IPC_EXCL | mode);

	if (id == -1)
		die("shmget");
	return id;
}

/* The child, as user nobody: try everything on both segments. */
static void
as_nobody(key_t key600, key_t key666, int id600, int id666, int report)
{
	struct shmid_ds ds;
	char *p;
	int mine;

	/* shmget() checks the access its flags ask for: 0 asks for none. */
	printf("nobody: shmget(0600 key, 0, 0): %s\n",
	    outcome(shmget(key600, 0, 0)));
	printf("nobody: shmget(0600 key, 0, 0600): %s\n",
	    outcome(shmget(key600, 0, 0600)));
	printf("nobody: shmat(0600 segment): %s\n",
	    at_outcome(shmat(id600, NULL, 0)));
	printf("nobody: shmctl(0600 segment, IPC_STAT): %s\n",
	    outcome(shmctl(id600, IPC_STAT, &ds)));

	printf("nobody: shmget(0666 key, 0, 0600): %s\n",
	    outcome(shmget(key666, 0, 0600)));
	p = shmat(id666, NULL, 0);
	printf("nobody: shmat(0666 segment): %s\n", at_outcome(p));
	if (p != (void *)-1) {
		printf("nobody: it reads \"%s\", and writes over it\n", p);
		snprintf(p, SEGSIZE, "nobody was here");
		shmdt(p);
	}
	printf("nobody: shmctl(0666 segment, IPC_RMID): %s\n",
	    outcome(shmctl(id666, IPC_RMID, NULL)));

	/* A segment of nobody's own, 0600, for root to try. */
	mine = shmget(IPC_PRIVATE, SEGSIZE, IPC_CREAT | 0600);
	printf("nobody: created a 0600 segment of its own: %s\n", outcome(mine));
	if (write(report, &mine, sizeof(mine)) != sizeof(mine))
		die("write");
}

int
main(int argc, char *argv[])
{
	struct passwd *pw;
	struct shmid_ds ds;
	char path[4096], *p;
	int fd, id600, id666, theirs = -1, report[2], status;
	key_t key600, key666;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		fprintf(stderr, "%s: run me as root: I switch a child to user "
		    "nobody\n", argv[0]);
		return 2;
	}
	if ((pw = getpwnam("nobody")) == NULL)
		die("getpwnam nobody");

	snprintf(path, sizeof(path), "%s/keyfile", argc > 1 ? argv[1] : ".");
	if ((fd = open(path, O_RDONLY | O_CREAT, 0600)) == -1)
		die(path);
	close(fd);
	if ((key600 = ftok(path, 'P')) == -1 || (key666 = ftok(path, 'Q')) == -1)
		die("ftok");

	id600 = create(key600, 0600);
	id666 = create(key666, 0666);
	if ((p = shmat(id666, NULL, 0)) == (void *)-1)
		die("shmat");
	snprintf(p, SEGSIZE, "root's data");
	printf("root: created a 0600 segment and a 0666 one (the seeds' mode)\n");

	if (pipe(report) == -1)
		die("pipe");
	switch (pid = fork()) {
	case -1:
		die("fork");
	case 0:
		/* Groups first, then gid, then uid: after setuid() we could
		 * no longer change the others. */
		if (setgroups(0, NULL) == -1 || setgid(pw->pw_gid) == -1 ||
		    setuid(pw->pw_uid) == -1)
			die("dropping to nobody");
		printf("nobody: uid %d, gid %d, no supplementary groups\n",
		    (int)getuid(), (int)getgid());
		as_nobody(key600, key666, id600, id666, report[1]);
		_exit(0);
	}
	close(report[1]);
	if (read(report[0], &theirs, sizeof(theirs)) != sizeof(theirs))
		theirs = -1;
	close(report[0]);
	if (waitpid(pid, &status, 0) == -1)
		die("waitpid");

	printf("root: the 0666 segment now reads \"%s\"\n", p);
	shmdt(p);

	if (theirs != -1) {
		if (shmctl(theirs, IPC_STAT, &ds) == -1)
			die("shmctl IPC_STAT");
		printf("root: nobody's segment: owner uid %d, mode %04o\n",
		    (int)ds.shm_perm.uid, (unsigned)(ds.shm_perm.mode & 0777));
		p = shmat(theirs, NULL, 0);
		printf("root: shmat(nobody's 0600 segment): %s (CAP_IPC_OWNER "
		    "skips the mode check)\n", at_outcome(p));
		if (p != (void *)-1)
			shmdt(p);
		printf("root: shmctl(nobody's segment, IPC_RMID): %s\n",
		    outcome(shmctl(theirs, IPC_RMID, NULL)));
	}
	if (shmctl(id600, IPC_RMID, NULL) == -1 ||
	    shmctl(id666, IPC_RMID, NULL) == -1)
		die("shmctl IPC_RMID");
	return 0;
}
