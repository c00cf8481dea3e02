/*
 * registry.c - the code -> handler table.  A sorted array searched with
 * bsearch: registration happens before fork, lookups on every task.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int
cmp_code(const void *k, const void *e)
{
	uint32_t a = *(const uint32_t *)k;
	uint32_t b = ((const struct fb__handler *)e)->h_code;

	return (a > b) - (a < b);
}

int
fb__registry_add(struct fb__registry *rg, uint32_t code, fb_handler_fn fn,
    void *arg)
{
	struct fb__handler *tab;
	size_t i, cap;

	if (fn == NULL || code >= FB_CODE_RESERVED)
		return -EINVAL;
	if (fb__registry_find(rg, code) != NULL)
		return -EEXIST;
	if (rg->rg_len == rg->rg_cap) {
		cap = rg->rg_cap ? rg->rg_cap * 2 : 8;
		tab = reallocarray(rg->rg_tab, cap, sizeof(*tab));
		if (tab == NULL)
			return -ENOMEM;
		rg->rg_tab = tab;
		rg->rg_cap = cap;
	}
	for (i = rg->rg_len; i > 0 && rg->rg_tab[i - 1].h_code > code; i--)
		rg->rg_tab[i] = rg->rg_tab[i - 1];
	rg->rg_tab[i].h_code = code;
	rg->rg_tab[i].h_fn = fn;
	rg->rg_tab[i].h_arg = arg;
	rg->rg_tab[i].h_timeout_ms = 0;
	rg->rg_len++;
	return 0;
}

const struct fb__handler *
fb__registry_find(const struct fb__registry *rg, uint32_t code)
{
	if (rg->rg_len == 0)
		return NULL;
	return bsearch(&code, rg->rg_tab, rg->rg_len, sizeof(*rg->rg_tab),
	    cmp_code);
}

/* Give code's handler its own timeout (ms; 0: the pool's).  -ENOENT if
 * no handler is registered for code. */
int
fb__registry_set_timeout(struct fb__registry *rg, uint32_t code, unsigned ms)
{
	struct fb__handler *h;

	if (rg->rg_len == 0 || (h = bsearch(&code, rg->rg_tab, rg->rg_len,
	    sizeof(*rg->rg_tab), cmp_code)) == NULL)
		return -ENOENT;
	h->h_timeout_ms = ms;
	return 0;
}

void
fb__registry_free(struct fb__registry *rg)
{
	free(rg->rg_tab);
	memset(rg, 0, sizeof(*rg));
}
