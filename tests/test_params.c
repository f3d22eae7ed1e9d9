/*
 * test_params: every rule of the API's "Names" paragraph through the one
 * validation table: cluster names are DNS labels, purposes and OS images a
 * small charset, free text printable UTF-8 of at most 256 bytes, and
 * every refusal is a 400 bad_param whose message names the parameter.
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
#include "http.h"
#include "params.h"

#define MAX_HOURS	72
#define ALL_PARAMS	((1u << PARAM__MAX) - 1)
#define B(x)		PARAM_BIT(PARAM_##x)

static const enum param_id text_params[] = {
	PARAM_BUILD, PARAM_JOB, PARAM_USER, PARAM_BRANCH, PARAM_REASON,
};
static const enum param_id name_params[] = { PARAM_CLUSTER, PARAM_NAME };
static const enum param_id label_params[] = { PARAM_PURPOSE, PARAM_OS };

/* ---- helpers ----------------------------------------------------------- */

static void
add_pair(struct http_params *p, const char *name, const char *value)
{
	struct http_param	*np;

	np = realloc(p->items, (p->len + 1) * sizeof(*np));
	assert_non_null(np);
	p->items = np;
	p->cap = p->len + 1;
	p->items[p->len].name = strdup(name);
	p->items[p->len].value = strdup(value);
	assert_non_null(p->items[p->len].name);
	assert_non_null(p->items[p->len].value);
	p->len++;
}

/* Validates one pair name=value with every parameter allowed. */
static int
validate_one(const char *name, const char *value, struct params *out,
    struct err *e)
{
	struct http_params	in = { 0 };
	int			rc;

	add_pair(&in, name, value);
	errors_clear(e);
	rc = params_validate(&in, ALL_PARAMS, 0, MAX_HOURS, out, e);
	http_params_free(&in);
	return rc;
}

/* value is accepted for id, both through the table and params_check(). */
static void
accepts(enum param_id id, const char *value)
{
	struct params	out;
	struct err	e;

	if (validate_one(params_name(id), value, &out, &e) != 0)
		fail_msg("%s=\"%s\" refused: %s", params_name(id), value,
		    e.msg);
	assert_true(out.present & PARAM_BIT(id));
	errors_clear(&e);
	if (params_check(id, value, MAX_HOURS, &e) != 0)
		fail_msg("params_check %s=\"%s\" refused: %s",
		    params_name(id), value, e.msg);
}

/* The message of a refusal starts with the parameter's name. */
static void
assert_names(const struct err *e, const char *name)
{
	size_t	n = strlen(name);

	assert_int_equal(e->code, ERR_BAD_PARAM);
	if (strncmp(e->msg, name, n) != 0 || e->msg[n] != ':')
		fail_msg("message \"%s\" does not name %s", e->msg, name);
	assert_int_equal(errors_http_status(e->code), 400);
}

/* value is refused for id as bad_param naming it, both ways. */
static void
refuses(enum param_id id, const char *value)
{
	struct params	out;
	struct err	e;

	if (validate_one(params_name(id), value, &out, &e) != -1)
		fail_msg("%s=\"%s\" accepted", params_name(id), value);
	assert_names(&e, params_name(id));
	errors_clear(&e);
	if (params_check(id, value, MAX_HOURS, &e) != -1)
		fail_msg("params_check %s=\"%s\" accepted", params_name(id),
		    value);
	assert_names(&e, params_name(id));
}

/* A string of n copies of c; caller frees. */
static char *
repeat(const char *c, size_t n)
{
	size_t	 len = strlen(c), i;
	char	*s;

	s = malloc(n * len + 1);
	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * len, c, len);
	s[n * len] = '\0';
	return s;
}

/* ---- cluster names ----------------------------------------------------- */

static void
test_cluster_names_accept_dns_labels(void **state)
{
	static const char *const good[] = {
		"a", "7", "tess-ci-01", "a--b", "0abc9", "x-1-y",
	};
	size_t	i, k;

	for (k = 0; k < 2; k++)
		for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
			accepts(name_params[k], good[i]);
}

static void
test_cluster_names_of_63_bytes_pass_and_64_fail(
    void **state)
{
	struct params	 out;
	struct err	 e;
	char		*s63 = repeat("a", 63), *s64 = repeat("b", 64);

	accepts(PARAM_CLUSTER, s63);
	accepts(PARAM_NAME, s63);
	assert_int_equal(validate_one("cluster", s63, &out, &e), 0);
	assert_string_equal(out.cluster, s63);
	refuses(PARAM_CLUSTER, s64);
	refuses(PARAM_NAME, s64);
	free(s63);
	free(s64);
}

