/*
 * test_codec: the stored JSON document <-> the cluster list: exact wire
 * form, lossless round trips (5000 clusters too), and every record an
 * admin could break by hand being refused with a message naming it.
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
#include <json-c/json.h>

#include "cluster.h"
#include "codec.h"
#include "errors.h"
#include "util.h"

#define NOW	((time_t)1796292000)	/* 2026-12-03T10:00:00Z */

/* A valid first record so that bad ones sit at index 1. */
#define GOOD	"{\"name\":\"c0\",\"purpose\":\"tess-ci\"," \
		"\"status\":\"vacant\"}"

static void
set(char *dst, size_t dstsz, const char *src)
{
	assert_int_equal(util_strlcpy_checked(dst, src, dstsz), 0);
}

static struct cluster
record(const char *name, enum cluster_status st)
{
	struct cluster	c;

	memset(&c, 0, sizeof(c));
	set(c.name, sizeof(c.name), name);
	set(c.purpose, sizeof(c.purpose), "tess-ci");
	c.status = st;
	c.since = NOW;
	return c;
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

/* Decodes text expecting failure; returns the message for inspection. */
static void
assert_rejected(const char *text, const char *want1, const char *want2)
{
	struct cluster_list	l = { 0 };
	struct err		e = { 0 };

	if (codec_decode(text, &l, &e) != -1)
		fail_msg("accepted: %s", text);
	assert_int_equal(e.code, ERR_STORE);
	assert_int_equal(l.len, 0);
	assert_null(l.items);
	if (want1 != NULL && strstr(e.msg, want1) == NULL)
		fail_msg("message \"%s\" lacks \"%s\" for %s", e.msg, want1,
		    text);
	if (want2 != NULL && strstr(e.msg, want2) == NULL)
		fail_msg("message \"%s\" lacks \"%s\" for %s", e.msg, want2,
		    text);
}

static void
test_encode_writes_the_api_record_with_all_ten_keys(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster		c;
	char			*s;

	c = record("tess-ci-03", CLUSTER_OCCUPIED);
	set(c.build, sizeof(c.build), "123");
	set(c.job, sizeof(c.job), "e2e-k8s-1.32");
	assert_int_equal(cluster_list_push(&l, &c), 0);
	c = record("tess-ci-04", CLUSTER_HELD);
	set(c.os_image, sizeof(c.os_image), "ubuntu-22.04");
	set(c.user, sizeof(c.user), "alice");
	set(c.reason, sizeof(c.reason), "flaky/etcd \"again\"");
	c.hold_until = NOW + 6 * 3600;
	c.since = 0;
	assert_int_equal(cluster_list_push(&l, &c), 0);
	assert_non_null(s = codec_encode(&l));
	assert_string_equal(s,
	    "[{\"name\":\"tess-ci-03\",\"purpose\":\"tess-ci\","
	    "\"osImage\":\"\",\"status\":\"occupied\",\"build\":\"123\","
	    "\"job\":\"e2e-k8s-1.32\",\"user\":\"\","
	    "\"since\":\"2026-12-03T10:00:00Z\",\"holdUntil\":\"\","
	    "\"reason\":\"\"},"
	    "{\"name\":\"tess-ci-04\",\"purpose\":\"tess-ci\","
	    "\"osImage\":\"ubuntu-22.04\",\"status\":\"held\",\"build\":\"\","
	    "\"job\":\"\",\"user\":\"alice\",\"since\":\"\","
	    "\"holdUntil\":\"2026-12-03T16:00:00Z\","
	    "\"reason\":\"flaky/etcd \\\"again\\\"\"}]");
	free(s);
	cluster_list_free(&l);
}

static void
test_encode_of_an_empty_list_is_an_empty_array(void **state)
{
	struct cluster_list	l = { 0 };
	char			*s;

	assert_non_null(s = codec_encode(&l));
	assert_string_equal(s, "[]");
	free(s);
}

static void
test_cluster_to_json_gives_ten_string_fields(void **state)
{
	static const char	*keys[] = { "name", "purpose", "osImage",
	    "status", "build", "job", "user", "since", "holdUntil",
	    "reason" };
	struct cluster		 c = record("c1", CLUSTER_DISABLED);
	struct json_object	*o, *v;
	size_t			 i;

	assert_non_null(o = codec_cluster_to_json(&c));
	assert_int_equal(json_object_object_length(o), 10);
	for (i = 0; i < 10; i++) {
		assert_true(json_object_object_get_ex(o, keys[i], &v));
		assert_true(json_object_is_type(v, json_type_string));
	}
	assert_true(json_object_object_get_ex(o, "status", &v));
	assert_string_equal(json_object_get_string(v), "disabled");
	json_object_put(o);
}

static void
test_round_trip_keeps_every_field(void **state)
{
	struct cluster_list	l = { 0 }, back = { 0 };
	struct cluster		c;
	struct err		e = { 0 };
	char			*s, *again;
	char			long_text[CLUSTER_TEXT_MAX + 1];
	char			long_name[CLUSTER_NAME_MAX + 1];
	size_t			i;

	memset(long_text, 'r', CLUSTER_TEXT_MAX);
	long_text[CLUSTER_TEXT_MAX] = '\0';
	memset(long_name, 'n', CLUSTER_NAME_MAX);
	long_name[CLUSTER_NAME_MAX] = '\0';
	c = record("vacant-1", CLUSTER_VACANT);
	c.since = 0;
	assert_int_equal(cluster_list_push(&l, &c), 0);
	c = record("occupied-2", CLUSTER_OCCUPIED);
	set(c.os_image, sizeof(c.os_image), "RHEL_9.4-x86");
	set(c.build, sizeof(c.build), "build #7 \\ tab\t");
	set(c.job, sizeof(c.job), "pull-kubernetes/e2e");
	assert_int_equal(cluster_list_push(&l, &c), 0);
	c = record("held-3", CLUSTER_HELD);
	set(c.user, sizeof(c.user), "j\xc3\xbcrgen");	/* UTF-8 */
	set(c.reason, sizeof(c.reason), long_text);
	c.hold_until = NOW + 3600;
	c.hold_warned = NOW + 3600;
	assert_int_equal(cluster_list_push(&l, &c), 0);
	c = record(long_name, CLUSTER_DISABLED);
	set(c.user, sizeof(c.user), "admin");
	set(c.reason, sizeof(c.reason), "\"quoted\" </script>");
	assert_int_equal(cluster_list_push(&l, &c), 0);

	assert_non_null(s = codec_encode(&l));
	assert_non_null(strstr(s, "pull-kubernetes/e2e"));	/* no "\/" */
	assert_int_equal(codec_decode(s, &back, &e), 0);
	assert_int_equal(back.len, l.len);
	for (i = 0; i < l.len; i++)
		assert_cluster_equal(&back.items[i], &l.items[i]);
	/* Encoding is stable, so an unchanged list writes the same bytes. */
	assert_non_null(again = codec_encode(&back));
	assert_string_equal(again, s);
	free(again);
	free(s);
	cluster_list_free(&back);
	cluster_list_free(&l);
}

static void
test_round_trip_of_5000_clusters(void **state)
{
	struct cluster_list	l = { 0 }, back = { 0 };
	struct cluster		c;
	struct err		e = { 0 };
	char			name[CLUSTER_NAME_MAX + 1], *s;
	size_t			i;

	for (i = 0; i < 5000; i++) {
		(void)snprintf(name, sizeof(name), "tess-ci-%04zu", i);
		c = record(name,
		    (enum cluster_status)(i % CLUSTER_STATUS__MAX));
		c.since = NOW - (time_t)i;
		if (c.status == CLUSTER_OCCUPIED) {
			(void)snprintf(c.build, sizeof(c.build), "%zu", i);
			set(c.job, sizeof(c.job), "e2e");
		} else if (c.status == CLUSTER_HELD) {
			set(c.user, sizeof(c.user), "alice");
			c.hold_until = NOW + (time_t)i;
		}
		assert_int_equal(cluster_list_push(&l, &c), 0);
	}
	assert_non_null(s = codec_encode(&l));
	assert_int_equal(codec_decode(s, &back, &e), 0);
	assert_int_equal(back.len, 5000);
	for (i = 0; i < l.len; i++)
		assert_cluster_equal(&back.items[i], &l.items[i]);
	free(s);
	cluster_list_free(&back);
	cluster_list_free(&l);
}

static void
test_decode_of_null_or_empty_text_is_an_empty_list(void **state)
{
	struct cluster_list	l = { 0 };
	struct err		e = { 0 };

	assert_int_equal(codec_decode(NULL, &l, &e), 0);
	assert_int_equal(l.len, 0);
	assert_int_equal(codec_decode("", &l, &e), 0);
	assert_int_equal(l.len, 0);
	assert_int_equal(codec_decode(" [ ]\n", &l, &e), 0);
	assert_int_equal(l.len, 0);
	cluster_list_free(&l);
}

static void
test_decode_defaults_missing_fields_and_skips_unknown(void **state)
{
	struct cluster_list	l = { 0 };
	struct err		e = { 0 };

	assert_int_equal(codec_decode("[{\"name\":\"c1\",\"purpose\":\"p\","
	    "\"status\":\"held\",\"user\":\"bob\","
	    "\"holdUntil\":\"2026-12-03T10:00:00Z\","
	    "\"labels\":{\"zone\":\"a\"},\"priority\":3}]", &l, &e), 0);
	assert_int_equal(l.len, 1);
	assert_string_equal(l.items[0].name, "c1");
	assert_string_equal(l.items[0].purpose, "p");
	assert_string_equal(l.items[0].os_image, "");
	assert_int_equal(l.items[0].status, CLUSTER_HELD);
	assert_string_equal(l.items[0].build, "");
	assert_string_equal(l.items[0].job, "");
	assert_string_equal(l.items[0].user, "bob");
	assert_int_equal(l.items[0].since, 0);
	assert_int_equal(l.items[0].hold_until, NOW);
	assert_string_equal(l.items[0].reason, "");
	cluster_list_free(&l);
}

static void
test_decode_rejects_anything_but_an_array_of_objects(void **state)
{
	assert_rejected("nonsense", "not JSON", NULL);
	assert_rejected("[", "not JSON", NULL);
	assert_rejected("[" GOOD ",]", "not JSON", NULL);
	assert_rejected("[] []", "not JSON", NULL);
	assert_rejected("['c0']", "not JSON", NULL);
	assert_rejected("[\"\xff\"]", "not JSON", NULL);
	assert_rejected(GOOD, "not a JSON array", NULL);
	assert_rejected("\"[]\"", "not a JSON array", NULL);
	assert_rejected("null", "not a JSON array", NULL);
	assert_rejected("[" GOOD ",1]", "record 1", "not an object");
	assert_rejected("[" GOOD ",[]]", "record 1", "not an object");
}

static void
test_decode_rejects_bad_names(void **state)
{
	assert_rejected("[" GOOD ",{\"purpose\":\"p\",\"status\":\"vacant\"}]",
	    "record 1", "name is missing");
	assert_rejected("[" GOOD ",{\"name\":\"\",\"purpose\":\"p\","
	    "\"status\":\"vacant\"}]", "record 1", "field name");
	assert_rejected("[" GOOD ",{\"name\":\"Tess-01\",\"purpose\":\"p\","
	    "\"status\":\"vacant\"}]", "record 1", "field name");
	assert_rejected("[" GOOD ",{\"name\":\"-tess\",\"purpose\":\"p\","
	    "\"status\":\"vacant\"}]", "record 1", "field name");
	assert_rejected("[" GOOD ",{\"name\":\"tess-\",\"purpose\":\"p\","
	    "\"status\":\"vacant\"}]", "record 1", "field name");
	assert_rejected("[" GOOD ",{\"name\":\"tess_01\",\"purpose\":\"p\","
	    "\"status\":\"vacant\"}]", "record 1", "field name");
	assert_rejected("[" GOOD ",{\"name\":\"a.b\",\"purpose\":\"p\","
	    "\"status\":\"vacant\"}]", "record 1", "field name");
	assert_rejected("[" GOOD ",{\"name\":7,\"purpose\":\"p\","
	    "\"status\":\"vacant\"}]", "record 1", "not a string");
	assert_rejected("[" GOOD ",{\"name\":null,\"purpose\":\"p\","
	    "\"status\":\"vacant\"}]", "record 1", "not a string");
	assert_rejected("[{\"name\":"
	    "\"a1234567890123456789012345678901"
	    "23456789012345678901234567890123\","
	    "\"purpose\":\"p\",\"status\":\"vacant\"}]", "record 0",
	    "field name");
	assert_rejected("[{\"name\":\"c\\u0000d\",\"purpose\":\"p\","
	    "\"status\":\"vacant\"}]", "record 0", "field name");
}

static void
test_decode_rejects_bad_purposes_and_os_images(void **state)
{
	assert_rejected("[" GOOD ",{\"name\":\"c1\",\"status\":\"vacant\"}]",
	    "record 1 (c1)", "purpose is missing");
	assert_rejected("[" GOOD ",{\"name\":\"c1\",\"purpose\":\"\","
	    "\"status\":\"vacant\"}]", "record 1 (c1)", "field purpose");
	assert_rejected("[" GOOD ",{\"name\":\"c1\",\"purpose\":\"a b\","
	    "\"status\":\"vacant\"}]", "record 1 (c1)", "field purpose");
	assert_rejected("[" GOOD ",{\"name\":\"c1\",\"purpose\":\"a/b\","
	    "\"status\":\"vacant\"}]", "record 1 (c1)", "field purpose");
	assert_rejected("[" GOOD ",{\"name\":\"c1\",\"purpose\":"
	    "\"P1234567890123456789012345678901"
	    "23456789012345678901234567890123\","
	    "\"status\":\"vacant\"}]", "record 1 (c1)", "field purpose");
	assert_rejected("[" GOOD ",{\"name\":\"c1\",\"purpose\":\"p\","
	    "\"osImage\":\"ubuntu 22\",\"status\":\"vacant\"}]",
	    "record 1 (c1)", "field osImage");
	assert_rejected("[" GOOD ",{\"name\":\"c1\",\"purpose\":\"p\","
	    "\"osImage\":false,\"status\":\"vacant\"}]",
	    "record 1 (c1)", "field osImage");
}

static void
test_decode_rejects_bad_statuses(void **state)
{
	assert_rejected("[" GOOD ",{\"name\":\"c1\",\"purpose\":\"p\"}]",
	    "record 1 (c1)", "status is missing");
	assert_rejected("[" GOOD ",{\"name\":\"c1\",\"purpose\":\"p\","
	    "\"status\":\"busy\"}]", "record 1 (c1)", "field status");
	assert_rejected("[" GOOD ",{\"name\":\"c1\",\"purpose\":\"p\","
	    "\"status\":\"Vacant\"}]", "record 1 (c1)", "field status");
	assert_rejected("[" GOOD ",{\"name\":\"c1\",\"purpose\":\"p\","
	    "\"status\":1}]", "record 1 (c1)", "field status");
}

static void
test_decode_rejects_text_fields_over_256_bytes(void **state)
{
	static const char	*keys[] = { "build", "job", "user", "reason" };
	struct cluster_list	 l = { 0 };
	struct err		 e = { 0 };
	struct buf		 b = { 0 };
	char			 text[CLUSTER_TEXT_MAX + 2];
	size_t			 i;

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	for (i = 0; i < 4; i++) {
		buf_reset(&b);
		assert_int_equal(buf_printf(&b, "[{\"name\":\"c1\","
		    "\"purpose\":\"p\",\"status\":\"occupied\",\"%s\":\"%s\"}]",
		    keys[i], text), 0);
		assert_rejected(b.data, "record 0 (c1)", keys[i]);
		/* Exactly 256 bytes is fine. */
		buf_reset(&b);
		assert_int_equal(buf_printf(&b, "[{\"name\":\"c1\","
		    "\"purpose\":\"p\",\"status\":\"occupied\",\"%s\":\"%s\"}]",
		    keys[i], text + 1), 0);
		assert_int_equal(codec_decode(b.data, &l, &e), 0);
		assert_int_equal(l.len, 1);
		cluster_list_free(&l);
	}
	assert_rejected("[{\"name\":\"c1\",\"purpose\":\"p\","
	    "\"status\":\"occupied\",\"build\":\"1\\u00002\"}]",
	    "record 0 (c1)", "field build");
	assert_rejected("[{\"name\":\"c1\",\"purpose\":\"p\","
	    "\"status\":\"occupied\",\"job\":[\"e2e\"]}]",
	    "record 0 (c1)", "field job");
	buf_free(&b);
}

static void
test_decode_rejects_bad_times(void **state)
{
	static const char	*bad[] = { "yesterday", "2026-12-03",
	    "2026-12-03 10:00:00", "2026-12-03T10:00:00+01:00",
	    "2026-12-03T10:00:00.5Z", "2026-13-03T10:00:00Z",
	    " 2026-12-03T10:00:00Z" };
	struct buf		 b = { 0 };
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&b);
		assert_int_equal(buf_printf(&b, "[" GOOD ",{\"name\":\"c1\","
		    "\"purpose\":\"p\",\"status\":\"held\",\"since\":\"%s\"}]",
		    bad[i]), 0);
		assert_rejected(b.data, "record 1 (c1)", "field since");
		buf_reset(&b);
		assert_int_equal(buf_printf(&b, "[" GOOD ",{\"name\":\"c1\","
		    "\"purpose\":\"p\",\"status\":\"held\","
		    "\"holdUntil\":\"%s\"}]", bad[i]), 0);
		assert_rejected(b.data, "record 1 (c1)", "field holdUntil");
	}
	assert_rejected("[{\"name\":\"c1\",\"purpose\":\"p\","
	    "\"status\":\"held\",\"holdUntil\":1796292000}]",
	    "record 0 (c1)", "field holdUntil");
	buf_free(&b);
}

