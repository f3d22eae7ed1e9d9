/*
 * test_http: urlencoded decoding of the query and a form body, the API's
 * format rules ("Formats" in the contract) and the exact CGI header block
 * a response goes out with.
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

#include "errors.h"
#include "http.h"
#include "util.h"

#define FORM	"application/x-www-form-urlencoded"

/* ---- helpers ----------------------------------------------------------- */

/* Parses the NUL-terminated s; asserts success. */
static void
parse_ok(struct http_params *p, const char *s)
{
	struct err	e;

	errors_clear(&e);
	if (http_params_parse(p, s, strlen(s), &e) != 0)
		fail_msg("parsing \"%s\" failed: %s", s, e.msg);
	assert_int_equal(e.code, ERR_NONE);
}

/* Parses len bytes of s; asserts a bad_param with a message. */
static void
parse_bad(const char *s, size_t len)
{
	struct http_params	p = { 0 };
	struct err		e;
	int			rc;

	errors_clear(&e);
	rc = http_params_parse(&p, s, len, &e);
	http_params_free(&p);
	if (rc != -1)
		fail_msg("parsing \"%.*s\" succeeded", (int)len, s);
	assert_int_equal(e.code, ERR_BAD_PARAM);
	assert_true(e.msg[0] != '\0');
}

static void
init_request(struct http_request *r, enum http_method m, const char *query)
{
	memset(r, 0, sizeof(*r));
	r->method = m;
	r->path = "/getvacant";
	r->query = query;
	r->content_type = "";
	r->accept = "";
	r->remote_user = "";
}

/* ---- http_params_parse ------------------------------------------------- */

static void
test_params_parse_splits_pairs_in_order(void **state)
{
	struct http_params	p = { 0 };

	parse_ok(&p, "build=123&job=e2e&purpose=tess-ci");
	assert_int_equal(p.len, 3);
	assert_string_equal(p.items[0].name, "build");
	assert_string_equal(p.items[0].value, "123");
	assert_string_equal(p.items[1].name, "job");
	assert_string_equal(p.items[1].value, "e2e");
	assert_string_equal(p.items[2].name, "purpose");
	assert_string_equal(p.items[2].value, "tess-ci");
	http_params_free(&p);
}

static void
test_params_parse_reads_plus_as_a_space(void **state)
{
	struct http_params	p = { 0 };

	parse_ok(&p, "reason=flaky+etcd+node&a+b=c");
	assert_string_equal(http_params_get(&p, "reason"), "flaky etcd node");
	assert_string_equal(http_params_get(&p, "a b"), "c");
	http_params_free(&p);
}

static void
test_params_parse_decodes_percent_escapes(void **state)
{
	struct http_params	p = { 0 };

	parse_ok(&p, "job=e2e%2Fk8s%2d1.32&x=%41%62%7e&plus=%2B&pct=%25"
	    "&utf=%C3%A9&n%61me=v");
	assert_string_equal(http_params_get(&p, "job"), "e2e/k8s-1.32");
	assert_string_equal(http_params_get(&p, "x"), "Ab~");
	assert_string_equal(http_params_get(&p, "plus"), "+");
	assert_string_equal(http_params_get(&p, "pct"), "%");
	assert_string_equal(http_params_get(&p, "utf"), "\xc3\xa9");
	assert_string_equal(http_params_get(&p, "name"), "v");
	http_params_free(&p);
}

static void
test_params_parse_decodes_an_escape_that_ends_the_input(void **state)
{
	struct http_params	p = { 0 };

	parse_ok(&p, "a=%41");
	assert_string_equal(http_params_get(&p, "a"), "A");
	http_params_free(&p);
}

static void
test_params_parse_refuses_malformed_escapes(void **state)
{
	static const char *const bad[] = {
		"a=%", "a=%4", "a=%zz", "a=%4g", "a=%g4", "a=1%", "%=1",
		"a%=1", "a=%%41", "a=% 41", "a=%4&b=1",
	};
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_bad(bad[i], strlen(bad[i]));
}

