/*
 * test_cluster: every row of the API's transition table, every error code
 * of the state machine, and the promise that a failed verb leaves the list
 * exactly as it was.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"
#include "errors.h"
#include "util.h"

#define NOW	((time_t)1796292000)	/* 2026-12-03T10:00:00Z */
#define HOUR	((time_t)3600)

/* ---- helpers ------------------------------------------------------------- */

static void
put(struct cluster_list *l, const char *name, const char *purpose,
    const char *os, enum cluster_status st, time_t since)
{
	struct cluster	c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(util_strlcpy_checked(c.name, name, sizeof(c.name)), 0);
	assert_int_equal(util_strlcpy_checked(c.purpose, purpose,
	    sizeof(c.purpose)), 0);
	assert_int_equal(util_strlcpy_checked(c.os_image, os,
	    sizeof(c.os_image)), 0);
	c.status = st;
	c.since = since;
	assert_int_equal(cluster_list_push(l, &c), 0);
}

static struct cluster *
get(struct cluster_list *l, const char *name)
{
	long	idx;

	idx = cluster_find(l, name);
	assert_true(idx >= 0);
	return &l->items[idx];
}

/* Puts c into the state a user would see after getvacant/hold/disable. */
static void
occupy(struct cluster *c, const char *job, const char *build)
{
	c->status = CLUSTER_OCCUPIED;
	assert_int_equal(util_strlcpy_checked(c->job, job, sizeof(c->job)), 0);
	assert_int_equal(util_strlcpy_checked(c->build, build,
	    sizeof(c->build)), 0);
}

static void
mark_held(struct cluster *c, const char *user, time_t until)
{
	c->status = CLUSTER_HELD;
	assert_int_equal(util_strlcpy_checked(c->user, user, sizeof(c->user)),
	    0);
	c->hold_until = until;
}

static void
mark_disabled(struct cluster *c, const char *user, const char *reason)
{
	c->status = CLUSTER_DISABLED;
	assert_int_equal(util_strlcpy_checked(c->user, user, sizeof(c->user)),
	    0);
	assert_int_equal(util_strlcpy_checked(c->reason, reason,
	    sizeof(c->reason)), 0);
}

static struct cluster_args
args(const char *cluster)
{
	struct cluster_args	a;

	memset(&a, 0, sizeof(a));
	a.cluster = cluster;
	a.purpose = "tess-ci";
	a.os_image = "";
	a.build = "";
	a.job = "";
	a.user = "";
	a.reason = "";
	a.hours = 6;
	return a;
}

static void
assert_cluster_equal(const struct cluster *x, const struct cluster *y)
{
	assert_string_equal(x->name, y->name);
	assert_string_equal(x->purpose, y->purpose);
	assert_string_equal(x->os_image, y->os_image);
	assert_int_equal(x->status, y->status);
	assert_string_equal(x->build, y->build);
	assert_string_equal(x->job, y->job);
	assert_string_equal(x->user, y->user);
	assert_int_equal(x->since, y->since);
	assert_int_equal(x->hold_until, y->hold_until);
	assert_string_equal(x->reason, y->reason);
	assert_int_equal(x->hold_warned, y->hold_warned);
}

static void
assert_list_equal(const struct cluster_list *x, const struct cluster_list *y)
{
	size_t	i;

	assert_int_equal(x->len, y->len);
	for (i = 0; i < x->len; i++)
		assert_cluster_equal(&x->items[i], &y->items[i]);
}

static void
snapshot(const struct cluster_list *l, struct cluster_list *copy)
{
	size_t	i;

	memset(copy, 0, sizeof(*copy));
	for (i = 0; i < l->len; i++)
		assert_int_equal(cluster_list_push(copy, &l->items[i]), 0);
}

/* The cleared "nobody uses it" part of a vacant record. */
static void
assert_unused(const struct cluster *c)
{
	assert_string_equal(c->build, "");
	assert_string_equal(c->job, "");
	assert_string_equal(c->user, "");
	assert_string_equal(c->reason, "");
	assert_int_equal(c->hold_until, 0);
	assert_int_equal(c->hold_warned, 0);
}

/* ---- basics -------------------------------------------------------------- */

static void
test_status_names_parse_back_to_their_enum(void **state)
{
	enum cluster_status	s, out;

	for (s = CLUSTER_VACANT; s < CLUSTER_STATUS__MAX; s++) {
		assert_int_equal(cluster_status_parse(cluster_status_str(s),
		    &out), 0);
		assert_int_equal(out, s);
	}
	assert_string_equal(cluster_status_str(CLUSTER_HELD), "held");
	assert_int_equal(cluster_status_parse("Vacant", &out), -1);
	assert_int_equal(cluster_status_parse("", &out), -1);
	assert_int_equal(cluster_status_parse(NULL, &out), -1);
}

static void
test_find_returns_index_or_minus_one(void **state)
{
	struct cluster_list	l = { 0 };

	assert_int_equal(cluster_find(&l, "a"), -1);
	put(&l, "a", "p", "", CLUSTER_VACANT, 0);
	put(&l, "b", "p", "", CLUSTER_VACANT, 0);
	assert_int_equal(cluster_find(&l, "a"), 0);
	assert_int_equal(cluster_find(&l, "b"), 1);
	assert_int_equal(cluster_find(&l, "c"), -1);
	cluster_list_free(&l);
	assert_null(l.items);
	assert_int_equal(l.len, 0);
	cluster_list_free(NULL);
}

static void
test_push_keeps_order_across_growth(void **state)
{
	struct cluster_list	l = { 0 };
	char			name[16];
	size_t			i;

	for (i = 0; i < 100; i++) {
		(void)snprintf(name, sizeof(name), "c%zu", i);
		put(&l, name, "p", "", CLUSTER_VACANT, (time_t)i);
	}
	assert_int_equal(l.len, 100);
	for (i = 0; i < 100; i++) {
		(void)snprintf(name, sizeof(name), "c%zu", i);
		assert_string_equal(l.items[i].name, name);
		assert_int_equal(l.items[i].since, (time_t)i);
	}
	cluster_list_free(&l);
}

/* ---- getvacant ----------------------------------------------------------- */

