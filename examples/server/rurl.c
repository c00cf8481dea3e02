/*
 * rurl.c - parse a Redis address: redis://host[:port] (port 6379 by
 * default; [v6] in brackets) or unix:/path.  Shared by the server and
 * forkboard-submit so both take the same forms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rurl.h"

int
rurl_parse(const char *s, struct rurl *u, char *err, size_t errlen)
{
	const char *h, *colon, *end;
	char *e;
	long port = 6379;
	size_t hl;

	memset(u, 0, sizeof(*u));
	if (strncmp(s, "unix:", 5) == 0) {
		s += 5;
		while (s[0] == '/' && s[1] == '/')	/* unix:///path */
			s++;
		if (s[0] != '/' || strlen(s) >= sizeof(u->ru_path)) {
			snprintf(err, errlen, "unix:/path needs an absolute "
			    "path of less than %zu bytes", sizeof(u->ru_path));
			return -1;
		}
		strlcpy(u->ru_path, s, sizeof(u->ru_path));
		return 0;
	}
	if (strncmp(s, "redis://", 8) != 0) {
		snprintf(err, errlen, "'%s' is not redis://host[:port] or "
		    "unix:/path", s);
		return -1;
	}
	h = s + 8;
	if ((end = strchr(h, '/')) == NULL)
		end = h + strlen(h);
	if (*end == '/' && end[1] != '\0') {
		snprintf(err, errlen, "'%s': database numbers, users and "
		    "passwords are not supported", s);
		return -1;
	}
	if (*h == '[') {
		if ((colon = memchr(h, ']', (size_t)(end - h))) == NULL)
			goto bad;
		h++;
		hl = (size_t)(colon - h);
		colon++;
		if (colon != end && *colon != ':')
			goto bad;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		hl = (size_t)((colon != NULL ? colon : end) - h);
	}
	if (memchr(h, '@', (size_t)(end - h)) != NULL) {
		snprintf(err, errlen, "'%s': users and passwords are not "
		    "supported", s);
		return -1;
	}
	if (hl == 0 || hl >= sizeof(u->ru_host))
		goto bad;
	memcpy(u->ru_host, h, hl);
	if (colon != NULL && colon != end) {
		port = strtol(colon + 1, &e, 10);
		if (e != end || colon + 1 == end || port < 1 || port > 65535)
			goto bad;
	}
	u->ru_port = (int)port;
	return 0;
bad:
	snprintf(err, errlen, "'%s' is not redis://host[:port] or "
	    "unix:/path", s);
	return -1;
}
