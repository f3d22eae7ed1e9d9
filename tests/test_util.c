/*
 * test_util: the growable buffer, the one number parser (every form the
 * API refuses) and the RFC 3339 time text the store and the API share,
 * both ways.
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
#include <time.h>

#include <cmocka.h>

#include "util.h"

#define NOW	((time_t)1796292000)	/* 2026-12-03T10:00:00Z */
#define UNTOUCHED	(-4242L)

/* ---- buf ------------------------------------------------------------- */

static void
test_buf_appends_bytes_and_keeps_them_nul_terminated(void **state)
{
	struct buf	b = { 0 };

	assert_int_equal(buf_append(&b, "abcdef", 3), 0);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.data, "abc");
	assert_int_equal(buf_puts(&b, "de"), 0);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "abcde");
	assert_int_equal(b.failed, 0);
	buf_free(&b);
}

static void
test_buf_append_keeps_embedded_nul_bytes(void **state)
{
	struct buf	b = { 0 };

	assert_int_equal(buf_append(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 4);
	buf_free(&b);
}

static void
test_buf_printf_formats_and_appends(void **state)
{
	struct buf	b = { 0 };

	assert_int_equal(buf_puts(&b, "x="), 0);
	assert_int_equal(buf_printf(&b, "%d %s %zu", -7, "y", (size_t)42), 0);
	assert_string_equal(b.data, "x=-7 y 42");
	assert_int_equal(b.len, strlen("x=-7 y 42"));
	buf_free(&b);
}

static void
test_buf_grows_past_its_first_allocation(void **state)
{
	struct buf	 b = { 0 };
	char		 chunk[1000];
	size_t		 i;

	memset(chunk, 'q', sizeof(chunk));
	for (i = 0; i < 100; i++)
		assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(buf_printf(&b, "%s", "end"), 0);
	assert_int_equal(b.len, 100 * sizeof(chunk) + 3);
	assert_true(b.cap > b.len);
	assert_int_equal(b.data[0], 'q');
	assert_int_equal(b.data[100 * sizeof(chunk) - 1], 'q');
	assert_string_equal(b.data + 100 * sizeof(chunk), "end");
	assert_int_equal(b.failed, 0);
	buf_free(&b);
}

static void
test_buf_printf_of_a_long_string_is_whole(void **state)
{
	struct buf	 b = { 0 };
	char		 big[5000];

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(buf_printf(&b, "<%s>", big), 0);
	assert_int_equal(b.len, sizeof(big) + 1);
	assert_int_equal(b.data[0], '<');
	assert_int_equal(b.data[b.len - 1], '>');
	assert_int_equal(b.data[b.len], '\0');
	buf_free(&b);
}

static void
test_buf_reset_empties_but_keeps_memory(void **state)
{
	struct buf	 b = { 0 };
	char		*mem;
	size_t		 cap;

	assert_int_equal(buf_puts(&b, "hello"), 0);
	mem = b.data;
	cap = b.cap;
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.data, mem);
	assert_int_equal(b.cap, cap);
	assert_string_equal(b.data, "");
	assert_int_equal(buf_puts(&b, "again"), 0);
	assert_string_equal(b.data, "again");
	buf_free(&b);
}

static void
test_buf_reset_of_a_never_used_buffer_is_harmless(void **state)
{
	struct buf	b = { 0 };

	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_null(b.data);
	buf_free(&b);
}

static void
test_buf_free_accepts_null_and_leaves_an_empty_buffer(void **state)
{
	struct buf	b = { 0 };

	buf_free(NULL);
	assert_int_equal(buf_puts(&b, "x"), 0);
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	/* A freed buffer is an empty one, usable again. */
	assert_int_equal(buf_puts(&b, "y"), 0);
	assert_string_equal(b.data, "y");
	buf_free(&b);
}

static void
test_buf_an_impossible_append_fails_and_sticks(void **state)
{
	struct buf	b = { 0 };

	assert_int_equal(buf_puts(&b, "ok"), 0);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), -1);
	assert_int_equal(b.failed, 1);
	/* The contents stay as they were... */
	assert_int_equal(b.len, 2);
	assert_string_equal(b.data, "ok");
	/* ...and nothing more is added once a write was lost, so a
	 * response is never sent with a hole in it. */
	assert_int_equal(buf_puts(&b, "more"), -1);
	assert_int_equal(buf_printf(&b, "%d", 1), -1);
	assert_int_equal(b.len, 2);
	buf_reset(&b);
	assert_int_equal(b.failed, 0);
	assert_int_equal(buf_puts(&b, "fresh"), 0);
	assert_string_equal(b.data, "fresh");
	buf_free(&b);
}

/* ---- util_parse_long ------------------------------------------------- */

