/*
 * test_store_file: the file backend on real files in a scratch directory:
 * versions, conflicts, corrupt files left alone byte for byte, unknown
 * fields kept, no temporary file left, and concurrent writers.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "cluster.h"
#include "codec.h"
#include "errors.h"
#include "store.h"

struct fx {
	char		dir[64];
	char		path[128];
	char		tmp[256];
	char		lock[256];
	struct store	s;
};

static int
setup(void **state)
{
	struct fx	*fx;
	struct err	 e;

	if ((fx = calloc(1, sizeof(*fx))) == NULL)
		return -1;
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_store_file.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	(void)snprintf(fx->path, sizeof(fx->path), "%s/clusters.json",
	    fx->dir);
	(void)snprintf(fx->tmp, sizeof(fx->tmp), "%s.tmp", fx->path);
	(void)snprintf(fx->lock, sizeof(fx->lock), "%s.lock", fx->path);
	if (store_file_open(&fx->s, fx->path, &e) == -1)
		return -1;
	fx->s.retry.attempts = 0;
	fx->s.retry.base_ms = 1;
	fx->s.retry.cap_ms = 20;
	fx->s.retry.deadline_ms = 60000;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;
	int		 ret;

	store_close(&fx->s);
	(void)unlink(fx->path);
	(void)unlink(fx->lock);
	/* A leftover temporary file makes rmdir fail, and the test too. */
	ret = rmdir(fx->dir);
	free(fx);
	return ret;
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE	*f;

	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The whole file, NUL-terminated; *len gets its size. */
static char *
read_file(const char *path, size_t *len)
{
	FILE	*f;
	char	*p;
	long	 n;

	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_true((n = ftell(f)) >= 0);
	rewind(f);
	assert_non_null(p = malloc((size_t)n + 1));
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	(void)fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return p;
}

static int
exists(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0;
}

/* The file as a json-c object, the way kubectl would read it. */
static struct json_object *
file_json(const char *path)
{
	struct json_object	*o;

	assert_non_null(o = json_object_from_file(path));
	return o;
}

static const char *
get_str(struct json_object *o, const char *k1, const char *k2)
{
	struct json_object	*v;

	assert_true(json_object_object_get_ex(o, k1, &v));
	if (k2 != NULL)
		assert_true(json_object_object_get_ex(v, k2, &v));
	assert_true(json_object_is_type(v, json_type_string));
	return json_object_get_string(v);
}

static enum cluster_change
add_named(struct cluster_list *l, void *arg, time_t now, struct err *e)
{
	struct cluster	c;

	if (cluster_find(l, arg) != -1) {
		errors_set(e, ERR_EXISTS, "cluster %s exists already",
		    (const char *)arg);
		return CLUSTER_FAILED;
	}
	memset(&c, 0, sizeof(c));
	(void)snprintf(c.name, sizeof(c.name), "%s", (const char *)arg);
	(void)snprintf(c.purpose, sizeof(c.purpose), "tess-ci");
	c.status = CLUSTER_VACANT;
	c.since = now;
	return cluster_list_push(l, &c) == 0 ? CLUSTER_CHANGED :
	    CLUSTER_FAILED;
}

#define MANIFEST_17 \
	"{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\",\n" \
	" \"metadata\": {\"name\": \"clusters\", \"namespace\": \"ci\",\n" \
	"   \"resourceVersion\": \"17\", \"uid\": \"6f1c-42\",\n" \
	"   \"labels\": {\"team\": \"infra\"},\n" \
	"   \"annotations\": {\"owner\": \"alice\"}},\n" \
	" \"immutable\": false,\n" \
	" \"data\": {\"clusters\": \"[]\", \"notes\": \"keep me\"}}\n"

static void
test_missing_file_is_an_empty_store_at_version_0(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc;
	struct cluster_list	 l;
	struct err		 e;

	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), 0);
	assert_string_equal(store_doc_version(doc), "0");
	json_object_put(doc);
	assert_int_equal(store_read(&fx->s, &l, &e), 0);
	assert_int_equal(l.len, 0);
	/* Reading creates nothing. */
	assert_false(exists(fx->path));
}