static void
test_getvacant_occupies_and_records_job_and_build(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("");
	struct err		e = { 0 };
	long			picked = -7;

	put(&l, "tess-ci-01", "tess-ci", "", CLUSTER_VACANT, 100);
	a.build = "123";
	a.job = "e2e-k8s-1.32";
	assert_int_equal(cluster_getvacant(&l, &a, NOW, &picked, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(picked, 0);
	assert_int_equal(l.items[0].status, CLUSTER_OCCUPIED);
	assert_string_equal(l.items[0].build, "123");
	assert_string_equal(l.items[0].job, "e2e-k8s-1.32");
	assert_string_equal(l.items[0].user, "");
	assert_int_equal(l.items[0].since, NOW);
	assert_int_equal(l.items[0].hold_until, 0);
	cluster_list_free(&l);
}

static void
test_getvacant_is_idempotent_per_job_and_build(void **state)
{
	struct cluster_list	l = { 0 }, before;
	struct cluster_args	a = args("");
	struct err		e = { 0 };
	long			first, again;

	put(&l, "tess-ci-01", "tess-ci", "", CLUSTER_VACANT, 100);
	put(&l, "tess-ci-02", "tess-ci", "", CLUSTER_VACANT, 100);
	put(&l, "gpu-01", "gpu", "", CLUSTER_VACANT, 100);
	a.build = "123";
	a.job = "e2e";
	assert_int_equal(cluster_getvacant(&l, &a, NOW, &first, &e),
	    CLUSTER_CHANGED);
	snapshot(&l, &before);
	/* The retry, later, even asking for another purpose. */
	assert_int_equal(cluster_getvacant(&l, &a, NOW + HOUR, &again, &e),
	    CLUSTER_UNCHANGED);
	assert_int_equal(again, first);
	a.purpose = "gpu";
	assert_int_equal(cluster_getvacant(&l, &a, NOW + HOUR, &again, &e),
	    CLUSTER_UNCHANGED);
	assert_int_equal(again, first);
	assert_list_equal(&l, &before);
	cluster_list_free(&before);
	cluster_list_free(&l);
}

static void
test_getvacant_gives_each_build_its_own_cluster(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("");
	struct err		e = { 0 };
	long			p1, p2;

	put(&l, "tess-ci-01", "tess-ci", "", CLUSTER_VACANT, 100);
	put(&l, "tess-ci-02", "tess-ci", "", CLUSTER_VACANT, 100);
	a.job = "e2e";
	a.build = "1";
	assert_int_equal(cluster_getvacant(&l, &a, NOW, &p1, &e),
	    CLUSTER_CHANGED);
	a.build = "2";
	assert_int_equal(cluster_getvacant(&l, &a, NOW, &p2, &e),
	    CLUSTER_CHANGED);
	assert_int_not_equal(p1, p2);
	/* The same build of another job is another caller too. */
	a.job = "unit";
	a.build = "1";
	assert_int_equal(cluster_getvacant(&l, &a, NOW, &p2, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_NO_VACANT);
	cluster_list_free(&l);
}

static void
test_getvacant_picks_the_cluster_vacant_longest(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("");
	struct err		e = { 0 };
	long			picked;

	put(&l, "c-new", "tess-ci", "", CLUSTER_VACANT, NOW - 10);
	put(&l, "c-old", "tess-ci", "", CLUSTER_VACANT, NOW - 1000);
	put(&l, "c-old-too", "tess-ci", "", CLUSTER_VACANT, NOW - 1000);
	put(&l, "c-other", "other", "", CLUSTER_VACANT, 1);
	a.job = "j";
	a.build = "1";
	assert_int_equal(cluster_getvacant(&l, &a, NOW, &picked, &e),
	    CLUSTER_CHANGED);
	assert_string_equal(l.items[picked].name, "c-old");
	a.build = "2";
	assert_int_equal(cluster_getvacant(&l, &a, NOW, &picked, &e),
	    CLUSTER_CHANGED);
	assert_string_equal(l.items[picked].name, "c-old-too");
	a.build = "3";
	assert_int_equal(cluster_getvacant(&l, &a, NOW, &picked, &e),
	    CLUSTER_CHANGED);
	assert_string_equal(l.items[picked].name, "c-new");
	cluster_list_free(&l);
}

static void
test_getvacant_respects_purpose_and_os_image(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("");
	struct err		e = { 0 };
	long			picked;

	put(&l, "gpu-01", "gpu", "ubuntu", CLUSTER_VACANT, 1);
	put(&l, "ci-rhel", "tess-ci", "rhel9", CLUSTER_VACANT, 1);
	put(&l, "ci-ubuntu", "tess-ci", "ubuntu", CLUSTER_VACANT, 2);
	put(&l, "ci-plain", "tess-ci", "", CLUSTER_VACANT, 3);
	a.job = "j";
	a.build = "1";
	a.os_image = "ubuntu";
	assert_int_equal(cluster_getvacant(&l, &a, NOW, &picked, &e),
	    CLUSTER_CHANGED);
	assert_string_equal(l.items[picked].name, "ci-ubuntu");
	/* "" means any OS image of the purpose. */
	a.os_image = "";
	a.build = "2";
	assert_int_equal(cluster_getvacant(&l, &a, NOW, &picked, &e),
	    CLUSTER_CHANGED);
	assert_string_equal(l.items[picked].name, "ci-rhel");
	a.build = "3";
	assert_int_equal(cluster_getvacant(&l, &a, NOW, &picked, &e),
	    CLUSTER_CHANGED);
	assert_string_equal(l.items[picked].name, "ci-plain");
	/* Only gpu-01 is left, and it is of another purpose. */
	a.build = "4";
	assert_int_equal(cluster_getvacant(&l, &a, NOW, &picked, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_NO_VACANT);
	assert_string_equal(get(&l, "gpu-01")->job, "");
	cluster_list_free(&l);
}

static void
test_getvacant_never_picks_disabled_held_or_occupied(void **state)
{
	struct cluster_list	l = { 0 }, before;
	struct cluster_args	a = args("");
	struct err		e = { 0 };
	long			picked = 42;

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "c2", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "c3", "tess-ci", "", CLUSTER_VACANT, 1);
	mark_disabled(get(&l, "c1"), "admin", "broken");
	mark_held(get(&l, "c2"), "alice", NOW + HOUR);
	occupy(get(&l, "c3"), "other", "9");
	snapshot(&l, &before);
	a.job = "j";
	a.build = "1";
	assert_int_equal(cluster_getvacant(&l, &a, NOW, &picked, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_NO_VACANT);
	assert_string_equal(e.msg,
	    "no vacant cluster of purpose tess-ci (3 in pool)");
	assert_int_equal(picked, -1);
	assert_list_equal(&l, &before);
	cluster_list_free(&before);
	cluster_list_free(&l);
}

static void
test_getvacant_without_such_a_pool_is_no_such_purpose(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("");
	struct err		e = { 0 };
	long			picked;

	a.job = "j";
	a.build = "1";
	assert_int_equal(cluster_getvacant(&l, &a, NOW, &picked, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_NO_SUCH_PURPOSE);
	put(&l, "c1", "tess-ci", "rhel9", CLUSTER_VACANT, 1);
	a.purpose = "gpu";
	assert_int_equal(cluster_getvacant(&l, &a, NOW, &picked, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_NO_SUCH_PURPOSE);
	assert_non_null(strstr(e.msg, "gpu"));
	/* The purpose exists, but not with that OS image. */
	a.purpose = "tess-ci";
	a.os_image = "ubuntu";
	assert_int_equal(cluster_getvacant(&l, &a, NOW, &picked, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_NO_SUCH_PURPOSE);
	assert_non_null(strstr(e.msg, "tess-ci"));
	assert_non_null(strstr(e.msg, "ubuntu"));
	assert_int_equal(l.items[0].status, CLUSTER_VACANT);
	cluster_list_free(&l);
}

static void
test_getvacant_refuses_an_empty_job_or_build(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("");
	struct err		e = { 0 };
	long			picked;

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	a.job = "j";
	assert_int_equal(cluster_getvacant(&l, &a, NOW, &picked, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_BAD_PARAM);
	a.job = "";
	a.build = "1";
	assert_int_equal(cluster_getvacant(&l, &a, NOW, &picked, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_BAD_PARAM);
	assert_int_equal(l.items[0].status, CLUSTER_VACANT);
	cluster_list_free(&l);
}

/* ---- finish -------------------------------------------------------------- */

static void
test_finish_returns_an_occupied_cluster_to_the_pool(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("c1");
	struct err		e = { 0 };
	long			picked;

	put(&l, "c0", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	occupy(get(&l, "c1"), "e2e", "123");
	assert_int_equal(cluster_finish(&l, &a, NOW, &picked, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(picked, 1);
	assert_int_equal(l.items[1].status, CLUSTER_VACANT);
	assert_int_equal(l.items[1].since, NOW);
	assert_unused(&l.items[1]);
	cluster_list_free(&l);
}

static void
test_finish_with_the_owning_build_succeeds(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("c1");
	struct err		e = { 0 };

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	occupy(&l.items[0], "e2e", "123");
	a.build = "123";
	assert_int_equal(cluster_finish(&l, &a, NOW, NULL, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(l.items[0].status, CLUSTER_VACANT);
	cluster_list_free(&l);
}

static void
test_finish_by_another_build_is_not_owner(void **state)
{
	struct cluster_list	l = { 0 }, before;
	struct cluster_args	a = args("c1");
	struct err		e = { 0 };

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	occupy(&l.items[0], "e2e", "123");
	snapshot(&l, &before);
	a.build = "122";
	assert_int_equal(cluster_finish(&l, &a, NOW, NULL, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_NOT_OWNER);
	assert_non_null(strstr(e.msg, "e2e"));
	assert_non_null(strstr(e.msg, "123"));
	assert_list_equal(&l, &before);
	cluster_list_free(&before);
	cluster_list_free(&l);
}

static void
test_finish_leaves_held_vacant_and_disabled_clusters_alone(void **state)
{
	struct cluster_list	l = { 0 }, before;
	struct cluster_args	a = args("");
	struct err		e = { 0 };
	const char		*names[] = { "held", "vacant", "disabled" };
	size_t			i;

	put(&l, "held", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "vacant", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "disabled", "tess-ci", "", CLUSTER_VACANT, 1);
	occupy(get(&l, "held"), "e2e", "123");
	mark_held(get(&l, "held"), "alice", NOW + HOUR);
	mark_disabled(get(&l, "disabled"), "admin", "broken");
	snapshot(&l, &before);
	for (i = 0; i < 3; i++) {
		a.cluster = names[i];
		/* Even when the build is given: the job is over either way. */
		a.build = i == 0 ? "123" : "999";
		assert_int_equal(cluster_finish(&l, &a, NOW, NULL, &e),
		    CLUSTER_UNCHANGED);
		/* A retried finish must not fail the job either. */
		assert_int_equal(cluster_finish(&l, &a, NOW, NULL, &e),
		    CLUSTER_UNCHANGED);
	}
	assert_list_equal(&l, &before);
	cluster_list_free(&before);
	cluster_list_free(&l);
}

static void
test_finish_of_an_unknown_cluster_is_no_such_cluster(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("nope");
	struct err		e = { 0 };
	long			picked = 3;

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	assert_int_equal(cluster_finish(&l, &a, NOW, &picked, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_NO_SUCH_CLUSTER);
	assert_non_null(strstr(e.msg, "nope"));
	assert_int_equal(picked, -1);
	cluster_list_free(&l);
}

/* ---- hold ---------------------------------------------------------------- */

static void
test_hold_records_user_until_and_reason(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("c1");
	struct err		e = { 0 };
	long			picked;

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	a.user = "alice";
	a.hours = 6;
	a.reason = "debugging flake";
	assert_int_equal(cluster_hold(&l, &a, NOW, &picked, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(picked, 0);
	assert_int_equal(l.items[0].status, CLUSTER_HELD);
	assert_string_equal(l.items[0].user, "alice");
	assert_int_equal(l.items[0].hold_until, NOW + 6 * HOUR);
	assert_string_equal(l.items[0].reason, "debugging flake");
	assert_int_equal(l.items[0].since, NOW);
	cluster_list_free(&l);
}

static void
test_hold_of_an_occupied_cluster_keeps_the_failed_job(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("c1");
	struct err		e = { 0 };

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	occupy(&l.items[0], "e2e", "123");
	a.user = "alice";
	a.hours = 2;
	assert_int_equal(cluster_hold(&l, &a, NOW, NULL, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(l.items[0].status, CLUSTER_HELD);
	assert_string_equal(l.items[0].job, "e2e");
	assert_string_equal(l.items[0].build, "123");
	assert_string_equal(l.items[0].user, "alice");
	assert_int_equal(l.items[0].hold_until, NOW + 2 * HOUR);
	cluster_list_free(&l);
}

static void
test_hold_by_the_same_user_extends_the_hold(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("c1");
	struct err		e = { 0 };

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	a.user = "alice";
	a.hours = 1;
	a.reason = "first look";
	assert_int_equal(cluster_hold(&l, &a, NOW, NULL, &e),
	    CLUSTER_CHANGED);
	/* Later, without a reason: the reason and since stay. */
	a.reason = "";
	a.hours = 6;
	assert_int_equal(cluster_hold(&l, &a, NOW + HOUR / 2, NULL, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(l.items[0].status, CLUSTER_HELD);
	assert_int_equal(l.items[0].hold_until, NOW + HOUR / 2 + 6 * HOUR);
	assert_string_equal(l.items[0].reason, "first look");
	assert_int_equal(l.items[0].since, NOW);
	/* With a reason: it replaces the old one. */
	a.reason = "still digging";
	assert_int_equal(cluster_hold(&l, &a, NOW + HOUR, NULL, &e),
	    CLUSTER_CHANGED);
	assert_string_equal(l.items[0].reason, "still digging");
	assert_int_equal(l.items[0].hold_until, NOW + 7 * HOUR);
	cluster_list_free(&l);
}

static void
test_hold_of_another_users_hold_is_held_by_other(void **state)
{
	struct cluster_list	l = { 0 }, before;
	struct cluster_args	a = args("c1");
	struct err		e = { 0 };

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	mark_held(&l.items[0], "alice", NOW + HOUR);
	snapshot(&l, &before);
	a.user = "bob";
	assert_int_equal(cluster_hold(&l, &a, NOW, NULL, &e), CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_HELD_BY_OTHER);
	assert_non_null(strstr(e.msg, "held by alice until "
	    "2026-12-03T11:00:00Z"));
	assert_list_equal(&l, &before);
	cluster_list_free(&before);
	cluster_list_free(&l);
}

static void
test_hold_of_a_disabled_cluster_fails_as_disabled(void **state)
{
	struct cluster_list	l = { 0 }, before;
	struct cluster_args	a = args("c1");
	struct err		e = { 0 };

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	mark_disabled(&l.items[0], "admin", "broken disk");
	snapshot(&l, &before);
	a.user = "alice";
	assert_int_equal(cluster_hold(&l, &a, NOW, NULL, &e), CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_DISABLED);
	assert_non_null(strstr(e.msg, "broken disk"));
	assert_list_equal(&l, &before);
	a.cluster = "nope";
	assert_int_equal(cluster_hold(&l, &a, NOW, NULL, &e), CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_NO_SUCH_CLUSTER);
	cluster_list_free(&before);
	cluster_list_free(&l);
}

/* ---- release ------------------------------------------------------------- */

static void
test_release_by_the_holder_makes_the_cluster_vacant(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("c1");
	struct err		e = { 0 };
	long			picked;

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	occupy(&l.items[0], "e2e", "123");
	mark_held(&l.items[0], "alice", NOW + HOUR);
	a.user = "alice";
	assert_int_equal(cluster_release(&l, &a, NOW, &picked, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(picked, 0);
	assert_int_equal(l.items[0].status, CLUSTER_VACANT);
	assert_int_equal(l.items[0].since, NOW);
	assert_unused(&l.items[0]);
	cluster_list_free(&l);
}

static void
test_release_by_an_admin_makes_the_cluster_vacant(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("c1");
	struct err		e = { 0 };

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	mark_held(&l.items[0], "alice", NOW + HOUR);
	a.user = "root";
	a.is_admin = 1;
	assert_int_equal(cluster_release(&l, &a, NOW, NULL, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(l.items[0].status, CLUSTER_VACANT);
	assert_unused(&l.items[0]);
	cluster_list_free(&l);
}

static void
test_release_by_someone_else_is_not_holder(void **state)
{
	struct cluster_list	l = { 0 }, before;
	struct cluster_args	a = args("c1");
	struct err		e = { 0 };

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	mark_held(&l.items[0], "alice", NOW + HOUR);
	snapshot(&l, &before);
	a.user = "bob";
	assert_int_equal(cluster_release(&l, &a, NOW, NULL, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_NOT_HOLDER);
	assert_non_null(strstr(e.msg, "alice"));
	/* No user at all is not the holder either. */
	a.user = "";
	assert_int_equal(cluster_release(&l, &a, NOW, NULL, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_NOT_HOLDER);
	assert_list_equal(&l, &before);
	cluster_list_free(&before);
	cluster_list_free(&l);
}

static void
test_release_of_a_cluster_not_held_is_not_held(void **state)
{
	struct cluster_list	l = { 0 }, before;
	struct cluster_args	a = args("");
	struct err		e = { 0 };
	const char		*names[] = { "vacant", "occupied", "disabled" };
	size_t			i;

	put(&l, "vacant", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "occupied", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "disabled", "tess-ci", "", CLUSTER_VACANT, 1);
	occupy(get(&l, "occupied"), "e2e", "1");
	mark_disabled(get(&l, "disabled"), "admin", "");
	snapshot(&l, &before);
	a.user = "admin";
	a.is_admin = 1;
	for (i = 0; i < 3; i++) {
		a.cluster = names[i];
		assert_int_equal(cluster_release(&l, &a, NOW, NULL, &e),
		    CLUSTER_FAILED);
		assert_int_equal(e.code, ERR_NOT_HELD);
		assert_non_null(strstr(e.msg, names[i]));
	}
	a.cluster = "nope";
	assert_int_equal(cluster_release(&l, &a, NOW, NULL, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_NO_SUCH_CLUSTER);
	assert_list_equal(&l, &before);
	cluster_list_free(&before);
	cluster_list_free(&l);
}

/* ---- add / delete -------------------------------------------------------- */

static void
test_add_appends_a_vacant_cluster(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("gpu-07");
	struct err		e = { 0 };
	long			picked;

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	a.purpose = "gpu";
	a.os_image = "ubuntu-22.04";
	assert_int_equal(cluster_add(&l, &a, NOW, &picked, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(picked, 1);
	assert_int_equal(l.len, 2);
	assert_string_equal(l.items[1].name, "gpu-07");
	assert_string_equal(l.items[1].purpose, "gpu");
	assert_string_equal(l.items[1].os_image, "ubuntu-22.04");
	assert_int_equal(l.items[1].status, CLUSTER_VACANT);
	assert_int_equal(l.items[1].since, NOW);
	assert_unused(&l.items[1]);
	cluster_list_free(&l);
}

static void
test_add_of_an_existing_name_is_exists(void **state)
{
	struct cluster_list	l = { 0 }, before;
	struct cluster_args	a = args("c1");
	struct err		e = { 0 };

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	occupy(&l.items[0], "e2e", "1");
	snapshot(&l, &before);
	a.purpose = "gpu";
	assert_int_equal(cluster_add(&l, &a, NOW, NULL, &e), CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_EXISTS);
	assert_non_null(strstr(e.msg, "c1"));
	assert_list_equal(&l, &before);
	cluster_list_free(&before);
	cluster_list_free(&l);
}

static void
test_delete_removes_vacant_and_disabled_keeping_order(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("c2");
	struct err		e = { 0 };
	long			picked;

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "c2", "tess-ci", "", CLUSTER_VACANT, 2);
	put(&l, "c3", "tess-ci", "", CLUSTER_VACANT, 3);
	put(&l, "c4", "tess-ci", "", CLUSTER_VACANT, 4);
	mark_disabled(get(&l, "c4"), "admin", "gone");
	assert_int_equal(cluster_delete(&l, &a, NOW, &picked, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(picked, 1);
	assert_int_equal(l.len, 3);
	assert_string_equal(l.items[0].name, "c1");
	assert_string_equal(l.items[1].name, "c3");
	assert_string_equal(l.items[2].name, "c4");
	assert_int_equal(l.items[1].since, 3);
	a.cluster = "c4";
	assert_int_equal(cluster_delete(&l, &a, NOW, &picked, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(picked, 2);
	assert_int_equal(l.len, 2);
	assert_int_equal(cluster_find(&l, "c4"), -1);
	cluster_list_free(&l);
}

static void
test_delete_of_a_cluster_in_use_is_in_use_unless_forced(void **state)
{
	struct cluster_list	l = { 0 }, before;
	struct cluster_args	a = args("");
	struct err		e = { 0 };

	put(&l, "busy", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "held", "tess-ci", "", CLUSTER_VACANT, 1);
	occupy(get(&l, "busy"), "e2e", "77");
	mark_held(get(&l, "held"), "alice", NOW + HOUR);
	snapshot(&l, &before);
	a.cluster = "busy";
	assert_int_equal(cluster_delete(&l, &a, NOW, NULL, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_IN_USE);
	assert_non_null(strstr(e.msg, "occupied"));
	assert_non_null(strstr(e.msg, "e2e"));
	a.cluster = "held";
	assert_int_equal(cluster_delete(&l, &a, NOW, NULL, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_IN_USE);
	assert_non_null(strstr(e.msg, "held by alice"));
	assert_list_equal(&l, &before);
	a.force = 1;
	assert_int_equal(cluster_delete(&l, &a, NOW, NULL, &e),
	    CLUSTER_CHANGED);
	a.cluster = "busy";
	assert_int_equal(cluster_delete(&l, &a, NOW, NULL, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(l.len, 0);
	a.cluster = "busy";
	assert_int_equal(cluster_delete(&l, &a, NOW, NULL, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_NO_SUCH_CLUSTER);
	cluster_list_free(&before);
	cluster_list_free(&l);
}

/* ---- disable / enable ---------------------------------------------------- */

static void
test_disable_takes_any_cluster_out_of_allocation(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args(""), g = args("");
	struct err		e = { 0 };
	const char		*names[] = { "vacant", "occupied", "held" };
	struct cluster		*c;
	size_t			i;
	long			picked;

	put(&l, "vacant", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "occupied", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "held", "tess-ci", "", CLUSTER_VACANT, 1);
	occupy(get(&l, "occupied"), "e2e", "1");
	occupy(get(&l, "held"), "e2e", "2");
	mark_held(get(&l, "held"), "alice", NOW + HOUR);
	a.user = "admin";
	a.reason = "node pool upgrade";
	for (i = 0; i < 3; i++) {
		a.cluster = names[i];
		assert_int_equal(cluster_disable(&l, &a, NOW, &picked, &e),
		    CLUSTER_CHANGED);
		c = &l.items[picked];
		assert_string_equal(c->name, names[i]);
		assert_int_equal(c->status, CLUSTER_DISABLED);
		assert_string_equal(c->user, "admin");
		assert_string_equal(c->reason, "node pool upgrade");
		assert_string_equal(c->build, "");
		assert_string_equal(c->job, "");
		assert_int_equal(c->hold_until, 0);
		assert_int_equal(c->since, NOW);
	}
	/* A disabled cluster is never allocated. */
	g.job = "j";
	g.build = "1";
	assert_int_equal(cluster_getvacant(&l, &g, NOW, &picked, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_NO_VACANT);
	cluster_list_free(&l);
}

static void
test_disable_of_a_disabled_cluster_only_updates_the_reason(void **state)
{
	struct cluster_list	l = { 0 }, before;
	struct cluster_args	a = args("c1");
	struct err		e = { 0 };

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	mark_disabled(&l.items[0], "admin", "broken");
	l.items[0].since = NOW - HOUR;
	snapshot(&l, &before);
	a.user = "other-admin";
	assert_int_equal(cluster_disable(&l, &a, NOW, NULL, &e),
	    CLUSTER_UNCHANGED);
	a.reason = "broken";
	assert_int_equal(cluster_disable(&l, &a, NOW, NULL, &e),
	    CLUSTER_UNCHANGED);
	assert_list_equal(&l, &before);
	a.reason = "waiting for new disks";
	assert_int_equal(cluster_disable(&l, &a, NOW, NULL, &e),
	    CLUSTER_CHANGED);
	assert_string_equal(l.items[0].reason, "waiting for new disks");
	assert_int_equal(l.items[0].status, CLUSTER_DISABLED);
	assert_int_equal(l.items[0].since, NOW - HOUR);
	a.cluster = "nope";
	assert_int_equal(cluster_disable(&l, &a, NOW, NULL, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_NO_SUCH_CLUSTER);
	cluster_list_free(&before);
	cluster_list_free(&l);
}

static void
test_enable_makes_a_disabled_cluster_vacant_again(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("c1"), g = args("");
	struct err		e = { 0 };
	long			picked;

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	mark_disabled(&l.items[0], "admin", "broken");
	assert_int_equal(cluster_enable(&l, &a, NOW, &picked, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(picked, 0);
	assert_int_equal(l.items[0].status, CLUSTER_VACANT);
	assert_int_equal(l.items[0].since, NOW);
	assert_unused(&l.items[0]);
	g.job = "j";
	g.build = "1";
	assert_int_equal(cluster_getvacant(&l, &g, NOW, &picked, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(picked, 0);
	cluster_list_free(&l);
}

static void
test_enable_leaves_other_statuses_alone(void **state)
{
	struct cluster_list	l = { 0 }, before;
	struct cluster_args	a = args("");
	struct err		e = { 0 };
	const char		*names[] = { "vacant", "occupied", "held" };
	size_t			i;

	put(&l, "vacant", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "occupied", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "held", "tess-ci", "", CLUSTER_VACANT, 1);
	occupy(get(&l, "occupied"), "e2e", "1");
	mark_held(get(&l, "held"), "alice", NOW + HOUR);
	snapshot(&l, &before);
	for (i = 0; i < 3; i++) {
		a.cluster = names[i];
		assert_int_equal(cluster_enable(&l, &a, NOW, NULL, &e),
		    CLUSTER_UNCHANGED);
	}
	assert_list_equal(&l, &before);
	a.cluster = "nope";
	assert_int_equal(cluster_enable(&l, &a, NOW, NULL, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_NO_SUCH_CLUSTER);
	cluster_list_free(&before);
	cluster_list_free(&l);
}

/* ---- expire -------------------------------------------------------------- */

static void
test_expire_releases_holds_past_or_exactly_now_only(void **state)
{
	struct cluster_list	l = { 0 };
	size_t			n = 99;

	put(&l, "past", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "now", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "future", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "vacant", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "busy", "tess-ci", "", CLUSTER_VACANT, 1);
	occupy(get(&l, "past"), "e2e", "1");
	mark_held(get(&l, "past"), "alice", NOW - 1);
	mark_held(get(&l, "now"), "bob", NOW);
	mark_held(get(&l, "future"), "carol", NOW + 1);
	occupy(get(&l, "busy"), "e2e", "2");
	assert_int_equal(cluster_expire(&l, NOW, &n), CLUSTER_CHANGED);
	assert_int_equal(n, 2);
	assert_int_equal(get(&l, "past")->status, CLUSTER_VACANT);
	assert_unused(get(&l, "past"));
	assert_int_equal(get(&l, "past")->since, NOW);
	assert_int_equal(get(&l, "now")->status, CLUSTER_VACANT);
	assert_unused(get(&l, "now"));
	assert_int_equal(get(&l, "future")->status, CLUSTER_HELD);
	assert_string_equal(get(&l, "future")->user, "carol");
	assert_int_equal(get(&l, "vacant")->status, CLUSTER_VACANT);
	assert_int_equal(get(&l, "vacant")->since, 1);
	assert_int_equal(get(&l, "busy")->status, CLUSTER_OCCUPIED);
	assert_string_equal(get(&l, "busy")->build, "2");
	/* Run again: nothing left to do. */
	assert_int_equal(cluster_expire(&l, NOW, &n), CLUSTER_UNCHANGED);
	assert_int_equal(n, 0);
	cluster_list_free(&l);
}

static void
test_expire_keeps_a_hold_without_an_end(void **state)
{
	struct cluster_list	l = { 0 };
	size_t			n = 99;

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	mark_held(&l.items[0], "alice", 0);
	assert_int_equal(cluster_expire(&l, NOW, &n), CLUSTER_UNCHANGED);
	assert_int_equal(n, 0);
	assert_int_equal(l.items[0].status, CLUSTER_HELD);
	cluster_list_free(&l);
}

static void
test_expire_honours_an_extended_hold(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("c1");
	struct err		e = { 0 };
	size_t			n;

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	a.user = "alice";
	a.hours = 1;
	assert_int_equal(cluster_hold(&l, &a, NOW, NULL, &e),
	    CLUSTER_CHANGED);
	a.hours = 3;
	assert_int_equal(cluster_hold(&l, &a, NOW + HOUR / 2, NULL, &e),
	    CLUSTER_CHANGED);
	/* The first hold's end passes: still held. */
	assert_int_equal(cluster_expire(&l, NOW + HOUR, &n),
	    CLUSTER_UNCHANGED);
	assert_int_equal(n, 0);
	assert_int_equal(l.items[0].status, CLUSTER_HELD);
	assert_int_equal(cluster_expire(&l, NOW + HOUR / 2 + 3 * HOUR, &n),
	    CLUSTER_CHANGED);
	assert_int_equal(n, 1);
	assert_int_equal(l.items[0].status, CLUSTER_VACANT);
	cluster_list_free(&l);
}

static void
test_expire_accepts_an_empty_list_and_no_counter(void **state)
{
	struct cluster_list	l = { 0 };

	assert_int_equal(cluster_expire(&l, NOW, NULL), CLUSTER_UNCHANGED);
	assert_int_equal(l.len, 0);
}

/* ---- warnings before a hold ends ----------------------------------------- */

#define WARN	(30 * 60L)	/* expire.warn_minutes' default */

static void
test_warning_is_due_only_within_the_lead_time_of_a_running_hold(void **state)
{
	struct cluster_list	l = { 0 };

	put(&l, "soon", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "edge", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "later", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "ended", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "endless", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "busy", "tess-ci", "", CLUSTER_VACANT, 1);
	mark_held(get(&l, "soon"), "alice", NOW + 60);
	mark_held(get(&l, "edge"), "alice", NOW + WARN);
	mark_held(get(&l, "later"), "alice", NOW + WARN + 1);
	mark_held(get(&l, "ended"), "alice", NOW);
	mark_held(get(&l, "endless"), "alice", 0);
	occupy(get(&l, "busy"), "e2e", "1");
	assert_true(cluster_warn_due(get(&l, "soon"), NOW, WARN));
	assert_true(cluster_warn_due(get(&l, "edge"), NOW, WARN));
	assert_false(cluster_warn_due(get(&l, "later"), NOW, WARN));
	/* Ended: expiry releases it and says so; no warning. */
	assert_false(cluster_warn_due(get(&l, "ended"), NOW, WARN));
	assert_false(cluster_warn_due(get(&l, "endless"), NOW, WARN));
	assert_false(cluster_warn_due(get(&l, "busy"), NOW, WARN));
	/* expire.warn_minutes = 0 turns warnings off. */
	assert_false(cluster_warn_due(get(&l, "soon"), NOW, 0));
	cluster_list_free(&l);
}

static void
test_warning_is_sent_once_per_hold_end(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster		sent;
	size_t			n = 99;

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	mark_held(&l.items[0], "alice", NOW + 600);
	assert_true(cluster_warn_due(&l.items[0], NOW, WARN));
	sent = l.items[0];
	assert_int_equal(cluster_mark_warned(&l, &sent, 1, &n),
	    CLUSTER_CHANGED);
	assert_int_equal(n, 1);
	assert_int_equal(l.items[0].hold_warned, NOW + 600);
	/* Nothing else of the record changes. */
	assert_int_equal(l.items[0].status, CLUSTER_HELD);
	assert_string_equal(l.items[0].user, "alice");
	assert_int_equal(l.items[0].hold_until, NOW + 600);
	/* The next runs find nothing to warn about and nothing to mark. */
	assert_false(cluster_warn_due(&l.items[0], NOW + 300, WARN));
	assert_int_equal(cluster_mark_warned(&l, &sent, 1, &n),
	    CLUSTER_UNCHANGED);
	assert_int_equal(n, 0);
	cluster_list_free(&l);
}

static void
test_an_extended_hold_gets_a_new_warning(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("c1");
	struct cluster		sent;
	struct err		e = { 0 };

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	a.user = "alice";
	a.hours = 1;
	assert_int_equal(cluster_hold(&l, &a, NOW, NULL, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(l.items[0].hold_warned, 0);
	assert_true(cluster_warn_due(&l.items[0], NOW + HOUR - 60, WARN));
	sent = l.items[0];
	assert_int_equal(cluster_mark_warned(&l, &sent, 1, NULL),
	    CLUSTER_CHANGED);
	assert_false(cluster_warn_due(&l.items[0], NOW + HOUR - 60, WARN));
	/* Warned, alice extends by 2 hours: the new end is warned about. */
	assert_int_equal(cluster_hold(&l, &a, NOW + HOUR - 60, NULL, &e),
	    CLUSTER_CHANGED);
	assert_false(cluster_warn_due(&l.items[0], NOW + HOUR - 60, WARN));
	assert_true(cluster_warn_due(&l.items[0], NOW + 2 * HOUR - 120,
	    WARN));
	cluster_list_free(&l);
}

static void
test_marking_skips_holds_that_changed_since_the_warning(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster		sent[4];
	size_t			n = 99;

	put(&l, "released", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "extended", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "taken-over", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "same", "tess-ci", "", CLUSTER_VACANT, 1);
	mark_held(get(&l, "released"), "alice", NOW + 600);
	mark_held(get(&l, "extended"), "alice", NOW + 600);
	mark_held(get(&l, "taken-over"), "alice", NOW + 600);
	mark_held(get(&l, "same"), "alice", NOW + 600);
	sent[0] = *get(&l, "released");
	sent[1] = *get(&l, "extended");
	sent[2] = *get(&l, "taken-over");
	sent[3] = *get(&l, "same");
	/* Meanwhile, in the workers: */
	get(&l, "released")->status = CLUSTER_VACANT;
	get(&l, "extended")->hold_until = NOW + 3 * HOUR;
	mark_held(get(&l, "taken-over"), "bob", NOW + 600);
	assert_int_equal(cluster_mark_warned(&l, sent, 4, &n),
	    CLUSTER_CHANGED);
	assert_int_equal(n, 1);
	assert_int_equal(get(&l, "same")->hold_warned, NOW + 600);
	assert_int_equal(get(&l, "released")->hold_warned, 0);
	assert_int_equal(get(&l, "extended")->hold_warned, 0);
	assert_int_equal(get(&l, "taken-over")->hold_warned, 0);
	/* A cluster deleted since: nothing to mark, no failure. */
	assert_int_equal(util_strlcpy_checked(sent[3].name, "deleted",
	    sizeof(sent[3].name)), 0);
	assert_int_equal(cluster_mark_warned(&l, &sent[3], 1, &n),
	    CLUSTER_UNCHANGED);
	assert_int_equal(n, 0);
	cluster_list_free(&l);
}

static void
test_every_way_out_of_held_forgets_the_warning(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a = args("c1");
	struct err		e = { 0 };
	size_t			n;

	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "c2", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "c3", "tess-ci", "", CLUSTER_VACANT, 1);
	mark_held(get(&l, "c1"), "alice", NOW + 60);
	get(&l, "c1")->hold_warned = NOW + 60;
	mark_held(get(&l, "c2"), "alice", NOW + 60);
	get(&l, "c2")->hold_warned = NOW + 60;
	mark_held(get(&l, "c3"), "alice", NOW);
	get(&l, "c3")->hold_warned = NOW;
	a.user = "alice";
	assert_int_equal(cluster_release(&l, &a, NOW, NULL, &e),
	    CLUSTER_CHANGED);
	assert_unused(get(&l, "c1"));
	a = args("c2");
	a.user = "admin";
	a.reason = "broken";
	assert_int_equal(cluster_disable(&l, &a, NOW, NULL, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(get(&l, "c2")->hold_warned, 0);
	assert_int_equal(cluster_expire(&l, NOW, &n), CLUSTER_CHANGED);
	assert_unused(get(&l, "c3"));
	/* A new hold starts without a warning, whatever the record said. */
	get(&l, "c1")->hold_warned = NOW + HOUR;
	a = args("c1");
	a.user = "bob";
	a.hours = 1;
	assert_int_equal(cluster_hold(&l, &a, NOW, NULL, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(get(&l, "c1")->hold_warned, 0);
	cluster_list_free(&l);
}

/* ---- failure leaves the list untouched ----------------------------------- */

enum verb { V_GETVACANT, V_FINISH, V_HOLD, V_RELEASE, V_ADD, V_DELETE,
	V_DISABLE, V_ENABLE };

static enum cluster_change
run(enum verb v, struct cluster_list *l, const struct cluster_args *a,
    long *picked, struct err *e)
{
	switch (v) {
	case V_GETVACANT:
		return cluster_getvacant(l, a, NOW, picked, e);
	case V_FINISH:
		return cluster_finish(l, a, NOW, picked, e);
	case V_HOLD:
		return cluster_hold(l, a, NOW, picked, e);
	case V_RELEASE:
		return cluster_release(l, a, NOW, picked, e);
	case V_ADD:
		return cluster_add(l, a, NOW, picked, e);
	case V_DELETE:
		return cluster_delete(l, a, NOW, picked, e);
	case V_DISABLE:
		return cluster_disable(l, a, NOW, picked, e);
	case V_ENABLE:
		return cluster_enable(l, a, NOW, picked, e);
	}
	fail();
	return CLUSTER_FAILED;
}

static void
test_every_failure_leaves_the_list_untouched(void **state)
{
	static const struct {
		enum verb	 v;
		const char	*cluster, *purpose, *os, *job, *build, *user;
		int		 admin;
		enum err_code	 code;
	} cases[] = {
		{ V_GETVACANT, "", "gpu", "", "j", "1", "", 0,
		    ERR_NO_SUCH_PURPOSE },
		{ V_GETVACANT, "", "tess-ci", "win", "j", "1", "", 0,
		    ERR_NO_SUCH_PURPOSE },
		{ V_GETVACANT, "", "full", "", "j", "1", "", 0, ERR_NO_VACANT },
		{ V_GETVACANT, "", "tess-ci", "", "", "1", "", 0,
		    ERR_BAD_PARAM },
		{ V_FINISH, "nope", "", "", "", "", "", 0,
		    ERR_NO_SUCH_CLUSTER },
		{ V_FINISH, "busy", "", "", "", "9", "", 0, ERR_NOT_OWNER },
		{ V_HOLD, "nope", "", "", "", "", "bob", 0,
		    ERR_NO_SUCH_CLUSTER },
		{ V_HOLD, "held", "", "", "", "", "bob", 0, ERR_HELD_BY_OTHER },
		{ V_HOLD, "off", "", "", "", "", "bob", 0, ERR_DISABLED },
		{ V_RELEASE, "nope", "", "", "", "", "bob", 1,
		    ERR_NO_SUCH_CLUSTER },
		{ V_RELEASE, "held", "", "", "", "", "bob", 0, ERR_NOT_HOLDER },
		{ V_RELEASE, "busy", "", "", "", "", "bob", 1, ERR_NOT_HELD },
		{ V_ADD, "busy", "tess-ci", "", "", "", "root", 1, ERR_EXISTS },
		{ V_DELETE, "nope", "", "", "", "", "root", 1,
		    ERR_NO_SUCH_CLUSTER },
		{ V_DELETE, "busy", "", "", "", "", "root", 1, ERR_IN_USE },
		{ V_DELETE, "held", "", "", "", "", "root", 1, ERR_IN_USE },
		{ V_DISABLE, "nope", "", "", "", "", "root", 1,
		    ERR_NO_SUCH_CLUSTER },
		{ V_ENABLE, "nope", "", "", "", "", "root", 1,
		    ERR_NO_SUCH_CLUSTER },
	};
	struct cluster_list	l = { 0 }, before;
	struct cluster_args	a;
	struct err		e;
	size_t			i;
	long			picked;

	put(&l, "free", "tess-ci", "", CLUSTER_VACANT, 1);
	put(&l, "busy", "tess-ci", "", CLUSTER_VACANT, 2);
	put(&l, "held", "tess-ci", "", CLUSTER_VACANT, 3);
	put(&l, "off", "tess-ci", "", CLUSTER_VACANT, 4);
	put(&l, "full-1", "full", "", CLUSTER_VACANT, 5);
	occupy(get(&l, "busy"), "e2e", "1");
	occupy(get(&l, "full-1"), "e2e", "2");
	mark_held(get(&l, "held"), "alice", NOW + HOUR);
	mark_disabled(get(&l, "off"), "root", "broken");
	snapshot(&l, &before);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		a = args(cases[i].cluster);
		a.purpose = cases[i].purpose;
		a.os_image = cases[i].os;
		a.job = cases[i].job;
		a.build = cases[i].build;
		a.user = cases[i].user;
		a.is_admin = cases[i].admin;
		errors_clear(&e);
		assert_int_equal(run(cases[i].v, &l, &a, &picked, &e),
		    CLUSTER_FAILED);
		assert_int_equal(e.code, cases[i].code);
		assert_true(e.msg[0] != '\0');
		assert_list_equal(&l, &before);
	}
	cluster_list_free(&before);
	cluster_list_free(&l);
}

static void
test_an_invalid_argument_fails_without_a_partial_change(void **state)
{
	struct cluster_list	l = { 0 }, before;
	struct cluster_args	a = args("c1");
	struct err		e = { 0 };
	char			big[CLUSTER_TEXT_MAX + 2];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put(&l, "c1", "tess-ci", "", CLUSTER_VACANT, 1);
	snapshot(&l, &before);
	/* user fits, reason does not: the user must not be half-written. */
	a.user = "alice";
	a.reason = big;
	assert_int_equal(cluster_hold(&l, &a, NOW, NULL, &e), CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_BAD_PARAM);
	assert_list_equal(&l, &before);
	/* A zero-length hold would be expired at once. */
	a.reason = "";
	a.hours = 0;
	assert_int_equal(cluster_hold(&l, &a, NOW, NULL, &e), CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_BAD_PARAM);
	assert_list_equal(&l, &before);
	a.job = "j";
	a.build = big;
	assert_int_equal(cluster_getvacant(&l, &a, NOW, NULL, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_BAD_PARAM);
	assert_list_equal(&l, &before);
	a.cluster = "c2";
	a.purpose = big;
	assert_int_equal(cluster_add(&l, &a, NOW, NULL, &e), CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_BAD_PARAM);
	assert_list_equal(&l, &before);
	cluster_list_free(&before);
	cluster_list_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_names_parse_back_to_their_enum),
		cmocka_unit_test(test_find_returns_index_or_minus_one),
		cmocka_unit_test(test_push_keeps_order_across_growth),
		cmocka_unit_test(
		    test_getvacant_occupies_and_records_job_and_build),
		cmocka_unit_test(
		    test_getvacant_is_idempotent_per_job_and_build),
		cmocka_unit_test(
		    test_getvacant_gives_each_build_its_own_cluster),
		cmocka_unit_test(
		    test_getvacant_picks_the_cluster_vacant_longest),
		cmocka_unit_test(test_getvacant_respects_purpose_and_os_image),
		cmocka_unit_test(
		    test_getvacant_never_picks_disabled_held_or_occupied),
		cmocka_unit_test(
		    test_getvacant_without_such_a_pool_is_no_such_purpose),
		cmocka_unit_test(test_getvacant_refuses_an_empty_job_or_build),
		cmocka_unit_test(
		    test_finish_returns_an_occupied_cluster_to_the_pool),
		cmocka_unit_test(test_finish_with_the_owning_build_succeeds),
		cmocka_unit_test(test_finish_by_another_build_is_not_owner),
		cmocka_unit_test(
		    test_finish_leaves_held_vacant_and_disabled_clusters_alone),
		cmocka_unit_test(
		    test_finish_of_an_unknown_cluster_is_no_such_cluster),
		cmocka_unit_test(test_hold_records_user_until_and_reason),
		cmocka_unit_test(
		    test_hold_of_an_occupied_cluster_keeps_the_failed_job),
		cmocka_unit_test(test_hold_by_the_same_user_extends_the_hold),
		cmocka_unit_test(
		    test_hold_of_another_users_hold_is_held_by_other),
		cmocka_unit_test(
		    test_hold_of_a_disabled_cluster_fails_as_disabled),
		cmocka_unit_test(
		    test_release_by_the_holder_makes_the_cluster_vacant),
		cmocka_unit_test(
		    test_release_by_an_admin_makes_the_cluster_vacant),
		cmocka_unit_test(test_release_by_someone_else_is_not_holder),
		cmocka_unit_test(
		    test_release_of_a_cluster_not_held_is_not_held),
		cmocka_unit_test(test_add_appends_a_vacant_cluster),
		cmocka_unit_test(test_add_of_an_existing_name_is_exists),
		cmocka_unit_test(
		    test_delete_removes_vacant_and_disabled_keeping_order),
		cmocka_unit_test(
		    test_delete_of_a_cluster_in_use_is_in_use_unless_forced),
		cmocka_unit_test(
		    test_disable_takes_any_cluster_out_of_allocation),
		cmocka_unit_test(
		    test_disable_of_a_disabled_cluster_only_updates_the_reason),
		cmocka_unit_test(
		    test_enable_makes_a_disabled_cluster_vacant_again),
		cmocka_unit_test(test_enable_leaves_other_statuses_alone),
		cmocka_unit_test(
		    test_expire_releases_holds_past_or_exactly_now_only),
		cmocka_unit_test(test_expire_keeps_a_hold_without_an_end),
		cmocka_unit_test(test_expire_honours_an_extended_hold),
		cmocka_unit_test(
		    test_expire_accepts_an_empty_list_and_no_counter),
		cmocka_unit_test(
		    test_warning_is_due_only_within_the_lead_time_of_a_running_hold),
		cmocka_unit_test(test_warning_is_sent_once_per_hold_end),
		cmocka_unit_test(test_an_extended_hold_gets_a_new_warning),
		cmocka_unit_test(
		    test_marking_skips_holds_that_changed_since_the_warning),
		cmocka_unit_test(
		    test_every_way_out_of_held_forgets_the_warning),
		cmocka_unit_test(test_every_failure_leaves_the_list_untouched),
		cmocka_unit_test(
		    test_an_invalid_argument_fails_without_a_partial_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
