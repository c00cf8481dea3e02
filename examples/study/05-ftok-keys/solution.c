/*
 * 05 ftok(): where a key comes from, and what changes it (solution)
 *
 *   ./solution [DIR]        uses DIR/keyfile (created if missing)
 *
 * ftok(path, proj) does not hash the path: it stat()s the file and packs
 * three numbers into the 32-bit key (glibc, Linux):
 *
 *     key = (proj & 0xff) << 24 | (st_dev & 0xff) << 16 | (st_ino & 0xffff)
 *
 * So the key follows the file's inode, not its name: a hard link gives
 * the same key, a new file under the same name (a new inode) gives
 * another, and two files whose inode numbers share their low 16 bits
 * collide.  Deleting and re-creating a file may or may not change the
 * key: the file system may hand the freed inode number out again.
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[4000];

_Noreturn static void
die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(1);
}

static const char *
in_dir(const char *name)
{
	static char path[2][4096];
	static int i;

	i ^= 1;		/* two paths may be in use at once (rename) */
	snprintf(path[i], sizeof(path[i]), "%s/%s", dir, name);
	return path[i];
}

static key_t
key_of(const char *name, int proj)
{
	key_t key = ftok(in_dir(name), proj);

	if (key == -1)
		die(name);
	return key;
}

static ino_t
inode_of(const char *name)
{
	struct stat st;

	if (stat(in_dir(name), &st) == -1)
		die(name);
	return st.st_ino;
}

static void
create(const char *name)
{
	int fd = open(in_dir(name), O_WRONLY | O_CREAT | O_EXCL, 0600);

	if (fd == -1)
		die(name);
	close(fd);
}

static const char *
same(key_t a, key_t b)
{
	return a == b ? "same key" : "the key changed";
}

int
main(int argc, char *argv[])
{
	struct stat st;
	key_t key, again, k2;
	ino_t ino, ino2;

	snprintf(dir, sizeof(dir), "%s", argc > 1 ? argv[1] : ".");
	if (stat(in_dir("keyfile"), &st) == -1) {
		if (errno != ENOENT)
			die("keyfile");
		create("keyfile");
		if (stat(in_dir("keyfile"), &st) == -1)
			die("keyfile");
	}
	key = key_of("keyfile", 'A');
	printf("keyfile: inode %llu, device 0x%llx\n",
	    (unsigned long long)st.st_ino, (unsigned long long)st.st_dev);
	printf("ftok(keyfile, 'A') = 0x%08x\n", (unsigned)key);
	printf("  = proj 0x%02x << 24 | (device & 0xff) 0x%02x << 16 | "
	    "(inode & 0xffff) 0x%04x\n", 'A', (unsigned)(st.st_dev & 0xff),
	    (unsigned)(st.st_ino & 0xffff));
	again = key_of("keyfile", 'A');
	printf("ftok(keyfile, 'A') again = 0x%08x: %s\n", (unsigned)again,
	    same(key, again));
	k2 = key_of("keyfile", 'B');
	printf("ftok(keyfile, 'B') = 0x%08x: only the top byte differs\n",
	    (unsigned)k2);
	k2 = key_of("keyfile", 0x141);
	printf("ftok(keyfile, 0x141) = 0x%08x: %s as with 'A' (0x41): only "
	    "8 bits of proj are used\n", (unsigned)k2,
	    k2 == key ? "the same" : "not the same");

	/* Delete and re-create: the inode number may come back. */
	ino = inode_of("keyfile");
	if (unlink(in_dir("keyfile")) == -1)
		die("unlink");
	create("keyfile");
	ino2 = inode_of("keyfile");
	k2 = key_of("keyfile", 'A');
	printf("deleted and re-created keyfile: inode %llu -> %llu, key "
	    "0x%08x -> 0x%08x: %s\n", (unsigned long long)ino,
	    (unsigned long long)ino2, (unsigned)key, (unsigned)k2, same(key, k2));
	key = k2;

	if (link(in_dir("keyfile"), in_dir("keyfile.link")) == -1)
		die("link");
	k2 = key_of("keyfile.link", 'A');
	printf("ftok(keyfile.link, 'A') = 0x%08x: a hard link, one inode: "
	    "%s\n", (unsigned)k2, same(key, k2));

	/* Replace the file while its old inode lives on (keyfile.link), as
	 * an editor saving by rename does: the inode is surely new. */
	ino = inode_of("keyfile");
	create("keyfile.new");
	if (rename(in_dir("keyfile.new"), in_dir("keyfile")) == -1)
		die("rename");
	ino2 = inode_of("keyfile");
	k2 = key_of("keyfile", 'A');
	printf("replaced keyfile by a new file: inode %llu -> %llu, key "
	    "0x%08x -> 0x%08x: %s\n", (unsigned long long)ino,
	    (unsigned long long)ino2, (unsigned)key, (unsigned)k2, same(key, k2));

	if (ftok(in_dir("missing"), 'A') == -1)
		printf("ftok(missing, 'A'): %s: the file must exist\n",
		    errno == ENOENT ? "ENOENT" : strerror(errno));
	return 0;
}