static void
test_parse_long_accepts_plain_decimal_numbers_in_range(void **state)
{
	long	v;

	assert_int_equal(util_parse_long("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(util_parse_long("72", 1, 72, &v), 0);
	assert_int_equal(v, 72);
	assert_int_equal(util_parse_long("-5", -10, 10, &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(util_parse_long("007", 0, 10, &v), 0);
	assert_int_equal(v, 7);
}

static void
test_parse_long_accepts_both_ends_of_the_range(void **state)
{
	long	v;

	assert_int_equal(util_parse_long("1", 1, 72, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(util_parse_long("72", 1, 72, &v), 0);
	assert_int_equal(v, 72);
	assert_int_equal(util_parse_long("9223372036854775807", 0, LONG_MAX,
	    &v), 0);
	assert_true(v == LONG_MAX);
	assert_int_equal(util_parse_long("-9223372036854775808", LONG_MIN, 0,
	    &v), 0);
	assert_true(v == LONG_MIN);
}

static void
test_parse_long_refuses_values_outside_the_range(void **state)
{
	long	v = UNTOUCHED;

	assert_int_equal(util_parse_long("0", 1, 72, &v), -1);
	assert_int_equal(util_parse_long("73", 1, 72, &v), -1);
	assert_int_equal(util_parse_long("-1", 0, 10, &v), -1);
	assert_int_equal(v, UNTOUCHED);
}

static void
test_parse_long_refuses_overflow(void **state)
{
	long	v = UNTOUCHED;

	assert_int_equal(util_parse_long("9223372036854775808", LONG_MIN,
	    LONG_MAX, &v), -1);
	assert_int_equal(util_parse_long("-9223372036854775809", LONG_MIN,
	    LONG_MAX, &v), -1);
	assert_int_equal(util_parse_long("99999999999999999999999", LONG_MIN,
	    LONG_MAX, &v), -1);
	assert_int_equal(v, UNTOUCHED);
}

static void
test_parse_long_refuses_anything_but_digits(void **state)
{
	static const char *const bad[] = {
		"", " 1", "1 ", "+1", "1x", "x1", "-", "--1", "-+1", "- 1",
		"0x10", "1.0", "1e3", "\t1", "1\n", "\xd9\xa1" /* Arabic 1 */,
	};
	long	v = UNTOUCHED;
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (util_parse_long(bad[i], LONG_MIN, LONG_MAX, &v) != -1)
			fail_msg("util_parse_long accepted \"%s\"", bad[i]);
	}
	assert_int_equal(v, UNTOUCHED);
}

static void
test_parse_long_refuses_null(void **state)
{
	long	v = UNTOUCHED;

	assert_int_equal(util_parse_long(NULL, 0, 10, &v), -1);
	assert_int_equal(v, UNTOUCHED);
}

/* ---- times ----------------------------------------------------------- */

static void
test_time_fmt_writes_rfc3339_utc(void **state)
{
	char	s[UTIL_TIME_MAX];

	util_time_fmt(NOW, s, sizeof(s));
	assert_string_equal(s, "2026-12-03T10:00:00Z");
	util_time_fmt((time_t)1, s, sizeof(s));
	assert_string_equal(s, "1970-01-01T00:00:01Z");
	util_time_fmt((time_t)951782400, s, sizeof(s));	/* leap day */
	assert_string_equal(s, "2000-02-29T00:00:00Z");
}

static void
test_time_fmt_of_zero_is_the_empty_string(void **state)
{
	char	s[UTIL_TIME_MAX];

	memset(s, 'x', sizeof(s));
	util_time_fmt(0, s, sizeof(s));
	assert_string_equal(s, "");
}

static void
test_time_fmt_into_a_short_buffer_writes_nothing_partial(void **state)
{
	char	s[10];

	memset(s, 'x', sizeof(s));
	util_time_fmt(NOW, s, sizeof(s));
	assert_string_equal(s, "");
	/* A zero-sized buffer is not written at all. */
	util_time_fmt(NOW, s, 0);
}

static void
test_time_parse_reads_rfc3339_utc(void **state)
{
	time_t	t = 0;

	assert_int_equal(util_time_parse("2026-12-03T10:00:00Z", &t), 0);
	assert_true(t == NOW);
	assert_int_equal(util_time_parse("2000-02-29T00:00:00Z", &t), 0);
	assert_true(t == (time_t)951782400);
}

static void
test_time_parse_of_the_empty_string_is_zero(void **state)
{
	time_t	t = NOW;

	assert_int_equal(util_time_parse("", &t), 0);
	assert_true(t == 0);
}

static void
test_time_round_trips_through_text(void **state)
{
	static const time_t	times[] = {
		1, 59, 86399, 951782400, 1796292000, 1798761599, 1835395200,
		2147483647, 4102444799,
	};
	char			s[UTIL_TIME_MAX];
	time_t			t;
	size_t			i;

	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		util_time_fmt(times[i], s, sizeof(s));
		assert_int_equal(strlen(s), UTIL_TIME_MAX - 1);
		t = 0;
		assert_int_equal(util_time_parse(s, &t), 0);
		assert_true(t == times[i]);
	}
}

static void
test_time_parse_refuses_other_formats(void **state)
{
	static const char *const bad[] = {
		"2026-12-03T10:00:00",		/* no zone */
		"2026-12-03T10:00:00+00:00",	/* an offset: UTC only */
		"2026-12-03T10:00:00.5Z",	/* fractions */
		"2026-12-03 10:00:00Z",		/* space for T */
		"2026-12-03t10:00:00Z",
		"2026-12-03T10:00:00z",
		"2026-12-03T10:00:00Zx",	/* trailing bytes */
		"2026-12-03T10:00:00Z ",
		"2026-12-3T10:00:00Z",		/* short fields */
		"2026-12-03",
		"tomorrow",
		"+026-12-03T10:00:00Z",
		"-026-12-03T10:00:00Z",
		"2026-13-03T10:00:00Z",		/* out of range */
		"2026-12-32T10:00:00Z",
		"2026-12-03T24:00:00Z",
		"2026-12-03T10:60:00Z",
	};
	time_t	t = NOW;
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (util_time_parse(bad[i], &t) != -1)
			fail_msg("util_time_parse accepted \"%s\"", bad[i]);
	assert_true(t == NOW);
}

/*
 * RFC 3339 fields have fixed digits: a space where a digit belongs is not
 * a time, even when the string happens to have the right length.
 */
static void
test_time_parse_refuses_spaces_in_place_of_digits(void **state)
{
	static const char *const bad[] = {
		" 2026-12-03T10:00:0Z",
		"2026-12-03T10:00: 0Z",
		"2026-12-03T 1:00:00Z",
		"2026-12- 3T10:00:00Z",
	};
	time_t	t = NOW;
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (util_time_parse(bad[i], &t) != -1)
			fail_msg("util_time_parse accepted \"%s\"", bad[i]);
	assert_true(t == NOW);
}

/* A date that does not exist is refused, not moved to the next month. */
static void
test_time_parse_refuses_days_that_do_not_exist(void **state)
{
	static const char *const bad[] = {
		"2026-02-30T10:00:00Z",
		"2026-04-31T00:00:00Z",
		"2027-02-29T00:00:00Z",
	};
	time_t	t = NOW;
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (util_time_parse(bad[i], &t) != -1)
			fail_msg("util_time_parse accepted \"%s\"", bad[i]);
	assert_true(t == NOW);
}

/* Years before 1970 are refused: strftime would write 0985 back as 985,
 * a document the codec could no longer read (found by fuzz_codec). */
static void
test_time_parse_refuses_years_before_1970(void **state)
{
	static const char *const bad[] = {
		"0985-01-01T00:00:00Z",
		"0005-06-01T00:00:00Z",
		"1969-12-31T23:59:59Z",
	};
	time_t	t = NOW;
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (util_time_parse(bad[i], &t) != -1)
			fail_msg("util_time_parse accepted \"%s\"", bad[i]);
	assert_true(t == NOW);
}

/* ---- name rules ------------------------------------------------------ */

static void
test_dns_label_takes_what_kubernetes_takes(void **state)
{
	static const char *const good[] = { "a", "tess-ci-01", "0a", "a-b-c",
	    "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0" };
	static const char *const bad[] = { "", "-a", "a-", "A", "a_b", "a.b",
	    "a b", "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01" };
	size_t	i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!util_is_dns_label(good[i], strlen(good[i])))
			fail_msg("refused \"%s\"", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (util_is_dns_label(bad[i], strlen(bad[i])))
			fail_msg("accepted \"%s\"", bad[i]);
}

static void
test_object_name_takes_what_kubernetes_takes_for_a_subdomain(void **state)
{
	static const char *const good[] = { "a", "pj-1.x", "0.0",
	    "6c0b1f9e-8d6a-4f43-9a35-0d1b1e2f3a4b",
	    /* a part longer than 63 bytes is fine in a subdomain */
	    "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01" };
	static const char *const bad[] = { "", ".", "a.", ".a", "a..b", "-a",
	    "a-.b", "a.-b", "A", "a_b", "a b", "a/b" };
	char	long_name[256];
	size_t	i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!util_is_object_name(good[i], strlen(good[i])))
			fail_msg("refused \"%s\"", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (util_is_object_name(bad[i], strlen(bad[i])))
			fail_msg("accepted \"%s\"", bad[i]);
	memset(long_name, 'a', sizeof(long_name));
	assert_true(util_is_object_name(long_name, 253));
	assert_false(util_is_object_name(long_name, 254));
}

static void
test_array_grow_keeps_the_elements_and_doubles(void **state)
{
	long	*a = NULL, *p;
	size_t	 len, cap = 0;

	for (len = 0; len < 100; len++) {
		p = util_array_grow(a, len, &cap, sizeof(*a));
		assert_non_null(p);
		a = p;
		a[len] = (long)len * 3;
		assert_true(cap > len);
	}
	assert_int_equal(cap, 128);
	for (len = 0; len < 100; len++)
		assert_int_equal(a[len], (long)len * 3);
	/* Room left: the same array back, capacity as it was. */
	assert_ptr_equal(util_array_grow(a, 100, &cap, sizeof(*a)), a);
	assert_int_equal(cap, 128);
	/* An element size that would overflow: NULL, array untouched. */
	len = cap;
	assert_null(util_array_grow(a, len, &cap, SIZE_MAX / 64));
	assert_int_equal(cap, 128);
	free(a);
}

static void
test_label_takes_letters_digits_dot_underscore_dash(void **state)
{
	assert_true(util_is_label("tess-ci", 7));
	assert_true(util_is_label("Ubuntu_22.04", 12));
	assert_true(util_is_label("-", 1));
	assert_false(util_is_label("", 0));
	assert_false(util_is_label("a b", 3));
	assert_false(util_is_label("a/b", 3));
	assert_false(util_is_label(
	    "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01",
	    64));
}

/* ---- util_strlcpy_checked -------------------------------------------- */

static void
test_strlcpy_checked_copies_what_fits(void **state)
{
	char	dst[4];

	assert_int_equal(util_strlcpy_checked(dst, "abc", sizeof(dst)), 0);
	assert_string_equal(dst, "abc");
	assert_int_equal(util_strlcpy_checked(dst, "", sizeof(dst)), 0);
	assert_string_equal(dst, "");
}

static void
test_strlcpy_checked_leaves_dst_alone_when_too_long(void **state)
{
	char	dst[4] = "old";

	assert_int_equal(util_strlcpy_checked(dst, "abcd", sizeof(dst)), -1);
	assert_string_equal(dst, "old");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_buf_appends_bytes_and_keeps_them_nul_terminated),
		cmocka_unit_test(test_buf_append_keeps_embedded_nul_bytes),
		cmocka_unit_test(test_buf_printf_formats_and_appends),
		cmocka_unit_test(test_buf_grows_past_its_first_allocation),
		cmocka_unit_test(test_buf_printf_of_a_long_string_is_whole),
		cmocka_unit_test(test_buf_reset_empties_but_keeps_memory),
		cmocka_unit_test(
		    test_buf_reset_of_a_never_used_buffer_is_harmless),
		cmocka_unit_test(
		    test_buf_free_accepts_null_and_leaves_an_empty_buffer),
		cmocka_unit_test(
		    test_buf_an_impossible_append_fails_and_sticks),
		cmocka_unit_test(
		    test_parse_long_accepts_plain_decimal_numbers_in_range),
		cmocka_unit_test(
		    test_parse_long_accepts_both_ends_of_the_range),
		cmocka_unit_test(
		    test_parse_long_refuses_values_outside_the_range),
		cmocka_unit_test(test_parse_long_refuses_overflow),
		cmocka_unit_test(test_parse_long_refuses_anything_but_digits),
		cmocka_unit_test(test_parse_long_refuses_null),
		cmocka_unit_test(test_time_fmt_writes_rfc3339_utc),
		cmocka_unit_test(test_time_fmt_of_zero_is_the_empty_string),
		cmocka_unit_test(
		    test_time_fmt_into_a_short_buffer_writes_nothing_partial),
		cmocka_unit_test(test_time_parse_reads_rfc3339_utc),
		cmocka_unit_test(test_time_parse_of_the_empty_string_is_zero),
		cmocka_unit_test(test_time_round_trips_through_text),
		cmocka_unit_test(test_time_parse_refuses_other_formats),
		cmocka_unit_test(
		    test_time_parse_refuses_spaces_in_place_of_digits),
		cmocka_unit_test(
		    test_time_parse_refuses_days_that_do_not_exist),
		cmocka_unit_test(test_time_parse_refuses_years_before_1970),
		cmocka_unit_test(test_dns_label_takes_what_kubernetes_takes),
		cmocka_unit_test(
		    test_object_name_takes_what_kubernetes_takes_for_a_subdomain),
		cmocka_unit_test(test_array_grow_keeps_the_elements_and_doubles),
		cmocka_unit_test(
		    test_label_takes_letters_digits_dot_underscore_dash),
		cmocka_unit_test(test_strlcpy_checked_copies_what_fits),
		cmocka_unit_test(
		    test_strlcpy_checked_leaves_dst_alone_when_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
