/*
 * view.c - the live view (ncurses): the selected board's text (text.c,
 * drawn through a memory stream) refreshed every interval, its
 * scoreboard sorted as asked.  Keys: q quits; p or space pauses; s
 * cycles the sort (index, state, tasks, pid); + and - change the
 * interval; Tab, arrows pick the board when there are several.  A board
 * that disappears stays on screen marked gone; the view keeps running.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curses.h>

#include "top.h"

enum { SORT_INDEX, SORT_STATE, SORT_TASKS, SORT_PID, SORT_N };
static const char *const sort_names[SORT_N] = { "index", "state", "tasks",
    "pid" };

struct view {
	struct top_list v_boards;   /* shown, gone ones included */
	struct top_errs v_errs;
	size_t v_cur;               /* which board */
	int v_sort;
	int v_paused;
	double v_interval;
	long v_refreshes;
	int v_failed;               /* the segment list could not be read */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct sort_ctx {
	const struct top_row *sc_rows;
	int sc_sort;
};

/* Order of row indexes: busiest first for state and tasks; ties by
 * index. */
static int
row_cmp(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *c = arg;
	const struct top_row *x = &c->sc_rows[*(const unsigned *)a];
	const struct top_row *y = &c->sc_rows[*(const unsigned *)b];
	int d = 0;

	switch (c->sc_sort) {
	case SORT_STATE:
		d = (y->tr_state > x->tr_state) - (y->tr_state < x->tr_state);
		break;
	case SORT_TASKS:
		d = (y->tr_tasks > x->tr_tasks) - (y->tr_tasks < x->tr_tasks);
		break;
	case SORT_PID:
		d = (x->tr_pid > y->tr_pid) - (x->tr_pid < y->tr_pid);
		break;
	}
	return d != 0 ? d : (x->tr_index > y->tr_index) -
	    (x->tr_index < y->tr_index);
}

/* Read the boards again; one no longer there is kept, marked gone. */
static void
refresh_boards(struct view *v, struct top_sel *s, size_t nsel)
{
	struct top_list cur = { NULL, 0, 0 };
	struct top_board *old;
	size_t i, j;
	int found;

	top_errs_free(&v->v_errs);
	if (top_gather(s, nsel, &cur, &v->v_errs) < 0) {
		v->v_failed = 1;
		top_list_free(&cur);
		return;
	}
	v->v_failed = 0;
	for (i = 0; i < v->v_boards.l_n; i++) {
		old = &v->v_boards.l_v[i];
		for (found = 0, j = 0; j < cur.l_n && !found; j++)
			if (cur.l_v[j].b_seg.sg_shmid == old->b_seg.sg_shmid) {
				top_rates(&cur.l_v[j], old);
				found = 1;
			}
		if (!found && top_list_add(&cur, old) == 0) {
			cur.l_v[cur.l_n - 1].b_gone = 1;
			cur.l_v[cur.l_n - 1].b_have_rate = 0;
			memset(old, 0, sizeof(*old)); /* cur owns it now */
		}
	}
	top_list_free(&v->v_boards);
	v->v_boards = cur;
	if (v->v_cur >= cur.l_n)
		v->v_cur = cur.l_n > 0 ? cur.l_n - 1 : 0;
	v->v_refreshes++;
}

/* Draw text (lines) from row y on, clipped to the screen. */
static void
draw_text(int y, const char *text)
{
	const char *p = text, *nl;
	size_t n;

	for (; *p != '\0' && y < LINES; p = nl + 1) {
		nl = strchrnul(p, '\n');
		n = (size_t)(nl - p);
		mvaddnstr(y++, 0, p, n < (size_t)COLS ? (int)n : COLS);
		if (*nl == '\0')
			break;
	}
}

static void
draw_board(const struct view *v, const struct top_board *b, int y)
{
	struct sort_ctx c = { b->b_rows, v->v_sort };
	unsigned *order, i;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&text, &len)) == NULL)
		return;
	if ((order = calloc(b->b_nrows + 1, sizeof(*order))) != NULL) {
		for (i = 0; i < b->b_nrows; i++)
			order[i] = i;
		qsort_r(order, b->b_nrows, sizeof(*order), row_cmp, &c);
	}
	top_kernel_lines(f, b);
	top_pool_lines(f, b);
	top_rows_lines(f, b, order);
	top_trace_lines(f, b);
	if (fclose(f) == 0) {
		if (b->b_gone)
			attron(A_BOLD);
		draw_text(y, text);
		attroff(A_BOLD);
	}
	free(order);
	free(text);
}

