/*
 * test_store: the transaction loop of store.c against an in-memory backend
 * that can answer CONFLICT, UNAVAILABLE or ERROR on demand, the host lock
 * around each attempt, plus the retry policies store_open() derives from
 * the configuration.
 */
#include "config.h"

#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
	int			 down_loads;	/* next loads: UNAVAILABLE */
	int			 down_replaces;	/* next replaces: UNAVAILABLE,
						 * the write applied or not */
	int			 down_applies;	/* ... and applied anyway */
	long			 retry_after_ms; /* hint with UNAVAILABLE */
	const char		*lock_path;	/* must be held in load */
	int			 lock_held;	/* loads that found it held */
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

/* 1 when someone (the transaction under test) holds the flock on path. */
static int
lock_is_held(const char *path)
{
	int	fd, held;

	assert_true((fd = open(path, O_RDWR | O_CLOEXEC)) != -1);
	held = flock(fd, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK;
	(void)close(fd);
	return held;
}

static enum store_result
fake_load(struct store *s, struct json_object **doc, struct err *e)
{
	struct fake	*f = s->impl;

	f->loads++;
	if (f->lock_path != NULL && lock_is_held(f->lock_path))
		f->lock_held++;
	if (f->fail_load) {
		errors_set(e, ERR_STORE, "fake: cannot read");
		return STORE_ERROR;
	}
	if (f->down_loads > 0) {
		f->down_loads--;
		s->retry_after_ms = f->retry_after_ms;
		errors_set(e, ERR_STORE, "fake: GET: 503 ServiceUnavailable");
		return STORE_UNAVAILABLE;
	}
	*doc = NULL;
	assert_int_equal(json_object_deep_copy(f->doc, doc, NULL), 0);
	return STORE_OK;
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
	if (f->down_replaces > 0) {
		f->down_replaces--;
		s->retry_after_ms = f->retry_after_ms;
		errors_set(e, ERR_STORE, "fake: PUT: timed out");
		if (f->down_applies == 0)
			return STORE_UNAVAILABLE;
		/* The write went through; only the answer was lost. */
		f->down_applies--;
		if (strcmp(store_doc_version(doc),
		    store_doc_version(f->doc)) == 0) {
			json_object_put(f->doc);
			f->doc = NULL;
			assert_int_equal(json_object_deep_copy(doc, &f->doc,
			    NULL), 0);
			fake_set(f->doc, NULL, v + 1);
			f->writes++;
		}
		return STORE_UNAVAILABLE;
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
	s->retry_after_ms = -1;
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

/* Two vacant clusters: getvacant would take another after a lost write. */
#define TWO_VACANT	"[{\"name\":\"tess-ci-01\",\"purpose\":\"tess-ci\"," \
	"\"osImage\":\"\",\"status\":\"vacant\",\"build\":\"\",\"job\":\"\"," \
	"\"user\":\"\",\"since\":\"\",\"holdUntil\":\"\",\"reason\":\"\"}," \
	"{\"name\":\"tess-ci-02\",\"purpose\":\"tess-ci\"," \
	"\"osImage\":\"\",\"status\":\"vacant\",\"build\":\"\",\"job\":\"\"," \
	"\"user\":\"\",\"since\":\"\",\"holdUntil\":\"\",\"reason\":\"\"}]"

static enum cluster_change
getvacant_b7(struct cluster_list *l, void *arg, time_t now, struct err *e)
{
	struct cluster_args	a;
	struct calls		*c = arg;

	c->n++;
	memset(&a, 0, sizeof(a));
	a.purpose = "tess-ci";
	a.job = "e2e";
	a.build = "7";
	return cluster_getvacant(l, &a, now, NULL, e);
}

static long
mono_ms(void)
{
	struct timespec	ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_txn_retries_an_unavailable_load_and_then_succeeds(void **state)
{
	struct fake	f = { 0 };
	struct store	s;
	struct calls	c = { 0 };
	struct err	e;

	f.down_loads = 2;
	fake_store(&s, &f, 5);
	assert_int_equal(store_txn(&s, add_cluster, &c, NULL, NULL, &e), 0);
	assert_int_equal(f.loads, 3);
	assert_int_equal(c.n, 1);
	assert_int_equal(f.writes, 1);
	store_close(&s);
}

static void
test_read_retries_an_unavailable_load_and_gives_up_like_a_txn(void **state)
{
	struct fake		f = { 0 };
	struct store		s;
	struct cluster_list	l;
	struct err		e;

	f.down_loads = 2;
	fake_store(&s, &f, 3);
	fake_set(f.doc, ONE_CLUSTER, 7);
	assert_int_equal(store_read(&s, &l, &e), 0);
	assert_int_equal(f.loads, 3);
	assert_int_equal(l.len, 1);
	cluster_list_free(&l);

	f.loads = 0;
	f.down_loads = 3;
	assert_int_equal(store_read(&s, &l, &e), -1);
	assert_int_equal(e.code, ERR_STORE);
	assert_non_null(strstr(e.msg, "store unavailable (3 attempts"));
	assert_non_null(strstr(e.msg, "503 ServiceUnavailable"));
	assert_int_equal(f.loads, 3);
	assert_int_equal(l.len, 0);
	store_close(&s);
}

/* /readyz asks "does the store answer now?": one load, no retry, so a
 * probe is answered within one request timeout. */
static void
test_check_loads_once_and_does_not_retry(void **state)
{
	struct fake	f = { 0 };
	struct store	s;
	struct err	e;

	fake_store(&s, &f, 3);
	fake_set(f.doc, ONE_CLUSTER, 7);
	assert_int_equal(store_check(&s, NULL, &e), 0);
	assert_int_equal(f.loads, 1);

	f.loads = 0;
	f.down_loads = 1;
	assert_int_equal(store_check(&s, NULL, &e), -1);
	assert_int_equal(e.code, ERR_STORE);
	assert_int_equal(f.loads, 1);
	assert_int_equal(f.writes, 0);
	store_close(&s);
}

static void
test_txn_retries_an_unavailable_replace_on_a_fresh_load(void **state)
{
	struct fake		f = { 0 };
	struct store		s;
	struct calls		c = { 0 };
	struct cluster_list	out;
	struct err		e;

	f.down_replaces = 1;
	fake_store(&s, &f, 3);
	assert_int_equal(store_txn(&s, add_cluster, &c, NULL, &out, &e), 0);
	assert_int_equal(f.loads, 2);
	assert_int_equal(f.replaces, 2);
	assert_int_equal(c.n, 2);
	assert_int_equal(f.writes, 1);
	assert_int_equal(out.len, 1);
	cluster_list_free(&out);
	store_close(&s);
}

static void
test_getvacant_whose_write_applied_but_answer_was_lost_gets_one_cluster(
    void **state)
{
	struct fake		f = { 0 };
	struct store		s;
	struct calls		c = { 0 };
	struct cluster_list	out;
	struct err		e;
	size_t			i, taken = 0;

	f.down_replaces = 1;
	f.down_applies = 1;
	fake_store(&s, &f, 3);
	fake_set(f.doc, TWO_VACANT, 7);
	assert_int_equal(store_txn(&s, getvacant_b7, &c, NULL, &out, &e), 0);
	/* The retry found its own cluster and wrote nothing more. */
	assert_int_equal(c.n, 2);
	assert_int_equal(f.writes, 1);
	assert_int_equal(f.replaces, 1);
	for (i = 0; i < out.len; i++)
		if (out.items[i].status == CLUSTER_OCCUPIED) {
			taken++;
			assert_string_equal(out.items[i].build, "7");
		}
	assert_int_equal(taken, 1);
	cluster_list_free(&out);
	store_close(&s);
}

static void
test_txn_waits_at_least_the_retry_after_hint(void **state)
{
	struct fake	f = { 0 };
	struct store	s;
	struct calls	c = { 0 };
	struct err	e;
	long		t0;

	f.down_loads = 1;
	f.retry_after_ms = 150;
	fake_store(&s, &f, 3);		/* backoff alone: at most 1 ms */
	t0 = mono_ms();
	assert_int_equal(store_txn(&s, add_cluster, &c, NULL, NULL, &e), 0);
	assert_true(mono_ms() - t0 >= 150);
	assert_int_equal(f.writes, 1);
	store_close(&s);
}

static void
test_txn_gives_up_at_once_when_retry_after_is_past_the_deadline(
    void **state)
{
	struct fake	f = { 0 };
	struct store	s;
	struct calls	c = { 0 };
	struct err	e;
	long		t0;

	f.down_loads = 1;
	f.retry_after_ms = 5000;
	fake_store(&s, &f, 0);
	s.retry.deadline_ms = 1000;
	t0 = mono_ms();
	assert_int_equal(store_txn(&s, add_cluster, &c, NULL, NULL, &e), -1);
	assert_true(mono_ms() - t0 < 500);
	assert_int_equal(e.code, ERR_STORE);
	assert_non_null(strstr(e.msg, "503 ServiceUnavailable"));
	assert_int_equal(f.loads, 1);
	store_close(&s);
}

static void
test_txn_unavailable_to_the_end_is_a_store_error_with_the_last_message(
    void **state)
{
	struct fake	f = { 0 };
	struct store	s;
	struct calls	c = { 0 };
	struct err	e;

	f.down_loads = 1;
	f.down_replaces = INT_MAX;
	fake_store(&s, &f, 4);
	assert_int_equal(store_txn(&s, add_cluster, &c, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_STORE);
	assert_non_null(strstr(e.msg, "4 attempts"));
	assert_non_null(strstr(e.msg, "fake: PUT: timed out"));
	assert_int_equal(f.loads, 4);
	assert_int_equal(f.writes, 0);
	store_close(&s);
}

static void
test_txn_last_failing_on_a_conflict_is_store_busy(void **state)
{
	struct fake	f = { 0 };
	struct store	s;
	struct calls	c = { 0 };
	struct err	e;

	f.down_loads = 2;
	f.conflicts = INT_MAX;
	fake_store(&s, &f, 3);
	assert_int_equal(store_txn(&s, add_cluster, &c, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_STORE_BUSY);
	assert_non_null(strstr(e.msg, "1 conflicts"));
	store_close(&s);
}

static void
test_txn_with_unlimited_attempts_retries_unavailable_until_the_deadline(
    void **state)
{
	struct fake	f = { 0 };
	struct store	s;
	struct calls	c = { 0 };
	struct err	e;

	f.down_loads = INT_MAX;
	fake_store(&s, &f, 0);
	s.retry.deadline_ms = 40;
	assert_int_equal(store_txn(&s, add_cluster, &c, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_STORE);
	assert_true(f.loads > 1);
	assert_int_equal(c.n, 0);
	store_close(&s);
}

static void
test_seed_policy_counts_unavailable_attempts_among_its_three(void **state)
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
	f.down_loads = 1;
	f.down_replaces = 1;
	f.conflicts = INT_MAX;
	assert_int_equal(store_txn(&s, add_cluster, &n, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_STORE_BUSY);
	assert_int_equal(f.loads, 3);
	assert_int_equal(f.replaces, 2);
	store_close(&s);
	assert_int_equal(rmdir(dir), 0);
	free(c);
}

static void
test_txn_holds_the_host_lock_during_each_attempt_only(void **state)
{
	char		dir[] = "/tmp/test_store.XXXXXX", path[PATH_MAX];
	struct fake	f = { 0 };
	struct store	s;
	struct calls	c = { 0 };
	struct err	e;

	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/store.lock", dir);
	f.conflicts = 1;
	f.lock_path = path;
	fake_store(&s, &f, 3);
	(void)snprintf(s.lock_path, sizeof(s.lock_path), "%s", path);
	assert_int_equal(store_txn(&s, add_cluster, &c, NULL, NULL, &e), 0);
	assert_int_equal(f.loads, 2);
	assert_int_equal(f.lock_held, 2);
	/* Dropped when the transaction ends. */
	assert_false(lock_is_held(path));
	store_close(&s);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_txn_waits_for_the_host_lock_no_longer_than_the_deadline(void **state)
{
	char		dir[] = "/tmp/test_store.XXXXXX", path[PATH_MAX];
	struct fake	f = { 0 };
	struct store	s;
	struct calls	c = { 0 };
	struct err	e;
	long		t0;
	int		fd;

	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/store.lock", dir);
	/* Another worker of this host is in the middle of a transaction. */
	assert_true((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC,
	    0600)) != -1);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	fake_store(&s, &f, 0);
	s.retry.deadline_ms = 60;
	(void)snprintf(s.lock_path, sizeof(s.lock_path), "%s", path);
	t0 = mono_ms();
	assert_int_equal(store_txn(&s, add_cluster, &c, NULL, NULL, &e), -1);
	assert_true(mono_ms() - t0 >= 60);
	assert_true(mono_ms() - t0 < 1000);
	assert_int_equal(e.code, ERR_STORE_BUSY);
	assert_non_null(strstr(e.msg, "host lock"));
	assert_int_equal(f.loads, 0);
	/* Once it is free, the next transaction goes through. */
	(void)close(fd);
	s.retry.deadline_ms = 1000;
	assert_int_equal(store_txn(&s, add_cluster, &c, NULL, NULL, &e), 0);
	assert_int_equal(f.writes, 1);
	store_close(&s);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_store_open_of_the_configmap_backend_refuses_a_missing_lock_dir(
    void **state)
{
	struct cfg	*c;
	struct store	s;
	struct err	e;

	assert_non_null(c = calloc(1, sizeof(*c)));
	cfg_defaults(c);
	c->backend = CFG_BACKEND_CONFIGMAP;
	(void)snprintf(c->cm_server, sizeof(c->cm_server),
	    "https://127.0.0.1:6443");
	(void)snprintf(c->lock_file, sizeof(c->lock_file),
	    "/nonexistent-cimaster-dir/store.lock");
	assert_int_equal(store_open(&s, c, &e), -1);
	assert_int_equal(e.code, ERR_STORE);
	assert_non_null(strstr(e.msg, "store.lock_file "
	    "/nonexistent-cimaster-dir/store.lock"));
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
		T(test_txn_retries_an_unavailable_load_and_then_succeeds),
		T(test_read_retries_an_unavailable_load_and_gives_up_like_a_txn),
		T(test_check_loads_once_and_does_not_retry),
		T(test_txn_retries_an_unavailable_replace_on_a_fresh_load),
		T(test_getvacant_whose_write_applied_but_answer_was_lost_gets_one_cluster),
		T(test_txn_waits_at_least_the_retry_after_hint),
		T(test_txn_gives_up_at_once_when_retry_after_is_past_the_deadline),
		T(test_txn_unavailable_to_the_end_is_a_store_error_with_the_last_message),
		T(test_txn_last_failing_on_a_conflict_is_store_busy),
		T(test_txn_with_unlimited_attempts_retries_unavailable_until_the_deadline),
		T(test_seed_policy_counts_unavailable_attempts_among_its_three),
		T(test_txn_holds_the_host_lock_during_each_attempt_only),
		T(test_txn_waits_for_the_host_lock_no_longer_than_the_deadline),
		T(test_store_open_of_the_configmap_backend_refuses_a_missing_lock_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
