/*
 * 09 shmat(), shmdt(), and every field of IPC_STAT (solution)
 *
 *   ./solution [DIR]        key from ftok(DIR/keyfile, 'T')
 *
 * The kernel keeps a struct shmid_ds per segment; shmctl(IPC_STAT)
 * copies it out.  The program prints it whole once, then what changes
 * as the segment is attached, inherited by fork(), dropped by exec(),
 * detached, changed with IPC_SET, attached read-only.
 *
 *   fork()   the child inherits every attachment: nattch + 1
 *   exec()   drops every attachment, as exit() does: nattch - 1
 *   shmdt()  drops one attachment; the segment stays (IPC_RMID removes)
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pid_t child;	/* to name pids: "(me)", "(child)" */

_Noreturn static void
die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(1);
}

static const char *
who(pid_t pid)
{
	return pid == 0 ? "(none)" : pid == getpid() ? "(me)" :
	    pid == child ? "(child)" : "(?)";
}

static const char *
when(time_t t)
{
	return t == 0 ? "(never)" : llabs((long long)(time(NULL) - t)) <= 2 ?
	    "(now)" : "(?)";
}

static void
get_stat(int id, struct shmid_ds *ds)
{
	if (shmctl(id, IPC_STAT, ds) == -1)
		die("shmctl IPC_STAT");
}

/* Every field of struct shmid_ds. */
static void
print_stat(int id, const char *title)
{
	struct shmid_ds ds;

	get_stat(id, &ds);
	printf("%s:\n", title);
	printf("  shm_perm.__key  0x%08x\n", (unsigned)ds.shm_perm.__key);
	printf("  shm_perm.uid    %d  (owner)\n", (int)ds.shm_perm.uid);
	printf("  shm_perm.gid    %d\n", (int)ds.shm_perm.gid);
	printf("  shm_perm.cuid   %d  (creator)\n", (int)ds.shm_perm.cuid);
	printf("  shm_perm.cgid   %d\n", (int)ds.shm_perm.cgid);
	printf("  shm_perm.mode   %04o\n", (unsigned)ds.shm_perm.mode);
	printf("  shm_perm.__seq  %u\n", (unsigned)ds.shm_perm.__seq);
	printf("  shm_segsz       %zu\n", (size_t)ds.shm_segsz);
	printf("  shm_atime       %lld %s\n", (long long)ds.shm_atime,
	    when(ds.shm_atime));
	printf("  shm_dtime       %lld %s\n", (long long)ds.shm_dtime,
	    when(ds.shm_dtime));
	printf("  shm_ctime       %lld %s\n", (long long)ds.shm_ctime,
	    when(ds.shm_ctime));
	printf("  shm_cpid        %d %s\n", (int)ds.shm_cpid, who(ds.shm_cpid));
	printf("  shm_lpid        %d %s\n", (int)ds.shm_lpid, who(ds.shm_lpid));
	printf("  shm_nattch      %lu\n", (unsigned long)ds.shm_nattch);
}

/* One line: what attach/detach events change. */
static void
print_change(int id, const char *event)
{
	struct shmid_ds ds;

	get_stat(id, &ds);
	printf("%-26s nattch %lu, lpid %d %s, atime %s, dtime %s\n", event,
	    (unsigned long)ds.shm_nattch, (int)ds.shm_lpid, who(ds.shm_lpid),
	    when(ds.shm_atime), when(ds.shm_dtime));
}

/*
 * What the child runs after exec(): report its attachments (none are
 * left), tell the parent, and wait until the parent closes the pipe.
 */
static int
exec_child(int ready, int hold)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[512], c;
	int sysv = 0;

	if (maps == NULL)
		die("/proc/self/maps");
	while (fgets(line, sizeof(line), maps) != NULL)
		sysv += strstr(line, "/SYSV") != NULL;
	fclose(maps);
	printf("exec'd child: %d SysV mappings in /proc/self/maps\n", sysv);
	if (write(ready, "r", 1) != 1)
		die("write");
	while (read(hold, &c, 1) > 0)
		;
	return 0;
}

