/*
 * test_channel.c - record pipes (src/channel.c) and the descriptor helpers
 * they stand on (src/fdutil.c): CLOEXEC/NONBLOCK pipes, reassembly of
 * short reads, the outbox against a full pipe, EINTR retries, close
 * keeping errno, and what survives fb__close_except() in a forked child.
 *
 * Every test runs between setup() and teardown(), which fail it if a
 * descriptor or a child was left behind.  A forked child never calls a
 * cmocka assertion (it would longjmp into the child's copy of the runner):
 * it reports through its exit status or a pipe and leaves with _exit().
 */
#include "testutil.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <signal.h>

#include "internal.h"

#define NRECS 100
#define NOUT 300
#define NSOCK 1000

struct fixture {
	int fx_fds;		/* descriptors open at setup */
	pid_t fx_kid;		/* child not reaped yet, or -1 */
};

static volatile sig_atomic_t got_usr1;

static void
on_usr1(int sig)
{
	(void)sig;
	got_usr1++;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * In a child: wait (up to 5 s) until pid sleeps in the kernel, so a signal
 * sent now interrupts a blocking call rather than arriving before it.
 */
static void
wait_blocked(pid_t pid)
{
	char path[64], buf[256], *p;
	int fd, i;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	for (i = 0; i < 5000; i++) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			return;
		n = read(fd, buf, sizeof(buf) - 1);
		(void)close(fd);
		if (n > 0) {
			buf[n] = '\0';
			if ((p = strrchr(buf, ')')) != NULL && p[1] == ' ' &&
			    p[2] == 'S')
				return;
		}
		sleep_ms(1);
	}
}

static void
fill_rec(struct fb__rec *r, uint32_t i)
{
	r->r_slot = i;
	r->r_aux = i * 2654435761u;
	r->r_seq = ((uint64_t)~i << 32) | (i * 7u + 3u);
}

static void
assert_rec(const struct fb__rec *r, uint32_t i)
{
	struct fb__rec want;

	fill_rec(&want, i);
	assert_int_equal(r->r_slot, want.r_slot);
	assert_int_equal(r->r_aux, want.r_aux);
	assert_int_equal(r->r_seq, want.r_seq);
}

static int
setup(void **state)
{
	struct fixture *fx;

	if ((fx = calloc(1, sizeof(*fx))) == NULL)
		return -1;
	fx->fx_kid = -1;
	fx->fx_fds = tu_count_fds();
	*state = fx;
	return fx->fx_fds < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	int bad = 0;

	if (fx->fx_kid > 0) {
		fprintf(stderr, "teardown: killing child %ld\n",
		    (long)fx->fx_kid);
		(void)kill(fx->fx_kid, SIGKILL);
		(void)waitpid(fx->fx_kid, NULL, 0);
		bad = 1;
	}
	bad |= tu_leftovers(fx->fx_fds);
	free(fx);
	*state = NULL;
	return bad ? -1 : 0;
}

static pid_t
own_fork(struct fixture *fx)
{
	pid_t pid;

	assert_int_equal(fx->fx_kid, -1);
	pid = fork();
	assert_true(pid != -1);
	if (pid > 0)
		fx->fx_kid = pid;
	return pid;
}

static int
reap(struct fixture *fx)
{
	int st;

	while (waitpid(fx->fx_kid, &st, 0) == -1)
		assert_int_equal(errno, EINTR);
	fx->fx_kid = -1;
	return st;
}

