/*
 * test_creation: the pending-creation records behind createcluster's
 * idempotency: reserve once per (job, user, branch), settle or abort by
 * ticket, close by id from /add, lapse by time, and the auto-provisioning
 * maximum.
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
#include "codec.h"
#include "creation.h"
#include "errors.h"
#include "util.h"

#define NOW	((time_t)1796292000)	/* 2026-12-03T10:00:00Z */
#define T1	"0123456789abcdef"
#define T2	"fedcba9876543210"
#define ID1	"6c0b1f9e-8d6a-4f43-9a35-0d1b1e2f3a4b"

static struct creation_args
args(const char *user, const char *ticket)
{
	struct creation_args	a;

	memset(&a, 0, sizeof(a));
	a.job = "e2e-k8s-1.32";
	a.user = user;
	a.branch = "master";
	a.purpose = "tess-ci";
	a.ticket = ticket;
	a.reserve_until = NOW + 30;
	return a;
}

static void
add_cluster(struct cluster_list *l, const char *name, const char *purpose)
{
	struct cluster	c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(util_strlcpy_checked(c.name, name, sizeof(c.name)), 0);
	assert_int_equal(util_strlcpy_checked(c.purpose, purpose,
	    sizeof(c.purpose)), 0);
	assert_int_equal(cluster_list_push(l, &c), 0);
}

/* Reserves for user with ticket and checks the outcome. */
static void
begin(struct cluster_list *l, const char *user, const char *ticket,
    time_t now, enum creation_outcome want, struct creation *found)
{
	struct creation_args	a = args(user, ticket);
	enum creation_outcome	outcome = CREATION_OUTCOME__MAX;
	struct err		e = { 0 };

	assert_int_not_equal(creation_begin(l, &a, now, &outcome, found, &e),
	    CLUSTER_FAILED);
	assert_int_equal(outcome, want);
}

static void
test_the_first_request_reserves_and_an_identical_one_finds_it(void **state)
{
	struct cluster_list	l = { 0 };
	struct creation		found;

	(void)state;
	begin(&l, "john", T1, NOW, CREATION_RESERVED, &found);
	assert_string_equal(found.ticket, T1);
	assert_string_equal(found.id, "");
	assert_int_equal(found.expires, NOW + 30);
	begin(&l, "john", T2, NOW + 1, CREATION_PENDING, &found);
	assert_string_equal(found.ticket, T1);
	assert_int_equal(l.creations.len, 1);
	cluster_list_free(&l);
}

static void
test_a_retried_reservation_with_the_same_ticket_is_still_ours(void **state)
{
	struct cluster_list	l = { 0 };
	struct creation		found;

	(void)state;
	/* store_txn() reruns the transition after a write whose answer was
	 * lost: the second run sees the first one's record. */
	begin(&l, "john", T1, NOW, CREATION_RESERVED, &found);
	begin(&l, "john", T1, NOW, CREATION_RESERVED, &found);
	assert_string_equal(found.ticket, T1);
	assert_int_equal(l.creations.len, 1);
	cluster_list_free(&l);
}