static void
test_first_write_creates_the_file_at_version_1(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc, *f;
	struct err		 e;

	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), 0);
	assert_int_equal(fx->s.ops->replace(&fx->s, doc, &e), STORE_OK);
	/* The caller's document is borrowed: its version is untouched. */
	assert_string_equal(store_doc_version(doc), "0");
	json_object_put(doc);

	f = file_json(fx->path);
	assert_string_equal(get_str(f, "metadata", "resourceVersion"), "1");
	json_object_put(f);
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), 0);
	assert_string_equal(store_doc_version(doc), "1");
	json_object_put(doc);
}

static void
test_written_file_is_a_configmap_manifest(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*f;
	struct cluster_list	 l = { 0 };
	struct err		 e;

	assert_int_equal(store_txn(&fx->s, add_named, "tess-ci-01", NULL,
	    NULL, &e), 0);
	f = file_json(fx->path);
	assert_string_equal(get_str(f, "apiVersion", NULL), "v1");
	assert_string_equal(get_str(f, "kind", NULL), "ConfigMap");
	assert_string_equal(get_str(f, "metadata", "name"), "clusters");
	assert_string_equal(get_str(f, "metadata", "namespace"), "ci");
	assert_string_equal(get_str(f, "metadata", "resourceVersion"), "1");
	/* data.clusters is the JSON array text, as in a real ConfigMap. */
	assert_int_equal(codec_decode(get_str(f, "data", "clusters"), &l,
	    &e), 0);
	assert_int_equal(l.len, 1);
	assert_string_equal(l.items[0].name, "tess-ci-01");
	cluster_list_free(&l);
	json_object_put(f);
}

static void
test_no_tmp_file_is_left_after_a_write(void **state)
{
	struct fx	*fx = *state;
	struct err	 e;

	assert_int_equal(store_txn(&fx->s, add_named, "tess-ci-01", NULL,
	    NULL, &e), 0);
	assert_true(exists(fx->path));
	assert_false(exists(fx->tmp));
}

static void
test_leftover_tmp_from_a_crash_is_overwritten(void **state)
{
	struct fx		*fx = *state;
	struct cluster_list	 l;
	struct err		 e;

	write_file(fx->tmp, "{\"half\": \"a doc", 15);
	assert_int_equal(store_txn(&fx->s, add_named, "tess-ci-01", NULL,
	    NULL, &e), 0);
	assert_false(exists(fx->tmp));
	assert_int_equal(store_read(&fx->s, &l, &e), 0);
	assert_int_equal(l.len, 1);
	cluster_list_free(&l);
}

static void
test_stale_version_conflicts_and_leaves_the_file_unchanged(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*stale, *fresh;
	char			*before, *after;
	struct err		 e;

	write_file(fx->path, MANIFEST_17, strlen(MANIFEST_17));
	assert_int_equal(fx->s.ops->load(&fx->s, &stale, &e), 0);
	assert_int_equal(fx->s.ops->load(&fx->s, &fresh, &e), 0);
	assert_int_equal(fx->s.ops->replace(&fx->s, fresh, &e), STORE_OK);
	before = read_file(fx->path, NULL);

	assert_int_equal(fx->s.ops->replace(&fx->s, stale, &e),
	    STORE_CONFLICT);
	after = read_file(fx->path, NULL);
	assert_string_equal(before, after);
	assert_false(exists(fx->tmp));
	free(before);
	free(after);
	json_object_put(stale);
	json_object_put(fresh);
}

static void
test_corrupt_file_is_an_error_and_never_overwritten(void **state)
{
	static const char	 torn[] = "{\"apiVersion\": \"v1\", "
	    "\"kind\": \"ConfigMap\", \"metadata\": {\"resourceVer";
	struct fx		*fx = *state;
	struct json_object	*doc;
	char			*after;
	size_t			 len;
	struct err		 e;

	write_file(fx->path, torn, sizeof(torn) - 1);
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_ERROR);
	assert_int_equal(e.code, ERR_STORE);
	assert_non_null(strstr(e.msg, fx->path));

	/* Not even a writer holding version "0" of an empty store. */
	doc = store_doc_new("ci", "clusters", "0");
	assert_int_equal(fx->s.ops->replace(&fx->s, doc, &e), STORE_ERROR);
	assert_int_equal(e.code, ERR_STORE);
	json_object_put(doc);
	assert_int_equal(store_txn(&fx->s, add_named, "tess-ci-01", NULL,
	    NULL, &e), -1);
	assert_int_equal(e.code, ERR_STORE);

	after = read_file(fx->path, &len);
	assert_int_equal(len, sizeof(torn) - 1);
	assert_memory_equal(after, torn, len);
	assert_false(exists(fx->tmp));
	free(after);
}