static void
test_params_parse_refuses_an_encoded_nul(void **state)
{
	parse_bad("cluster=a%00b", strlen("cluster=a%00b"));
	parse_bad("a%00=1", strlen("a%00=1"));
}

/* http.h: "A malformed %-escape or a NUL byte is ERR_BAD_PARAM".  A raw
 * NUL in a POST body would otherwise cut "cluster=a\0b" to "a". */
static void
test_params_parse_refuses_a_raw_nul_byte(void **state)
{
	parse_bad("cluster=a\0b", sizeof("cluster=a\0b") - 1);
	parse_bad("a\0b=1", sizeof("a\0b=1") - 1);
}

static void
test_params_parse_reads_only_len_bytes(void **state)
{
	struct http_params	 p = { 0 };
	struct err		 e;
	const char		*s = "a=1&b=2";

	errors_clear(&e);
	assert_int_equal(http_params_parse(&p, s, 3, &e), 0);
	assert_int_equal(p.len, 1);
	assert_string_equal(http_params_get(&p, "a"), "1");
	assert_null(http_params_get(&p, "b"));
	http_params_free(&p);
}

static void
test_params_parse_skips_empty_pairs(void **state)
{
	struct http_params	p = { 0 };

	parse_ok(&p, "&a=1&&b=2&");
	assert_int_equal(p.len, 2);
	assert_string_equal(http_params_get(&p, "a"), "1");
	assert_string_equal(http_params_get(&p, "b"), "2");
	http_params_free(&p);

	parse_ok(&p, "");
	assert_int_equal(p.len, 0);
	parse_ok(&p, "&&&");
	assert_int_equal(p.len, 0);
	http_params_free(&p);
}

static void
test_params_parse_takes_a_name_without_equals_as_empty(void **state)
{
	struct http_params	p = { 0 };

	parse_ok(&p, "force&a=&b=x=y");
	assert_int_equal(p.len, 3);
	assert_string_equal(http_params_get(&p, "force"), "");
	assert_string_equal(http_params_get(&p, "a"), "");
	/* Only the first '=' splits: the rest belongs to the value. */
	assert_string_equal(http_params_get(&p, "b"), "x=y");
	http_params_free(&p);
}

static void
test_params_parse_appends_to_what_is_there(void **state)
{
	struct http_params	p = { 0 };

	parse_ok(&p, "a=1");
	parse_ok(&p, "a=2&b=3");
	assert_int_equal(p.len, 3);
	/* get() answers the first one given. */
	assert_string_equal(http_params_get(&p, "a"), "1");
	assert_string_equal(p.items[1].value, "2");
	http_params_free(&p);
}

static void
test_params_parse_refuses_an_absurd_number_of_pairs(void **state)
{
	struct http_params	 p = { 0 };
	struct buf		 b = { 0 };
	struct err		 e;
	int			 i;

	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&b, "p%d=%d&", i, i), 0);
	errors_clear(&e);
	assert_int_equal(http_params_parse(&p, b.data, b.len, &e), -1);
	assert_int_equal(e.code, ERR_BAD_PARAM);
	http_params_free(&p);
	buf_free(&b);
}

static void
test_params_get_of_an_absent_name_is_null(void **state)
{
	struct http_params	p = { 0 };

	assert_null(http_params_get(&p, "build"));
	parse_ok(&p, "builds=1&buil=2");
	assert_null(http_params_get(&p, "build"));
	http_params_free(&p);
}

static void
test_params_free_accepts_null_and_empties(void **state)
{
	struct http_params	p = { 0 };

	http_params_free(NULL);
	parse_ok(&p, "a=1");
	http_params_free(&p);
	assert_int_equal(p.len, 0);
	assert_null(p.items);
	http_params_free(&p);
}

/* ---- http_request_params ----------------------------------------------- */

