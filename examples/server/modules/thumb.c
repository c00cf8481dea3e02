/*
 * thumb.c - an example forkboard-server module: image thumbnails with
 * libgd, a native library that parses untrusted images.
 *
 *   thumb         PNG, JPEG, GIF or WebP in, a PNG at most 64x64 out;
 *                 an image libgd cannot read fails with EINVAL (422).
 *   thumb-unsafe  the same code as careless code is written: it does not
 *                 check what libgd's decoder returned, so a malformed
 *                 image makes libgd dereference NULL in gdImageScale() and
 *                 the worker dies of SIGSEGV.  It is here to show what the
 *                 pool does with that: the client gets 502 naming the
 *                 signal, a new worker takes the dead one's place, and the
 *                 server keeps serving.
 *
 * Build: cc -shared -fPIC thumb.c -o thumb.so $(pkg-config --cflags --libs gdlib)
 * Run:   forkboard-server --module ./thumb.so
 *        curl --data-binary @photo.jpg http://127.0.0.1:8080/v1/tasks/thumb >t.png
 */
#include <errno.h>
#include <string.h>

#include <gd.h>

#include "forkboard-module.h"

#define THUMB_MAX 64

static gdImagePtr
decode(const unsigned char *p, size_t n)
{
	int len = n > 0x7fffffff ? 0x7fffffff : (int)n;

	if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
		return gdImageCreateFromPngPtr(len, (void *)(uintptr_t)p);
	if (n >= 3 && memcmp(p, "\xff\xd8\xff", 3) == 0)
		return gdImageCreateFromJpegPtrEx(len, (void *)(uintptr_t)p, 1);
	if (n >= 6 && memcmp(p, "GIF8", 4) == 0)
		return gdImageCreateFromGifPtr(len, (void *)(uintptr_t)p);
	if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
		return gdImageCreateFromWebpPtr(len, (void *)(uintptr_t)p);
	return NULL;
}

static int
thumb(struct fb_task *t, int careful)
{
	gdImagePtr im, th;
	unsigned w, h;
	void *png;
	int size = 0;

	im = decode(t->t_payload, t->t_len);
	if (im == NULL && careful)
		return EINVAL;
	/* Careless code goes on with im == NULL: libgd crashes here. */
	w = (unsigned)gdImageSX(im);
	h = (unsigned)gdImageSY(im);
	if (w >= h) {
		h = h * THUMB_MAX / (w ? w : 1);
		w = THUMB_MAX;
	} else {
		w = w * THUMB_MAX / h;
		h = THUMB_MAX;
	}
	th = gdImageScale(im, w ? w : 1, h ? h : 1);
	gdImageDestroy(im);
	if (th == NULL)
		return ENOMEM;
	png = gdImagePngPtr(th, &size);
	gdImageDestroy(th);
	if (png == NULL)
		return ENOMEM;
	if ((size_t)size > t->t_result_cap) {
		gdFree(png);
		return ENOBUFS;
	}
	memcpy(t->t_result, png, (size_t)size);
	t->t_result_len = (size_t)size;
	gdFree(png);
	return 0;
}

static int
thumb_safe(struct fb_task *t, void *arg)
{
	(void)arg;
	return thumb(t, 1);
}

static int
thumb_unsafe(struct fb_task *t, void *arg)
{
	(void)arg;
	return thumb(t, 0);
}

static const struct fbm_kind kinds[] = {
	{ "thumb", thumb_safe, NULL, "image/png", 0 },
	{ "thumb-unsafe", thumb_unsafe, NULL, "image/png", 0 },
};

static const struct fbm_module module = {
	FBM_ABI_VERSION, "thumb", kinds, sizeof(kinds) / sizeof(kinds[0]),
	NULL, NULL
};

const struct fbm_module *forkboard_module_v1(void);

const struct fbm_module *
forkboard_module_v1(void)
{
	return &module;
}
