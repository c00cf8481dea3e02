/*
 * 08 the size asked for, and the pages the kernel backs (exercise)
 *
 *   ./exercise
 *
 * shmget(key, size, ...) records size as asked (shm_segsz, what ipcs
 * shows as "bytes"), but memory comes in pages: the segment is backed,
 * and shmat() maps it, in whole pages.  The bytes between size and the
 * end of the last page can be read and written without a fault, but they
 * were not asked for: using them is a bug no tool will report.  One byte
 * past the last page is a SIGSEGV.
 *
 * Pages are allocated when first touched, not at shmget(): the rss column
 * of /proc/sysvipc/shm (bytes) and shmctl(SHM_INFO)'s shm_rss (pages, all
 * segments) grow as the program writes.
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long pagesz;

_Noreturn static void
die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(1);
}

/*
 * TODO: how many pages does the kernel back for a segment of size
 * bytes?  (The seed: "we asked for 1024, the system gives us 4096".)
 * Compare with the "mapped" bytes this program prints.
 */
static size_t
pages(size_t size)
{
	return size / pagesz;
}

/* The rss column of /proc/sysvipc/shm for shmid: resident bytes. */
static unsigned long
rss_of(int shmid)
{
	FILE *f = fopen("/proc/sysvipc/shm", "r");
	unsigned long rss;
	char line[512];
	int id;

	if (f == NULL)
		die("/proc/sysvipc/shm");
	/* key shmid perms size cpid lpid nattch uid gid cuid cgid atime
	 * dtime ctime rss swap */
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%*d %d %*o %*u %*d %*d %*u %*u %*u %*u %*u "
		    "%*u %*u %*u %lu", &id, &rss) == 2 && id == shmid) {
			fclose(f);
			return rss;
		}
	fclose(f);
	return 0;
}

/* Bytes of the mapping that contains addr, from /proc/self/maps. */
static unsigned long
mapping_size(const void *addr)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi, size = 0;
	char line[512];

	if (f == NULL)
		die("/proc/self/maps");
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
		    lo == (unsigned long)addr)
			size = hi - lo;
	fclose(f);
	return size;
}

static unsigned long
shm_info_rss(void)
{
	struct shm_info info;

	if (shmctl(0, SHM_INFO, (struct shmid_ds *)&info) == -1)
		die("shmctl SHM_INFO");
	return info.shm_rss;
}

/* Make a segment of size bytes and attach it; say what the kernel did. */
static char *
make(size_t size, int *idp)
{
	struct shmid_ds ds;
	char *p;
	int id;

	if ((id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600)) == -1)
		die("shmget");
	/*
	 * Attach it in front of an inaccessible page, so that a write past
	 * its last page must fault.  (Wherever shmat() chooses, another
	 * mapping may follow, and the stray write would land in it
	 * silently: worse than a fault.)
	 */
	p = mmap(NULL, (pages(size) + 1) * pagesz, PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	if ((p = shmat(id, p, SHM_REMAP)) == (void *)-1)
		die("shmat");
	/* Removed now, freed when detached: nothing can leak. */
	if (shmctl(id, IPC_STAT, &ds) == -1 || shmctl(id, IPC_RMID, NULL) == -1)
		die("shmctl");
	printf("asked for %zu bytes: shm_segsz %zu, %zu pages, mapped %lu "
	    "bytes, resident %lu\n", size, (size_t)ds.shm_segsz, pages(size),
	    mapping_size(p), rss_of(id));
	*idp = id;
	return p;
}

static void
unmake(char *p, size_t size)
{
	if (shmdt(p) == -1 || munmap(p + pages(size) * pagesz, pagesz) == -1)
		die("shmdt");
}

int
main(void)
{
	unsigned long before;
	char *p;
	int id, status;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((pagesz = sysconf(_SC_PAGESIZE)) == -1)
		die("sysconf");
	printf("page size: %ld bytes\n", pagesz);

	p = make(1024, &id);
	p[0] = 1;
	printf("wrote byte 0: resident %lu\n", rss_of(id));
	p[pagesz - 1] = 1;
	printf("wrote byte %ld, past the 1024 asked for, same page: no fault, "
	    "resident %lu\n", pagesz - 1, rss_of(id));

	switch (pid = fork()) {
	case -1:
		die("fork");
	case 0:
		setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });  /* no core */
		p[pagesz] = 1;
		_exit(0);
	}
	if (waitpid(pid, &status, 0) == -1)
		die("waitpid");
	if (WIFSIGNALED(status))
		printf("a child wrote byte %ld, past the last page: killed by "
		    "SIG%s\n", pagesz, sigabbrev_np(WTERMSIG(status)));
	else
		printf("a child wrote byte %ld, past the last page: no fault?\n",
		    pagesz);
	unmake(p, 1024);

	p = make(10 * pagesz + 1, &id);
	before = shm_info_rss();
	for (long pg = 0; pg <= 10; pg += 5)
		p[pg * pagesz] = 1;
	printf("touched pages 0, 5 and 10: resident %lu (SHM_INFO shm_rss "
	    "+%lu pages)\n", rss_of(id), shm_info_rss() - before);
	memset(p, 1, 10 * pagesz + 1);
	printf("wrote all 10 pages and 1 byte: resident %lu (SHM_INFO shm_rss "
	    "+%lu pages)\n", rss_of(id), shm_info_rss() - before);
	unmake(p, 10 * pagesz + 1);
	return 0;
}
