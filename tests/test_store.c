/*
 * test_store: the transaction loop of store.c against an in-memory backend
 * that can answer CONFLICT or ERROR on demand, plus the retry policies
 * store_open() derives from the configuration.
 */
#include "config.h"

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

#include "cfg.h"
#include "cluster.h"
#include "errors.h"
#include "store.h"

/* The fake backend: one document in memory, compare-and-swap like the
 * real ones, with knobs for the failures under test. */
struct fake {
	struct json_object	*doc;
	int			 conflicts;	/* next replaces that lose */
	const char		*winner;	/* what the one who won wrote */
	int			 fail_load;
	int			 fail_replace;
	int			 loads;
	int			 replaces;
	int			 writes;
};

static void
fake_set(struct json_object *doc, const char *clusters, long version)
{
	struct json_object	*meta, *data;
	char			 v[32];

	(void)snprintf(v, sizeof(v), "%ld", version);
	assert_true(json_object_object_get_ex(doc, "metadata", &meta));
	json_object_object_add(meta, "resourceVersion",
	    json_object_new_string(v));
	if (clusters != NULL) {
		assert_true(json_object_object_get_ex(doc, "data", &data));
		json_object_object_add(data, "clusters",
		    json_object_new_string(clusters));
	}
}

static long
fake_version(struct json_object *doc)
{
	return strtol(store_doc_version(doc), NULL, 10);
}

static int
fake_load(struct store *s, struct json_object **doc, struct err *e)
{
	struct fake	*f = s->impl;

	f->loads++;
	if (f->fail_load)
		return errors_set(e, ERR_STORE, "fake: cannot read");
	*doc = NULL;
	assert_int_equal(json_object_deep_copy(f->doc, doc, NULL), 0);
	return 0;
}

static enum store_result
fake_replace(struct store *s, struct json_object *doc, struct err *e)
{
	struct fake	*f = s->impl;
	long		 v = fake_version(f->doc);

	f->replaces++;
	if (f->fail_replace) {
		errors_set(e, ERR_STORE, "fake: disk full");
		return STORE_ERROR;
	}
	if (f->conflicts > 0) {
		/* Another writer got in between our load and replace. */
		f->conflicts--;
		fake_set(f->doc, f->winner, v + 1);
	}
	if (strcmp(store_doc_version(doc), store_doc_version(f->doc)) != 0)
		return STORE_CONFLICT;
	json_object_put(f->doc);
	f->doc = NULL;
	assert_int_equal(json_object_deep_copy(doc, &f->doc, NULL), 0);
	fake_set(f->doc, NULL, v + 1);
	f->writes++;
	return STORE_OK;
}

static void
fake_close(struct store *s)
{
	struct fake	*f = s->impl;

	json_object_put(f->doc);
	f->doc = NULL;
}

static const struct store_ops fake_ops = {
	.load = fake_load,
	.replace = fake_replace,
	.close = fake_close,
};

/* A store over f that retries up to attempts times, briefly. */
static void
fake_store(struct store *s, struct fake *f, int attempts)
{
	memset(s, 0, sizeof(*s));
	if (f->doc == NULL)
		f->doc = store_doc_new("ci", "clusters", "7");
	assert_non_null(f->doc);
	s->ops = &fake_ops;
	s->impl = f;
	s->retry.attempts = attempts;
	s->retry.base_ms = 1;
	s->retry.cap_ms = 2;
	s->retry.deadline_ms = 10000;
}

/* The transitions under test. */
struct calls {
	int	n;
	time_t	now;
};

static enum cluster_change
add_cluster(struct cluster_list *l, void *arg, time_t now, struct err *e)
{
	struct calls	*c = arg;
	struct cluster	 rec;

	c->n++;
	c->now = now;
	if (cluster_find(l, "tess-ci-01") != -1) {
		errors_set(e, ERR_EXISTS, "tess-ci-01 exists");
		return CLUSTER_FAILED;
	}
	memset(&rec, 0, sizeof(rec));
	(void)snprintf(rec.name, sizeof(rec.name), "tess-ci-01");
	(void)snprintf(rec.purpose, sizeof(rec.purpose), "tess-ci");
	rec.status = CLUSTER_VACANT;
	rec.since = now;
	return cluster_list_push(l, &rec) == 0 ? CLUSTER_CHANGED :
	    CLUSTER_FAILED;
}

static enum cluster_change
look_only(struct cluster_list *l, void *arg, time_t now, struct err *e)
{
	struct calls	*c = arg;

	c->n++;
	return CLUSTER_UNCHANGED;
}

static enum cluster_change
refuse(struct cluster_list *l, void *arg, time_t now, struct err *e)
{
	struct calls	*c = arg;

	c->n++;
	errors_set(e, ERR_NOT_OWNER, "tess-ci-01 is occupied by build 9");
	return CLUSTER_FAILED;
}