static void
test_encode_stores_hold_warned_after_the_api_keys_only_when_set(void **state)
{
	struct cluster_list	 l = { 0 }, back = { 0 };
	struct cluster		 c;
	struct err		 e = { 0 };
	struct json_object	*o;
	char			*s;

	c = record("c1", CLUSTER_HELD);
	set(c.user, sizeof(c.user), "alice");
	c.hold_until = NOW + 1800;
	c.hold_warned = NOW + 1800;
	assert_int_equal(cluster_list_push(&l, &c), 0);
	assert_non_null(s = codec_encode(&l));
	assert_string_equal(s,
	    "[{\"name\":\"c1\",\"purpose\":\"tess-ci\",\"osImage\":\"\","
	    "\"status\":\"held\",\"build\":\"\",\"job\":\"\","
	    "\"user\":\"alice\",\"since\":\"2026-12-03T10:00:00Z\","
	    "\"holdUntil\":\"2026-12-03T10:30:00Z\",\"reason\":\"\","
	    "\"holdWarned\":\"2026-12-03T10:30:00Z\"}]");
	assert_int_equal(codec_decode(s, &back, &e), 0);
	assert_int_equal(back.len, 1);
	assert_cluster_equal(&back.items[0], &c);
	/* The API's record does not show the bookkeeping. */
	assert_non_null(o = codec_cluster_to_json(&c));
	assert_int_equal(json_object_object_length(o), 10);
	assert_false(json_object_object_get_ex(o, "holdWarned", NULL));
	json_object_put(o);
	free(s);
	cluster_list_free(&back);
	cluster_list_free(&l);
}