static void
test_another_user_or_branch_is_another_creation(void **state)
{
	struct cluster_list	l = { 0 };
	struct creation		found;
	struct creation_args	a = args("john", T1);
	enum creation_outcome	outcome;
	struct err		e = { 0 };

	(void)state;
	begin(&l, "john", T1, NOW, CREATION_RESERVED, &found);
	begin(&l, "mary", T2, NOW, CREATION_RESERVED, &found);
	a.branch = "release-1.32";
	a.ticket = "00000000000000aa";
	assert_int_equal(creation_begin(&l, &a, NOW, &outcome, &found, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(outcome, CREATION_RESERVED);
	assert_int_equal(l.creations.len, 3);
	cluster_list_free(&l);
}

static void
test_settle_records_the_id_and_the_pending_time(void **state)
{
	struct cluster_list	l = { 0 };
	struct creation		found;
	struct err		e = { 0 };

	(void)state;
	begin(&l, "john", T1, NOW, CREATION_RESERVED, &found);
	assert_int_equal(creation_settle(&l, &found, ID1, NOW + 7200, NOW, &e),
	    CLUSTER_CHANGED);
	assert_string_equal(l.creations.items[0].id, ID1);
	assert_int_equal(l.creations.items[0].expires, NOW + 7200);
	begin(&l, "john", T2, NOW + 3600, CREATION_PENDING, &found);
	assert_string_equal(found.id, ID1);
	cluster_list_free(&l);
}

static void
test_a_lapsed_reservation_is_put_back_when_prow_answers_late(void **state)
{
	struct cluster_list	l = { 0 };
	struct creation		mine;
	size_t			dropped = 0;
	struct err		e = { 0 };

	(void)state;
	begin(&l, "john", T1, NOW, CREATION_RESERVED, &mine);
	assert_int_equal(creation_expire(&l, NOW + 30, &dropped),
	    CLUSTER_CHANGED);
	assert_int_equal(dropped, 1);
	assert_int_equal(creation_settle(&l, &mine, ID1, NOW + 7200, NOW + 31,
	    &e), CLUSTER_CHANGED);
	assert_int_equal(l.creations.len, 1);
	assert_string_equal(l.creations.items[0].id, ID1);
	cluster_list_free(&l);
}

static void
test_a_late_answer_does_not_shadow_a_newer_reservation(void **state)
{
	struct cluster_list	l = { 0 };
	struct creation		mine, theirs;
	struct err		e = { 0 };

	(void)state;
	begin(&l, "john", T1, NOW, CREATION_RESERVED, &mine);
	/* Our reservation lapsed and an identical request reserved anew. */
	begin(&l, "john", T2, NOW + 30, CREATION_RESERVED, &theirs);
	assert_int_equal(l.creations.len, 1);
	assert_int_equal(creation_settle(&l, &mine, ID1, NOW + 7200, NOW + 30,
	    &e), CLUSTER_UNCHANGED);
	assert_int_equal(l.creations.len, 1);
	assert_string_equal(l.creations.items[0].ticket, T2);
	assert_string_equal(l.creations.items[0].id, "");
	cluster_list_free(&l);
}

static void
test_abort_gives_the_reservation_back_to_the_next_request(void **state)
{
	struct cluster_list	l = { 0 };
	struct creation		found;

	(void)state;
	begin(&l, "john", T1, NOW, CREATION_RESERVED, &found);
	assert_int_equal(creation_abort(&l, T2), CLUSTER_UNCHANGED);
	assert_int_equal(creation_abort(&l, T1), CLUSTER_CHANGED);
	assert_int_equal(l.creations.len, 0);
	begin(&l, "john", T2, NOW, CREATION_RESERVED, &found);
	cluster_list_free(&l);
}

static void
test_adding_the_cluster_closes_its_creation(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a;
	struct creation		found;
	struct err		e = { 0 };
	long			picked;

	(void)state;
	begin(&l, "john", T1, NOW, CREATION_RESERVED, &found);
	assert_int_equal(creation_settle(&l, &found, ID1, NOW + 7200, NOW, &e),
	    CLUSTER_CHANGED);
	memset(&a, 0, sizeof(a));
	a.cluster = "tess-ci-09";
	a.purpose = "tess-ci";
	a.os_image = "";
	a.creation = "some-other-id";
	assert_int_equal(cluster_add(&l, &a, NOW, &picked, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(l.creations.len, 1);
	a.cluster = "tess-ci-10";
	a.creation = ID1;
	assert_int_equal(cluster_add(&l, &a, NOW, &picked, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(l.creations.len, 0);
	assert_int_equal(l.len, 2);
	cluster_list_free(&l);
}

static void
test_the_creation_jobs_retried_add_is_its_own_cluster(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a;
	struct err		e = { 0 };
	long			picked = -1;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.cluster = "tess-ci-09";
	a.purpose = "tess-ci";
	a.os_image = "ubuntu-22.04";
	a.creation = ID1;
	assert_int_equal(cluster_add(&l, &a, NOW, &picked, &e),
	    CLUSTER_CHANGED);
	assert_string_equal(l.items[0].creation, ID1);
	/* Its answer was lost and it asks again: the same cluster, 200. */
	assert_int_equal(cluster_add(&l, &a, NOW + 5, &picked, &e),
	    CLUSTER_UNCHANGED);
	assert_int_equal(picked, 0);
	assert_int_equal(l.len, 1);
	assert_int_equal(l.items[0].since, NOW);
	/* Anyone else adding that name, or another OS image: 409. */
	a.creation = "another-creation";
	assert_int_equal(cluster_add(&l, &a, NOW, &picked, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_EXISTS);
	a.creation = ID1;
	a.os_image = "ubuntu-20.04";
	assert_int_equal(cluster_add(&l, &a, NOW, &picked, &e),
	    CLUSTER_FAILED);
	a.creation = "";
	a.os_image = "ubuntu-22.04";
	assert_int_equal(cluster_add(&l, &a, NOW, &picked, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_EXISTS);
	cluster_list_free(&l);
}

static void
test_a_failed_add_keeps_the_creation_open(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster_args	a;
	struct creation		found;
	struct err		e = { 0 };
	long			picked;

	(void)state;
	add_cluster(&l, "tess-ci-09", "tess-ci");
	begin(&l, "john", T1, NOW, CREATION_RESERVED, &found);
	assert_int_equal(creation_settle(&l, &found, ID1, NOW + 7200, NOW, &e),
	    CLUSTER_CHANGED);
	memset(&a, 0, sizeof(a));
	a.cluster = "tess-ci-09";
	a.purpose = "tess-ci";
	a.os_image = "";
	a.creation = ID1;
	assert_int_equal(cluster_add(&l, &a, NOW, &picked, &e),
	    CLUSTER_FAILED);
	assert_int_equal(e.code, ERR_EXISTS);
	assert_int_equal(l.creations.len, 1);
	cluster_list_free(&l);
}

static void
test_expired_records_are_dropped_and_no_longer_found(void **state)
{
	struct cluster_list	l = { 0 };
	struct creation		found;
	size_t			dropped = 9;

	(void)state;
	begin(&l, "john", T1, NOW, CREATION_RESERVED, &found);
	assert_int_equal(creation_find(&l, "e2e-k8s-1.32", "john", "master",
	    NOW + 29), 0);
	assert_int_equal(creation_find(&l, "e2e-k8s-1.32", "john", "master",
	    NOW + 30), -1);
	assert_int_equal(creation_expire(&l, NOW + 29, &dropped),
	    CLUSTER_UNCHANGED);
	assert_int_equal(dropped, 0);
	/* The next request drops it and reserves for itself. */
	begin(&l, "john", T2, NOW + 30, CREATION_RESERVED, &found);
	assert_int_equal(l.creations.len, 1);
	assert_string_equal(l.creations.items[0].ticket, T2);
	cluster_list_free(&l);
}

static void
test_auto_provisioning_stops_at_the_purposes_maximum(void **state)
{
	struct cluster_list	l = { 0 };
	struct creation_args	a = args("cimaster", T1);
	struct creation		found;
	enum creation_outcome	outcome;
	struct err		e = { 0 };

	(void)state;
	add_cluster(&l, "tess-ci-01", "tess-ci");
	add_cluster(&l, "tnet-ci-01", "tnet-ci");
	a.max_clusters = 2;
	assert_int_equal(creation_begin(&l, &a, NOW, &outcome, &found, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(outcome, CREATION_RESERVED);
	/* One cluster and one pending creation: at the maximum of 2. */
	a.user = "someone-else";
	a.ticket = T2;
	assert_int_equal(creation_begin(&l, &a, NOW, &outcome, &found, &e),
	    CLUSTER_UNCHANGED);
	assert_int_equal(outcome, CREATION_AT_MAX);
	assert_int_equal(l.creations.len, 1);
	cluster_list_free(&l);
}

static void
test_no_new_creation_once_max_pending_are_live(void **state)
{
	struct cluster_list	l = { 0 };
	struct creation_args	a = args("john", T1);
	struct creation		found;
	enum creation_outcome	outcome;
	struct err		e = { 0 };

	(void)state;
	a.max_pending = 1;
	assert_int_equal(creation_begin(&l, &a, NOW, &outcome, &found, &e),
	    CLUSTER_CHANGED);
	assert_int_equal(outcome, CREATION_RESERVED);
	/* The identical request still finds it: only new ones are refused. */
	a.ticket = T2;
	assert_int_equal(creation_begin(&l, &a, NOW, &outcome, &found, &e),
	    CLUSTER_UNCHANGED);
	assert_int_equal(outcome, CREATION_PENDING);
	a.user = "mary";
	assert_int_equal(creation_begin(&l, &a, NOW, &outcome, &found, &e),
	    CLUSTER_UNCHANGED);
	assert_int_equal(outcome, CREATION_TOO_MANY);
	assert_int_equal(l.creations.len, 1);
	/* Once the first lapses there is room again. */
	assert_int_equal(creation_begin(&l, &a, NOW + 30, &outcome, &found,
	    &e), CLUSTER_CHANGED);
	assert_int_equal(outcome, CREATION_RESERVED);
	assert_string_equal(l.creations.items[0].user, "mary");
	cluster_list_free(&l);
}

static void
test_creations_round_trip_through_the_codec(void **state)
{
	struct cluster_list	l = { 0 };
	struct creation_list	back = { 0 };
	struct creation		found;
	struct err		e = { 0 };
	char			*text;

	(void)state;
	begin(&l, "john doe", T1, NOW, CREATION_RESERVED, &found);
	begin(&l, "mary", T2, NOW, CREATION_RESERVED, &found);
	assert_int_equal(creation_settle(&l, &found, ID1, NOW + 7200, NOW, &e),
	    CLUSTER_CHANGED);
	assert_non_null(text = codec_encode_creations(&l.creations));
	assert_int_equal(codec_decode_creations(text, &back, &e), 0);
	assert_int_equal(back.len, 2);
	assert_memory_equal(back.items, l.creations.items,
	    2 * sizeof(back.items[0]));
	free(text);
	creation_list_free(&back);
	cluster_list_free(&l);
}

static void
test_a_hand_edited_bad_creation_is_a_store_error_naming_it(void **state)
{
	static const char *const bad[] = {
		"[{\"id\":\"Not A Name\",\"job\":\"j\",\"user\":\"u\","
		    "\"branch\":\"b\"}]",
		"[{\"id\":\"\",\"user\":\"u\",\"branch\":\"b\"}]",
		"[{\"job\":\"j\",\"user\":\"u\",\"branch\":\"b\","
		    "\"ticket\":\"xyz\"}]",
		"[{\"job\":\"j\",\"user\":\"u\",\"branch\":\"b\","
		    "\"expires\":\"tomorrow\"}]",
		"{}",
	};
	struct creation_list	l = { 0 };
	struct err		e;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errors_clear(&e);
		assert_int_equal(codec_decode_creations(bad[i], &l, &e), -1);
		assert_int_equal(e.code, ERR_STORE);
		assert_non_null(strstr(e.msg, "creations document"));
		assert_int_equal(l.len, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_the_first_request_reserves_and_an_identical_one_finds_it),
		cmocka_unit_test(
		    test_a_retried_reservation_with_the_same_ticket_is_still_ours),
		cmocka_unit_test(
		    test_another_user_or_branch_is_another_creation),
		cmocka_unit_test(
		    test_settle_records_the_id_and_the_pending_time),
		cmocka_unit_test(
		    test_a_lapsed_reservation_is_put_back_when_prow_answers_late),
		cmocka_unit_test(
		    test_a_late_answer_does_not_shadow_a_newer_reservation),
		cmocka_unit_test(
		    test_abort_gives_the_reservation_back_to_the_next_request),
		cmocka_unit_test(test_adding_the_cluster_closes_its_creation),
		cmocka_unit_test(
		    test_the_creation_jobs_retried_add_is_its_own_cluster),
		cmocka_unit_test(test_a_failed_add_keeps_the_creation_open),
		cmocka_unit_test(
		    test_expired_records_are_dropped_and_no_longer_found),
		cmocka_unit_test(
		    test_auto_provisioning_stops_at_the_purposes_maximum),
		cmocka_unit_test(
		    test_no_new_creation_once_max_pending_are_live),
		cmocka_unit_test(test_creations_round_trip_through_the_codec),
		cmocka_unit_test(
		    test_a_hand_edited_bad_creation_is_a_store_error_naming_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
