/*
 * guard.c - run one lesson program the way the checks need it run.
 *
 *   guard -t SECONDS -r REPORT -- PROGRAM [ARG...]
 *
 * - In a private IPC namespace when run as root (unshare(CLONE_NEWIPC)):
 *   the program sees no other program's segments, and whatever it leaves
 *   behind is seen here and freed by the kernel when the namespace goes.
 *   Otherwise, segments of this uid that appeared during the run and are
 *   attached by nobody count as left behind (and are removed).
 * - As a child subreaper (PR_SET_CHILD_SUBREAPER): every process the
 *   program orphans is re-parented to the guard, so a zombie it never
 *   waited for, or a child still running after it exited, shows up here.
 * - The program starts with descriptors 0, 1, 2 only, every signal at its
 *   default disposition and none blocked, in its own process group.
 * - After SECONDS the whole process group is killed (exit status 124).
 *
 * Leftovers are written to REPORT, one line each; REPORT stays empty when
 * there are none.  After a timeout, the first line says so, and the
 * processes killed with the program are listed as such.  The exit status is the program's: its exit code, or
 * 128 + the signal that killed it, or 124 on timeout.
 */
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXSEGS 4096

static FILE *report;

_Noreturn static void
die(const char *what)
{
	fprintf(stderr, "guard: %s: %s\n", what, strerror(errno));
	exit(125);
}

/* The shmids in /proc/sysvipc/shm, with their cuid and nattch. */
struct seg {
	long key;
	int shmid;
	unsigned long size;
	unsigned long nattch;
	unsigned cuid;
};

static int
read_segs(struct seg *v, int max)
{
	FILE *f = fopen("/proc/sysvipc/shm", "r");
	char line[512];
	int n = 0;

	if (f == NULL)
		die("/proc/sysvipc/shm");
	if (fgets(line, sizeof(line), f) == NULL) {	/* header */
		fclose(f);
		return 0;
	}
	while (n < max && fgets(line, sizeof(line), f) != NULL) {
		unsigned perms, cpid, lpid, uid, gid, cuid;
		struct seg *s = &v[n];

		if (sscanf(line, "%ld %d %o %lu %u %u %lu %u %u %u", &s->key,
		    &s->shmid, &perms, &s->size, &cpid, &lpid, &s->nattch,
		    &uid, &gid, &cuid) == 10) {
			s->cuid = cuid;
			n++;
		}
	}
	fclose(f);
	return n;
}

/* Read field 3 (state) and 4 (ppid) of /proc/PID/stat, and comm. */
static int
proc_stat(pid_t pid, char *state, pid_t *ppid, char *comm, size_t commlen)
{
	char path[64], buf[512], *open, *close;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	open = strchr(buf, '(');
	close = strrchr(buf, ')');
	if (open == NULL || close == NULL || close[1] == '\0')
		return -1;
	*close = '\0';
	snprintf(comm, commlen, "%s", open + 1);
	if (sscanf(close + 2, "%c %d", state, ppid) != 2)
		return -1;
	return 0;
}

/*
 * Report, kill and reap every child the guard has now (each one an orphan
 * of the program), until none is left.  Killing a stray may orphan its own
 * children, which then come to us: hence the rounds.
 */
static int
sweep_children(int timed_out)
{
	pid_t seen[256];
	int nseen = 0, round, found = 0;

	for (round = 0; round < 100; round++) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		int any = 0;

		if (d == NULL)
			die("/proc");
		while ((e = readdir(d)) != NULL) {
			char state, comm[64];
			pid_t pid = (pid_t)atoi(e->d_name), ppid;
			int i, old = 0;

			if (pid <= 0 || proc_stat(pid, &state, &ppid, comm,
			    sizeof(comm)) < 0 || ppid != getpid())
				continue;
			any = 1;
			for (i = 0; i < nseen; i++)
				old |= seen[i] == pid;
			if (!old) {
				if (nseen < 256)
					seen[nseen++] = pid;
				found++;
				if (timed_out)
					fprintf(report, "process killed at the "
					    "time limit: %s\n", comm);
				else if (state == 'Z')
					fprintf(report, "process left behind: %s "
					    "(a zombie: its parent never waited for "
					    "it)\n", comm);
				else
					fprintf(report, "process left behind: %s "
					    "(still running after the program "
					    "ended; killed)\n", comm);
			}
			kill(pid, SIGKILL);
		}
		closedir(d);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!any)
			break;
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	return found;
}

int
main(int argc, char *argv[])
{
	static struct seg before[MAXSEGS], after[MAXSEGS];
	const char *report_path = NULL;
	int secs = 10, opt, ns = 0, nbefore = 0, nafter, i, j, pidfd;
	int status, timed_out = 0;
	pid_t pid;
	struct pollfd pfd;

	while ((opt = getopt(argc, argv, "+t:r:")) != -1) {
		switch (opt) {
		case 't': secs = atoi(optarg); break;
		case 'r': report_path = optarg; break;
		default: goto usage;
		}
	}
	if (optind >= argc || report_path == NULL || secs <= 0) {
usage:
		fprintf(stderr, "usage: guard -t SECONDS -r REPORT -- PROGRAM "
		    "[ARG...]\n");
		return 125;
	}
	if ((report = fopen(report_path, "w")) == NULL)
		die(report_path);
	setvbuf(report, NULL, _IOLBF, 0);

	if (geteuid() == 0 && getenv("STUDY_NO_IPCNS") == NULL) {
		if (unshare(CLONE_NEWIPC) == 0)
			ns = 1;
		else
			fprintf(stderr, "guard: unshare(CLONE_NEWIPC): %s: "
			    "checking segments globally\n", strerror(errno));
	}
	if (!ns)
		nbefore = read_segs(before, MAXSEGS);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		die("prctl(PR_SET_CHILD_SUBREAPER)");

	switch (pid = fork()) {
	case -1:
		die("fork");
	case 0: {
		sigset_t none;
		int sig;

		for (sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);	/* EINVAL for some: fine */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		if (close_range(3, ~0U, 0) == -1)
			die("close_range");
		execv(argv[optind], &argv[optind]);
		fprintf(stderr, "guard: exec %s: %s\n", argv[optind],
		    strerror(errno));
		_exit(127);
	}
	}
	setpgid(pid, pid);	/* also here: no race with kill(-pid) */

	if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		die("pidfd_open");
	pfd.fd = pidfd;
	pfd.events = POLLIN;
	for (;;) {
		int r = poll(&pfd, 1, secs * 1000);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			die("poll");
		if (r == 0) {
			timed_out = 1;
			fprintf(report, "timed out after %d s: killed\n", secs);
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
		}
		break;
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			die("waitpid");
	close(pidfd);

	sweep_children(timed_out);

	nafter = read_segs(after, MAXSEGS);
	for (i = 0; i < nafter; i++) {
		int old = 0;

		for (j = 0; j < nbefore; j++)
			old |= before[j].shmid == after[i].shmid;
		if (!ns && (old || after[i].cuid != getuid() ||
		    after[i].nattch != 0))
			continue;
		fprintf(report, "segment left behind: key 0x%08lx, %lu bytes, "
		    "%lu attached%s\n", after[i].key & 0xffffffffL,
		    after[i].size, after[i].nattch,
		    ns ? "" : " (removed now)");
		if (!ns)
			shmctl(after[i].shmid, IPC_RMID, NULL);
	}
	fclose(report);

	if (timed_out)
		return 124;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