static void
test_decode_takes_a_missing_or_empty_hold_warned_as_none(void **state)
{
	struct cluster_list	l = { 0 };
	struct err		e = { 0 };

	assert_int_equal(codec_decode("[{\"name\":\"c1\",\"purpose\":\"p\","
	    "\"status\":\"held\",\"holdUntil\":\"2026-12-03T10:00:00Z\"},"
	    "{\"name\":\"c2\",\"purpose\":\"p\",\"status\":\"held\","
	    "\"holdUntil\":\"2026-12-03T10:00:00Z\",\"holdWarned\":\"\"}]",
	    &l, &e), 0);
	assert_int_equal(l.len, 2);
	assert_int_equal(l.items[0].hold_warned, 0);
	assert_int_equal(l.items[1].hold_warned, 0);
	cluster_list_free(&l);
}

static void
test_decode_rejects_a_hold_warned_that_is_not_a_time(void **state)
{
	assert_rejected("[" GOOD ",{\"name\":\"c1\",\"purpose\":\"p\","
	    "\"status\":\"held\",\"holdWarned\":\"soon\"}]",
	    "record 1 (c1)", "field holdWarned");
	assert_rejected("[" GOOD ",{\"name\":\"c1\",\"purpose\":\"p\","
	    "\"status\":\"held\",\"holdWarned\":1796292000}]",
	    "record 1 (c1)", "field holdWarned");
	assert_rejected("[" GOOD ",{\"name\":\"c1\",\"purpose\":\"p\","
	    "\"status\":\"held\",\"holdWarned\":\"1969-12-31T23:59:59Z\"}]",
	    "record 1 (c1)", "field holdWarned");
}