static void
test_cluster_names_refuse_what_is_not_a_dns_label(void **state)
{
	static const char *const bad[] = {
		"", "-", "-a", "a-", "-a-", "Tess-ci", "tess_ci", "tess.ci",
		"tess ci", "tess/ci", "tess\nci", "t\xc3\xa9st", "a\x7f",
		"ABC",
	};
	size_t	i, k;

	for (k = 0; k < 2; k++)
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			refuses(name_params[k], bad[i]);
}

/* ---- purposes and OS images -------------------------------------------- */

static void
test_purposes_and_os_images_accept_their_charset(void **state)
{
	static const char *const good[] = {
		"tess-ci", "Ubuntu_22.04", "A.b-c_D", "x", "-", ".", "_",
		"rhel9", "0123456789",
	};
	char	*s63 = repeat("Z", 63);
	size_t	 i, k;

	for (k = 0; k < 2; k++) {
		for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
			accepts(label_params[k], good[i]);
		accepts(label_params[k], s63);
	}
	free(s63);
}

static void
test_purposes_and_os_images_refuse_other_bytes_and_length(void **state)
{
	static const char *const bad[] = {
		"", "tess ci", "tess/ci", "tess:ci", "a+b", "a,b",
		"t\xc3\xa9st", "a\tb", "a\x7f", "a;b", "a\"b",
	};
	char	*s64 = repeat("Z", 64);
	size_t	 i, k;

	for (k = 0; k < 2; k++) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			refuses(label_params[k], bad[i]);
		refuses(label_params[k], s64);
	}
	free(s64);
}

/* ---- free text --------------------------------------------------------- */

static void
test_text_fields_of_256_bytes_are_accepted_and_257_refused(void **state)
{
	char	*s256 = repeat("x", 256), *s257 = repeat("x", 257);
	size_t	 k;

	for (k = 0; k < sizeof(text_params) / sizeof(text_params[0]); k++) {
		accepts(text_params[k], s256);
		refuses(text_params[k], s257);
	}
	free(s256);
	free(s257);
}

static void
test_text_limit_counts_bytes_not_characters(void **state)
{
	char	*e128 = repeat("\xc3\xa9", 128);	/* 256 bytes */
	char	*e129 = repeat("\xc3\xa9", 129);	/* 258 bytes */
	size_t	 k;

	for (k = 0; k < sizeof(text_params) / sizeof(text_params[0]); k++) {
		accepts(text_params[k], e128);
		refuses(text_params[k], e129);
	}
	free(e128);
	free(e129);
}

static void
test_text_fields_accept_printable_utf8(void **state)
{
	static const char *const good[] = {
		"123", "e2e-k8s-1.32", "flaky etcd (again)", "~!@#$%^&*()",
		"r\xc3\xa9sum\xc3\xa9",			/* 2-byte */
		"\xe6\x97\xa5\xe6\x9c\xac",		/* 3-byte */
		"\xf0\x9f\x98\x80",			/* 4-byte emoji */
		"\xc2\xa0",				/* U+00A0, after C1 */
		"\xef\xbf\xbd",				/* U+FFFD */
		"\xf4\x8f\xbf\xbf",			/* U+10FFFF */
		"\xed\x9f\xbf",				/* U+D7FF */
		"\xee\x80\x80",				/* U+E000 */
	};
	size_t	i, k;

	for (k = 0; k < sizeof(text_params) / sizeof(text_params[0]); k++)
		for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
			accepts(text_params[k], good[i]);
}

static void
test_text_fields_refuse_control_characters(void **state)
{
	static const char *const bad[] = {
		"a\x01", "a\tb", "a\nb", "a\rb", "\x1b[31m", "a\x1f",
		"a\x7f",		/* DEL */
		"a\xc2\x80",		/* U+0080, C1 */
		"a\xc2\x85",		/* NEL */
		"a\xc2\x9f",		/* U+009F, C1 */
	};
	size_t	i, k;

	for (k = 0; k < sizeof(text_params) / sizeof(text_params[0]); k++)
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			refuses(text_params[k], bad[i]);
}

