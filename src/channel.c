/*
 * channel.c - pipes that carry fixed-size records.
 *
 * Every pipe is created O_CLOEXEC, above descriptor 2.  Records are 16
 * bytes; a reader keeps the tail of a short read until the rest arrives,
 * and an outbox keeps what a non-blocking pipe would not take yet, so
 * neither side ever blocks on a slow peer or loses a byte to a short
 * transfer.  Completion records carry a keyed check so that the master can
 * tell a record from stray bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

_Static_assert(sizeof(struct fb__rec) == FB__REC_SIZE, "record is 16 bytes");
_Static_assert(sizeof(struct fb__done) == FB__REC_SIZE,
    "completion record is 16 bytes");
_Static_assert(FB__RBUF_RECS * FB__REC_SIZE <= 4096,
    "a reader buffer fits PIPE_BUF");

int
fb__pipe(int fds[2], int nonblock_write)
{
	int r;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		fds[0] = fds[1] = -1;
		return -errno;
	}
	/* Both ends are open while the low one moves, so F_DUPFD can never
	 * hand back a number the other end still needs. */
	if ((fds[0] = fb__fd_high(fds[0])) < 0) {
		r = fds[0];
		fds[0] = -1;
		fb__close(&fds[1]);
		return r;
	}
	if ((fds[1] = fb__fd_high(fds[1])) < 0) {
		r = fds[1];
		fds[1] = -1;
		fb__close(&fds[0]);
		return r;
	}
	if (nonblock_write && (r = fb__set_nonblock(fds[1], 1)) < 0) {
		fb__close(&fds[0]);
		fb__close(&fds[1]);
		return r;
	}
	return 0;
}

/*
 * Read what the pipe has into the free part of the buffer.  Returns bytes
 * read, 0 at end of file, -EAGAIN when a non-blocking pipe is empty,
 * -ENOBUFS when the buffer is full (take records first), or -errno.
 */
ssize_t
fb__reader_fill(struct fb__reader *rd, int fd)
{
	size_t room = sizeof(rd->rd_buf) - rd->rd_have;
	ssize_t n;

	if (room == 0)
		return -ENOBUFS;
	do
		n = read(fd, rd->rd_buf + rd->rd_have, room);
	while (n == -1 && errno == EINTR);
	if (n < 0)
		return -errno;
	rd->rd_have += (size_t)n;
	return n;
}

/* Move up to max whole records (16 bytes each) out of the buffer into out;
 * a partial record stays. */
size_t
fb__reader_take(struct fb__reader *rd, void *out, size_t max)
{
	size_t n = rd->rd_have / FB__REC_SIZE;
	size_t bytes;

	if (n > max)
		n = max;
	bytes = n * FB__REC_SIZE;
	memcpy(out, rd->rd_buf, bytes);
	rd->rd_have -= bytes;
	if (rd->rd_have > 0)
		memmove(rd->rd_buf, rd->rd_buf + bytes, rd->rd_have);
	return n;
}

int
fb__outbox_init(struct fb__outbox *ob, size_t cap)
{
	ob->ob_len = 0;
	ob->ob_cap = cap;
	if ((ob->ob_buf = malloc(cap)) == NULL)
		return -ENOMEM;
	return 0;
}

void
fb__outbox_free(struct fb__outbox *ob)
{
	free(ob->ob_buf);
	ob->ob_buf = NULL;
	ob->ob_len = ob->ob_cap = 0;
}

/*
 * Write as much of the outbox as the non-blocking pipe takes.  Returns 1
 * when empty, 0 when bytes remain (the pipe is full), or -errno.  A write
 * over PIPE_BUF may be cut anywhere, even inside a record; the remainder
 * simply goes first next time, and the reader reassembles it.
 */
int
fb__outbox_flush(struct fb__outbox *ob, int fd)
{
	size_t off = 0;
	ssize_t n;
	int err = 0;

	while (off < ob->ob_len) {
		n = write(fd, ob->ob_buf + off, ob->ob_len - off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			err = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (off > 0 && off < ob->ob_len)
		memmove(ob->ob_buf, ob->ob_buf + off, ob->ob_len - off);
	ob->ob_len -= off; /* what went out never goes again, error or not */
	if (err < 0)
		return err;
	return ob->ob_len == 0;
}
