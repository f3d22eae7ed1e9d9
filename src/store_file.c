/*
 * store_file: the "file" store backend, one ConfigMap manifest on disk.
 * replace() is a compare-and-swap under an flock on PATH.lock: write
 * PATH.tmp, fsync, rename over PATH, fsync the directory, so a crash
 * leaves the old or the new document.  A file that does not parse is
 * never overwritten.  Loaded documents are the caller's to put.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "codec.h"
#include "errors.h"
#include "store.h"
#include "util.h"

/* A ConfigMap holds at most 1 MiB of data; escaping the cluster array
 * into a string and pretty printing stay far below this.  A bigger file
 * is not ours: refuse it rather than read it into every worker. */
#define STORE_FILE_MAX		(8L * 1024 * 1024)
#define STORE_FILE_CHUNK	65536
/* What an empty store (no file yet) is called and numbered. */
#define STORE_FILE_NS		"ci"
#define STORE_FILE_NAME		"clusters"
#define STORE_FILE_EMPTY_VERSION "0"

/* The lock is created group-writable so that an operator's tools in the
 * service's group can take it too; the document itself is 0640. */
#define STORE_FILE_LOCK_MODE	0660
#define STORE_FILE_MODE		0640

#define STORE_FILE_JSON_FLAGS	(JSON_C_TO_STRING_SPACED | \
				 JSON_C_TO_STRING_PRETTY | \
				 JSON_C_TO_STRING_NOSLASHESCAPE)

struct store_file {
	char	path[PATH_MAX];
	char	lock[PATH_MAX];		/* path.lock: never removed */
	char	tmp[PATH_MAX];		/* path.tmp: only under the lock */
	char	dir[PATH_MAX];		/* fsync'd after the rename */
};

/*
 * Checks that doc is a ConfigMap this backend can version: kind,
 * apiVersion, a decimal metadata.resourceVersion (the file backend counts
 * writes) and, when data is there, a string data.clusters.  what names
 * the document in the message.
 */
static int
sf_check(const char *what, struct json_object *doc, struct err *e)
{
	struct json_object	*v, *meta, *data;
	long			 n;

	if (!json_object_is_type(doc, json_type_object))
		return errors_set(e, ERR_STORE,
		    "%s: not a ConfigMap: not a JSON object", what);
	if (!json_object_object_get_ex(doc, "kind", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "ConfigMap") != 0)
		return errors_set(e, ERR_STORE,
		    "%s: not a ConfigMap: kind is not \"ConfigMap\"", what);
	if (!json_object_object_get_ex(doc, "apiVersion", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "v1") != 0)
		return errors_set(e, ERR_STORE,
		    "%s: not a ConfigMap: apiVersion is not \"v1\"", what);
	if (!json_object_object_get_ex(doc, "metadata", &meta) ||
	    !json_object_is_type(meta, json_type_object) ||
	    !json_object_object_get_ex(meta, "resourceVersion", &v) ||
	    !json_object_is_type(v, json_type_string))
		return errors_set(e, ERR_STORE,
		    "%s: no metadata.resourceVersion string", what);
	if (util_parse_long(json_object_get_string(v), 0, LONG_MAX - 1,
	    &n) == -1)
		return errors_set(e, ERR_STORE,
		    "%s: metadata.resourceVersion \"%.32s\" is not a "
		    "decimal number", what, json_object_get_string(v));
	if (!json_object_object_get_ex(doc, "data", &data) ||
	    json_object_is_type(data, json_type_null))
		return 0;
	if (!json_object_is_type(data, json_type_object))
		return errors_set(e, ERR_STORE,
		    "%s: data is not an object", what);
	if (json_object_object_get_ex(data, "clusters", &v) &&
	    !json_object_is_type(v, json_type_string))
		return errors_set(e, ERR_STORE,
		    "%s: data.clusters is not a string", what);
	return 0;
}

/* Reads all of path into b; a missing file sets *missing. */
static int
sf_read(const struct store_file *sf, struct buf *b, int *missing,
    struct err *e)
{
	char		chunk[STORE_FILE_CHUNK];
	struct stat	st;
	ssize_t		n;
	int		fd, ret = -1;