static void
test_file_that_is_not_a_configmap_is_an_error(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"apiVersion\": \"v1\", \"kind\": \"Secret\", "
		    "\"metadata\": {\"resourceVersion\": \"1\"}}",
		"{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", "
		    "\"metadata\": {\"name\": \"clusters\"}}",
		"{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", "
		    "\"metadata\": {\"resourceVersion\": 3}}",
		"{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", "
		    "\"metadata\": {\"resourceVersion\": \"1\"}, "
		    "\"data\": {\"clusters\": 42}}",
		"{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", "
		    "\"metadata\": {\"resourceVersion\": \"1\"}} {}",
	};
	struct fx		*fx = *state;
	struct json_object	*doc;
	struct err		 e;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(fx->path, bad[i], strlen(bad[i]));
		errors_clear(&e);
		doc = NULL;
		assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_ERROR);
		assert_null(doc);
		assert_int_equal(e.code, ERR_STORE);
		assert_non_null(strstr(e.msg, fx->path));
	}
}

static void
test_unknown_fields_survive_a_write(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*f, *v;
	struct err		 e;

	write_file(fx->path, MANIFEST_17, strlen(MANIFEST_17));
	assert_int_equal(store_txn(&fx->s, add_named, "tess-ci-01", NULL,
	    NULL, &e), 0);
	f = file_json(fx->path);
	assert_string_equal(get_str(f, "metadata", "resourceVersion"), "18");
	assert_string_equal(get_str(f, "metadata", "uid"), "6f1c-42");
	assert_true(json_object_object_get_ex(f, "metadata", &v));
	assert_true(json_object_object_get_ex(v, "labels", &v));
	assert_string_equal(get_str(v, "team", NULL), "infra");
	assert_true(json_object_object_get_ex(f, "metadata", &v));
	assert_true(json_object_object_get_ex(v, "annotations", &v));
	assert_string_equal(get_str(v, "owner", NULL), "alice");
	assert_true(json_object_object_get_ex(f, "immutable", &v));
	assert_true(json_object_is_type(v, json_type_boolean));
	assert_string_equal(get_str(f, "data", "notes"), "keep me");
	assert_non_null(strstr(get_str(f, "data", "clusters"), "tess-ci-01"));
	json_object_put(f);
}

static void
test_two_handles_interleaved_exactly_one_wins(void **state)
{
	struct fx		*fx = *state;
	struct store		 other;
	struct json_object	*a, *b, *f, *data;
	struct cluster_list	 l;
	struct err		 e;

	/* As store_open() would: store_txn() reads the whole struct
	 * (retry policy, lock_path), not only what the backend sets. */
	memset(&other, 0, sizeof(other));
	assert_int_equal(store_file_open(&other, fx->path, &e), 0);
	write_file(fx->path, MANIFEST_17, strlen(MANIFEST_17));
	assert_int_equal(fx->s.ops->load(&fx->s, &a, &e), 0);
	assert_int_equal(other.ops->load(&other, &b, &e), 0);
	/* b changes its copy, as a transition would. */
	assert_true(json_object_object_get_ex(b, "data", &data));
	json_object_object_add(data, "clusters", json_object_new_string(
	    "[{\"name\":\"from-b\",\"purpose\":\"p\",\"osImage\":\"\","
	    "\"status\":\"vacant\",\"build\":\"\",\"job\":\"\","
	    "\"user\":\"\",\"since\":\"\",\"holdUntil\":\"\","
	    "\"reason\":\"\"}]"));

	/* b writes first and wins; a, holding the same version, loses. */
	assert_int_equal(other.ops->replace(&other, b, &e), STORE_OK);
	assert_int_equal(fx->s.ops->replace(&fx->s, a, &e), STORE_CONFLICT);
	f = file_json(fx->path);
	assert_string_equal(get_str(f, "metadata", "resourceVersion"), "18");
	assert_non_null(strstr(get_str(f, "data", "clusters"), "from-b"));
	json_object_put(f);
	json_object_put(a);
	json_object_put(b);

	/* Through transactions, the loser retries on top of the winner. */
	assert_int_equal(store_txn(&other, add_named, "tess-ci-02", NULL,
	    NULL, &e), 0);
	assert_int_equal(store_txn(&fx->s, add_named, "tess-ci-03", NULL,
	    NULL, &e), 0);
	assert_int_equal(store_read(&fx->s, &l, &e), 0);
	assert_int_equal(l.len, 3);
	assert_int_not_equal(cluster_find(&l, "from-b"), -1);
	cluster_list_free(&l);
	store_close(&other);
}