static void
assert_clean(const struct fixture *fx)
{
	assert_int_equal(fx->fx_kid, -1);
	assert_int_equal(tu_count_fds(), fx->fx_fds);
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* ---- fb__pipe ------------------------------------------------------------ */

static void
test_pipe_flags(void **state)
{
	struct fixture *fx = *state;
	int fds[2], nb;
	char c;

	for (nb = 0; nb <= 1; nb++) {
		fds[0] = fds[1] = -2;
		assert_int_equal(fb__pipe(fds, nb), 0);
		assert_true(fds[0] >= 0 && fds[1] >= 0);
		assert_int_equal(tu_count_fds(), fx->fx_fds + 2);
		assert_int_equal(fcntl(fds[0], F_GETFD) & FD_CLOEXEC,
		    FD_CLOEXEC);
		assert_int_equal(fcntl(fds[1], F_GETFD) & FD_CLOEXEC,
		    FD_CLOEXEC);
		/* The read end never, the write end only when asked. */
		assert_int_equal(fcntl(fds[0], F_GETFL) & O_NONBLOCK, 0);
		assert_int_equal(fcntl(fds[1], F_GETFL) & O_NONBLOCK,
		    nb ? O_NONBLOCK : 0);
		assert_int_equal(fcntl(fds[0], F_GETFL) & O_ACCMODE,
		    O_RDONLY);
		assert_int_equal(fcntl(fds[1], F_GETFL) & O_ACCMODE,
		    O_WRONLY);
		/* They are the two ends of one pipe. */
		c = 0;
		assert_int_equal(write(fds[1], "x", 1), 1);
		assert_int_equal(read(fds[0], &c, 1), 1);
		assert_int_equal(c, 'x');
		fb__close(&fds[0]);
		fb__close(&fds[1]);
	}

	/* fb__set_nonblock both ways. */
	assert_int_equal(fb__pipe(fds, 0), 0);
	assert_int_equal(fb__set_nonblock(fds[0], 1), 0);
	assert_int_equal(fcntl(fds[0], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	assert_int_equal(fb__set_nonblock(fds[0], 0), 0);
	assert_int_equal(fcntl(fds[0], F_GETFL) & O_NONBLOCK, 0);
	fb__close(&fds[0]);
	fb__close(&fds[1]);
	assert_int_equal(fb__set_nonblock(fds[0], 1), -EBADF);
	assert_clean(fx);
}

/* ---- reader -------------------------------------------------------------- */

static void
test_reader_reassembly(void **state)
{
	static const size_t chunks[] = { 1, 7, 13, 16, 33, 5, 2, 31, 17, 64,
	    3, 15, 49, 11 };
	struct fixture *fx = *state;
	struct fb__rec recs[NRECS], out[NRECS];
	struct fb__reader *rd;
	const unsigned char *src = (const unsigned char *)recs;
	size_t off = 0, len, taken = 0, n, k = 0;
	ssize_t got;
	int fds[2];

	for (n = 0; n < NRECS; n++)
		fill_rec(&recs[n], (uint32_t)n);
	assert_non_null(rd = calloc(1, sizeof(*rd)));
	assert_int_equal(fb__pipe(fds, 0), 0);

	while (off < sizeof(recs)) {
		len = chunks[k++ % (sizeof(chunks) / sizeof(chunks[0]))];
		if (len > sizeof(recs) - off)
			len = sizeof(recs) - off;
		assert_int_equal(fb__write_full(fds[1], src + off, len), len);
		off += len;
		got = fb__reader_fill(rd, fds[0]);
		assert_int_equal(got, len);
		/* Take one record at a time now and then, to exercise the
		 * compaction of a buffer holding several. */
		n = fb__reader_take(rd, out + taken, k % 3 == 0 ? 1 : NRECS);
		taken += n;
		/* Whatever was not taken is whole records plus the tail of
		 * a partial one; the tail is exactly what is missing. */
		assert_int_equal(rd->rd_have + taken * sizeof(struct fb__rec),
		    off);
		if (k % 3 != 0)
			assert_int_equal(rd->rd_have,
			    off % sizeof(struct fb__rec));
		assert_true(taken <= off / sizeof(struct fb__rec));
	}
	taken += fb__reader_take(rd, out + taken, NRECS);
	assert_int_equal(taken, NRECS);
	assert_int_equal(rd->rd_have, 0);
	for (n = 0; n < NRECS; n++)
		assert_rec(&out[n], (uint32_t)n);

	/* Nothing to take from an empty buffer. */
	assert_int_equal(fb__reader_take(rd, out, NRECS), 0);

	/* A partial record stays until its last byte arrives. */
	assert_int_equal(fb__write_full(fds[1], &recs[42], 15), 15);
	assert_int_equal(fb__reader_fill(rd, fds[0]), 15);
	assert_int_equal(fb__reader_take(rd, out, NRECS), 0);
	assert_int_equal(rd->rd_have, 15);
	assert_int_equal(fb__write_full(fds[1], (unsigned char *)&recs[42] + 15,
	    1), 1);
	assert_int_equal(fb__reader_fill(rd, fds[0]), 1);
	assert_int_equal(fb__reader_take(rd, out, NRECS), 1);
	assert_rec(&out[0], 42);
	assert_int_equal(rd->rd_have, 0);

	/* Empty non-blocking pipe: -EAGAIN, nothing changes. */
	assert_int_equal(fb__set_nonblock(fds[0], 1), 0);
	assert_int_equal(fb__reader_fill(rd, fds[0]), -EAGAIN);
	assert_int_equal(rd->rd_have, 0);

	/* End of file: 0, with a partial record still kept. */
	assert_int_equal(fb__write_full(fds[1], &recs[7], 3), 3);
	fb__close(&fds[1]);
	assert_int_equal(fb__reader_fill(rd, fds[0]), 3);
	assert_int_equal(fb__reader_fill(rd, fds[0]), 0);
	assert_int_equal(rd->rd_have, 3);
	fb__close(&fds[0]);
	free(rd);
	assert_clean(fx);
}

static void
test_reader_full_buffer(void **state)
{
	struct fixture *fx = *state;
	struct fb__reader *rd;
	struct fb__rec r, out;
	uint32_t i;
	int fds[2];

	assert_non_null(rd = calloc(1, sizeof(*rd)));
	assert_int_equal(fb__pipe(fds, 0), 0);
	for (i = 0; i < FB__RBUF_RECS + 1; i++) {
		fill_rec(&r, i);
		assert_int_equal(fb__write_full(fds[1], &r, sizeof(r)),
		    sizeof(r));
	}
	assert_int_equal(fb__reader_fill(rd, fds[0]),
	    FB__RBUF_RECS * sizeof(r));
	assert_int_equal(rd->rd_have, sizeof(rd->rd_buf));
	/* Full: refuses to read, and loses nothing. */
	assert_int_equal(fb__reader_fill(rd, fds[0]), -ENOBUFS);
	assert_int_equal(fb__reader_take(rd, &out, 1), 1);
	assert_rec(&out, 0);
	assert_int_equal(fb__reader_fill(rd, fds[0]), sizeof(r));
	for (i = 1; i < FB__RBUF_RECS + 1; i++) {
		assert_int_equal(fb__reader_take(rd, &out, 1), 1);
		assert_rec(&out, i);
	}
	assert_int_equal(rd->rd_have, 0);
	fb__close(&fds[0]);
	fb__close(&fds[1]);
	/* A bad descriptor is reported, not mistaken for EOF. */
	assert_int_equal(fb__reader_fill(rd, fds[0]), -EBADF);
	free(rd);
	assert_clean(fx);
}

/* ---- outbox -------------------------------------------------------------- */

static void
test_outbox_full_pipe(void **state)
{
	struct fixture *fx = *state;
	struct fb__outbox ob;
	struct fb__reader *rd;
	struct fb__rec r, out[FB__RBUF_RECS];
	char junk[8];
	size_t taken = 0, n, i, before, flushes = 0;
	ssize_t got;
	int fds[2], fr;

	assert_non_null(rd = calloc(1, sizeof(*rd)));
	assert_int_equal(fb__pipe(fds, 1), 0);
	assert_int_equal(fcntl(fds[1], F_SETPIPE_SZ, 4096), 4096);
	assert_int_equal(write(fds[1], "JUNKjunk", 8), 8);

	assert_int_equal(fb__outbox_init(&ob, NOUT * sizeof(r)), 0);
	assert_int_equal(ob.ob_len, 0);
	assert_int_equal(ob.ob_cap, NOUT * sizeof(r));
	for (i = 0; i < NOUT; i++) {
		fill_rec(&r, (uint32_t)i);
		assert_int_equal(fb__outbox_put(&ob, &r), 0);
	}
	assert_int_equal(ob.ob_len, NOUT * sizeof(r));
	fill_rec(&r, NOUT);
	assert_int_equal(fb__outbox_put(&ob, &r), -ENOBUFS);
	assert_int_equal(ob.ob_len, NOUT * sizeof(r));

	/* The pipe takes part of it, maybe cut inside a record. */
	assert_int_equal(fb__outbox_flush(&ob, fds[1]), 0);
	assert_true(ob.ob_len > 0);
	assert_true(ob.ob_len < NOUT * sizeof(r));
	print_message("outbox: %zu bytes left after the first flush "
	    "(%zu mod 16)\n", ob.ob_len, ob.ob_len % sizeof(r));
	/* Still full: a second flush moves nothing and says so. */
	before = ob.ob_len;
	assert_int_equal(fb__outbox_flush(&ob, fds[1]), 0);
	assert_int_equal(ob.ob_len, before);

	assert_int_equal(fb__read_full(fds[0], junk, sizeof(junk)), 8);
	assert_memory_equal(junk, "JUNKjunk", 8);

	/* Drain while flushing; the pipe is never empty while the outbox
	 * is not, so the blocking reads below cannot hang. */
	do {
		got = fb__reader_fill(rd, fds[0]);
		assert_true(got > 0);
		n = fb__reader_take(rd, out, FB__RBUF_RECS);
		for (i = 0; i < n; i++)
			assert_rec(&out[i], (uint32_t)(taken + i));
		taken += n;
		before = ob.ob_len;
		fr = fb__outbox_flush(&ob, fds[1]);
		assert_true(fr == 0 || fr == 1);
		assert_true(ob.ob_len <= before);
		assert_true(++flushes < 10000);
	} while (fr == 0);
	assert_int_equal(ob.ob_len, 0);
	/* Empty outbox: flushing again is a no-op that reports empty. */
	assert_int_equal(fb__outbox_flush(&ob, fds[1]), 1);

	while (taken < NOUT) {
		got = fb__reader_fill(rd, fds[0]);
		assert_true(got > 0);
		n = fb__reader_take(rd, out, FB__RBUF_RECS);
		for (i = 0; i < n; i++)
			assert_rec(&out[i], (uint32_t)(taken + i));
		taken += n;
	}
	assert_int_equal(taken, NOUT);
	assert_int_equal(rd->rd_have, 0);
	/* Not one byte more. */
	assert_int_equal(fb__set_nonblock(fds[0], 1), 0);
	assert_int_equal(fb__reader_fill(rd, fds[0]), -EAGAIN);

	/* The outbox is reusable once drained. */
	fill_rec(&r, 7);
	assert_int_equal(fb__outbox_put(&ob, &r), 0);
	assert_int_equal(fb__outbox_flush(&ob, fds[1]), 1);
	assert_int_equal(fb__reader_fill(rd, fds[0]), sizeof(r));
	assert_int_equal(fb__reader_take(rd, out, 1), 1);
	assert_rec(&out[0], 7);

	fb__outbox_free(&ob);
	assert_null(ob.ob_buf);
	assert_int_equal(ob.ob_len, 0);
	assert_int_equal(ob.ob_cap, 0);
	/* A freed outbox takes nothing. */
	assert_int_equal(fb__outbox_put(&ob, &r), -ENOBUFS);
	fb__close(&fds[0]);
	fb__close(&fds[1]);
	free(rd);
	assert_clean(fx);
}

/*
 * A Linux pipe cuts a record-multiple write only on record boundaries (it
 * tops up the last page with len % PAGE_SIZE bytes, then takes whole
 * pages), so the test above may never split a record.  A stream socket
 * with a small send buffer cuts where its buffer runs out: on Linux 6.x a
 * write takes sndbuf - 128 bytes, so SO_SNDBUF 2500 (doubled by the
 * kernel to 5000) cuts at 4872, mid-record.  Whatever the kernel does,
 * every record must arrive whole and in order.
 */
static void
test_outbox_socket_cut(void **state)
{
	struct fixture *fx = *state;
	struct fb__outbox ob;
	struct fb__reader *rd;
	struct fb__rec r, out[FB__RBUF_RECS];
	size_t taken = 0, n, i, rounds = 0, odd = 0;
	int sv[2], sz = 2500, fr;
	ssize_t got;

	assert_non_null(rd = calloc(1, sizeof(*rd)));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)), 0);
	assert_int_equal(fb__set_nonblock(sv[0], 1), 0);
	assert_int_equal(fb__outbox_init(&ob, NSOCK * sizeof(r)), 0);
	for (i = 0; i < NSOCK; i++) {
		fill_rec(&r, (uint32_t)i);
		assert_int_equal(fb__outbox_put(&ob, &r), 0);
	}
	while ((fr = fb__outbox_flush(&ob, sv[0])) == 0) {
		assert_true(ob.ob_len > 0);
		if (ob.ob_len % sizeof(r) != 0)
			odd++;
		got = fb__reader_fill(rd, sv[1]);
		assert_true(got > 0);
		n = fb__reader_take(rd, out, FB__RBUF_RECS);
		for (i = 0; i < n; i++)
			assert_rec(&out[i], (uint32_t)(taken + i));
		taken += n;
		assert_true(++rounds < 10000);
	}
	assert_int_equal(fr, 1);
	assert_int_equal(ob.ob_len, 0);
	fb__close(&sv[0]);
	for (;;) {
		got = fb__reader_fill(rd, sv[1]);
		assert_true(got >= 0);
		n = fb__reader_take(rd, out, FB__RBUF_RECS);
		for (i = 0; i < n; i++)
			assert_rec(&out[i], (uint32_t)(taken + i));
		taken += n;
		if (got == 0)
			break;
	}
	assert_int_equal(taken, NSOCK);
	assert_int_equal(rd->rd_have, 0);
	print_message("outbox: %zu flushes left a record cut in two\n", odd);
	fb__outbox_free(&ob);
	fb__close(&sv[1]);
	free(rd);
	assert_clean(fx);
}

