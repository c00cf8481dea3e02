/*
 * 04 the seed's pipe pool and its shutdown hang (exercise)
 *
 *   ./exercise
 *
 * The master creates one pipe per worker and forks the worker, which
 * reads 4-byte task codes from its pipe until end of file.  In the seed
 * (004, section 4.2) each child closes the write end of its own pipe only:
 * it still holds every write end the master had open when it forked, that
 * is those of all earlier channels.  Shutting down as "close channel i,
 * wait for worker i" then hangs at worker 0: later workers keep channel
 * 0 open for writing, so worker 0 never reads end of file.
 *
 * Every hang below is bounded: the master looks in /proc/PID/fd of every
 * worker for who holds the channel's write end; when the same workers
 * hold it for WAIT_MS, it prints them and cleans up.  Fixes tried:
 *   1. pipes made O_CLOEXEC: no exec() happens, so nothing changes;
 *   2. shut down last worker first (in the seed, commented out): works
 *      until a worker is respawned, and the new one holds later channels;
 *   3. close every channel, then wait (also in the seed): works for a
 *      shutdown, but a single worker still cannot be retired;
 *   4. each child closes every write end it inherited: works in any
 *      order, after respawns, for one worker or all.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NWORKERS 3
#define WAIT_MS 300	/* then look for who keeps the pipe open */
#define TASKS 2		/* per worker */

enum fix { SEED, CLOEXEC, CHILD_CLOSES };

struct channel {
	int wfd;	/* the master's write end, -1 once closed */
	ino_t ino;	/* the pipe's inode, to recognise it in /proc */
	pid_t pid;	/* its worker, 0 once reaped */
};

static struct channel ch[NWORKERS];
static int ready[2];	/* each new worker writes one byte when set up */

_Noreturn static void
die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(1);
}