static void
test_text_fields_refuse_invalid_utf8(void **state)
{
	static const char *const bad[] = {
		"\xff", "\xfe", "a\x80", "\xbf",	/* not a lead byte */
		"\xc3", "a\xe6\x97", "\xf0\x9f\x98",	/* cut short */
		"\xc3(", "\xe6\x97(", "\xf0\x9f(\x80",	/* bad continuation */
		"\xf8\x88\x80\x80\x80",			/* 5-byte form */
		"\xf4\x90\x80\x80",			/* past U+10FFFF */
		"\xf5\x80\x80\x80",
	};
	size_t	i, k;

	for (k = 0; k < sizeof(text_params) / sizeof(text_params[0]); k++)
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			refuses(text_params[k], bad[i]);
}

static void
test_text_fields_refuse_overlong_forms(void **state)
{
	static const char *const bad[] = {
		"\xc0\xaf", "\xc1\xbf",			/* '/' and 0x7f in 2 */
		"\xe0\x80\xaf", "\xe0\x9f\xbf",		/* below U+0800 in 3 */
		"\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf",	/* below U+10000 in 4 */
		"\xc0\x80",				/* Java's NUL */
	};
	size_t	i, k;

	for (k = 0; k < sizeof(text_params) / sizeof(text_params[0]); k++)
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			refuses(text_params[k], bad[i]);
}

static void
test_text_fields_refuse_surrogates(void **state)
{
	static const char *const bad[] = {
		"\xed\xa0\x80", "\xed\xaf\xbf", "\xed\xb0\x80", "\xed\xbf\xbf",
		"\xed\xa0\xbd\xed\xb8\x80",		/* a CESU-8 pair */
	};
	size_t	i, k;

	for (k = 0; k < sizeof(text_params) / sizeof(text_params[0]); k++)
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			refuses(text_params[k], bad[i]);
}

static void
test_build_job_user_branch_must_not_be_empty(void **state)
{
	refuses(PARAM_BUILD, "");
	refuses(PARAM_JOB, "");
	refuses(PARAM_USER, "");
	refuses(PARAM_BRANCH, "");
	refuses(PARAM_CLUSTER, "");
	refuses(PARAM_PURPOSE, "");
}

static void
test_an_empty_reason_is_allowed(void **state)
{
	struct params	out;
	struct err	e;

	assert_int_equal(validate_one("reason", "", &out, &e), 0);
	assert_true(out.present & B(REASON));
	assert_string_equal(out.reason, "");
}

static void
test_text_values_are_stored_verbatim(void **state)
{
	struct http_params	 in = { 0 };
	struct params		 out;
	struct err		 e;

	add_pair(&in, "build", "build #12");
	add_pair(&in, "job", "e2e-k8s-1.32");
	add_pair(&in, "user", "J\xc3\xbcrgen");
	add_pair(&in, "branch", "release/1.2");
	add_pair(&in, "reason", "etcd <flaky> & \"slow\"");
	add_pair(&in, "cluster", "tess-ci-03");
	add_pair(&in, "purpose", "tess-ci");
	add_pair(&in, "os", "ubuntu-22.04");
	add_pair(&in, "name", "tess-ci-04");
	errors_clear(&e);
	assert_int_equal(params_validate(&in, ALL_PARAMS, 0, MAX_HOURS, &out,
	    &e), 0);
	assert_string_equal(out.build, "build #12");
	assert_string_equal(out.job, "e2e-k8s-1.32");
	assert_string_equal(out.user, "J\xc3\xbcrgen");
	assert_string_equal(out.branch, "release/1.2");
	assert_string_equal(out.reason, "etcd <flaky> & \"slow\"");
	assert_string_equal(out.cluster, "tess-ci-03");
	assert_string_equal(out.purpose, "tess-ci");
	assert_string_equal(out.os, "ubuntu-22.04");
	assert_string_equal(out.name, "tess-ci-04");
	assert_int_equal(out.present, B(BUILD) | B(JOB) | B(USER) | B(BRANCH) |
	    B(REASON) | B(CLUSTER) | B(PURPOSE) | B(OS) | B(NAME));
	http_params_free(&in);
}

/* ---- hours ------------------------------------------------------------- */