static void
test_request_params_merges_query_and_form_body(void **state)
{
	struct http_request	r;
	struct http_params	p = { 0 };
	struct err		e;
	char			body[] = "cluster=tess-ci-01&reason=on+fire";

	init_request(&r, HTTP_POST, "format=json");
	r.content_type = FORM;
	r.body = body;
	r.bodylen = strlen(body);
	errors_clear(&e);
	assert_int_equal(http_request_params(&r, &p, &e), 0);
	assert_int_equal(p.len, 3);
	assert_string_equal(http_params_get(&p, "format"), "json");
	assert_string_equal(http_params_get(&p, "cluster"), "tess-ci-01");
	assert_string_equal(http_params_get(&p, "reason"), "on fire");
	http_params_free(&p);
}

static void
test_request_params_accepts_a_form_type_with_a_charset(void **state)
{
	static const char *const types[] = {
		FORM "; charset=utf-8",
		FORM ";charset=UTF-8",
		"Application/X-WWW-Form-Urlencoded",
	};
	struct http_request	r;
	struct http_params	p = { 0 };
	struct err		e;
	char			body[] = "cluster=c1";
	size_t			i;
	int			found;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		init_request(&r, HTTP_POST, "");
		r.content_type = types[i];
		r.body = body;
		r.bodylen = strlen(body);
		errors_clear(&e);
		assert_int_equal(http_request_params(&r, &p, &e), 0);
		found = http_params_get(&p, "cluster") != NULL;
		http_params_free(&p);
		if (!found)
			fail_msg("body of type \"%s\" ignored", types[i]);
	}
}

static void
test_request_params_ignores_bodies_that_are_not_forms(void **state)
{
	static const char *const types[] = {
		"", "application/json", "text/plain", "multipart/form-data",
		FORM "x", "application/x-www-form",
	};
	struct http_request	r;
	struct http_params	p = { 0 };
	struct err		e;
	char			body[] = "cluster=c1";
	size_t			i;
	int			found;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		init_request(&r, HTTP_POST, "a=1");
		r.content_type = types[i];
		r.body = body;
		r.bodylen = strlen(body);
		errors_clear(&e);
		assert_int_equal(http_request_params(&r, &p, &e), 0);
		found = http_params_get(&p, "cluster") != NULL || p.len != 1;
		http_params_free(&p);
		if (found)
			fail_msg("body of type \"%s\" was read", types[i]);
	}
}

static void
test_request_params_ignores_a_get_body(void **state)
{
	struct http_request	r;
	struct http_params	p = { 0 };
	struct err		e;
	char			body[] = "cluster=c1";

	init_request(&r, HTTP_GET, "a=1");
	r.content_type = FORM;
	r.body = body;
	r.bodylen = strlen(body);
	errors_clear(&e);
	assert_int_equal(http_request_params(&r, &p, &e), 0);
	assert_int_equal(p.len, 1);
	assert_null(http_params_get(&p, "cluster"));
	http_params_free(&p);
}

static void
test_request_params_of_a_bodyless_post_read_the_query(void **state)
{
	struct http_request	r;
	struct http_params	p = { 0 };
	struct err		e;

	init_request(&r, HTTP_POST, "cluster=c1");
	r.content_type = FORM;
	errors_clear(&e);
	assert_int_equal(http_request_params(&r, &p, &e), 0);
	assert_int_equal(p.len, 1);
	assert_string_equal(http_params_get(&p, "cluster"), "c1");
	http_params_free(&p);
}

static void
test_request_params_keep_a_name_in_query_and_body_twice(
    void **state)
{
	struct http_request	r;
	struct http_params	p = { 0 };
	struct err		e;
	char			body[] = "cluster=c2";

	/* Both are kept so that validation can refuse the ambiguity. */
	init_request(&r, HTTP_POST, "cluster=c1");
	r.content_type = FORM;
	r.body = body;
	r.bodylen = strlen(body);
	errors_clear(&e);
	assert_int_equal(http_request_params(&r, &p, &e), 0);
	assert_int_equal(p.len, 2);
	assert_string_equal(p.items[0].value, "c1");
	assert_string_equal(p.items[1].value, "c2");
	http_params_free(&p);
}