static void
test_decode_rejects_duplicate_names(void **state)
{
	assert_rejected("[{\"name\":\"c1\",\"purpose\":\"p\","
	    "\"status\":\"vacant\"}," GOOD ",{\"name\":\"c1\","
	    "\"purpose\":\"q\",\"status\":\"held\"}]", "records 0 and 2",
	    "c1");
}

static void
test_decode_into_a_non_empty_list_is_refused(void **state)
{
	struct cluster_list	l = { 0 };
	struct cluster		c = record("keep", CLUSTER_VACANT);
	struct err		e = { 0 };

	assert_int_equal(cluster_list_push(&l, &c), 0);
	assert_int_equal(codec_decode("[" GOOD "]", &l, &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL);
	assert_int_equal(l.len, 1);
	assert_string_equal(l.items[0].name, "keep");
	cluster_list_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_encode_writes_the_api_record_with_all_ten_keys),
		cmocka_unit_test(
		    test_encode_of_an_empty_list_is_an_empty_array),
		cmocka_unit_test(test_cluster_to_json_gives_ten_string_fields),
		cmocka_unit_test(test_round_trip_keeps_every_field),
		cmocka_unit_test(test_round_trip_of_5000_clusters),
		cmocka_unit_test(
		    test_decode_of_null_or_empty_text_is_an_empty_list),
		cmocka_unit_test(
		    test_decode_defaults_missing_fields_and_skips_unknown),
		cmocka_unit_test(
		    test_decode_rejects_anything_but_an_array_of_objects),
		cmocka_unit_test(test_decode_rejects_bad_names),
		cmocka_unit_test(
		    test_decode_rejects_bad_purposes_and_os_images),
		cmocka_unit_test(test_decode_rejects_bad_statuses),
		cmocka_unit_test(
		    test_decode_rejects_text_fields_over_256_bytes),
		cmocka_unit_test(test_decode_rejects_bad_times),
		cmocka_unit_test(
		    test_encode_stores_hold_warned_after_the_api_keys_only_when_set),
		cmocka_unit_test(
		    test_decode_takes_a_missing_or_empty_hold_warned_as_none),
		cmocka_unit_test(
		    test_decode_rejects_a_hold_warned_that_is_not_a_time),
		cmocka_unit_test(test_decode_rejects_duplicate_names),
		cmocka_unit_test(test_decode_into_a_non_empty_list_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