	*missing = 0;
	if ((fd = open(sf->path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT) {
			errors_set(e, ERR_STORE, "%s: %s", sf->path,
			    strerror(errno));
			goto out;
		}
		/* ENOENT also means a vanished directory: that is not an
		 * empty store, and a write would fail anyway. */
		if (stat(sf->dir, &st) == -1) {
			errors_set(e, ERR_STORE, "store directory %s: %s",
			    sf->dir, strerror(errno));
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			errors_set(e, ERR_STORE,
			    "store directory %s: not a directory", sf->dir);
			goto out;
		}
		*missing = 1;
		ret = 0;
		goto out;
	}
	for (;;) {
		if ((n = read(fd, chunk, sizeof(chunk))) == -1) {
			if (errno == EINTR)
				continue;
			errors_set(e, ERR_STORE, "%s: %s", sf->path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (b->len + (size_t)n > (size_t)STORE_FILE_MAX) {
			errors_set(e, ERR_STORE, "%s: larger than %ld bytes",
			    sf->path, STORE_FILE_MAX);
			goto out;
		}
		if (buf_append(b, chunk, (size_t)n) == -1) {
			errors_set(e, ERR_STORE, "%s: out of memory",
			    sf->path);
			goto out;
		}
	}
	ret = 0;
out:
	if (fd != -1)
		(void)close(fd);
	return ret;
}

/* Parses the whole of b as one JSON value; trailing bytes other than
 * white space are an error, as a torn or concatenated file would be. */
static int
sf_parse(const char *path, const struct buf *b, struct json_object **doc,
    struct err *e)
{
	char	why[128];
	int	ret = -1;

	if (b->len == 0) {
		*doc = NULL;
		errors_set(e, ERR_STORE, "%s: empty file", path);
		goto out;
	}
	if (codec_parse(b->data, b->len, doc, why, sizeof(why)) == -1) {
		errors_set(e, ERR_STORE, "%s: %s", path, why);
		goto out;
	}
	ret = sf_check(path, *doc, e);
out:
	if (ret == -1) {
		json_object_put(*doc);
		*doc = NULL;
	}
	return ret;
}

/* The stored document, or an empty one at version "0" when there is no
 * file yet.  *doc is new. */
static int
sf_current(const struct store_file *sf, struct json_object **doc,
    struct err *e)
{
	struct buf	b;
	int		missing, ret = -1;

	memset(&b, 0, sizeof(b));
	*doc = NULL;
	if (sf_read(sf, &b, &missing, e) == -1)
		goto out;
	if (missing) {
		*doc = store_doc_new(STORE_FILE_NS, STORE_FILE_NAME,
		    STORE_FILE_EMPTY_VERSION);
		if (*doc == NULL) {
			errors_set(e, ERR_STORE, "%s: out of memory",
			    sf->path);
			goto out;
		}
		ret = 0;
		goto out;
	}
	ret = sf_parse(sf->path, &b, doc, e);
out:
	buf_free(&b);
	return ret;
}

static enum store_result
sf_load(struct store *s, struct json_object **doc, struct err *e)
{
	return sf_current(s->impl, doc, e) == 0 ? STORE_OK : STORE_ERROR;
}

/* write(2) until done: a signal or a full pipe may cut a write short. */
static int
sf_write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes text to the temporary file and makes it durable: 0 or -1 with
 * e set.  The caller unlinks the file on failure. */
static int
sf_write_tmp(const struct store_file *sf, const char *text, size_t len,
    struct err *e)
{
	int	fd, ret = -1;

	/* Under the lock no other writer uses this name; a leftover from
	 * a crash is simply truncated. */
	fd = open(sf->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    STORE_FILE_MODE);
	if (fd == -1) {
		errors_set(e, ERR_STORE, "%s: %s", sf->tmp, strerror(errno));
		goto out;
	}
	if (sf_write_all(fd, text, len) == -1 ||
	    sf_write_all(fd, "\n", 1) == -1) {
		errors_set(e, ERR_STORE, "%s: write: %s", sf->tmp,
		    strerror(errno));
		goto out;
	}
	if (fsync(fd) == -1) {
		errors_set(e, ERR_STORE, "%s: fsync: %s", sf->tmp,
		    strerror(errno));
		goto out;
	}
	ret = 0;
out:
	/* close() reports delayed write errors on some file systems. */
	if (fd != -1 && close(fd) == -1 && ret == 0)
		ret = errors_set(e, ERR_STORE, "%s: close: %s", sf->tmp,
		    strerror(errno));
	return ret;
}

/* Makes the rename durable: without it a crash may bring back the old
 * directory entry. */
static int
sf_sync_dir(const struct store_file *sf, struct err *e)
{
	int	fd, ret = -1;

	if ((fd = open(sf->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1) {
		errors_set(e, ERR_STORE, "store directory %s: %s (the new "
		    "document is in place but may not survive a crash)",
		    sf->dir, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd != -1)
		(void)close(fd);
	return ret;
}

static enum store_result
sf_replace(struct store *s, struct json_object *doc, struct err *e)
{
	struct store_file	*sf = s->impl;
	struct json_object	*cur = NULL, *copy = NULL, *meta;
	enum store_result	 ret = STORE_ERROR;
	const char		*text;
	char			 next[32];
	size_t			 len;
	long			 n;
	int			 lockfd = -1, tmp_made = 0;

	if (sf_check("document to write", doc, e) == -1)
		goto out;
	lockfd = open(sf->lock, O_RDWR | O_CREAT | O_CLOEXEC,
	    STORE_FILE_LOCK_MODE);
	if (lockfd == -1) {
		errors_set(e, ERR_STORE, "%s: %s", sf->lock, strerror(errno));
		goto out;
	}
	while (flock(lockfd, LOCK_EX) == -1) {
		if (errno == EINTR)
			continue;
		errors_set(e, ERR_STORE, "%s: flock: %s", sf->lock,
		    strerror(errno));
		goto out;
	}

	/* An unreadable current file fails here: it is never replaced. */
	if (sf_current(sf, &cur, e) == -1)
		goto out;
	if (strcmp(store_doc_version(cur), store_doc_version(doc)) != 0) {
		ret = STORE_CONFLICT;
		goto out;
	}
	/* sf_check() made sure the version is a number below LONG_MAX. */
	if (util_parse_long(store_doc_version(cur), 0, LONG_MAX - 1,
	    &n) == -1 || snprintf(next, sizeof(next), "%ld", n + 1) < 0) {
		errors_set(e, ERR_STORE, "%s: bad resourceVersion", sf->path);
		goto out;
	}

	/* doc is borrowed: write a copy with the new version, keeping every
	 * field we do not know about (labels, annotations, ...). */
	if (json_object_deep_copy(doc, &copy, NULL) != 0 ||
	    !json_object_object_get_ex(copy, "metadata", &meta) ||
	    codec_json_add(meta, "resourceVersion",
	    json_object_new_string(next)) == -1) {
		errors_set(e, ERR_STORE, "%s: out of memory", sf->path);
		goto out;
	}
	if ((text = json_object_to_json_string_length(copy,
	    STORE_FILE_JSON_FLAGS, &len)) == NULL) {
		errors_set(e, ERR_STORE, "%s: out of memory", sf->path);
		goto out;
	}
	/* What we could not read back must not be written. */
	if (len + 1 > (size_t)STORE_FILE_MAX) {
		errors_set(e, ERR_STORE, "%s: document of %zu bytes is over "
		    "the %ld byte limit", sf->path, len, STORE_FILE_MAX);
		goto out;
	}

	tmp_made = 1;
	if (sf_write_tmp(sf, text, len, e) == -1)
		goto out;
	if (rename(sf->tmp, sf->path) == -1) {
		errors_set(e, ERR_STORE, "rename %s to %s: %s", sf->tmp,
		    sf->path, strerror(errno));
		goto out;
	}
	tmp_made = 0;
	if (sf_sync_dir(sf, e) == -1)
		goto out;
	ret = STORE_OK;
out:
	if (tmp_made)
		(void)unlink(sf->tmp);
	if (lockfd != -1)
		(void)close(lockfd);		/* drops the flock */
	json_object_put(copy);
	json_object_put(cur);
	return ret;
}

static void
sf_close(struct store *s)
{
	free(s->impl);
	s->impl = NULL;
}

static const struct store_ops sf_ops = {
	.load = sf_load,
	.replace = sf_replace,
	.close = sf_close,
};

int
store_file_open(struct store *s, const char *path, struct err *e)
{
	struct store_file	*sf = NULL;
	struct stat		 st;
	char			*slash;
	int			 ret = -1;

	if (path == NULL || path[0] == '\0' ||
	    path[strlen(path) - 1] == '/') {
		errors_set(e, ERR_STORE, "store.file.path \"%s\" names no file",
		    path != NULL ? path : "");
		goto out;
	}
	if ((sf = calloc(1, sizeof(*sf))) == NULL) {
		errors_set(e, ERR_STORE, "out of memory");
		goto out;
	}
	if (util_strlcpy_checked(sf->path, path, sizeof(sf->path)) == -1 ||
	    util_strlcpy_checked(sf->dir, path, sizeof(sf->dir)) == -1 ||
	    (size_t)snprintf(sf->lock, sizeof(sf->lock), "%s.lock", path) >=
	    sizeof(sf->lock) ||
	    (size_t)snprintf(sf->tmp, sizeof(sf->tmp), "%s.tmp", path) >=
	    sizeof(sf->tmp)) {
		errors_set(e, ERR_STORE, "store.file.path is too long");
		goto out;
	}
	if ((slash = strrchr(sf->dir, '/')) == NULL)
		(void)util_strlcpy_checked(sf->dir, ".", sizeof(sf->dir));
	else if (slash == sf->dir)
		sf->dir[1] = '\0';
	else
		*slash = '\0';
	/* The directory is the operator's (ownership, mode, mount): we
	 * write in it but never create it. */
	if (stat(sf->dir, &st) == -1) {
		errors_set(e, ERR_STORE, "store directory %s: %s", sf->dir,
		    strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		errors_set(e, ERR_STORE, "store directory %s: not a directory",
		    sf->dir);
		goto out;
	}
	s->ops = &sf_ops;
	s->impl = sf;
	sf = NULL;
	ret = 0;
out:
	free(sf);
	return ret;
}
