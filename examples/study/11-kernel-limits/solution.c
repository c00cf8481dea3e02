/*
 * 11 the kernel's limits, as this machine reports them (solution)
 *
 *   ./solution
 *
 * Three limits can be read and set in /proc/sys/kernel (sysctl kernel.*),
 * and shmctl(IPC_INFO) returns them with two more:
 *
 *   shmmax  bytes in one segment          shmall  pages in all segments
 *   shmmni  segments in the system        shmmin  bytes, at least (1)
 *   shmseg  segments per process (Linux does not enforce it)
 *
 * The seeds quote old numbers: "at most 128 segments" (SHMMNI in Linux
 * 2.2), 32 MiB per segment (SHMMAX until Linux 3.16).  Since 3.16 shmmax
 * and shmall default to ULONG_MAX - 2^24: no limit in practice, memory
 * (and overcommit) is.  Each IPC namespace has its own limits.
 */
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn static void
die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(1);
}

/* A number from /proc/sys/kernel/NAME. */
static unsigned long long
sysctl_value(const char *name)
{
	char path[128];
	unsigned long long v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s", name);
	if ((f = fopen(path, "r")) == NULL)
		die(path);
	if (fscanf(f, "%llu", &v) != 1) {
		errno = EINVAL;
		die(path);
	}
	fclose(f);
	return v;
}

static void
compare(const char *name, unsigned long long ipc_info, const char *unit,
    const char *seed)
{
	unsigned long long proc = sysctl_value(name);

	printf("%s: /proc/sys/kernel/%s %llu, IPC_INFO %llu%s %s; %s\n", name,
	    name, proc, ipc_info, proc == ipc_info ? "" : " (they differ!)",
	    unit, seed);
}

static struct shm_info
shm_info(void)
{
	struct shm_info si;

	if (shmctl(0, SHM_INFO, (struct shmid_ds *)&si) == -1)
		die("shmctl SHM_INFO");
	return si;
}

int
main(void)
{
	struct shm_info before, after;
	struct shminfo lim;
	int id;

	if (shmctl(0, IPC_INFO, (struct shmid_ds *)&lim) == -1)
		die("shmctl IPC_INFO");
	compare("shmmax", lim.shmmax, "bytes per segment",
	    "before Linux 3.16: 33554432 (32 MiB)");
	compare("shmall", lim.shmall, "pages in all segments",
	    "before Linux 3.16: 2097152 (8 GiB of 4 KiB pages)");
	compare("shmmni", lim.shmmni, "segments",
	    "seed 003 says 128 (Linux 2.2)");
	printf("shmmin: IPC_INFO %lu byte(s) at least\n", lim.shmmin);
	printf("shmseg: IPC_INFO %lu per process (not enforced)\n",
	    lim.shmseg);

	before = shm_info();
	if ((id = shmget(IPC_PRIVATE, 3 * 4096, IPC_CREAT | 0600)) == -1)
		die("shmget");
	after = shm_info();
	printf("SHM_INFO after one more 3-page segment: used_ids %+d, shm_tot "
	    "%+ld pages\n", after.used_ids - before.used_ids,
	    (long)(after.shm_tot - before.shm_tot));
	if (shmctl(id, IPC_RMID, NULL) == -1)
		die("shmctl IPC_RMID");

	/* The limits, hit. */
	id = shmget(IPC_PRIVATE, lim.shmmin - 1, IPC_CREAT | 0600);
	printf("shmget(IPC_PRIVATE, shmmin - 1 = %lu, ...): %s\n",
	    lim.shmmin - 1, id == -1 ? strerrorname_np(errno) : "created?");
	if (lim.shmmax < SIZE_MAX) {
		id = shmget(IPC_PRIVATE, lim.shmmax + 1, IPC_CREAT | 0600);
		printf("shmget(IPC_PRIVATE, shmmax + 1, ...): %s\n",
		    id == -1 ? strerrorname_np(errno) : "created?");
	}
	if (id != -1)
		shmctl(id, IPC_RMID, NULL);
	return 0;
}