static void
test_hours_from_1_to_the_maximum_are_accepted(void **state)
{
	struct params	out;
	struct err	e;

	assert_int_equal(validate_one("hours", "1", &out, &e), 0);
	assert_int_equal(out.hours, 1);
	assert_int_equal(validate_one("hours", "6", &out, &e), 0);
	assert_int_equal(out.hours, 6);
	assert_int_equal(validate_one("hours", "72", &out, &e), 0);
	assert_int_equal(out.hours, 72);
	assert_true(out.present & B(HOURS));
}

static void
test_hours_outside_1_to_the_maximum_are_refused(void **state)
{
	static const char *const bad[] = {
		"0", "73", "-1", "", " 1", "+1", "1x", "1.5", "six", "0x10",
		"99999999999999999999999",
	};
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refuses(PARAM_HOURS, bad[i]);
}

static void
test_hours_follow_the_configured_maximum(void **state)
{
	struct http_params	in = { 0 };
	struct params		out;
	struct err		e;

	add_pair(&in, "hours", "7");
	errors_clear(&e);
	assert_int_equal(params_validate(&in, B(HOURS), 0, 6, &out, &e), -1);
	assert_names(&e, "hours");
	assert_non_null(strstr(e.msg, "6"));
	errors_clear(&e);
	assert_int_equal(params_validate(&in, B(HOURS), 0, 8760, &out, &e), 0);
	assert_int_equal(out.hours, 7);
	http_params_free(&in);
}

/* ---- force, status, format --------------------------------------------- */

static void
test_force_takes_the_usual_truth_values(void **state)
{
	static const struct {
		const char	*v;
		int		 force;
	} t[] = {
		{ "1", 1 }, { "true", 1 }, { "yes", 1 },
		{ "0", 0 }, { "false", 0 }, { "no", 0 },
	};
	struct params	out;
	struct err	e;
	size_t		i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(validate_one("force", t[i].v, &out, &e), 0);
		assert_int_equal(out.force, t[i].force);
		assert_true(out.present & B(FORCE));
	}
}

static void
test_force_refuses_anything_else(void **state)
{
	static const char *const bad[] = {
		"", "2", "-1", "on", "y", "truee", "1 ", "01x",
	};
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refuses(PARAM_FORCE, bad[i]);
}

static void
test_status_takes_the_four_statuses(void **state)
{
	static const struct {
		const char		*v;
		enum cluster_status	 st;
	} t[] = {
		{ "vacant", CLUSTER_VACANT }, { "occupied", CLUSTER_OCCUPIED },
		{ "held", CLUSTER_HELD }, { "disabled", CLUSTER_DISABLED },
	};
	struct params	out;
	struct err	e;
	size_t		i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(validate_one("status", t[i].v, &out, &e), 0);
		assert_int_equal(out.status, t[i].st);
	}
}

static void
test_status_refuses_anything_else(void **state)
{
	static const char *const bad[] = {
		"", "free", "Vacant", "VACANT", "vacant ", "busy", "occupiedx",
	};
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refuses(PARAM_STATUS, bad[i]);
}

static void
test_status_absent_means_any(void **state)
{
	struct params	out;
	struct err	e;

	assert_int_equal(validate_one("cluster", "c1", &out, &e), 0);
	assert_int_equal(out.status, CLUSTER_STATUS__MAX);
}

static void
test_format_takes_json_text_and_html(void **state)
{
	struct params	out;
	struct err	e;

	assert_int_equal(validate_one("format", "json", &out, &e), 0);
	assert_string_equal(out.format, "json");
	assert_int_equal(validate_one("format", "text", &out, &e), 0);
	assert_string_equal(out.format, "text");
	assert_int_equal(validate_one("format", "html", &out, &e), 0);
	assert_string_equal(out.format, "html");
}

static void
test_format_refuses_anything_else(void **state)
{
	static const char *const bad[] = {
		"", "xml", "JSON", "yaml", "jsonp", "js",
	};
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refuses(PARAM_FORMAT, bad[i]);
}

/* ---- the table as a whole ---------------------------------------------- */

static void
test_a_parameter_given_twice_is_bad_param(void **state)
{
	struct http_params	in = { 0 };
	struct params		out;
	struct err		e;

	/* Even the same value twice: the caller sent something odd. */
	add_pair(&in, "cluster", "c1");
	add_pair(&in, "build", "1");
	add_pair(&in, "cluster", "c1");
	errors_clear(&e);
	assert_int_equal(params_validate(&in, ALL_PARAMS, 0, MAX_HOURS, &out,
	    &e), -1);
	assert_names(&e, "cluster");
	http_params_free(&in);

	add_pair(&in, "hours", "1");
	add_pair(&in, "hours", "2");
	errors_clear(&e);
	assert_int_equal(params_validate(&in, ALL_PARAMS, 0, MAX_HOURS, &out,
	    &e), -1);
	assert_names(&e, "hours");
	http_params_free(&in);
}

