/*
 * abi.c - what keeps the ABI growable: structures passed with their size
 * (forkboard.h, ABI), and the library's version at run time.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

/*
 * Take a caller's input structure: the bytes both versions know are
 * copied over ours (which holds defaults); a caller's structure larger
 * than ours (a newer header) is accepted only if the bytes we do not know
 * are zero, since we could not honour them.  Returns 0 or -EINVAL.
 */
int
fb__copy_in(void *ours, size_t ours_size, const void *theirs,
    size_t caller_size)
{
	const unsigned char *t = theirs;
	size_t i;

	if (theirs == NULL || caller_size == 0)
		return -EINVAL;
	for (i = ours_size; i < caller_size; i++)
		if (t[i] != 0)
			return -EINVAL;
	memcpy(ours, theirs, caller_size < ours_size ? caller_size :
	    ours_size);
	return 0;
}

/*
 * Give a caller an output structure: as many bytes as both know, with the
 * leading size_t (the _filled member) saying how many.  A caller's
 * structure too small to hold even that is -EINVAL.
 */
int
fb__copy_out(void *theirs, size_t caller_size, void *ours, size_t ours_size)
{
	size_t n = caller_size < ours_size ? caller_size : ours_size;

	if (theirs == NULL || caller_size < sizeof(size_t))
		return -EINVAL;
	memcpy(ours, &n, sizeof(n));
	memcpy(theirs, ours, n);
	return 0;
}

const char *
fb_version(void)
{
	return FB_VERSION_STRING;
}

unsigned
fb_version_number(void)
{
	return (unsigned)FB_VERSION_MAJOR << 16 |
	    (unsigned)FB_VERSION_MINOR << 8 | (unsigned)FB_VERSION_PATCH;
}
