/*
 * discover.c - every System V segment on the machine, as the kernel
 * describes it: /proc/sysvipc/shm lists them all (whoever owns them, and
 * those already IPC_RMID'd, whose key reads 0 and whose mode has
 * SHM_DEST), with the fields `ipcs -m -i` shows plus the bytes really
 * backed (rss) that IPC_STAT does not give.
 *
 * The kernel's view is taken before forkboard-top attaches, so the last
 * pid and times shown are the pool's, not ours.
 */
#include <sys/types.h>
#include <sys/shm.h>

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "top.h"

/* One data line of /proc/sysvipc/shm (columns since Linux 2.6.31):
 * key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime
 * ctime rss swap. */
static int
parse_line(const char *line, struct top_seg *sg)
{
	long long key, atime, dtime, ctime_;
	unsigned long long size, rss, swap;
	unsigned long nattch;
	unsigned perms, uid, gid, cuid, cgid;
	int shmid, cpid, lpid;

	if (sscanf(line, "%lld %d %o %llu %d %d %lu %u %u %u %u %lld %lld "
	    "%lld %llu %llu", &key, &shmid, &perms, &size, &cpid, &lpid,
	    &nattch, &uid, &gid, &cuid, &cgid, &atime, &dtime, &ctime_, &rss,
	    &swap) != 16)
		return -1;
	(void)cgid;
	memset(sg, 0, sizeof(*sg));
	sg->sg_shmid = shmid;
	sg->sg_key = (key_t)key;
	sg->sg_size = size;
	sg->sg_rss = rss;
	sg->sg_swap = swap;
	sg->sg_mode = perms & 0777;
	sg->sg_removed = (perms & SHM_DEST) != 0;
	sg->sg_uid = uid;
	sg->sg_gid = gid;
	sg->sg_cuid = cuid;
	sg->sg_nattch = nattch;
	sg->sg_cpid = cpid;
	sg->sg_lpid = lpid;
	sg->sg_atime = (time_t)atime;
	sg->sg_dtime = (time_t)dtime;
	sg->sg_ctime = (time_t)ctime_;
	return 0;
}

/* Append a copy of *b; the list owns its buffers from now on. */
int
top_list_add(struct top_list *l, const struct top_board *b)
{
	struct top_board *v;
	size_t cap;

	if (l->l_n == l->l_cap) {
		cap = l->l_cap ? l->l_cap * 2 : 16;
		if ((v = reallocarray(l->l_v, cap, sizeof(*v))) == NULL)
			return -ENOMEM;
		l->l_v = v;
		l->l_cap = cap;
	}
	l->l_v[l->l_n++] = *b;
	return 0;
}

/* Append every segment to l (boards not yet read).  Returns 0 or -errno. */
int
top_discover(struct top_list *l)
{
	struct top_board b;
	char line[512];
	FILE *f;
	int r = 0;

	if ((f = fopen("/proc/sysvipc/shm", "re")) == NULL)
		return -errno;
	if (fgets(line, sizeof(line), f) == NULL) { /* the header line */
		fclose(f);
		return -EIO;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		memset(&b, 0, sizeof(b));
		if (parse_line(line, &b.b_seg) == 0 &&
		    (r = top_list_add(l, &b)) < 0)
			break;
	}
	fclose(f);
	return r;
}

/* A user's name, or the number when it has none. */
const char *
top_user(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)uid);
	return buf;
}

void
top_board_clear(struct top_board *b)
{
	free(b->b_rows);
	free(b->b_slotmap);
	b->b_rows = NULL;
	b->b_slotmap = NULL;
	b->b_nrows = 0;
}

void
top_list_free(struct top_list *l)
{
	size_t i;

	for (i = 0; i < l->l_n; i++)
		top_board_clear(&l->l_v[i]);
	free(l->l_v);
	l->l_v = NULL;
	l->l_n = l->l_cap = 0;
}