/* Does process pid hold a write end of the pipe with inode ino? */
static int
holds_write_end(pid_t pid, ino_t ino)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		return 0;			/* gone */
	while (!found && (e = readdir(d)) != NULL) {
		char link[64], info[64], line[128];
		struct stat st;
		FILE *f;
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
		if (stat(link, &st) == -1 || !S_ISFIFO(st.st_mode) ||
		    st.st_ino != ino)
			continue;
		snprintf(info, sizeof(info), "/proc/%d/fdinfo/%d", (int)pid, fd);
		if ((f = fopen(info, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL) {
			unsigned flags;

			if (sscanf(line, "flags: %o", &flags) == 1 &&
			    (flags & O_ACCMODE) == O_WRONLY)
				found = 1;
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

/* "worker 1 holds write ends of: channel 0" */
static void
show_holdings(void)
{
	for (int w = 0; w < NWORKERS; w++) {
		int any = 0;

		printf("  worker %d holds write ends of:", w);
		for (int c = 0; c < NWORKERS; c++)
			if (holds_write_end(ch[w].pid, ch[c].ino)) {
				printf("%s channel %d", any ? "," : "", c);
				any = 1;
			}
		printf("%s\n", any ? "" : " none");
	}
}

/* "channel 0 is still open for writing in: worker 1, worker 2" */
static void
show_holders(int c)
{
	int any = 0;

	printf("    channel %d is still open for writing in:", c);
	for (int w = 0; w < NWORKERS; w++)
		if (ch[w].pid != 0 && holds_write_end(ch[w].pid, ch[c].ino)) {
			printf("%s worker %d", any ? "," : "", w);
			any = 1;
		}
	printf("%s\n", any ? "" : " nobody");
}

/* The worker: run tasks until end of file; exit with how many it ran. */
_Noreturn static void
worker(int rfd)
{
	int code, ran = 0;

	while (read(rfd, &code, sizeof(code)) == sizeof(code))
		ran++;
	_exit(ran);
}

/*
 * TODO (fix 4): close every write end this child inherited from the
 * master.  They are in ch[c].wfd (-1 once the master closed one); the
 * child's own channel, ch[self], is not filled in yet.  Why every one,
 * and not only those of earlier channels?  Think of a respawned worker 0.
 */
static void
close_inherited(int self)
{
	(void)self;
}

static void
spawn(int i, enum fix fix)
{
	struct stat st;
	int p[2];
	pid_t pid;

	if (pipe2(p, fix == CLOEXEC ? O_CLOEXEC : 0) == -1)
		die("pipe");
	if (fstat(p[1], &st) == -1)
		die("fstat");
	switch (pid = fork()) {
	case -1:
		die("fork");
	case 0:
		close(p[1]);			/* the seed does this much */
		if (fix == CHILD_CLOSES)
			close_inherited(i);
		/* Not part of the pool: tell the master our descriptors are
		 * set up, so that what it sees in /proc is the final state. */
		if (write(ready[1], "r", 1) != 1)
			_exit(127);
		close(ready[0]);
		close(ready[1]);
		worker(p[0]);
	}
	close(p[0]);
	if (read(ready[0], &(char){ 0 }, 1) != 1)
		die("read ready");
	ch[i] = (struct channel){ .wfd = p[1], .ino = st.st_ino, .pid = pid };
}

/* Has worker w exited?  Reap it if so. */
static int
reaped(int w, int *ran)
{
	int status;
	pid_t r = waitpid(ch[w].pid, &status, WNOHANG);

	if (r == -1)
		die("waitpid");
	if (r == 0)
		return 0;
	ch[w].pid = 0;
	*ran = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return 1;
}

/* Which workers hold a write end of channel c, as a bit mask. */
static unsigned
holders(int c)
{
	unsigned mask = 0;

	for (int o = 0; o < NWORKERS; o++)
		if (ch[o].pid != 0 && holds_write_end(ch[o].pid, ch[c].ino))
			mask |= 1u << o;
	return mask;
}

/*
 * Wait for worker w after its channel was closed.  It is hung when it
 * still runs while the same workers keep holding its channel's write end
 * for WAIT_MS: nobody is going to let go.  (If they are on their way out
 * themselves, as in a close-everything shutdown, the set shrinks and we
 * wait on; if nobody holds it, the worker is only slow.)
 */
static int
wait_worker(int w)
{
	unsigned last = ~0u, now;
	int ran, same_ms = 0;

	while (!reaped(w, &ran)) {
		if ((now = holders(w)) != last)
			same_ms = 0;
		last = now;
		if (now != 0 && same_ms >= WAIT_MS) {
			printf("hung: for %d ms nobody let go of channel %d\n",
			    WAIT_MS, w);
			show_holders(w);
			return 0;
		}
		if (same_ms >= 10000) {
			printf("still running after 10 s, though nobody holds "
			    "its channel?\n");
			return 0;
		}
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
		same_ms += 10;
	}
	printf("exited after %d tasks\n", ran);
	return 1;
}

static void
close_channel(int c)
{
	if (ch[c].wfd != -1) {
		close(ch[c].wfd);
		ch[c].wfd = -1;
	}
}

/* Whatever is left: close everything, kill what still hangs, reap. */
static void
clean_up(void)
{
	int ran, killed = 0;

	for (int c = 0; c < NWORKERS; c++)
		close_channel(c);
	for (int w = 0; w < NWORKERS; w++) {
		for (int ms = 0; ch[w].pid != 0 && ms < WAIT_MS; ms += 10) {
			if (reaped(w, &ran))
				break;
			nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
		}
		if (ch[w].pid != 0) {
			kill(ch[w].pid, SIGKILL);
			killed++;
			while (!reaped(w, &ran))
				nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
		}
	}
	if (killed)
		printf("  (cleaned up: %d workers had to be killed)\n", killed);
}

static void
start_pool(enum fix fix)
{
	for (int i = 0; i < NWORKERS; i++)
		ch[i].wfd = -1;
	for (int i = 0; i < NWORKERS; i++)
		spawn(i, fix);
	for (int t = 0; t < TASKS * NWORKERS; t++)	/* round robin */
		if (write(ch[t % NWORKERS].wfd, &t, sizeof(t)) != sizeof(t))
			die("write");
}

/* Worker 0 dies (a crash, a recycle) and the master starts a new one. */
static void
respawn_worker0(enum fix fix)
{
	int ran;

	kill(ch[0].pid, SIGKILL);
	while (!reaped(0, &ran))
		nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
	close_channel(0);
	spawn(0, fix);
	for (int t = 0; t < TASKS; t++)
		if (write(ch[0].wfd, &t, sizeof(t)) != sizeof(t))
			die("write");
}

/* Stop one worker: close its channel, wait for it.  1 if it exited. */
static int
stop_worker(int w)
{
	close_channel(w);
	printf("    close channel %d, wait for worker %d: ", w, w);
	return wait_worker(w);
}

/* The seed's shutdown: close channel i, wait for worker i, in order. */
static void
shutdown_in_order(void)
{
	printf("  shutdown, seed order (close channel i, wait for worker i):\n");
	for (int w = 0; w < NWORKERS && stop_worker(w); w++)
		;
	clean_up();
}

/* The seed's commented-out alternative: the same, last worker first. */
static void
shutdown_reverse(void)
{
	printf("  shutdown, reverse order (last channel first):\n");
	for (int w = NWORKERS - 1; w >= 0 && stop_worker(w); w--)
		;
	clean_up();
}

/* The seed's other alternative: close every channel, then wait. */
static void
shutdown_close_all_first(void)
{
	printf("  shutdown, every channel closed first, then wait:\n");
	for (int c = 0; c < NWORKERS; c++)
		close_channel(c);
	for (int w = 0; w < NWORKERS; w++) {
		if (ch[w].pid == 0)
			continue;		/* already retired */
		printf("    wait for worker %d: ", w);
		if (!wait_worker(w))
			break;
	}
	clean_up();
}

/* Retire worker 1 alone (recycling, shrinking) while the pool runs. */
static void
retire_worker1(void)
{
	printf("  retire worker 1 while the others keep running:\n");
	if (!stop_worker(1))
		clean_up();
	else
		shutdown_close_all_first();
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe2(ready, O_CLOEXEC) == -1)
		die("pipe2");

	printf("seed pool: each child closes its own channel's write end only\n");
	start_pool(SEED);
	show_holdings();
	shutdown_in_order();

	printf("fix 1: every pipe O_CLOEXEC (but no exec happens)\n");
	start_pool(CLOEXEC);
	show_holdings();
	shutdown_in_order();

	printf("fix 2: seed pool, shut down in reverse order\n");
	start_pool(SEED);
	shutdown_reverse();

	printf("fix 2, after worker 0 died and was respawned\n");
	start_pool(SEED);
	respawn_worker0(SEED);
	show_holdings();
	shutdown_reverse();

	printf("fix 3: seed pool, close every channel before waiting\n");
	start_pool(SEED);
	shutdown_close_all_first();

	printf("fix 3, but retiring one worker is not a shutdown\n");
	start_pool(SEED);
	retire_worker1();

	printf("fix 4: each child closes every write end it inherited\n");
	start_pool(CHILD_CLOSES);
	show_holdings();
	shutdown_in_order();

	printf("fix 4, after worker 0 died and was respawned\n");
	start_pool(CHILD_CLOSES);
	respawn_worker0(CHILD_CLOSES);
	show_holdings();
	retire_worker1();
	return 0;
}