int
main(int argc, char *argv[])
{
	char path[4096], arg1[16], arg2[16], c;
	struct shmid_ds ds;
	struct passwd *pw;
	int fd, id, go[2], ready[2], hold[2], status;
	key_t key;
	char *p;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && strcmp(argv[1], "--exec-child") == 0)
		return exec_child(atoi(argv[2]), atoi(argv[3]));

	snprintf(path, sizeof(path), "%s/keyfile", argc > 1 ? argv[1] : ".");
	if ((fd = open(path, O_RDONLY | O_CREAT, 0600)) == -1)
		die(path);
	close(fd);
	if ((key = ftok(path, 'T')) == -1)
		die("ftok");
	if ((id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600)) == -1)
		die("shmget");
	printf("shmget(0x%08x, 4096, IPC_CREAT | IPC_EXCL | 0600) = shmid %d, "
	    "by pid %d (me)\n", (unsigned)key, id, (int)getpid());
	print_stat(id, "IPC_STAT after shmget");

	if ((p = shmat(id, NULL, 0)) == (void *)-1)
		die("shmat");
	print_change(id, "after shmat:");

	/* go: the parent looks before the child execs; ready: after it
	 * exec'd; hold: the exec'd child waits for the parent to close it. */
	if (pipe2(go, O_CLOEXEC) == -1 || pipe(ready) == -1 || pipe(hold) == -1)
		die("pipe");
	switch (child = fork()) {
	case -1:
		die("fork");
	case 0:
		close(ready[0]);
		close(hold[1]);
		close(go[1]);
		if (read(go[0], &c, 1) == -1)	/* 0: end of file, go */
			die("read");
		snprintf(arg1, sizeof(arg1), "%d", ready[1]);
		snprintf(arg2, sizeof(arg2), "%d", hold[0]);
		execl("/proc/self/exe", argv[0], "--exec-child", arg1, arg2,
		    (char *)NULL);
		die("execl");
	}
	close(ready[1]);
	close(hold[0]);
	close(go[0]);
	print_change(id, "after fork:");
	close(go[1]);
	if (read(ready[0], &c, 1) != 1)		/* the child has exec'd */
		die("read");
	print_change(id, "after the child's exec:");
	close(hold[1]);
	if (waitpid(child, &status, 0) == -1)
		die("waitpid");
	print_change(id, "after the child's exit:");

	if (shmdt(p) == -1)
		die("shmdt");
	print_change(id, "after shmdt:");

	/* IPC_SET: a new owner and mode; the creator stays the creator. */
	pw = getpwnam("nobody");
	get_stat(id, &ds);
	ds.shm_perm.uid = pw != NULL ? pw->pw_uid : 65534;
	ds.shm_perm.mode = 0640;
	if (shmctl(id, IPC_SET, &ds) == -1)
		die("shmctl IPC_SET");
	get_stat(id, &ds);
	printf("after IPC_SET: owner uid %d, creator uid %d, mode %04o, "
	    "ctime %s\n", (int)ds.shm_perm.uid, (int)ds.shm_perm.cuid,
	    (unsigned)ds.shm_perm.mode, when(ds.shm_ctime));

	/* Read-only attachment: a write is a SIGSEGV. */
	switch (child = fork()) {
	case -1:
		die("fork");
	case 0:
		setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
		if ((p = shmat(id, NULL, SHM_RDONLY)) == (void *)-1)
			die("shmat SHM_RDONLY");
		printf("child: attached SHM_RDONLY, reads byte 0 = %d, then "
		    "writes it\n", p[0]);
		p[0] = 1;
		_exit(0);
	}
	if (waitpid(child, &status, 0) == -1)
		die("waitpid");
	if (WIFSIGNALED(status))
		printf("the child was killed by SIG%s\n",
		    sigabbrev_np(WTERMSIG(status)));
	else
		printf("the child was not killed\n");

	/* The creator may remove it, though it no longer owns it. */
	if (shmctl(id, IPC_RMID, NULL) == -1)
		die("shmctl IPC_RMID");
	printf("IPC_RMID by the creator: done\n");
	return 0;
}