/* ---- EINTR --------------------------------------------------------------- */

static void
install_usr1(struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = 0;	/* no SA_RESTART: blocking calls fail EINTR */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, old), 0);
	got_usr1 = 0;
}

/*
 * Child: wait until the parent blocks, interrupt it with SIGUSR1, wait
 * 50 ms, then write len bytes of a pattern.
 */
static void
child_interrupt_then_write(int wfd, size_t len)
{
	unsigned char buf[256];
	pid_t parent = getppid();
	size_t i;

	for (i = 0; i < len && i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 31 + 1);
	wait_blocked(parent);
	sleep_ms(20);
	if (kill(parent, SIGUSR1) == -1)
		_exit(2);
	sleep_ms(50);
	if (fb__write_full(wfd, buf, len) != (ssize_t)len)
		_exit(3);
	_exit(0);
}

/*
 * Child: wait until the parent blocks, interrupt it with SIGUSR1, wait
 * 50 ms, then read to end of file: cap bytes of filler, then len bytes of
 * the pattern i % 251.
 */
static void
child_interrupt_then_drain(int rfd, size_t cap, size_t len)
{
	unsigned char buf[4096];
	pid_t parent = getppid();
	size_t total = 0, i;
	ssize_t r;

	wait_blocked(parent);
	sleep_ms(20);
	if (kill(parent, SIGUSR1) == -1)
		_exit(2);
	sleep_ms(50);
	while ((r = fb__read_full(rfd, buf, sizeof(buf))) > 0)
		for (i = 0; i < (size_t)r; i++, total++)
			if (total >= cap &&
			    buf[i] != (unsigned char)((total - cap) % 251))
				_exit(4);
	_exit(r == 0 && total == cap + len ? 0 : 3);
}