static void
test_request_params_reports_a_malformed_query_or_body(void **state)
{
	struct http_request	r;
	struct http_params	p = { 0 };
	struct err		e;
	char			body[] = "cluster=%zz";

	init_request(&r, HTTP_GET, "a=%");
	errors_clear(&e);
	assert_int_equal(http_request_params(&r, &p, &e), -1);
	assert_int_equal(e.code, ERR_BAD_PARAM);
	http_params_free(&p);

	init_request(&r, HTTP_POST, "a=1");
	r.content_type = FORM;
	r.body = body;
	r.bodylen = strlen(body);
	errors_clear(&e);
	assert_int_equal(http_request_params(&r, &p, &e), -1);
	assert_int_equal(e.code, ERR_BAD_PARAM);
	http_params_free(&p);
}

/* ---- methods ----------------------------------------------------------- */

static void
test_method_parse_knows_get_head_post_only(void **state)
{
	assert_int_equal(http_method_parse("GET"), HTTP_GET);
	assert_int_equal(http_method_parse("HEAD"), HTTP_HEAD);
	assert_int_equal(http_method_parse("POST"), HTTP_POST);
	assert_int_equal(http_method_parse("PUT"), HTTP_OTHER);
	assert_int_equal(http_method_parse("DELETE"), HTTP_OTHER);
	assert_int_equal(http_method_parse("get"), HTTP_OTHER);
	assert_int_equal(http_method_parse(""), HTTP_OTHER);
	assert_string_equal(http_method_str(HTTP_POST), "POST");
	assert_string_equal(http_method_str(HTTP_GET), "GET");
}

/* ---- formats ----------------------------------------------------------- */

static void
test_pick_format_is_text_by_default(void **state)
{
	assert_int_equal(http_pick_format(NULL, NULL), HTTP_FMT_TEXT);
	assert_int_equal(http_pick_format("", NULL), HTTP_FMT_TEXT);
	assert_int_equal(http_pick_format("*/*", NULL), HTTP_FMT_TEXT);
	assert_int_equal(http_pick_format("text/plain", NULL), HTTP_FMT_TEXT);
}

static void
test_pick_format_is_json_when_accept_names_json(
    void **state)
{
	assert_int_equal(http_pick_format("application/json", NULL),
	    HTTP_FMT_JSON);
	assert_int_equal(http_pick_format("text/plain, application/json;q=0.9",
	    NULL), HTTP_FMT_JSON);
	/* Media types are case-insensitive. */
	assert_int_equal(http_pick_format("Application/JSON", NULL),
	    HTTP_FMT_JSON);
}

static void
test_pick_format_is_html_for_a_browser(void **state)
{
	assert_int_equal(http_pick_format("text/html,application/xhtml+xml,"
	    "application/xml;q=0.9,*/*;q=0.8", NULL), HTTP_FMT_HTML);
	assert_int_equal(http_pick_format("text/html", NULL), HTTP_FMT_HTML);
}

static void
test_pick_format_prefers_json_when_accept_names_both(void **state)
{
	assert_int_equal(http_pick_format("text/html, application/json",
	    NULL), HTTP_FMT_JSON);
}

static void
test_pick_format_lets_the_format_parameter_win(void **state)
{
	assert_int_equal(http_pick_format("", "json"), HTTP_FMT_JSON);
	assert_int_equal(http_pick_format("text/html", "json"), HTTP_FMT_JSON);
	assert_int_equal(http_pick_format("application/json", "text"),
	    HTTP_FMT_TEXT);
	assert_int_equal(http_pick_format("application/json", "html"),
	    HTTP_FMT_HTML);
	assert_int_equal(http_pick_format(NULL, "json"), HTTP_FMT_JSON);
}

static void
test_pick_format_ignores_an_unknown_format_value(void **state)
{
	/* The bad value itself is params.c's to refuse. */
	assert_int_equal(http_pick_format("application/json", "xml"),
	    HTTP_FMT_JSON);
	assert_int_equal(http_pick_format("", "JSON"), HTTP_FMT_TEXT);
}

