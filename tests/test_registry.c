/*
 * test_registry.c - the code -> handler table (src/registry.c): add and
 * find, order after random inserts, refusals (duplicate, reserved code,
 * NULL handler), free.
 */
#include "testutil.h"

#include "internal.h"

#define NCODES 1000

static int
handler_a(struct fb_task *t, void *arg)
{
	(void)t;
	(void)arg;
	return 1;
}

static int
handler_b(struct fb_task *t, void *arg)
{
	(void)t;
	(void)arg;
	return 2;
}

static int
handler_c(struct fb_task *t, void *arg)
{
	(void)t;
	(void)arg;
	return 3;
}

/* xorshift64*: a fixed, portable sequence, so a failure reproduces. */
static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int
setup(void **state)
{
	int *fds;

	if ((fds = malloc(sizeof(*fds))) == NULL)
		return -1;
	*fds = tu_count_fds();
	*state = fds;
	return *fds < 0 ? -1 : 0;
}

/* The registry touches no descriptor and forks nothing: check it. */
static int
teardown(void **state)
{
	int *fds = *state, bad;

	bad = tu_leftovers(*fds);
	free(fds);
	*state = NULL;
	return bad ? -1 : 0;
}

static void
assert_sorted(const struct fb__registry *rg)
{
	size_t i;

	for (i = 1; i < rg->rg_len; i++)
		assert_true(rg->rg_tab[i - 1].h_code < rg->rg_tab[i].h_code);
	assert_true(rg->rg_len <= rg->rg_cap);
}

static void
test_add_find(void **state)
{
	struct fb__registry rg;
	const struct fb__handler *h;
	int a, b, c;

	(void)state;
	memset(&rg, 0, sizeof(rg));
	/* Empty: nothing found, no table needed. */
	assert_null(fb__registry_find(&rg, 0));
	assert_null(fb__registry_find(&rg, 5));

	assert_int_equal(fb__registry_add(&rg, 5, handler_a, &a), 0);
	assert_int_equal(rg.rg_len, 1);
	assert_non_null(h = fb__registry_find(&rg, 5));
	assert_int_equal(h->h_code, 5);
	assert_ptr_equal(h->h_fn, handler_a);
	assert_ptr_equal(h->h_arg, &a);
	assert_int_equal(h->h_timeout_ms, 0);	/* the pool default */
	assert_null(fb__registry_find(&rg, 4));
	assert_null(fb__registry_find(&rg, 6));

	/* Before, after: each keeps its own handler and argument. */
	assert_int_equal(fb__registry_add(&rg, 1, handler_b, &b), 0);
	assert_int_equal(fb__registry_add(&rg, 9, handler_c, NULL), 0);
	assert_int_equal(fb__registry_add(&rg, 0, handler_a, &c), 0);
	assert_int_equal(rg.rg_len, 4);
	assert_sorted(&rg);
	assert_non_null(h = fb__registry_find(&rg, 1));
	assert_ptr_equal(h->h_fn, handler_b);
	assert_ptr_equal(h->h_arg, &b);
	assert_non_null(h = fb__registry_find(&rg, 9));
	assert_ptr_equal(h->h_fn, handler_c);
	assert_null(h->h_arg);
	assert_non_null(h = fb__registry_find(&rg, 0));
	assert_ptr_equal(h->h_arg, &c);
	assert_non_null(h = fb__registry_find(&rg, 5));
	assert_ptr_equal(h->h_fn, handler_a);
	assert_ptr_equal(h->h_arg, &a);
	/* The handler found is the one that runs. */
	assert_int_equal(h->h_fn(NULL, h->h_arg), 1);
	assert_null(fb__registry_find(&rg, 2));
	assert_null(fb__registry_find(&rg, UINT32_MAX));

	/* The highest code a user may register. */
	assert_int_equal(fb__registry_add(&rg, FB_CODE_RESERVED - 1,
	    handler_b, NULL), 0);
	assert_non_null(h = fb__registry_find(&rg, FB_CODE_RESERVED - 1));
	assert_ptr_equal(h->h_fn, handler_b);
	assert_sorted(&rg);
	fb__registry_free(&rg);
}