static void
test_read_full_eintr(void **state)
{
	struct fixture *fx = *state;
	struct sigaction old;
	unsigned char buf[200];
	ssize_t n;
	int fds[2], st, e;
	size_t i;

	install_usr1(&old);

	/* Control: the setup does interrupt a plain read(). */
	assert_int_equal(fb__pipe(fds, 0), 0);
	if (own_fork(fx) == 0) {
		fb__close(&fds[0]);
		child_interrupt_then_write(fds[1], 1);
	}
	fb__close(&fds[1]);
	n = read(fds[0], buf, 1);
	e = errno;
	assert_int_equal(n, -1);
	assert_int_equal(e, EINTR);
	assert_int_equal(got_usr1, 1);
	assert_int_equal(fb__read_full(fds[0], buf, sizeof(buf)), 1);
	st = reap(fx);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	fb__close(&fds[0]);

	/* fb__read_full() rides over the same interruption. */
	got_usr1 = 0;
	assert_int_equal(fb__pipe(fds, 0), 0);
	if (own_fork(fx) == 0) {
		fb__close(&fds[0]);
		child_interrupt_then_write(fds[1], sizeof(buf));
	}
	fb__close(&fds[1]);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(fb__read_full(fds[0], buf, sizeof(buf)),
	    sizeof(buf));
	assert_int_equal(got_usr1, 1);
	for (i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], (unsigned char)(i * 31 + 1));
	/* The child is gone and so is the write end: end of file. */
	assert_int_equal(fb__read_full(fds[0], buf, sizeof(buf)), 0);
	st = reap(fx);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	fb__close(&fds[0]);

	assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
	assert_clean(fx);
}

