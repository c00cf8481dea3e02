/*
 * 12 shared memory needs its own synchronisation (exercise)
 *
 *   ./exercise none|seed|pipe|atomic|counter
 *
 * A writer process hands MESSAGES messages to a reader process through
 * one mailbox in a SysV segment.  A message is WORDS words, every one
 * equal to its number, so the reader can tell a torn message (words of
 * two messages), a lost one (a number skipped) and a repeated one.
 * Shared memory itself orders nothing: without a protocol the reader
 * sees whatever is there at the moment it looks.
 *
 *   none    no protocol at all
 *   seed    the seeds' protocol: the writer writes, then sends a token
 *           through a pipe (a FIFO in the seed); the reader waits for the
 *           token, then reads.  Nothing stops the writer from writing the
 *           next message over one not read yet.
 *   pipe    tokens both ways: "full" to the reader, "empty" back
 *   atomic  a C11 atomic state word, stored with memory_order_release
 *           after the message is written and loaded with _acquire before
 *           it is read, as forkboard's board publishes slots; a
 *           waiting side spins a little, then sleeps in short naps
 *   counter lost updates: two processes increment one shared counter,
 *           with a plain (volatile) ++ and with atomic_fetch_add
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MESSAGES 5000
#define WORDS 64
#define INCREMENTS 1000000

enum { EMPTY, FULL };
enum mode { NONE, SEED, PIPE, ATOMIC };

struct mailbox {
	atomic_uint state;		/* ATOMIC: EMPTY or FULL */
	unsigned long word[WORDS];	/* every word: the message's number */
	volatile unsigned long plain;	/* counter: plain ++ */
	atomic_ulong atomic;		/* counter: atomic_fetch_add */
	atomic_int started;		/* counter: a start line for both */
};

static int full[2], empty[2];	/* PIPE and SEED tokens */

/*
 * Called while waiting for the other side: spin a little (the other side
 * may be about to answer, on another CPU), then sleep in short naps.
 * Spinning on and on, even with sched_yield(), would burn a CPU, and on a
 * busy machine starve the very process we wait for.  (Real code sleeps on
 * a futex or a pipe after a short spin.)
 */
static void
relax(unsigned *spins)
{
	if ((*spins)++ >= 1000)
		nanosleep(&(struct timespec){ 0, 20 * 1000 }, NULL);
}

_Noreturn static void
die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(1);
}

static void
token_send(int fd)
{
	if (write(fd, "t", 1) != 1)
		die("write token");
}

static void
token_wait(int fd)
{
	char t;

	if (read(fd, &t, 1) != 1)
		die("read token");
}

/*
 * TODO: the four steps of the protocol, for mode PIPE (tokens both
 * ways: the "empty" pipe carries the reader's tokens back) and for mode
 * ATOMIC (mb->state, EMPTY or FULL, with atomic_load_explicit() /
 * atomic_store_explicit(); which memory orders, and why?  Call relax()
 * in a waiting loop).  SEED is the seeds' protocol, complete as it is:
 * run ./exercise seed and count what it loses.
 */

/* Writer side: wait until the mailbox may be written. */
static void
wait_empty(struct mailbox *mb, enum mode mode)
{
	(void)mb;
	(void)mode;
	(void)relax;	/* you will need it */
}

/* Writer side: the message is written; let the reader have it. */
static void
publish(struct mailbox *mb, enum mode mode)
{
	(void)mb;
	if (mode == PIPE || mode == SEED)
		token_send(full[1]);
}

/* Reader side: wait until there is a message. */
static void
wait_full(struct mailbox *mb, enum mode mode)
{
	(void)mb;
	if (mode == PIPE || mode == SEED)
		token_wait(full[0]);
}

/* Reader side: the message is copied out; the writer may reuse it. */
static void
consume(struct mailbox *mb, enum mode mode)
{
	(void)mb;
	(void)mode;
}

static void
writer(struct mailbox *mb, enum mode mode)
{
	for (unsigned long n = 1; n <= MESSAGES; n++) {
		wait_empty(mb, mode);
		for (int w = 0; w < WORDS; w++)
			mb->word[w] = n;
		publish(mb, mode);
	}
}

