/*
 * counters.c - what each task costs the kernel: system calls, context
 * switches, wake-ups and CPU migrations, counted by the kernel over a
 * measurement's timed part for the measuring process and everything it
 * forks, and divided by the tasks done then.
 *
 * Timings move with whatever else runs on the machine; these counts
 * barely do, and they are the physical reason for a ratio: a task that
 * costs a context switch costs its ~1 us on one CPU, a wake-up across
 * CPUs its ~60 us on a small VM.
 *
 * perf_event_open(2) with inherit: counters opened before the workers are
 * forked follow them, and reading the opened descriptor sums the process
 * and all its children, live or exited.  System calls and wake-ups are
 * tracepoints (raw_syscalls:sys_enter, sched:sched_waking, which fires
 * in the waker); their ids come from tracefs.  Where the kernel refuses
 * (no perf events, no tracefs, not allowed), the counts are simply
 * missing ("-" in the table), and nothing else changes.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include <linux/perf_event.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static const char *tracefs[] = {
	"/sys/kernel/tracing/events",
	"/sys/kernel/debug/tracing/events",
};

const char *const b_ctr_key[B_NCTR] = { "sys", "csw", "wake", "mig",
	"cpu" };

static struct {
	int		 c_fd[B_NCTR];
	uint64_t	 c_at[B_NCTR];	/* value when the part began */
	uint64_t	 c_sum[B_NCTR];	/* over the parts that ended */
	int		 c_open;
	int		 c_running;
} ctr = { .c_fd = { -1, -1, -1, -1, -1 } };

/* A tracepoint's id, or -1. */
static long
tp_id(const char *name)
{
	char path[256];
	FILE *f;
	long id = -1;
	size_t i;

	for (i = 0; i < sizeof(tracefs) / sizeof(tracefs[0]) && id < 0; i++) {
		(void)snprintf(path, sizeof(path), "%s/%s/id", tracefs[i],
		    name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fscanf(f, "%ld", &id) != 1)
			id = -1;
		(void)fclose(f);
	}
	return id;
}

static int
ev_open(uint32_t type, uint64_t config)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = type;
	a.config = config;
	a.inherit = 1;		/* follow every process forked later */
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1,
	    PERF_FLAG_FD_CLOEXEC);
}

/* Open the counters for this process and all it forks from now on. */
void
b_ctr_open(void)
{
	long sys = tp_id("raw_syscalls/sys_enter");
	long wake = tp_id("sched/sched_waking");

	if (sys >= 0)
		ctr.c_fd[B_CTR_SYSCALLS] = ev_open(PERF_TYPE_TRACEPOINT,
		    (uint64_t)sys);
	ctr.c_fd[B_CTR_SWITCHES] = ev_open(PERF_TYPE_SOFTWARE,
	    PERF_COUNT_SW_CONTEXT_SWITCHES);
	if (wake >= 0)
		ctr.c_fd[B_CTR_WAKEUPS] = ev_open(PERF_TYPE_TRACEPOINT,
		    (uint64_t)wake);
	ctr.c_fd[B_CTR_MIGRATIONS] = ev_open(PERF_TYPE_SOFTWARE,
	    PERF_COUNT_SW_CPU_MIGRATIONS);
	ctr.c_fd[B_CTR_CPUNS] = ev_open(PERF_TYPE_SOFTWARE,
	    PERF_COUNT_SW_TASK_CLOCK);
	ctr.c_open = 1;
}

static uint64_t
ev_read(int fd)
{
	uint64_t v;

	if (fd < 0 || read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return 0;
	return v;
}

/* A timed part begins (parts add up: the reps of a start-up time). */
void
b_ctr_start(void)
{
	int i;

	if (!ctr.c_open || ctr.c_running)
		return;
	for (i = 0; i < B_NCTR; i++)
		ctr.c_at[i] = ev_read(ctr.c_fd[i]);
	ctr.c_running = 1;
}

void
b_ctr_stop(void)
{
	int i;

	if (!ctr.c_open || !ctr.c_running)
		return;
	for (i = 0; i < B_NCTR; i++)
		ctr.c_sum[i] += ev_read(ctr.c_fd[i]) - ctr.c_at[i];
	ctr.c_running = 0;
}

/* Counts per task of the timed parts so far, into br (NAN: not counted). */
void
b_ctr_per(struct bres *br, uint64_t tasks)
{
	int i;

	b_ctr_stop();
	for (i = 0; i < B_NCTR; i++)
		br->br_per[i] = ctr.c_fd[i] >= 0 && tasks > 0 ?
		    (double)ctr.c_sum[i] / (double)tasks : NAN;
}