static void
test_unknown_parameters_are_ignored(void **state)
{
	struct http_params	in = { 0 };
	struct params		out;
	struct err		e;

	add_pair(&in, "utm_source", "mail\x01\xff");
	add_pair(&in, "cluster", "c1");
	add_pair(&in, "Cluster", "BAD NAME");
	add_pair(&in, "", "x");
	add_pair(&in, "foo", "1");
	add_pair(&in, "foo", "2");
	errors_clear(&e);
	assert_int_equal(params_validate(&in, ALL_PARAMS, B(CLUSTER),
	    MAX_HOURS, &out, &e), 0);
	assert_int_equal(out.present, B(CLUSTER));
	assert_string_equal(out.cluster, "c1");
	http_params_free(&in);
}

static void
test_parameters_outside_the_allowed_set_are_ignored(void **state)
{
	struct http_params	in = { 0 };
	struct params		out;
	struct err		e;

	/* finish takes cluster and build: a bad hours= or a doubled
	 * purpose= on it is as unknown as utm_source=. */
	add_pair(&in, "cluster", "c1");
	add_pair(&in, "hours", "abc");
	add_pair(&in, "purpose", "a b");
	add_pair(&in, "purpose", "x");
	add_pair(&in, "user", "");
	errors_clear(&e);
	assert_int_equal(params_validate(&in, B(CLUSTER) | B(BUILD),
	    B(CLUSTER), MAX_HOURS, &out, &e), 0);
	assert_int_equal(out.present, B(CLUSTER));
	assert_int_equal(out.hours, 0);
	assert_string_equal(out.purpose, "");
	http_params_free(&in);
}

static void
test_a_missing_required_parameter_is_bad_param_naming_it(void **state)
{
	struct http_params	in = { 0 };
	struct params		out;
	struct err		e;

	add_pair(&in, "job", "e2e");
	errors_clear(&e);
	assert_int_equal(params_validate(&in, B(BUILD) | B(JOB),
	    B(BUILD) | B(JOB), MAX_HOURS, &out, &e), -1);
	assert_names(&e, "build");
	http_params_free(&in);

	add_pair(&in, "build", "1");
	errors_clear(&e);
	assert_int_equal(params_validate(&in, B(BUILD) | B(JOB),
	    B(BUILD) | B(JOB), MAX_HOURS, &out, &e), -1);
	assert_names(&e, "job");
	http_params_free(&in);
}

static void
test_a_required_parameter_not_allowed_counts_as_missing(void **state)
{
	struct http_params	in = { 0 };
	struct params		out;
	struct err		e;

	add_pair(&in, "cluster", "c1");
	errors_clear(&e);
	assert_int_equal(params_validate(&in, 0, B(CLUSTER), MAX_HOURS, &out,
	    &e), -1);
	assert_names(&e, "cluster");
	http_params_free(&in);
}

static void
test_nothing_given_and_nothing_required_is_fine(void **state)
{
	struct http_params	in = { 0 };
	struct params		out;
	struct err		e;

	errors_clear(&e);
	assert_int_equal(params_validate(&in, ALL_PARAMS, 0, MAX_HOURS, &out,
	    &e), 0);
	assert_int_equal(out.present, 0);
	assert_int_equal(e.code, ERR_NONE);
}

static void
test_creation_is_a_prow_job_id(void **state)
{
	static const char *const good[] = {
		"6c0b1f9e-8d6a-4f43-9a35-0d1b1e2f3a4b", "e2e-k8s.20261203", "a",
	};
	static const char *const bad[] = {
		"6C0B1F9E", "-a", "a-", "a..b", ".a", "a b", "a/b", "a_b",
	};
	struct params	out;
	struct err	e;
	size_t		i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(validate_one("creation", good[i], &out, &e),
		    0);
		assert_string_equal(out.creation, good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(validate_one("creation", bad[i], &out, &e),
		    -1);
		assert_names(&e, "creation");
	}
}