static void
reader(struct mailbox *mb, enum mode mode, const char *name)
{
	unsigned long copy[WORDS], last = 0;
	unsigned long in_order = 0, lost = 0, repeated = 0, torn = 0;

	for (int i = 0; i < MESSAGES; i++) {
		int whole = 1;

		wait_full(mb, mode);
		memcpy(copy, mb->word, sizeof(copy));
		consume(mb, mode);
		for (int w = 1; w < WORDS; w++)
			whole &= copy[w] == copy[0];
		if (!whole)
			torn++;
		else if (copy[0] == last + 1)
			in_order++, last = copy[0];
		else if (copy[0] > last + 1)
			lost += copy[0] - last - 1, last = copy[0];
		else
			repeated++;
	}
	lost += MESSAGES - last;
	printf("%s: %d messages: %lu received in order, %lu lost, %lu "
	    "repeated, %lu torn\n", name, MESSAGES, in_order, lost, repeated,
	    torn);
}

/* Both children start counting together: on two CPUs at once. */
static void
start_line(struct mailbox *mb)
{
	atomic_fetch_add(&mb->started, 1);
	while (atomic_load(&mb->started) < 2)
		;
}

static void
counter(struct mailbox *mb)
{
	pid_t pid[2];
	int status;

	for (int p = 0; p < 2; p++) {
		if ((pid[p] = fork()) == -1)
			die("fork");
		if (pid[p] == 0) {
			start_line(mb);
			for (int i = 0; i < INCREMENTS; i++)
				mb->plain++;	/* load, add, store: 3 steps */
			for (int i = 0; i < INCREMENTS; i++)
				atomic_fetch_add_explicit(&mb->atomic, 1,
				    memory_order_relaxed);	/* one step */
			_exit(0);
		}
	}
	for (int p = 0; p < 2; p++)
		if (waitpid(pid[p], &status, 0) == -1)
			die("waitpid");
	printf("counter, 2 processes x %d, volatile ++: %lu (%lu lost)\n",
	    INCREMENTS, mb->plain, 2UL * INCREMENTS - mb->plain);
	printf("counter, 2 processes x %d, atomic_fetch_add: %lu (%lu lost)\n",
	    INCREMENTS, (unsigned long)mb->atomic,
	    2UL * INCREMENTS - (unsigned long)mb->atomic);
}

int
main(int argc, char *argv[])
{
	static const char *names[] = { "none", "seed", "pipe", "atomic" };
	struct mailbox *mb;
	enum mode mode;
	int id, status;
	pid_t pid;

	if (argc != 2)
		goto usage;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((id = shmget(IPC_PRIVATE, sizeof(*mb), IPC_CREAT | 0600)) == -1)
		die("shmget");
	if ((mb = shmat(id, NULL, 0)) == (void *)-1)
		die("shmat");
	if (shmctl(id, IPC_RMID, NULL) == -1)	/* freed at the last detach */
		die("shmctl IPC_RMID");
	if (!atomic_is_lock_free(&mb->state)) {
		fprintf(stderr, "atomic_uint is not lock-free here: it would "
		    "not work across processes\n");
		return 1;
	}
	atomic_init(&mb->state, EMPTY);
	atomic_init(&mb->atomic, 0);
	atomic_init(&mb->started, 0);

	if (strcmp(argv[1], "counter") == 0) {
		counter(mb);
		return 0;
	}
	for (mode = NONE; mode <= ATOMIC; mode++)
		if (strcmp(argv[1], names[mode]) == 0)
			break;
	if (mode > ATOMIC)
		goto usage;
	if (pipe(full) == -1 || pipe(empty) == -1)
		die("pipe");
	if (mode == PIPE)
		token_send(empty[1]);	/* the mailbox starts empty */

	switch (pid = fork()) {
	case -1:
		die("fork");
	case 0:
		writer(mb, mode);
		_exit(0);
	}
	reader(mb, mode, names[mode]);
	if (waitpid(pid, &status, 0) == -1)
		die("waitpid");
	return 0;
usage:
	fprintf(stderr, "usage: %s none|seed|pipe|atomic|counter\n", argv[0]);
	return 2;
}