static int	clock_reads;

static time_t
fixed_clock(void)
{
	clock_reads++;
	return 1796292000;		/* 2026-12-03T10:00:00Z */
}

#define ONE_CLUSTER	"[{\"name\":\"tess-ci-02\",\"purpose\":\"tess-ci\"," \
	"\"osImage\":\"\",\"status\":\"vacant\",\"build\":\"\",\"job\":\"\"," \
	"\"user\":\"\",\"since\":\"\",\"holdUntil\":\"\",\"reason\":\"\"}]"

static void
test_txn_writes_a_changed_list_once_and_hands_it_back(void **state)
{
	struct fake		f = { 0 };
	struct store		s;
	struct calls		c = { 0 };
	struct cluster_list	out, again;
	struct err		e;

	fake_store(&s, &f, 3);
	clock_reads = 0;
	assert_int_equal(store_txn(&s, add_cluster, &c, fixed_clock, &out,
	    &e), 0);
	assert_int_equal(f.writes, 1);
	assert_int_equal(fake_version(f.doc), 8);
	assert_int_equal(clock_reads, 1);
	assert_int_equal(c.now, 1796292000);
	assert_int_equal(out.len, 1);
	assert_string_equal(out.items[0].name, "tess-ci-01");

	/* What was written is what a later read sees. */
	assert_int_equal(store_read(&s, &again, &e), 0);
	assert_int_equal(again.len, 1);
	assert_string_equal(again.items[0].name, "tess-ci-01");
	assert_int_equal(again.items[0].since, 1796292000);
	cluster_list_free(&out);
	cluster_list_free(&again);
	store_close(&s);
}

static void
test_txn_retries_after_conflicts_and_then_succeeds(void **state)
{
	struct fake		f = { 0 };
	struct store		s;
	struct calls		c = { 0 };
	struct err		e;

	f.conflicts = 2;
	fake_store(&s, &f, 5);
	clock_reads = 0;
	assert_int_equal(store_txn(&s, add_cluster, &c, fixed_clock, NULL,
	    &e), 0);
	assert_int_equal(f.replaces, 3);
	assert_int_equal(f.writes, 1);
	assert_int_equal(c.n, 3);
	/* now is read afresh for every attempt. */
	assert_int_equal(clock_reads, 3);
	store_close(&s);
}

static void
test_txn_reapplies_the_transition_to_what_the_winner_wrote(void **state)
{
	struct fake		f = { 0 };
	struct store		s;
	struct calls		c = { 0 };
	struct cluster_list	out;
	struct err		e;

	f.conflicts = 1;
	f.winner = ONE_CLUSTER;
	fake_store(&s, &f, 3);
	assert_int_equal(store_txn(&s, add_cluster, &c, NULL, &out, &e), 0);
	/* The loser's first list is gone; the winner's cluster survives. */
	assert_int_equal(out.len, 2);
	assert_int_not_equal(cluster_find(&out, "tess-ci-01"), -1);
	assert_int_not_equal(cluster_find(&out, "tess-ci-02"), -1);
	cluster_list_free(&out);
	store_close(&s);
}