static void
test_every_refusal_names_its_parameter(void **state)
{
	static const struct {
		const char	*name;
		const char	*value;
	} t[] = {
		{ "cluster", "-x" }, { "purpose", "a b" }, { "os", "a/b" },
		{ "build", "\x01" }, { "job", "\xff" }, { "user", "" },
		{ "branch", "\xed\xa0\x80" }, { "reason", "\x7f" },
		{ "hours", "0" }, { "force", "maybe" }, { "status", "free" },
		{ "name", "A" }, { "format", "xml" }, { "creation", "a..b" },
	};
	struct params	out;
	struct err	e;
	size_t		i;

	assert_int_equal(sizeof(t) / sizeof(t[0]), PARAM__MAX);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(validate_one(t[i].name, t[i].value, &out, &e),
		    -1);
		assert_names(&e, t[i].name);
	}
}

static void
test_params_check_vets_a_remote_user_like_user(void **state)
{
	struct err	e;

	errors_clear(&e);
	assert_int_equal(params_check(PARAM_USER, "alice", 0, &e), 0);
	assert_int_equal(params_check(PARAM_USER, "al\nice", 0, &e), -1);
	assert_names(&e, "user");
	errors_clear(&e);
	assert_int_equal(params_check(PARAM__MAX, "x", 0, &e), -1);
	assert_int_not_equal(e.code, ERR_NONE);
}

static void
test_params_name_is_the_wire_name(void **state)
{
	assert_string_equal(params_name(PARAM_CLUSTER), "cluster");
	assert_string_equal(params_name(PARAM_OS), "os");
	assert_string_equal(params_name(PARAM_HOURS), "hours");
	assert_string_equal(params_name(PARAM_FORMAT), "format");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cluster_names_accept_dns_labels),
		cmocka_unit_test(
		    test_cluster_names_of_63_bytes_pass_and_64_fail),
		cmocka_unit_test(
		    test_cluster_names_refuse_what_is_not_a_dns_label),
		cmocka_unit_test(
		    test_purposes_and_os_images_accept_their_charset),
		cmocka_unit_test(
		    test_purposes_and_os_images_refuse_other_bytes_and_length),
		cmocka_unit_test(
		    test_text_fields_of_256_bytes_are_accepted_and_257_refused),
		cmocka_unit_test(test_text_limit_counts_bytes_not_characters),
		cmocka_unit_test(test_text_fields_accept_printable_utf8),
		cmocka_unit_test(test_text_fields_refuse_control_characters),
		cmocka_unit_test(test_text_fields_refuse_invalid_utf8),
		cmocka_unit_test(test_text_fields_refuse_overlong_forms),
		cmocka_unit_test(test_text_fields_refuse_surrogates),
		cmocka_unit_test(test_build_job_user_branch_must_not_be_empty),
		cmocka_unit_test(test_an_empty_reason_is_allowed),
		cmocka_unit_test(test_text_values_are_stored_verbatim),
		cmocka_unit_test(test_hours_from_1_to_the_maximum_are_accepted),
		cmocka_unit_test(
		    test_hours_outside_1_to_the_maximum_are_refused),
		cmocka_unit_test(test_hours_follow_the_configured_maximum),
		cmocka_unit_test(test_force_takes_the_usual_truth_values),
		cmocka_unit_test(test_force_refuses_anything_else),
		cmocka_unit_test(test_status_takes_the_four_statuses),
		cmocka_unit_test(test_status_refuses_anything_else),
		cmocka_unit_test(test_status_absent_means_any),
		cmocka_unit_test(test_format_takes_json_text_and_html),
		cmocka_unit_test(test_format_refuses_anything_else),
		cmocka_unit_test(test_a_parameter_given_twice_is_bad_param),
		cmocka_unit_test(test_unknown_parameters_are_ignored),
		cmocka_unit_test(
		    test_parameters_outside_the_allowed_set_are_ignored),
		cmocka_unit_test(
		    test_a_missing_required_parameter_is_bad_param_naming_it),
		cmocka_unit_test(
		    test_a_required_parameter_not_allowed_counts_as_missing),
		cmocka_unit_test(
		    test_nothing_given_and_nothing_required_is_fine),
		cmocka_unit_test(test_creation_is_a_prow_job_id),
		cmocka_unit_test(test_every_refusal_names_its_parameter),
		cmocka_unit_test(
		    test_params_check_vets_a_remote_user_like_user),
		cmocka_unit_test(test_params_name_is_the_wire_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