/* Workers in separate processes each add their own clusters: every
 * transaction lands exactly once. */
#define WRITERS		4
#define WRITES_EACH	25

static void
test_concurrent_writers_lose_no_update(void **state)
{
	struct fx		*fx = *state;
	struct cluster_list	 l;
	struct json_object	*f;
	struct err		 e;
	char			 name[32];
	pid_t			 pid[WRITERS];
	int			 i, j, status, bad;

	for (i = 0; i < WRITERS; i++) {
		assert_true((pid[i] = fork()) != -1);
		if (pid[i] != 0)
			continue;
		bad = 0;
		for (j = 0; j < WRITES_EACH; j++) {
			(void)snprintf(name, sizeof(name), "w%d-c%d", i, j);
			if (store_txn(&fx->s, add_named, name, NULL, NULL,
			    &e) == -1)
				bad = 1;
		}
		_exit(bad);
	}
	for (i = 0; i < WRITERS; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(store_read(&fx->s, &l, &e), 0);
	assert_int_equal(l.len, WRITERS * WRITES_EACH);
	cluster_list_free(&l);
	f = file_json(fx->path);
	(void)snprintf(name, sizeof(name), "%d", WRITERS * WRITES_EACH);
	assert_string_equal(get_str(f, "metadata", "resourceVersion"), name);
	json_object_put(f);
}

static void
test_failed_transition_leaves_the_file_alone(void **state)
{
	struct fx	*fx = *state;
	char		*before, *after;
	struct err	 e;

	assert_int_equal(store_txn(&fx->s, add_named, "tess-ci-01", NULL,
	    NULL, &e), 0);
	before = read_file(fx->path, NULL);
	assert_int_equal(store_txn(&fx->s, add_named, "tess-ci-01", NULL,
	    NULL, &e), -1);
	assert_int_equal(e.code, ERR_EXISTS);
	after = read_file(fx->path, NULL);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void
test_file_over_the_size_limit_is_refused(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;
	size_t			 len = 8 * 1024 * 1024 + 1;
	char			*big;

	assert_non_null(big = malloc(len));
	memset(big, ' ', len);
	memcpy(big, "{}", 2);
	write_file(fx->path, big, len);
	free(big);
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_ERROR);
	assert_int_equal(e.code, ERR_STORE);
	assert_non_null(strstr(e.msg, "larger than"));
	assert_null(doc);
}

static void
test_open_fails_when_the_directory_is_missing(void **state)
{
	struct fx	*fx = *state;
	struct store	 s;
	struct err	 e;
	char		 dir[256], path[PATH_MAX];

	(void)snprintf(dir, sizeof(dir), "%s/nope", fx->dir);
	(void)snprintf(path, sizeof(path), "%s/clusters.json", dir);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_file_open(&s, path, &e), -1);
	assert_int_equal(e.code, ERR_STORE);
	assert_non_null(strstr(e.msg, dir));
	assert_false(exists(dir));
	assert_int_equal(store_file_open(&s, "", &e), -1);
	(void)snprintf(path, sizeof(path), "%s/", fx->dir);
	assert_int_equal(store_file_open(&s, path, &e), -1);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_missing_file_is_an_empty_store_at_version_0),
		T(test_first_write_creates_the_file_at_version_1),
		T(test_written_file_is_a_configmap_manifest),
		T(test_no_tmp_file_is_left_after_a_write),
		T(test_leftover_tmp_from_a_crash_is_overwritten),
		T(test_stale_version_conflicts_and_leaves_the_file_unchanged),
		T(test_corrupt_file_is_an_error_and_never_overwritten),
		T(test_file_that_is_not_a_configmap_is_an_error),
		T(test_unknown_fields_survive_a_write),
		T(test_two_handles_interleaved_exactly_one_wins),
		T(test_concurrent_writers_lose_no_update),
		T(test_failed_transition_leaves_the_file_alone),
		T(test_file_over_the_size_limit_is_refused),
		T(test_open_fails_when_the_directory_is_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