static void
test_write_full_eintr(void **state)
{
	struct fixture *fx = *state;
	struct sigaction old;
	unsigned char *data;
	size_t len = 3 * 65536, cap = 0, i;
	ssize_t n;
	int fds[2], st;

	install_usr1(&old);
	assert_non_null(data = malloc(len));
	for (i = 0; i < len; i++)
		data[i] = (unsigned char)(i % 251);
	assert_int_equal(fb__pipe(fds, 1), 0);
	/* Fill the pipe so that the next blocking write must wait. */
	while ((n = write(fds[1], data, 4096)) > 0)
		cap += (size_t)n;
	assert_int_equal(errno, EAGAIN);
	assert_true(cap > 0);
	assert_int_equal(fb__set_nonblock(fds[1], 0), 0);

	if (own_fork(fx) == 0) {
		fb__close(&fds[1]);
		child_interrupt_then_drain(fds[0], cap, len);
	}
	fb__close(&fds[0]);
	assert_int_equal(fb__write_full(fds[1], data, len), len);
	assert_int_equal(got_usr1, 1);
	fb__close(&fds[1]);
	st = reap(fx);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
	free(data);
	assert_clean(fx);
}

static void
test_read_write_full_errors(void **state)
{
	struct fixture *fx = *state;
	char buf[64];
	int fds[2], bad;

	/* End of file after a short count: the short count, then 0. */
	assert_int_equal(fb__pipe(fds, 0), 0);
	assert_int_equal(fb__write_full(fds[1], "0123456789", 10), 10);
	fb__close(&fds[1]);
	assert_int_equal(fb__read_full(fds[0], buf, sizeof(buf)), 10);
	assert_memory_equal(buf, "0123456789", 10);
	assert_int_equal(fb__read_full(fds[0], buf, sizeof(buf)), 0);
	/* Zero bytes asked: zero, without touching the descriptor. */
	assert_int_equal(fb__read_full(fds[0], buf, 0), 0);
	fb__close(&fds[0]);

	bad = fds[0];	/* -1 */
	assert_int_equal(fb__read_full(bad, buf, 1), -EBADF);
	assert_int_equal(fb__write_full(bad, buf, 1), -EBADF);
	assert_clean(fx);
}