static void
test_txn_that_changes_nothing_writes_nothing(void **state)
{
	struct fake		f = { 0 };
	struct store		s;
	struct calls		c = { 0 };
	struct cluster_list	out;
	struct err		e;

	fake_store(&s, &f, 3);
	fake_set(f.doc, ONE_CLUSTER, 7);
	assert_int_equal(store_txn(&s, look_only, &c, NULL, &out, &e), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(f.replaces, 0);
	assert_int_equal(fake_version(f.doc), 7);
	assert_int_equal(out.len, 1);
	assert_string_equal(out.items[0].name, "tess-ci-02");
	cluster_list_free(&out);
	store_close(&s);
}

static void
test_txn_failed_transition_returns_its_error_and_writes_nothing(void **state)
{
	struct fake		f = { 0 };
	struct store		s;
	struct calls		c = { 0 };
	struct cluster_list	out = { 0 };
	struct err		e;

	fake_store(&s, &f, 3);
	errors_clear(&e);
	assert_int_equal(store_txn(&s, refuse, &c, NULL, &out, &e), -1);
	assert_int_equal(e.code, ERR_NOT_OWNER);
	assert_string_equal(e.msg, "tess-ci-01 is occupied by build 9");
	assert_int_equal(c.n, 1);
	assert_int_equal(f.replaces, 0);
	assert_int_equal(out.len, 0);
	store_close(&s);
}

static void
test_txn_gives_up_after_the_attempts_with_store_busy(void **state)
{
	struct fake	f = { 0 };
	struct store	s;
	struct calls	c = { 0 };
	struct err	e;

	f.conflicts = INT_MAX;
	fake_store(&s, &f, 4);
	assert_int_equal(store_txn(&s, add_cluster, &c, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_STORE_BUSY);
	assert_non_null(strstr(e.msg, "4 conflicts"));
	assert_int_equal(f.replaces, 4);
	assert_int_equal(f.writes, 0);
	store_close(&s);
}

static void
test_txn_gives_up_at_the_deadline_with_store_busy(void **state)
{
	struct fake	f = { 0 };
	struct store	s;
	struct calls	c = { 0 };
	struct err	e;

	f.conflicts = INT_MAX;
	fake_store(&s, &f, 0);		/* no attempt limit */
	s.retry.deadline_ms = 30;
	assert_int_equal(store_txn(&s, add_cluster, &c, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_STORE_BUSY);
	assert_true(f.replaces >= 1);
	assert_int_equal(f.writes, 0);
	store_close(&s);
}

static void
test_txn_with_a_zero_deadline_tries_once(void **state)
{
	struct fake	f = { 0 };
	struct store	s;
	struct calls	c = { 0 };
	struct err	e;

	f.conflicts = INT_MAX;
	fake_store(&s, &f, 0);
	s.retry.deadline_ms = 0;
	assert_int_equal(store_txn(&s, add_cluster, &c, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_STORE_BUSY);
	assert_int_equal(f.replaces, 1);
	store_close(&s);
}

static void
test_txn_passes_a_backend_write_error_as_store_error(void **state)
{
	struct fake	f = { 0 };
	struct store	s;
	struct calls	c = { 0 };
	struct err	e;

	f.fail_replace = 1;
	fake_store(&s, &f, 3);
	assert_int_equal(store_txn(&s, add_cluster, &c, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_STORE);
	assert_string_equal(e.msg, "fake: disk full");
	/* An error is not a conflict: no retry. */
	assert_int_equal(f.replaces, 1);
	store_close(&s);
}

static void
test_txn_passes_a_backend_read_error_as_store_error(void **state)
{
	struct fake	f = { 0 };
	struct store	s;
	struct calls	c = { 0 };
	struct err	e;

	f.fail_load = 1;
	fake_store(&s, &f, 3);
	assert_int_equal(store_txn(&s, add_cluster, &c, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_STORE);
	assert_int_equal(c.n, 0);
	assert_int_equal(f.replaces, 0);
	store_close(&s);
}

static void
test_txn_on_undecodable_clusters_fails_and_writes_nothing(void **state)
{
	struct fake		f = { 0 };
	struct store		s;
	struct calls		c = { 0 };
	struct cluster_list	out;
	struct err		e;

	fake_store(&s, &f, 3);
	fake_set(f.doc, "[{\"name\": \"tess-ci-01\"", 7);
	assert_int_equal(store_txn(&s, add_cluster, &c, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_STORE);
	assert_int_equal(c.n, 0);
	assert_int_equal(f.replaces, 0);
	assert_int_equal(store_read(&s, &out, &e), -1);
	assert_int_equal(e.code, ERR_STORE);
	store_close(&s);
}

static void
test_txn_on_a_document_without_data_starts_empty_and_adds_it(void **state)
{
	struct fake	f = { 0 };
	struct store	s;
	struct calls	c = { 0 };
	struct json_object *data;
	struct err	e;

	fake_store(&s, &f, 3);
	json_object_object_del(f.doc, "data");
	assert_int_equal(store_txn(&s, add_cluster, &c, NULL, NULL, &e), 0);
	assert_true(json_object_object_get_ex(f.doc, "data", &data));
	assert_non_null(strstr(json_object_to_json_string(data),
	    "tess-ci-01"));
	store_close(&s);
}

static void
test_store_doc_new_is_an_empty_configmap_at_the_version(void **state)
{
	struct json_object	*doc, *v, *meta;
	struct cluster_list	 l = { 0 };
	struct fake		 f = { 0 };
	struct store		 s;
	struct err		 e;

	doc = store_doc_new("ci", "clusters", "0");
	assert_non_null(doc);
	assert_string_equal(store_doc_version(doc), "0");
	assert_true(json_object_object_get_ex(doc, "kind", &v));
	assert_string_equal(json_object_get_string(v), "ConfigMap");
	assert_true(json_object_object_get_ex(doc, "apiVersion", &v));
	assert_string_equal(json_object_get_string(v), "v1");
	assert_true(json_object_object_get_ex(doc, "metadata", &meta));
	assert_true(json_object_object_get_ex(meta, "namespace", &v));
	assert_string_equal(json_object_get_string(v), "ci");
	assert_true(json_object_object_get_ex(meta, "name", &v));
	assert_string_equal(json_object_get_string(v), "clusters");

	f.doc = doc;
	fake_store(&s, &f, 1);
	assert_int_equal(store_read(&s, &l, &e), 0);
	assert_int_equal(l.len, 0);
	store_close(&s);

	/* No metadata: no version, rather than a crash. */
	doc = json_object_new_object();
	assert_string_equal(store_doc_version(doc), "");
	json_object_put(doc);
}

/* store_open() with the file backend in a scratch directory, then the
 * fake swapped in: the retry policy is what store_open() derived. */
static void
open_with_policy(struct store *s, struct cfg *c, struct fake *f,
    char *dir)
{
	struct err	e;

	assert_non_null(mkdtemp(dir));
	c->backend = CFG_BACKEND_FILE;
	(void)snprintf(c->file_path, sizeof(c->file_path), "%s/clusters.json",
	    dir);
	assert_int_equal(store_open(s, c, &e), 0);
	s->ops->close(s);
	f->doc = store_doc_new("ci", "clusters", "1");
	s->ops = &fake_ops;
	s->impl = f;
}

static void
test_seed_policy_gives_up_after_three_attempts_with_store_busy(void **state)
{
	char		dir[] = "/tmp/test_store.XXXXXX";
	struct cfg	*c;
	struct fake	f = { 0 };
	struct store	s;
	struct calls	n = { 0 };
	struct err	e;

	assert_non_null(c = calloc(1, sizeof(*c)));
	c->retry_policy = CFG_RETRY_SEED;
	c->retry_deadline_ms = 60000;
	open_with_policy(&s, c, &f, dir);
	assert_int_equal(s.retry.attempts, 3);
	assert_int_equal(s.retry.min_ms, 50);
	assert_int_equal(s.retry.cap_ms, 200);

	f.conflicts = INT_MAX;
	assert_int_equal(store_txn(&s, add_cluster, &n, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_STORE_BUSY);
	assert_int_equal(f.replaces, 3);
	assert_int_equal(f.writes, 0);
	store_close(&s);
	assert_int_equal(rmdir(dir), 0);
	free(c);
}

static void
test_default_policy_takes_its_limits_from_the_configuration(void **state)
{
	char		dir[] = "/tmp/test_store.XXXXXX";
	struct cfg	*c;
	struct fake	f = { 0 };
	struct store	s;
	struct calls	n = { 0 };
	struct err	e;

	assert_non_null(c = calloc(1, sizeof(*c)));
	c->retry_policy = CFG_RETRY_DEFAULT;
	c->retry_attempts = 5;
	c->retry_base_ms = 1;
	c->retry_cap_ms = 4;
	c->retry_deadline_ms = 60000;
	open_with_policy(&s, c, &f, dir);
	assert_int_equal(s.retry.min_ms, 0);
	assert_int_equal(s.retry.deadline_ms, 60000);

	f.conflicts = INT_MAX;
	assert_int_equal(store_txn(&s, add_cluster, &n, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_STORE_BUSY);
	assert_int_equal(f.replaces, 5);
	store_close(&s);
	assert_int_equal(rmdir(dir), 0);
	free(c);
}

static void
test_store_open_refuses_the_configmap_backend_for_now(void **state)
{
	struct cfg	*c;
	struct store	s;
	struct err	e;

	assert_non_null(c = calloc(1, sizeof(*c)));
	c->backend = CFG_BACKEND_CONFIGMAP;
	assert_int_equal(store_open(&s, c, &e), -1);
	assert_int_equal(e.code, ERR_STORE);
	assert_non_null(strstr(e.msg, "configmap"));
	store_close(&s);
	free(c);
}

#define T(f)	cmocka_unit_test(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_txn_writes_a_changed_list_once_and_hands_it_back),
		T(test_txn_retries_after_conflicts_and_then_succeeds),
		T(test_txn_reapplies_the_transition_to_what_the_winner_wrote),
		T(test_txn_that_changes_nothing_writes_nothing),
		T(test_txn_failed_transition_returns_its_error_and_writes_nothing),
		T(test_txn_gives_up_after_the_attempts_with_store_busy),
		T(test_txn_gives_up_at_the_deadline_with_store_busy),
		T(test_txn_with_a_zero_deadline_tries_once),
		T(test_txn_passes_a_backend_write_error_as_store_error),
		T(test_txn_passes_a_backend_read_error_as_store_error),
		T(test_txn_on_undecodable_clusters_fails_and_writes_nothing),
		T(test_txn_on_a_document_without_data_starts_empty_and_adds_it),
		T(test_store_doc_new_is_an_empty_configmap_at_the_version),
		T(test_seed_policy_gives_up_after_three_attempts_with_store_busy),
		T(test_default_policy_takes_its_limits_from_the_configuration),
		T(test_store_open_refuses_the_configmap_backend_for_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