static void
test_content_type_names_the_format_and_utf8(void **state)
{
	assert_string_equal(http_content_type(HTTP_FMT_TEXT),
	    "text/plain; charset=utf-8");
	assert_string_equal(http_content_type(HTTP_FMT_JSON),
	    "application/json; charset=utf-8");
	assert_string_equal(http_content_type(HTTP_FMT_HTML),
	    "text/html; charset=utf-8");
}

static void
test_status_reason_covers_every_status_the_api_uses(void **state)
{
	static const struct {
		int		 status;
		const char	*reason;
	} t[] = {
		{ 200, "OK" }, { 202, "Accepted" }, { 400, "Bad Request" },
		{ 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 409, "Conflict" },
		{ 413, "Content Too Large" },
		{ 500, "Internal Server Error" }, { 502, "Bad Gateway" },
		{ 503, "Service Unavailable" },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(http_status_reason(t[i].status),
		    t[i].reason);
	/* Every status errors.c hands out has a real reason phrase. */
	for (i = 0; i < ERR__MAX; i++)
		assert_string_not_equal(http_status_reason(
		    errors_http_status((enum err_code)i)), "Unknown");
}

/* ---- the header block -------------------------------------------------- */

static void
test_response_head_of_a_200_is_exact(void **state)
{
	struct http_response	resp;
	struct buf		out = { 0 };

	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	resp.format = HTTP_FMT_TEXT;
	assert_int_equal(buf_puts(&resp.body, "tess-ci-01\n"), 0);
	assert_int_equal(http_response_head(&resp, "0123abcd", &out), 0);
	assert_string_equal(out.data,
	    "Status: 200 OK\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "X-Request-Id: 0123abcd\r\n"
	    "Content-Length: 11\r\n"
	    "\r\n");
	buf_free(&out);
	buf_free(&resp.body);
}

static void
test_response_head_of_an_html_page_forbids_scripts(void **state)
{
	struct http_response	resp;
	struct buf		out = { 0 };

	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	resp.format = HTTP_FMT_HTML;
	assert_int_equal(buf_puts(&resp.body, "<p>x</p>\n"), 0);
	assert_int_equal(http_response_head(&resp, "r", &out), 0);
	assert_string_equal(out.data,
	    "Status: 200 OK\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Content-Security-Policy: default-src 'none'; "
	    "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
	    "frame-ancestors 'none'\r\n"
	    "X-Request-Id: r\r\n"
	    "Content-Length: 9\r\n"
	    "\r\n");
	buf_free(&out);
	buf_free(&resp.body);
}

static void
test_response_head_of_a_405_carries_allow(void **state)
{
	struct http_response	resp;
	struct buf		out = { 0 };

	memset(&resp, 0, sizeof(resp));
	resp.status = 405;
	resp.format = HTTP_FMT_JSON;
	resp.allow = "POST";
	assert_int_equal(http_response_head(&resp, "req-1", &out), 0);
	assert_string_equal(out.data,
	    "Status: 405 Method Not Allowed\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "X-Request-Id: req-1\r\n"
	    "Allow: POST\r\n"
	    "Content-Length: 0\r\n"
	    "\r\n");
	buf_free(&out);
}

static void
test_response_head_of_a_503_carries_retry_after(void **state)
{
	struct http_response	resp;
	struct buf		out = { 0 };
	const char		*body = "error: no_vacant_cluster: none\n";

	memset(&resp, 0, sizeof(resp));
	resp.status = 503;
	resp.format = HTTP_FMT_TEXT;
	resp.retry_after = 30;
	assert_int_equal(buf_puts(&resp.body, body), 0);
	assert_int_equal(http_response_head(&resp, "r", &out), 0);
	assert_string_equal(out.data,
	    "Status: 503 Service Unavailable\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "X-Request-Id: r\r\n"
	    "Retry-After: 30\r\n"
	    "Content-Length: 31\r\n"
	    "\r\n");
	assert_int_equal(strlen(body), 31);
	buf_free(&out);
	buf_free(&resp.body);
}

static void
test_response_head_of_html_names_html(void **state)
{
	struct http_response	resp;
	struct buf		out = { 0 };

	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	resp.format = HTTP_FMT_HTML;
	assert_int_equal(http_response_head(&resp, "r", &out), 0);
	assert_non_null(strstr(out.data,
	    "\r\nContent-Type: text/html; charset=utf-8\r\n"));
	buf_free(&out);
}

static void
test_response_head_without_request_id_has_no_id_header(void **state)
{
	struct http_response	resp;
	struct buf		out = { 0 };

	memset(&resp, 0, sizeof(resp));
	resp.status = 404;
	assert_int_equal(http_response_head(&resp, "", &out), 0);
	assert_null(strstr(out.data, "X-Request-Id"));
	assert_true(strncmp(out.data, "Status: 404 Not Found\r\n",
	    strlen("Status: 404 Not Found\r\n")) == 0);
	buf_free(&out);
	assert_int_equal(http_response_head(&resp, NULL, &out), 0);
	assert_null(strstr(out.data, "X-Request-Id"));
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params_parse_splits_pairs_in_order),
		cmocka_unit_test(test_params_parse_reads_plus_as_a_space),
		cmocka_unit_test(test_params_parse_decodes_percent_escapes),
		cmocka_unit_test(
		    test_params_parse_decodes_an_escape_that_ends_the_input),
		cmocka_unit_test(test_params_parse_refuses_malformed_escapes),
		cmocka_unit_test(test_params_parse_refuses_an_encoded_nul),
		cmocka_unit_test(test_params_parse_refuses_a_raw_nul_byte),
		cmocka_unit_test(test_params_parse_reads_only_len_bytes),
		cmocka_unit_test(test_params_parse_skips_empty_pairs),
		cmocka_unit_test(
		    test_params_parse_takes_a_name_without_equals_as_empty),
		cmocka_unit_test(test_params_parse_appends_to_what_is_there),
		cmocka_unit_test(
		    test_params_parse_refuses_an_absurd_number_of_pairs),
		cmocka_unit_test(test_params_get_of_an_absent_name_is_null),
		cmocka_unit_test(test_params_free_accepts_null_and_empties),
		cmocka_unit_test(
		    test_request_params_merges_query_and_form_body),
		cmocka_unit_test(
		    test_request_params_accepts_a_form_type_with_a_charset),
		cmocka_unit_test(
		    test_request_params_ignores_bodies_that_are_not_forms),
		cmocka_unit_test(test_request_params_ignores_a_get_body),
		cmocka_unit_test(
		    test_request_params_of_a_bodyless_post_read_the_query),
		cmocka_unit_test(
		    test_request_params_keep_a_name_in_query_and_body_twice),
		cmocka_unit_test(
		    test_request_params_reports_a_malformed_query_or_body),
		cmocka_unit_test(test_method_parse_knows_get_head_post_only),
		cmocka_unit_test(test_pick_format_is_text_by_default),
		cmocka_unit_test(
		    test_pick_format_is_json_when_accept_names_json),
		cmocka_unit_test(test_pick_format_is_html_for_a_browser),
		cmocka_unit_test(
		    test_pick_format_prefers_json_when_accept_names_both),
		cmocka_unit_test(
		    test_pick_format_lets_the_format_parameter_win),
		cmocka_unit_test(
		    test_pick_format_ignores_an_unknown_format_value),
		cmocka_unit_test(test_content_type_names_the_format_and_utf8),
		cmocka_unit_test(
		    test_status_reason_covers_every_status_the_api_uses),
		cmocka_unit_test(test_response_head_of_a_200_is_exact),
		cmocka_unit_test(
		    test_response_head_of_an_html_page_forbids_scripts),
		cmocka_unit_test(test_response_head_of_a_405_carries_allow),
		cmocka_unit_test(
		    test_response_head_of_a_503_carries_retry_after),
		cmocka_unit_test(test_response_head_of_html_names_html),
		cmocka_unit_test(
		    test_response_head_without_request_id_has_no_id_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