/* ---- fb__close ----------------------------------------------------------- */

static void
test_close(void **state)
{
	struct fixture *fx = *state;
	int fd, old;

	assert_true((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);
	old = fd;
	errno = ERANGE;
	assert_int_equal(fb__close(&fd), 0);
	assert_int_equal(errno, ERANGE);
	assert_int_equal(fd, -1);
	assert_int_equal(fcntl(old, F_GETFD), -1);
	assert_int_equal(errno, EBADF);

	/* -1: nothing happens, errno kept. */
	errno = EDOM;
	assert_int_equal(fb__close(&fd), 0);
	assert_int_equal(fd, -1);
	assert_int_equal(errno, EDOM);

	/* Even when close(2) itself fails (EBADF), errno is kept. */
	fd = old;
	errno = ENOSPC;
	assert_int_equal(fb__close(&fd), 0);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(fd, -1);
	assert_clean(fx);
}

/* ---- fb__close_except ---------------------------------------------------- */

#define NNULL 5

/* What the child reports: the fds it opened, the keep result and the
 * descriptors still open afterwards. */
struct except_report {
	int er_null[NNULL];
	int er_wfd;
	int er_rc;
	int er_big_rc;
	int er_nopen;
	int er_open[64];
};

static void
child_close_except(int wfd)
{
	struct except_report rep;
	struct rlimit rl;
	int keep[5], big[65];
	int fd, i;
	long max;

	memset(&rep, 0, sizeof(rep));
	rep.er_wfd = wfd;
	for (i = 0; i < NNULL; i++)
		if ((rep.er_null[i] = open("/dev/null", O_RDONLY)) == -1)
			_exit(2);
	/* Too many to keep: refused before anything is closed. */
	for (i = 0; i < 65; i++)
		big[i] = i;
	rep.er_big_rc = fb__close_except(big, 65);
	if (fcntl(rep.er_null[0], F_GETFD) == -1)
		_exit(3);
	/* Unsorted, with a duplicate and a standard descriptor. */
	keep[0] = rep.er_null[3];
	keep[1] = wfd;
	keep[2] = rep.er_null[1];
	keep[3] = rep.er_null[3];
	keep[4] = 1;
	rep.er_rc = fb__close_except(keep, 5);
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		_exit(4);
	max = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 65536 ? 65536 :
	    (long)rl.rlim_cur;
	for (fd = 0; fd < max; fd++) {
		if (fcntl(fd, F_GETFD) == -1)
			continue;
		if (rep.er_nopen == 64)
			_exit(5);
		rep.er_open[rep.er_nopen++] = fd;
	}
	if (fb__write_full(wfd, &rep, sizeof(rep)) != sizeof(rep))
		_exit(6);
	_exit(0);
}

static int
int_in(int x, const int *v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

static void
test_close_except(void **state)
{
	struct fixture *fx = *state;
	struct except_report rep;
	int fds[2], std[3], nstd = 0, i, st, extra;

	/* The standard descriptors the child inherits. */
	for (i = 0; i < 3; i++)
		if ((std[i] = fcntl(i, F_GETFD) != -1))
			nstd++;
	/* A descriptor of the parent's, open across fork without CLOEXEC:
	 * it must be closed in the child all the same. */
	assert_true((extra = open("/dev/null", O_RDONLY)) >= 0);
	assert_int_equal(fb__pipe(fds, 0), 0);
	if (own_fork(fx) == 0) {
		(void)close(fds[0]);
		child_close_except(fds[1]);
	}
	memset(&rep, 0, sizeof(rep));
	rep.er_wfd = -1;
	fb__close(&fds[1]);
	assert_int_equal(fb__read_full(fds[0], &rep, sizeof(rep)),
	    sizeof(rep));
	st = reap(fx);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	fb__close(&fds[0]);

	assert_int_equal(rep.er_big_rc, -E2BIG);
	assert_int_equal(rep.er_rc, 0);
	/* Kept: 0, 1, 2 as inherited, two of the five /dev/null and the
	 * report pipe.  Gone: the other three, the parent's extra
	 * descriptor, the inherited read end. */
	for (i = 0; i < 3; i++)
		assert_int_equal(int_in(i, rep.er_open, rep.er_nopen), std[i]);
	assert_true(int_in(rep.er_null[1], rep.er_open, rep.er_nopen));
	assert_true(int_in(rep.er_null[3], rep.er_open, rep.er_nopen));
	assert_true(int_in(rep.er_wfd, rep.er_open, rep.er_nopen));
	assert_false(int_in(rep.er_null[0], rep.er_open, rep.er_nopen));
	assert_false(int_in(rep.er_null[2], rep.er_open, rep.er_nopen));
	assert_false(int_in(rep.er_null[4], rep.er_open, rep.er_nopen));
	assert_false(int_in(extra, rep.er_open, rep.er_nopen));
	assert_int_equal(rep.er_nopen, nstd + 3);
	fb__close(&extra);
	assert_clean(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pipe_flags,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_reassembly,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_full_buffer,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_full_pipe,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_socket_cut,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_full_eintr,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_full_eintr,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_write_full_errors,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_except,
		    setup, teardown),
	};

	alarm(30);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
