/*
 * 10 IPC_RMID while attached; key against shmid; ipcs and ipcrm (exercise)
 *
 *   ./exercise [DIR]        key from ftok(DIR/keyfile, 'R')
 *
 * The key is the name processes agree on; the shmid is the kernel's
 * handle for one segment, valid in every process (not only the one that
 * called shmget(), whatever seed 000 says): ipcrm -m takes it straight.
 *
 * IPC_RMID does not free a segment that is still attached.  It marks it
 * SHM_DEST (mode bit 01000, "dest" in ipcs) and sets its key to
 * IPC_PRIVATE (0): the key is free at once, a new shmget() with it makes
 * a new segment, while the old one lives on for the processes attached
 * to it, until the last one detaches or dies.  (It is the key that
 * becomes 0, not the shmid, as seed 002 says.)  Linux, unlike other
 * systems, still lets a process shmat() it by shmid meanwhile.
 *
 * So the safe pattern, forkboard's and nginx's: IPC_RMID right after the
 * last process that needs to attach has attached.  From then on no crash
 * can leak the segment.
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

_Noreturn static void
die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(1);
}

/* What IPC_STAT says, in one line. */
static void
show(const char *when, int id)
{
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds) == -1) {
		printf("%s: IPC_STAT shmid %d: %s\n", when, id,
		    strerrorname_np(errno));
		return;
	}
	printf("%s: shmid %d, key 0x%08x, mode %04o%s, nattch %lu\n", when,
	    id, (unsigned)ds.shm_perm.__key, (unsigned)ds.shm_perm.mode,
	    (ds.shm_perm.mode & SHM_DEST) ? " (SHM_DEST)" : "",
	    (unsigned long)ds.shm_nattch);
}

/* The segment's line in `ipcs -m`, without the owner's name. */
static void
show_ipcs(int id)
{
	char line[256], key[32], owner[64], perms[16], status[16];
	unsigned long bytes, nattch;
	int sid, found = 0;
	FILE *f = popen("ipcs -m", "r");

	if (f == NULL)
		die("popen ipcs");
	while (fgets(line, sizeof(line), f) != NULL) {
		status[0] = '\0';
		if (sscanf(line, "%31s %d %63s %15s %lu %lu %15s", key, &sid,
		    owner, perms, &bytes, &nattch, status) >= 6 && sid == id) {
			printf("  ipcs -m: key %s, shmid %d, perms %s, bytes %lu, "
			    "nattch %lu, status %s\n", key, sid, perms, bytes,
			    nattch, status[0] ? status : "(none)");
			found = 1;
		}
	}
	if (pclose(f) != 0)
		die("ipcs -m failed");
	if (!found)
		printf("  ipcs -m: shmid %d is not listed\n", id);
}

/* Run a command, wait for it: 0 if it exited 0. */
static int
run(char *const argv[])
{
	int status;
	pid_t pid;

	if ((errno = posix_spawnp(&pid, argv[0], NULL, NULL, argv,
	    environ)) != 0)
		die(argv[0]);
	if (waitpid(pid, &status, 0) == -1)
		die("waitpid");
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* IPC_RMID while this process and a child are attached. */
static void
rmid_while_attached(key_t key)
{
	int id, id2, go[2], status;
	char *p, *q, c;
	pid_t pid;

	if ((id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600)) == -1)
		die("shmget");
	if ((p = shmat(id, NULL, 0)) == (void *)-1)
		die("shmat");
	snprintf(p, 4096, "still here");
	if (pipe(go) == -1)
		die("pipe");
	switch (pid = fork()) {
	case -1:
		die("fork");
	case 0:		/* inherits the attachment; reads once told to */
		close(go[1]);
		if (read(go[0], &c, 1) == -1)
			die("read");
		printf("child: the segment still reads \"%s\"\n", p);
		_exit(0);
	}
	close(go[0]);
	show("before IPC_RMID", id);
	show_ipcs(id);

	if (shmctl(id, IPC_RMID, NULL) == -1)
		die("shmctl IPC_RMID");
	show("after IPC_RMID", id);
	show_ipcs(id);

	printf("shmget(key, 0, 0): %s: the key is free\n",
	    shmget(key, 0, 0) == -1 ? strerrorname_np(errno) : "found it");
	if ((id2 = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600)) == -1)
		die("shmget");
	printf("shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600): shmid %d, "
	    "a new segment\n", id2);
	if (shmctl(id2, IPC_RMID, NULL) == -1)
		die("shmctl IPC_RMID");

	q = shmat(id, NULL, 0);
	printf("shmat(shmid %d) after IPC_RMID: %s\n", id,
	    q == (void *)-1 ? strerrorname_np(errno) : "ok (Linux only)");
	show("attached again", id);
	if (q != (void *)-1 && shmdt(q) == -1)
		die("shmdt");

	close(go[1]);		/* child: read now */
	if (waitpid(pid, &status, 0) == -1)
		die("waitpid");
	show("after the child's exit", id);
	if (shmdt(p) == -1)
		die("shmdt");
	show("after the last shmdt", id);
	show_ipcs(id);
}

/* ipcrm: by key (-M), and by shmid (-m) from another process. */
static void
with_ipcrm(key_t key)
{
	char arg[32];
	int id;

	if ((id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600)) == -1)
		die("shmget");
	snprintf(arg, sizeof(arg), "0x%08x", (unsigned)key);
	printf("ipcrm -M KEY: %s\n", run((char *[]){ "ipcrm", "-M", arg, NULL })
	    == 0 ? "removed" : "failed");
	show("after ipcrm -M", id);

	if ((id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600)) == -1)
		die("shmget");
	snprintf(arg, sizeof(arg), "%d", id);
	printf("ipcrm -m %d: %s\n", id, run((char *[]){ "ipcrm", "-m", arg,
	    NULL }) == 0 ? "removed" : "failed");
	show("after ipcrm -m", id);
}

/*
 * A segment no crash can leak: a child uses it, and is killed; then
 * this process dies too, without cleaning anything up.
 */
_Noreturn static void
crash_proof(void)
{
	int id, status;
	char *p;
	pid_t pid;

	if ((id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600)) == -1)
		die("shmget");
	if ((p = shmat(id, NULL, 0)) == (void *)-1)
		die("shmat");
	/*
	 * TODO: this process is about to die without cleaning up, and the
	 * segment would outlive it (see it with ipcs -m after a run, then
	 * remove it with ipcrm).  Make the kernel free it by itself once
	 * nobody is attached, whatever happens.  When may you do that?
	 */
	switch (pid = fork()) {
	case -1:
		die("fork");
	case 0:
		snprintf(p, 4096, "work in progress");
		pause();
		_exit(0);
	}
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) == -1)
		die("waitpid");
	printf("crash: the child was killed, and now this process dies "
	    "without cleaning up\n");
	_exit(0);
}

int
main(int argc, char *argv[])
{
	char path[4096];
	key_t key;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(path, sizeof(path), "%s/keyfile", argc > 1 ? argv[1] : ".");
	if ((fd = open(path, O_RDONLY | O_CREAT, 0600)) == -1)
		die(path);
	close(fd);
	if ((key = ftok(path, 'R')) == -1)
		die("ftok");
	printf("key 0x%08x\n", (unsigned)key);

	rmid_while_attached(key);
	with_ipcrm(key);
	crash_proof();
}