static void
test_random_order(void **state)
{
	struct fb__registry rg;
	const struct fb__handler *h;
	uint32_t *codes, *sorted, tmp, probe;
	uint64_t seed = 0x46424f44u;
	size_t i, j;

	(void)state;
	memset(&rg, 0, sizeof(rg));
	assert_non_null(codes = calloc(NCODES, sizeof(*codes)));
	assert_non_null(sorted = calloc(NCODES, sizeof(*sorted)));
	/* Distinct codes, spread over the whole user range, with both ends
	 * in: code i is i * step + 0 (step even, so odd numbers are never
	 * registered and make good unknown codes). */
	for (i = 0; i < NCODES; i++)
		codes[i] = (uint32_t)i * 4294000u;
	codes[NCODES - 1] = FB_CODE_RESERVED - 2;
	for (i = NCODES - 1; i > 0; i--) {
		j = (size_t)(next_rand(&seed) % (i + 1));
		tmp = codes[i];
		codes[i] = codes[j];
		codes[j] = tmp;
	}
	for (i = 0; i < NCODES; i++) {
		assert_int_equal(fb__registry_add(&rg, codes[i], handler_a,
		    &codes[i]), 0);
		assert_int_equal(rg.rg_len, i + 1);
		/* Sorted after every insert, not just at the end. */
		if (i % 97 == 0)
			assert_sorted(&rg);
	}
	assert_int_equal(rg.rg_len, NCODES);
	assert_sorted(&rg);
	memcpy(sorted, codes, NCODES * sizeof(*codes));
	qsort(sorted, NCODES, sizeof(*sorted), cmp_u32);
	for (i = 0; i < NCODES; i++)
		assert_int_equal(rg.rg_tab[i].h_code, sorted[i]);

	for (i = 0; i < NCODES; i++) {
		assert_non_null(h = fb__registry_find(&rg, codes[i]));
		assert_int_equal(h->h_code, codes[i]);
		assert_ptr_equal(h->h_arg, &codes[i]);
	}
	for (i = 0; i < NCODES; i++) {
		probe = codes[i] + 1;	/* odd: never registered */
		assert_null(fb__registry_find(&rg, probe));
		probe = codes[i] - 1;
		assert_null(fb__registry_find(&rg, probe));
	}
	assert_null(fb__registry_find(&rg, FB_CODE_RESERVED));
	assert_null(fb__registry_find(&rg, UINT32_MAX));
	/* Every code again: all refused, nothing changes. */
	for (i = 0; i < NCODES; i++)
		assert_int_equal(fb__registry_add(&rg, codes[i], handler_b,
		    NULL), -EEXIST);
	assert_int_equal(rg.rg_len, NCODES);
	for (i = 0; i < NCODES; i++)
		assert_ptr_equal(rg.rg_tab[i].h_fn, handler_a);
	fb__registry_free(&rg);
	free(codes);
	free(sorted);
}

static void
test_refusals(void **state)
{
	struct fb__registry rg;
	const struct fb__handler *h;
	int a;

	(void)state;
	memset(&rg, 0, sizeof(rg));
	assert_int_equal(fb__registry_add(&rg, 7, handler_a, &a), 0);

	/* Duplicate: refused, the first registration stays. */
	assert_int_equal(fb__registry_add(&rg, 7, handler_b, NULL), -EEXIST);
	assert_int_equal(rg.rg_len, 1);
	assert_non_null(h = fb__registry_find(&rg, 7));
	assert_ptr_equal(h->h_fn, handler_a);
	assert_ptr_equal(h->h_arg, &a);

	/* Reserved codes belong to the library, FB_CODE_FDLIST included. */
	assert_int_equal(fb__registry_add(&rg, FB_CODE_RESERVED, handler_a,
	    NULL), -EINVAL);
	assert_int_equal(fb__registry_add(&rg, FB_CODE_FDLIST, handler_a,
	    NULL), -EINVAL);
	assert_int_equal(fb__registry_add(&rg, UINT32_MAX, handler_a, NULL),
	    -EINVAL);
	assert_null(fb__registry_find(&rg, FB_CODE_RESERVED));
	assert_null(fb__registry_find(&rg, FB_CODE_FDLIST));

	/* No handler. */
	assert_int_equal(fb__registry_add(&rg, 8, NULL, &a), -EINVAL);
	assert_null(fb__registry_find(&rg, 8));
	/* NULL fn wins over duplicate: -EINVAL, not -EEXIST. */
	assert_int_equal(fb__registry_add(&rg, 7, NULL, NULL), -EINVAL);
	assert_int_equal(rg.rg_len, 1);
	fb__registry_free(&rg);

	/* Refusals on an empty registry allocate nothing. */
	assert_int_equal(fb__registry_add(&rg, FB_CODE_RESERVED, handler_a,
	    NULL), -EINVAL);
	assert_int_equal(fb__registry_add(&rg, 1, NULL, NULL), -EINVAL);
	assert_null(rg.rg_tab);
	assert_int_equal(rg.rg_len, 0);
	assert_int_equal(rg.rg_cap, 0);
}

static void
test_free_resets(void **state)
{
	struct fb__registry rg;
	const struct fb__handler *h;
	uint32_t i;

	(void)state;
	memset(&rg, 0, sizeof(rg));
	/* Freeing an empty registry is fine. */
	fb__registry_free(&rg);
	assert_null(rg.rg_tab);

	for (i = 0; i < 20; i++)
		assert_int_equal(fb__registry_add(&rg, i * 3, handler_a, NULL),
		    0);
	assert_non_null(rg.rg_tab);
	assert_true(rg.rg_cap >= 20);
	fb__registry_free(&rg);
	assert_null(rg.rg_tab);
	assert_int_equal(rg.rg_len, 0);
	assert_int_equal(rg.rg_cap, 0);
	for (i = 0; i < 20; i++)
		assert_null(fb__registry_find(&rg, i * 3));

	/* Usable again; a code of before is new now. */
	assert_int_equal(fb__registry_add(&rg, 3, handler_c, NULL), 0);
	assert_int_equal(rg.rg_len, 1);
	assert_non_null(h = fb__registry_find(&rg, 3));
	assert_ptr_equal(h->h_fn, handler_c);
	assert_null(fb__registry_find(&rg, 6));
	fb__registry_free(&rg);
	fb__registry_free(&rg);
	assert_null(rg.rg_tab);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_find,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_order,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_resets,
		    setup, teardown),
	};

	alarm(30);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