static void
draw(const struct view *v)
{
	char line[512];
	size_t i;
	int y = 2, x;

	erase();
	snprintf(line, sizeof(line), "forkboard-top  every %.1f s  sort: %s"
	    "%s  (q quit, p pause, s sort, +/- interval, Tab board)",
	    v->v_interval, sort_names[v->v_sort],
	    v->v_paused ? "  PAUSED" : "");
	mvaddnstr(0, 0, line, COLS);
	move(1, 0);
	addstr("boards:");
	for (i = 0; i < v->v_boards.l_n; i++) {
		snprintf(line, sizeof(line), " %d%s",
		    v->v_boards.l_v[i].b_seg.sg_shmid,
		    v->v_boards.l_v[i].b_gone ? "(gone)" : "");
		if (i == v->v_cur)
			attron(A_REVERSE);
		getyx(stdscr, y, x);
		if (x + (int)strlen(line) < COLS)
			addstr(line);
		attroff(A_REVERSE);
	}
	if (v->v_boards.l_n == 0)
		addstr(v->v_failed ? " cannot read /proc/sysvipc/shm" :
		    " no forkboard board found");
	y = 2;
	for (i = 0; i < v->v_errs.e_n && i < 3; i++) {
		snprintf(line, sizeof(line), "shmid %d: %s",
		    v->v_errs.e_v[i].ee_shmid, v->v_errs.e_v[i].ee_msg);
		mvaddnstr(y++, 0, v->v_errs.e_v[i].ee_shmid >= 0 ? line :
		    v->v_errs.e_v[i].ee_msg, COLS);
	}
	if (v->v_boards.l_n > 0)
		draw_board(v, &v->v_boards.l_v[v->v_cur], y);
	refresh();
}

/* Act on a key; returns 0 to quit. */
static int
key(struct view *v, int ch, int64_t *next)
{
	size_t n = v->v_boards.l_n;

	switch (ch) {
	case 'q': case 'Q':
		return 0;
	case 'p': case ' ':
		v->v_paused = !v->v_paused;
		*next = now_ms();
		break;
	case 's':
		v->v_sort = (v->v_sort + 1) % SORT_N;
		break;
	case '+':
		v->v_interval += v->v_interval < 1 ? 0.1 : 1;
		break;
	case '-':
		v->v_interval -= v->v_interval <= 1 ? 0.1 : 1;
		if (v->v_interval < 0.1)
			v->v_interval = 0.1;
		break;
	case '\t': case KEY_RIGHT: case KEY_DOWN:
		if (n > 0)
			v->v_cur = (v->v_cur + 1) % n;
		break;
	case KEY_BTAB: case KEY_LEFT: case KEY_UP:
		if (n > 0)
			v->v_cur = (v->v_cur + n - 1) % n;
		break;
	}
	return 1;
}

int
top_view(struct top_sel *s, size_t nsel, double interval, long iterations)
{
	struct view v;
	int64_t next, left;
	int ch, run = 1;

	memset(&v, 0, sizeof(v));
	v.v_interval = interval;
	if (initscr() == NULL) {
		fprintf(stderr, "forkboard-top: cannot start the terminal "
		    "view (TERM?); try --once\n");
		return 1;
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	next = now_ms();
	while (run) {
		if (!v.v_paused && now_ms() >= next) {
			refresh_boards(&v, s, nsel);
			next = now_ms() + (int64_t)(v.v_interval * 1000);
		}
		draw(&v);
		if (iterations > 0 && v.v_refreshes >= iterations)
			break;
		left = v.v_paused ? 1000 : next - now_ms();
		timeout(left > 0 ? (int)left : 0);
		if ((ch = getch()) != ERR)
			run = key(&v, ch, &next);
	}
	endwin();
	top_list_free(&v.v_boards);
	top_errs_free(&v.v_errs);
	return 0;
}
