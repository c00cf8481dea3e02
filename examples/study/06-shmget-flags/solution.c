/*
 * 06 shmget(): what each combination of flags does (solution)
 *
 *   ./solution [DIR]        key from ftok(DIR/keyfile, 'S')
 *
 * shmget(key, size, flags) finds the segment with that key, or creates
 * one.  The flags decide which:
 *
 *   0                      find it; ENOENT if there is none
 *   IPC_CREAT              find it, or create it if there is none
 *   IPC_CREAT | IPC_EXCL   create it; EEXIST if it already exists
 *   IPC_EXCL alone         means nothing: the same as 0
 *
 * The low 9 bits are the new segment's permissions, used only when it
 * is created.  size must not exceed an existing segment's size (EINVAL);
 * 0 means "whatever it is".  IPC_PRIVATE is not a key to find: every
 * shmget(IPC_PRIVATE, ...) creates a new segment.
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <errno.h>
#include <fcntl.h>
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

/* "IPC_CREAT | IPC_EXCL | 0600"; "0" when no bit is set. */
static const char *
flag_names(int flags)
{
	static char buf[64];
	int n = 0;

	if (flags & IPC_CREAT)
		n += snprintf(buf + n, sizeof(buf) - n, "IPC_CREAT | ");
	if (flags & IPC_EXCL)
		n += snprintf(buf + n, sizeof(buf) - n, "IPC_EXCL | ");
	if (flags & 0777)
		snprintf(buf + n, sizeof(buf) - n, "%04o", flags & 0777);
	else if (n > 0)
		buf[n - 3] = '\0';	/* drop the last " | " */
	else
		snprintf(buf, sizeof(buf), "0");
	return buf;
}

/* Call shmget and say what came of it. */
static int
try(const char *keyname, key_t key, size_t size, int flags)
{
	int id = shmget(key, size, flags);

	printf("shmget(%s, %zu, %s): ", keyname, size, flag_names(flags));
	if (id == -1)
		printf("%s\n", strerrorname_np(errno));
	else
		printf("shmid %d\n", id);
	return id;
}

static void
show(int id)
{
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds) == -1)
		die("shmctl IPC_STAT");
	printf("  segment shmid %d: %zu bytes, mode %04o\n", id,
	    (size_t)ds.shm_segsz, (unsigned)(ds.shm_perm.mode & 0777));
}

/*
 * The seed's two helpers.  A server creates the segment and must know
 * it is new, not some stale one (an old run's, another program's); a
 * client must find the server's, never quietly create an empty one.
 */
static int
create_new(key_t key, size_t size)
{
	return shmget(key, size, IPC_CREAT | IPC_EXCL | 0600);
}

static int
open_existing(key_t key)
{
	return shmget(key, 0, 0);
}

static void
result(const char *call, int id)
{
	if (id == -1)
		printf("%s: %s\n", call, strerrorname_np(errno));
	else
		printf("%s: shmid %d\n", call, id);
}

int
main(int argc, char *argv[])
{
	char path[4096];
	int fd, id, p1, p2;
	key_t key;

	snprintf(path, sizeof(path), "%s/keyfile", argc > 1 ? argv[1] : ".");
	if ((fd = open(path, O_RDONLY | O_CREAT, 0600)) == -1)
		die(path);
	close(fd);
	if ((key = ftok(path, 'S')) == -1)
		die("ftok");
	printf("key 0x%08x = ftok(keyfile, 'S')\n", (unsigned)key);

	printf("-- no segment has this key yet\n");
	try("key", key, 4096, 0);
	try("key", key, 0, IPC_CREAT | 0600);
	if ((id = try("key", key, 4096, IPC_CREAT | 0600)) == -1)
		die("shmget");
	show(id);

	printf("-- now it exists\n");
	try("key", key, 4096, IPC_CREAT | 0600);
	try("key", key, 4096, IPC_CREAT | IPC_EXCL | 0600);
	try("key", key, 4096, IPC_EXCL);
	try("key", key, 0, 0);
	try("key", key, 1024, 0);
	try("key", key, 8192, 0);
	try("key", key, 8192, IPC_CREAT | 0600);
	try("key", key, 4096, IPC_CREAT | 0644);
	show(id);

	printf("-- IPC_PRIVATE: a new segment every time\n");
	p1 = try("IPC_PRIVATE", IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	p2 = try("IPC_PRIVATE", IPC_PRIVATE, 4096, IPC_CREAT | 0600);

	printf("-- removed\n");
	if (shmctl(id, IPC_RMID, NULL) == -1 ||
	    (p1 != -1 && shmctl(p1, IPC_RMID, NULL) == -1) ||
	    (p2 != -1 && shmctl(p2, IPC_RMID, NULL) == -1))
		die("shmctl IPC_RMID");
	try("key", key, 0, 0);

	printf("-- the seed's helpers: a server's create_new, a client's "
	    "open_existing\n");
	result("client: open_existing(key), no server yet", open_existing(key));
	result("server: create_new(key)", id = create_new(key, 4096));
	result("server: create_new(key) again", create_new(key, 4096));
	result("client: open_existing(key)", open_existing(key));
	if (id != -1) {
		show(id);
		if (shmctl(id, IPC_RMID, NULL) == -1)
			die("shmctl IPC_RMID");
	}
	return 0;
}
