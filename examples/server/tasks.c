/*
 * tasks.c - the built-in task kinds and the kind table.
 *
 * Handlers run in a worker, on the task's slot.  They treat the payload
 * as untrusted bytes: no NUL terminator is assumed, numbers are parsed
 * with a length bound and a range check.  Libraries do the real work
 * (OpenSSL's EVP for sha256, zlib for crc32 and gzip).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "server.h"

#define PRIMES_MAX	50000000UL
#define SLEEP_MAX_MS	600000UL

struct kind	fbs_kinds[FBS_MAX_KINDS];
unsigned	fbs_nkinds;

/* A decimal number of at most 20 digits, surrounding whitespace allowed. */
static int
parse_num(const struct fb_task *t, unsigned long max, unsigned long *out)
{
	const char *p = t->t_payload, *end = p + t->t_len;
	unsigned long v = 0;
	int digits = 0;

	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (++digits > 20 || v > (max - (unsigned long)(*p - '0')) / 10)
			return ERANGE;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	if (digits == 0 || p != end)
		return EINVAL;
	*out = v;
	return 0;
}

static int
put(struct fb_task *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->t_result, t->t_result_cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->t_result_cap)
		return ENOBUFS;
	t->t_result_len = (size_t)n;
	return 0;
}

static int
k_sha256(struct fb_task *t, void *arg)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	char hex[2 * EVP_MAX_MD_SIZE + 2];

	(void)arg;
	if (EVP_Digest(t->t_payload, t->t_len, md, &mdlen, EVP_sha256(),
	    NULL) != 1)
		return EIO;
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return put(t, "%s\n", hex);
}

static int
k_crc32(struct fb_task *t, void *arg)
{
	uLong crc = crc32(0L, Z_NULL, 0);
	const Bytef *p = t->t_payload;
	size_t left = t->t_len, n;

	(void)arg;
	while (left > 0) {	/* crc32() takes a uInt length */
		n = left > (1u << 30) ? (1u << 30) : left;
		crc = crc32(crc, p, (uInt)n);
		p += n;
		left -= n;
	}
	return put(t, "%08lx\n", (unsigned long)crc);
}

static int
k_gzip(struct fb_task *t, void *arg)
{
	z_stream zs;
	int r;

	(void)arg;
	memset(&zs, 0, sizeof(zs));
	/* 15 + 16: a gzip wrapper, not zlib's. */
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return ENOMEM;
	zs.next_in = (Bytef *)(uintptr_t)t->t_payload;
	zs.avail_in = (uInt)t->t_len;
	zs.next_out = t->t_result;
	zs.avail_out = (uInt)t->t_result_cap;
	r = deflate(&zs, Z_FINISH);
	t->t_result_len = zs.total_out;
	deflateEnd(&zs);
	if (r != Z_STREAM_END) {
		t->t_result_len = 0;
		return ENOBUFS;
	}
	return 0;
}

static int
k_wc(struct fb_task *t, void *arg)
{
	const unsigned char *p = t->t_payload;
	unsigned long lines = 0, words = 0;
	int inword = 0;
	size_t i;

	(void)arg;
	for (i = 0; i < t->t_len; i++) {
		int space = p[i] == ' ' || (p[i] >= '\t' && p[i] <= '\r');

		if (p[i] == '\n')
			lines++;
		if (!space && !inword)
			words++;
		inword = !space;
	}
	return put(t, "%lu %lu %zu\n", lines, words, t->t_len);
}

static int
k_upper(struct fb_task *t, void *arg)
{
	const char *in = t->t_payload;
	char *out = t->t_result;
	size_t i;

	(void)arg;
	if (t->t_len > t->t_result_cap)
		return ENOBUFS;
	for (i = 0; i < t->t_len; i++)
		out[i] = (in[i] >= 'a' && in[i] <= 'z') ? in[i] - 32 : in[i];
	t->t_result_len = t->t_len;
	return 0;
}

/* Primes <= n, by a segmented-free simple sieve of odd numbers. */
static int
k_primes(struct fb_task *t, void *arg)
{
	unsigned long n, i, j, count;
	unsigned char *sieve;
	int r;

	(void)arg;
	if ((r = parse_num(t, PRIMES_MAX, &n)) != 0)
		return r;
	if (n < 2)
		return put(t, "0\n");
	if ((sieve = calloc(n / 2 + 1, 1)) == NULL)
		return ENOMEM;
	count = 1;	/* 2 */
	for (i = 3; i <= n; i += 2) {
		if (sieve[i / 2])
			continue;
		count++;
		for (j = i * i; j <= n; j += 2 * i)
			sieve[j / 2] = 1;
	}
	free(sieve);
	return put(t, "%lu\n", count);
}

static int
k_sleep(struct fb_task *t, void *arg)
{
	struct timespec ts;
	unsigned long ms;
	int r;

	(void)arg;
	if ((r = parse_num(t, SLEEP_MAX_MS, &ms)) != 0)
		return r;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	return put(t, "slept %lu ms\n", ms);
}

static int
k_noop(struct fb_task *t, void *arg)
{
	(void)t;
	(void)arg;
	return 0;
}

static const struct kind builtins[] = {
	{ "sha256", 1, k_sha256, NULL, "text/plain", 0, NULL },
	{ "crc32", 2, k_crc32, NULL, "text/plain", 0, NULL },
	{ "gzip", 3, k_gzip, NULL, "application/gzip", 0, NULL },
	{ "wc", 4, k_wc, NULL, "text/plain", 0, NULL },
	{ "upper", 5, k_upper, NULL, "application/octet-stream", 0, NULL },
	{ "primes", 6, k_primes, NULL, "text/plain", 0, NULL },
	{ "sleep", 7, k_sleep, NULL, "text/plain", 0, NULL },
	{ "noop", 8, k_noop, NULL, "application/octet-stream", 0, NULL },
};

void
tasks_builtin(void)
{
	size_t i;

	fbs_nkinds = 0;
	for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		fbs_kinds[fbs_nkinds++] = builtins[i];
}

static int
name_ok(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_' || *s == '-'))
			return 0;
	return n >= 1 && n <= 32;
}

int
kind_add(const struct kind *k)
{
	if (!name_ok(k->k_name) || k->k_fn == NULL)
		return -EINVAL;
	if (kind_find(k->k_name, strlen(k->k_name)) != NULL)
		return -EEXIST;
	if (fbs_nkinds >= FBS_MAX_KINDS)
		return -ENOSPC;
	fbs_kinds[fbs_nkinds++] = *k;
	return 0;
}

const struct kind *
kind_find(const char *name, size_t len)
{
	unsigned i;

	for (i = 0; i < fbs_nkinds; i++)
		if (strlen(fbs_kinds[i].k_name) == len &&
		    memcmp(fbs_kinds[i].k_name, name, len) == 0)
			return &fbs_kinds[i];
	return NULL;
}

int
kind_index(uint32_t code)
{
	unsigned i;

	for (i = 0; i < fbs_nkinds; i++)
		if (fbs_kinds[i].k_code == code)
			return (int)i;
	return -1;
}
