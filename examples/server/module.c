/*
 * module.c - loading operator modules (see forkboard-module.h).
 *
 * dlopen() runs in the master before a pool forks, so the workers
 * inherit the mapped code.  Module kinds get task codes from 1000 up, in
 * load order.
 *
 * Reload (SIGHUP): dlopen() returns the handle it already has for a path
 * it has loaded, so a module is loaded from a private copy of the file
 * (made, opened, unlinked): every load maps the file as it is now.  The
 * modules loaded together form a set; each pool holds a reference to the
 * set it was started with, because its workers may be respawned from the
 * master and must find the same code there.  A set is closed when no pool
 * uses it and a newer one is current.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server.h"

#define MODULE_CODE_BASE	1000

struct modset {
	void			*ms_handle[FBS_MAX_MODULES];
	const struct fbm_module	*ms_mod[FBS_MAX_MODULES];
	size_t			 ms_n;
	unsigned		 ms_refs;
};

static struct modset	*current;

/* Copy path to a private file and dlopen that: a fresh mapping. */
static void *
open_copy(const char *path)
{
	char tmp[] = "/tmp/forkboard-module.XXXXXX";
	char buf[65536];
	ssize_t n;
	void *h = NULL;
	int in, out;

	if ((in = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "%s: module %s: %s\n", FBS_NAME, path,
		    strerror(errno));
		return NULL;
	}
	if ((out = mkostemp(tmp, O_CLOEXEC)) == -1) {
		close(in);
		return NULL;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	close(in);
	if (close(out) == 0 && n == 0 && (h = dlopen(tmp, RTLD_NOW |
	    RTLD_LOCAL)) == NULL)
		fprintf(stderr, "%s: module %s: %s\n", FBS_NAME, path,
		    dlerror());
	unlink(tmp);
	return h;
}

static int
load_one(const char *path, struct modset *ms, uint32_t *code)
{
	const struct fbm_module *m;
	fbm_entry_fn entry;
	struct kind k;
	void *h;
	size_t i;
	int r;

	if ((h = open_copy(path)) == NULL)
		return -1;
	*(void **)&entry = dlsym(h, FBM_SYMBOL);
	if (entry == NULL || (m = entry()) == NULL) {
		fprintf(stderr, "%s: module %s: no %s()\n", FBS_NAME, path,
		    FBM_SYMBOL);
		goto fail;
	}
	if (m->abi != FBM_ABI_VERSION) {
		fprintf(stderr, "%s: module %s: ABI %u, this server speaks "
		    "%u\n", FBS_NAME, path, m->abi, FBM_ABI_VERSION);
		goto fail;
	}
	if (m->init != NULL && (r = m->init()) != 0) {
		fprintf(stderr, "%s: module %s: init failed (%d)\n", FBS_NAME,
		    path, r);
		goto fail;
	}
	for (i = 0; i < m->nkinds; i++) {
		memset(&k, 0, sizeof(k));
		k.k_name = m->kinds[i].name;
		k.k_code = (*code)++;
		k.k_fn = m->kinds[i].handler;
		k.k_arg = m->kinds[i].arg;
		k.k_ctype = m->kinds[i].content_type;
		k.k_timeout_ms = m->kinds[i].timeout_ms;
		k.k_module = m->name != NULL ? m->name : path;
		if (k.k_name == NULL || (r = kind_add(&k)) < 0) {
			fprintf(stderr, "%s: module %s: kind '%s': %s\n",
			    FBS_NAME, path, k.k_name ? k.k_name : "(null)",
			    k.k_name == NULL ? "no name" : r == -EEXIST ?
			    "name taken" : r == -EINVAL ? "bad name or no "
			    "handler" : "too many kinds");
			goto fail;
		}
	}
	ms->ms_handle[ms->ms_n] = h;
	ms->ms_mod[ms->ms_n] = m;
	ms->ms_n++;
	return 0;
fail:
	dlclose(h);
	return -1;
}

static void
set_close(struct modset *ms)
{
	while (ms->ms_n > 0) {
		ms->ms_n--;
		dlclose(ms->ms_handle[ms->ms_n]);
	}
	free(ms);
}

/* Load every --module into a new set and make it current; the kind
 * table becomes the built-ins plus the new set's kinds.  On failure the
 * old set and table stay. */
static int
load_set(const struct conf *cf)
{
	struct kind saved[FBS_MAX_KINDS];
	unsigned nsaved = fbs_nkinds;
	uint32_t code = MODULE_CODE_BASE;
	struct modset *ms;
	size_t i;

	if ((ms = calloc(1, sizeof(*ms))) == NULL)
		return -1;
	memcpy(saved, fbs_kinds, sizeof(saved));
	tasks_builtin();
	for (i = 0; i < cf->cf_nmodules; i++)
		if (load_one(cf->cf_modules[i], ms, &code) == -1) {
			memcpy(fbs_kinds, saved, sizeof(saved));
			fbs_nkinds = nsaved;
			set_close(ms);
			return -1;
		}
	if (current != NULL && current->ms_refs == 0)
		set_close(current);
	current = ms;
	return 0;
}

int
modules_load(const struct conf *cf)
{
	return load_set(cf);
}

int
modules_reload(const struct conf *cf)
{
	if (cf->cf_nmodules == 0)
		return 0;
	if (load_set(cf) == -1) {
		log_err("module reload failed: the old modules stay");
		return -1;
	}
	log_info("%zu module(s) reloaded", cf->cf_nmodules);
	return 0;
}

void *
modules_ref(void)
{
	if (current != NULL)
		current->ms_refs++;
	return current;
}

void
modules_unref(void *arg)
{
	struct modset *ms = arg;

	if (ms == NULL)
		return;
	if (--ms->ms_refs == 0 && ms != current)
		set_close(ms);
}

void
modules_unload(void)
{
	if (current != NULL && current->ms_refs == 0)
		set_close(current);
	current = NULL;
}

/* Runs in a new worker: the worker_init of the set its pool was made
 * with (the master's current set may be newer by then). */
int
modules_worker_init(void *arg, unsigned index)
{
	struct modset *ms = arg;
	size_t i;
	int r;

	for (i = 0; ms != NULL && i < ms->ms_n; i++)
		if (ms->ms_mod[i]->worker_init != NULL &&
		    (r = ms->ms_mod[i]->worker_init(index)) != 0)
			return r;
	return 0;
}
