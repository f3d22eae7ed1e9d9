/*
 * test_prow: the Prow client against a scripted Prow.  httpc_do() is
 * wrapped (-Wl,--wrap=httpc_do): each test lists Prow's answers, then
 * checks the requests (URL, token, JSON body field by field) and outcome.
 */
#include "config.h"

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
#include "errors.h"
#include "httpc.h"
#include "prow.h"
#include "util.h"

#include "httpc_fake.h"

#define SHA		"0123456789abcdef0123456789abcdef01234567"
#define UUID		"6c4d6ab4-9e1b-4d1f-8a44-1d3f0e6b2c11"

static char		token_path[] = "/tmp/test_prow.XXXXXX";

static void
write_token(const char *tok)
{
	FILE	*fp;

	assert_non_null(fp = fopen(token_path, "w"));
	assert_true(fputs(tok, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

static int
setup(void **state)
{
	int	fd;

	script_reset();
	copy(token_path, sizeof(token_path), "/tmp/test_prow.XXXXXX");
	assert_true((fd = mkstemp(token_path)) >= 0);
	assert_int_equal(close(fd), 0);
	write_token("s3cret-token\n");
	return 0;
}

static int
teardown(void **state)
{
	int	asked = nextans, scripted = nscript;

	script_reset();
	(void)unlink(token_path);
	/* Every scripted answer was asked for. */
	assert_int_equal(asked, scripted);
	return 0;
}

static void
add_job(struct cfg *c, const char *name, const char *type, int refs)
{
	struct cfg_prow_job	*j = &c->prow_jobs[c->nprow_jobs++];

	copy(j->name, sizeof(j->name), name);
	copy(j->type, sizeof(j->type), type);
	if (!refs)
		return;
	copy(j->org, sizeof(j->org), "kubernetes");
	copy(j->repo, sizeof(j->repo), "test-infra");
	copy(j->base_ref, sizeof(j->base_ref), "master");
	copy(j->base_sha, sizeof(j->base_sha), SHA);
}

/* A configuration with one job of each type. */
static void
conf(struct cfg *c, enum cfg_prow_dialect d)
{
	cfg_defaults(c);
	c->prow_dialect = d;
	copy(c->prow_url, sizeof(c->prow_url), d == CFG_PROW_GANGWAY ?
	    "https://prow.test/gangway/" : "https://trigger.test/run");
	copy(c->prow_token_file, sizeof(c->prow_token_file), token_path);
	add_job(c, "e2e-k8s-1.32", "periodic", 0);
	add_job(c, "post-image", "postsubmit", 1);
	add_job(c, "pull-lint", "presubmit", 1);
}

static struct json_object *
sent_json(int i)
{
	struct json_object	*o;

	assert_true(i < nseen);
	assert_non_null(o = json_tokener_parse(seen[i].body));
	assert_true(json_object_is_type(o, json_type_object));
	return o;
}

static const char *
str_at(struct json_object *o, const char *key)
{
	struct json_object	*v;

	assert_true(json_object_object_get_ex(o, key, &v));
	assert_true(json_object_is_type(v, json_type_string));
	return json_object_get_string(v);
}

static struct json_object *
obj_at(struct json_object *o, const char *key)
{
	struct json_object	*v;

	assert_true(json_object_object_get_ex(o, key, &v));
	assert_true(json_object_is_type(v, json_type_object));
	return v;
}

static void
assert_refs(struct json_object *refs)
{
	assert_int_equal(json_object_object_length(refs), 4);
	assert_string_equal(str_at(refs, "org"), "kubernetes");
	assert_string_equal(str_at(refs, "repo"), "test-infra");
	assert_string_equal(str_at(refs, "base_ref"), "master");
	assert_string_equal(str_at(refs, "base_sha"), SHA);
}

static void
assert_envs(struct json_object *envs, const char *user, const char *br)
{
	assert_int_equal(json_object_object_length(envs), 2);
	assert_string_equal(str_at(envs, "AUTHOR"), user);
	assert_string_equal(str_at(envs, "BRANCH"), br);
}

/* ---- gangway ---------------------------------------------------------- */

static void
test_gangway_periodic_posts_the_job_without_refs(void **state)
{
	static struct cfg	 c;
	struct prow_result	 r;
	struct err		 e;
	struct json_object	*o;

	conf(&c, CFG_PROW_GANGWAY);
	answer(200, "{\"id\": \"" UUID "\", \"job_name\": \"e2e-k8s-1.32\", "
	    "\"job_status\": \"TRIGGERED\"}");
	assert_int_equal(prow_create(&c, "e2e-k8s-1.32", "john", "release-1.2",
	    &r, &e), 0);
	assert_string_equal(r.id, UUID);
	assert_int_equal(nseen, 1);
	assert_string_equal(seen[0].method, "POST");
	assert_string_equal(seen[0].url, "https://prow.test/gangway/v1/executions");
	assert_string_equal(seen[0].content_type, "application/json");
	assert_string_equal(seen[0].token, "s3cret-token");
	assert_int_equal(seen[0].connect_timeout_ms, 2000);
	assert_int_equal(seen[0].timeout_ms, 10000);
	assert_int_equal(seen[0].max_response, 65536);
	o = sent_json(0);
	assert_int_equal(json_object_object_length(o), 3);
	assert_string_equal(str_at(o, "job_name"), "e2e-k8s-1.32");
	assert_string_equal(str_at(o, "job_execution_type"), "PERIODIC");
	assert_false(json_object_object_get_ex(o, "refs", NULL));
	assert_envs(obj_at(obj_at(o, "pod_spec_options"), "envs"), "john",
	    "release-1.2");
	json_object_put(o);
}

static void
test_gangway_postsubmit_and_presubmit_carry_the_configured_refs(
    void **state)
{
	static struct cfg	 c;
	struct prow_result	 r;
	struct err		 e;
	struct json_object	*o;

	conf(&c, CFG_PROW_GANGWAY);
	answer(200, "{\"id\": \"post-1\", \"job_status\": \"TRIGGERED\"}");
	answer(200, "{\"id\": \"pre-1\", \"job_status\": \"TRIGGERED\"}");
	assert_int_equal(prow_create(&c, "post-image", "john", "master", &r,
	    &e), 0);
	assert_string_equal(r.id, "post-1");
	assert_int_equal(prow_create(&c, "pull-lint", "mary", "master", &r,
	    &e), 0);
	assert_string_equal(r.id, "pre-1");

	o = sent_json(0);
	assert_int_equal(json_object_object_length(o), 4);
	assert_string_equal(str_at(o, "job_name"), "post-image");
	assert_string_equal(str_at(o, "job_execution_type"), "POSTSUBMIT");
	assert_refs(obj_at(o, "refs"));
	assert_envs(obj_at(obj_at(o, "pod_spec_options"), "envs"), "john",
	    "master");
	json_object_put(o);
	o = sent_json(1);
	assert_string_equal(str_at(o, "job_execution_type"), "PRESUBMIT");
	assert_refs(obj_at(o, "refs"));
	assert_envs(obj_at(obj_at(o, "pod_spec_options"), "envs"), "mary",
	    "master");
	json_object_put(o);
}

static void
test_gangway_path_substitutes_the_escaped_job_name(void **state)
{
	static struct cfg	c;
	struct prow_result	r;
	struct err		e;

	conf(&c, CFG_PROW_GANGWAY);
	add_job(&c, "e2e k8s/1.32", "periodic", 0);
	copy(c.prow_gangway_path, sizeof(c.prow_gangway_path),
	    "/v1/executions/{job}");
	c.prow_connect_timeout_ms = 500;
	c.prow_timeout_ms = 3000;
	c.prow_max_response_bytes = 4096;
	answer(200, "{\"id\": \"x1\"}");
	assert_int_equal(prow_create(&c, "e2e k8s/1.32", "john", "main", &r,
	    &e), 0);
	assert_string_equal(seen[0].url,
	    "https://prow.test/gangway/v1/executions/e2e%20k8s%2F1.32");
	assert_int_equal(seen[0].connect_timeout_ms, 500);
	assert_int_equal(seen[0].timeout_ms, 3000);
	assert_int_equal(seen[0].max_response, 4096);
}

static void
test_gangway_reads_the_id_from_a_lower_camel_case_answer(void **state)
{
	static struct cfg	c;
	struct prow_result	r;
	struct err		e;

	conf(&c, CFG_PROW_GANGWAY);
	/* grpc-gateway's default marshalling, without UseProtoNames. */
	answer(200, "{\"id\":\"" UUID "\",\"jobName\":\"e2e-k8s-1.32\","
	    "\"jobType\":\"PERIODIC\",\"jobStatus\":\"TRIGGERED\","
	    "\"gcsPath\":\"\"}");
	assert_int_equal(prow_create(&c, "e2e-k8s-1.32", "john", "main", &r,
	    &e), 0);
	assert_string_equal(r.id, UUID);
}

/* ---- manual-trigger --------------------------------------------------- */

static void
test_manual_trigger_posts_job_type_refs_and_envs_to_the_url(void **state)
{
	static struct cfg	 c;
	struct prow_result	 r;
	struct err		 e;
	struct json_object	*o;

	conf(&c, CFG_PROW_MANUAL_TRIGGER);
	answer(201, "{\"name\": \"" UUID "\"}");
	answer(200, "{\"name\": \"pj-2\"}");
	assert_int_equal(prow_create(&c, "e2e-k8s-1.32", "john", "dev", &r,
	    &e), 0);
	assert_string_equal(r.id, UUID);
	assert_int_equal(prow_create(&c, "post-image", "john", "master", &r,
	    &e), 0);
	assert_string_equal(r.id, "pj-2");

	assert_string_equal(seen[0].url, "https://trigger.test/run");
	assert_string_equal(seen[0].token, "s3cret-token");
	o = sent_json(0);
	assert_int_equal(json_object_object_length(o), 3);
	assert_string_equal(str_at(o, "job"), "e2e-k8s-1.32");
	assert_string_equal(str_at(o, "type"), "periodic");
	assert_false(json_object_object_get_ex(o, "refs", NULL));
	assert_envs(obj_at(o, "envs"), "john", "dev");
	json_object_put(o);
	o = sent_json(1);
	assert_int_equal(json_object_object_length(o), 4);
	assert_string_equal(str_at(o, "type"), "postsubmit");
	assert_refs(obj_at(o, "refs"));
	assert_envs(obj_at(o, "envs"), "john", "master");
	json_object_put(o);
}


/* ---- refused before sending ------------------------------------------- */

static void
expect_refused(struct cfg *c, const char *job, const char *user,
    const char *br, enum err_code code, const char *msg)
{
	struct prow_result	r;
	struct err		e;

	errors_clear(&e);
	assert_int_equal(prow_create(c, job, user, br, &r, &e), -1);
	assert_int_equal(e.code, code);
	assert_string_equal(e.msg, msg);
	assert_string_equal(r.id, "");
}

static void
test_a_job_off_the_allow_list_is_refused_before_sending(void **state)
{
	static struct cfg	c;

	conf(&c, CFG_PROW_GANGWAY);
	expect_refused(&c, "rm-rf", "john", "master", ERR_BAD_PARAM,
	    "job: rm-rf is not on the allow-list");
	assert_int_equal(nseen, 0);
}

static void
test_an_empty_user_or_branch_is_refused_before_sending(void **state)
{
	static struct cfg	c;

	conf(&c, CFG_PROW_GANGWAY);
	expect_refused(&c, "e2e-k8s-1.32", "", "master", ERR_BAD_PARAM,
	    "user: must not be empty");
	expect_refused(&c, "e2e-k8s-1.32", "john", "", ERR_BAD_PARAM,
	    "branch: must not be empty");
	expect_refused(&c, "e2e-k8s-1.32", NULL, NULL, ERR_BAD_PARAM,
	    "user: must not be empty");
	assert_int_equal(nseen, 0);
}

static void
test_a_branch_other_than_base_ref_is_refused_for_a_postsubmit(void **state)
{
	static struct cfg	c;

	conf(&c, CFG_PROW_MANUAL_TRIGGER);
	expect_refused(&c, "post-image", "john", "feature-x", ERR_BAD_PARAM,
	    "branch: job post-image builds master; a branch alone is only "
	    "valid for periodic jobs");
	assert_int_equal(nseen, 0);
}

/* ---- manual-trigger answers ------------------------------------------ */

static void
test_manual_trigger_accepts_a_plain_text_name_line(void **state)
{
	static struct cfg	c;
	struct prow_result	r;
	struct err		e;

	conf(&c, CFG_PROW_MANUAL_TRIGGER);
	answer(200, UUID "\n");
	assert_int_equal(prow_create(&c, "e2e-k8s-1.32", "john", "dev", &r,
	    &e), 0);
	assert_string_equal(r.id, UUID);
}

static void
test_manual_trigger_reads_the_name_of_an_echoed_prowjob(void **state)
{
	static struct cfg	c;
	struct prow_result	r;
	struct err		e;

	conf(&c, CFG_PROW_MANUAL_TRIGGER);
	answer(201, "{\"apiVersion\": \"prow.k8s.io/v1\", \"kind\": "
	    "\"ProwJob\", \"metadata\": {\"name\": \"" UUID "\", "
	    "\"namespace\": \"prow\"}, \"spec\": {\"job\": "
	    "\"e2e-k8s-1.32\", \"type\": \"periodic\"}, \"status\": "
	    "{\"state\": \"triggered\"}}");
	assert_int_equal(prow_create(&c, "e2e-k8s-1.32", "john", "dev", &r,
	    &e), 0);
	assert_string_equal(r.id, UUID);
}

static void
test_gangway_does_not_take_a_name_for_an_id(void **state)
{
	static struct cfg	c;

	conf(&c, CFG_PROW_GANGWAY);
	answer(200, "{\"name\": \"pj-1\"}");
	answer(200, "{\"metadata\": {\"name\": \"pj-1\"}}");
	answer(200, "pj-1\n");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 200 without a job id");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 200 without a job id");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 200 without a job id");
}

/* ---- Prow's answers --------------------------------------------------- */

static void
test_a_401_rereads_the_token_and_retries_once(void **state)
{
	static struct cfg	c;
	struct prow_result	r;
	struct err		e;

	conf(&c, CFG_PROW_GANGWAY);
	answer(401, "{\"code\": 16, \"message\": \"token expired\"}");
	script[0].after = write_token;
	script[0].after_arg = "rotated-token\n";
	answer(200, "{\"id\": \"x2\"}");
	assert_int_equal(prow_create(&c, "e2e-k8s-1.32", "john", "main", &r,
	    &e), 0);
	assert_string_equal(r.id, "x2");
	assert_int_equal(nseen, 2);
	assert_string_equal(seen[0].token, "s3cret-token");
	assert_string_equal(seen[1].token, "rotated-token");
	assert_string_equal(seen[0].body, seen[1].body);
}

static void
test_a_second_401_is_a_prow_error_without_the_token(void **state)
{
	static struct cfg	c;

	conf(&c, CFG_PROW_GANGWAY);
	answer(401, "{\"code\": 16, \"message\": \"unauthenticated\"}");
	answer(401, "{\"code\": 16, \"message\": \"unauthenticated\"}");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 401: unauthenticated");
	assert_int_equal(nseen, 2);
}

static void
test_a_404_quotes_the_first_line_of_a_text_body(void **state)
{
	static struct cfg	c;

	conf(&c, CFG_PROW_MANUAL_TRIGGER);
	answer(404, "404 page not found\x01\nmore detail");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 404: 404 page not found?");
}

static void
test_a_500_is_not_retried(void **state)
{
	static struct cfg	c;

	conf(&c, CFG_PROW_GANGWAY);
	answer(500, "{\"code\": 2, \"message\": \"failed to create job: "
	    "job e2e-k8s-1.32 not found\"}");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 500: failed to create job: job e2e-k8s-1.32 "
	    "not found");
	assert_int_equal(nseen, 1);
}

static void
test_a_transport_failure_says_prow_is_unreachable(void **state)
{
	static struct cfg	c;

	conf(&c, CFG_PROW_GANGWAY);
	answer_transport_failure();
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow unreachable: POST https://prow.test/gangway/v1/executions: "
	    "Failed to connect: Connection refused");
	assert_int_equal(nseen, 1);
}

static void
test_a_garbage_or_oversized_answer_is_a_prow_error(void **state)
{
	static struct cfg	 c;
	static char		 big[2048];

	conf(&c, CFG_PROW_GANGWAY);
	answer(200, "<html>welcome</html>");
	answer(200, "{\"job_status\": \"TRIGGERED\"}");
	answer(200, "{\"id\": \"has space\"}");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 200 without a job id");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 200 without a job id");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 200 without a job id");

	/* httpc_do() enforces the cap; a longer body is still refused. */
	c.prow_max_response_bytes = 1024;
	memset(big, 'a', sizeof(big) - 1);
	answer(200, big);
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 200 without a job id");

	conf(&c, CFG_PROW_MANUAL_TRIGGER);
	answer(200, "<html>welcome</html>");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 200 without a job name");
}

static void
test_an_id_that_is_not_a_valid_name_is_a_prow_error(void **state)
{
	static struct cfg	 c;
	static char		 ok[PROW_ID_MAX + 32], big[PROW_ID_MAX + 32];
	struct prow_result	 r;
	struct err		 e;
	char			 id[PROW_ID_MAX + 2];
	int			 i;

	/* 253 characters is a name; 254 is not. */
	memset(id, 'a', PROW_ID_MAX);
	id[PROW_ID_MAX] = '\0';
	assert_int_equal(snprintf(ok, sizeof(ok), "{\"id\": \"%s\"}", id),
	    PROW_ID_MAX + 10);
	memset(id, 'a', PROW_ID_MAX + 1);
	id[PROW_ID_MAX + 1] = '\0';
	assert_int_equal(snprintf(big, sizeof(big), "{\"id\": \"%s\"}", id),
	    PROW_ID_MAX + 11);

	conf(&c, CFG_PROW_GANGWAY);
	answer(200, ok);
	assert_int_equal(prow_create(&c, "e2e-k8s-1.32", "john", "main", &r,
	    &e), 0);
	assert_int_equal(strlen(r.id), PROW_ID_MAX);
	assert_int_equal(strspn(r.id, "a"), PROW_ID_MAX);
	answer(200, big);
	answer(200, "{\"id\": \"6C4D6AB4-9E1B-4D1F-8A44-1D3F0E6B2C11\"}");
	answer(200, "{\"id\": \"pj 1\"}");
	answer(200, "{\"id\": \"\"}");
	answer(200, "{\"id\": \"-pj\"}");
	answer(200, "{\"id\": \"pj/../x\"}");
	answer(200, "{\"id\": 42}");
	answer(200, "{\"id\": \"pj\\u0000x\"}");
	for (i = 0; i < 8; i++)
		expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
		    "prow answered 200 without a job id");

	conf(&c, CFG_PROW_MANUAL_TRIGGER);
	answer(200, "PJ-1\n");
	answer(200, "pj 1\n");
	answer(200, "{\"metadata\": {\"name\": \"Pj-1\"}}");
	for (i = 0; i < 3; i++)
		expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
		    "prow answered 200 without a job name");
}

static void
test_a_non_strict_json_answer_is_a_prow_error(void **state)
{
	static struct cfg	c;
	int			i;

	conf(&c, CFG_PROW_GANGWAY);
	answer(200, "{\"id\": \"x1\"} trailing");
	answer(200, "{\"id\": \"x1\"}{\"id\": \"x2\"}");
	answer(200, "{'id': 'x1'}");
	answer(200, "{\"id\": \"x1\",}");
	answer(200, "{\"id\": \"x1\"");
	for (i = 0; i < 5; i++)
		expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
		    "prow answered 200 without a job id");

	/* An answer that opens as JSON is not then read as a text line. */
	conf(&c, CFG_PROW_MANUAL_TRIGGER);
	answer(200, "{\"name\": \"pj-1\"} trailing");
	answer(200, "{'name': 'pj-1'}");
	for (i = 0; i < 2; i++)
		expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
		    "prow answered 200 without a job name");
}

static void
test_each_error_envelope_shape_is_quoted_in_the_message(void **state)
{
	static struct cfg	c;

	conf(&c, CFG_PROW_GANGWAY);
	/* grpc-gateway (gangway itself). */
	answer(404, "{\"code\": 5, \"message\": \"job not found\", "
	    "\"details\": []}");
	/* A Kubernetes Status. */
	answer(403, "{\"kind\": \"Status\", \"apiVersion\": \"v1\", "
	    "\"status\": \"Failure\", \"message\": \"prowjobs is "
	    "forbidden\", \"reason\": \"Forbidden\", \"code\": 403}");
	/* ESPv2 / Google API front ends. */
	answer(403, "{\"error\": {\"code\": 403, \"message\": "
	    "\"PERMISSION_DENIED: no access\", \"status\": "
	    "\"PERMISSION_DENIED\"}}");
	/* A plain proxy. */
	answer(429, "{\"error\": \"rate limited\"}");
	/* JSON without a message, and JSON that is not strict: the body. */
	answer(503, "{\"code\": 14}");
	answer(502, "{'message': 'bad gateway'}");
	/* Only the first line of a message, unprintables as '?'. */
	answer(500, "{\"message\": \"boom\\u0007\\nstack trace\"}");
	/* Nothing at all. */
	answer(500, "");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 404: job not found");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 403: prowjobs is forbidden");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 403: PERMISSION_DENIED: no access");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 429: rate limited");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 503: {\"code\": 14}");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 502: {'message': 'bad gateway'}");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 500: boom?");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow answered 500: (no message)");
}

static void
test_a_long_error_message_is_cut_to_one_quotable_line(void **state)
{
	static struct cfg	c;
	static char		body[1024];
	struct prow_result	r;
	struct err		e;

	memset(body, 'x', sizeof(body) - 1);
	conf(&c, CFG_PROW_GANGWAY);
	answer(500, body);
	errors_clear(&e);
	assert_int_equal(prow_create(&c, "e2e-k8s-1.32", "john", "main", &r,
	    &e), -1);
	assert_int_equal(e.code, ERR_PROW);
	/* The prefix, then the first 200 bytes of the body. */
	assert_int_equal(strlen(e.msg), 19 + 200);
	assert_true(strncmp(e.msg, "prow answered 500: ", 19) == 0);
	assert_true(strspn(e.msg + 19, "x") == 200);
}

static void
test_a_missing_token_file_is_a_prow_error_before_sending(void **state)
{
	static struct cfg	c;

	conf(&c, CFG_PROW_GANGWAY);
	copy(c.prow_token_file, sizeof(c.prow_token_file),
	    "/nonexistent/prow-token");
	expect_refused(&c, "e2e-k8s-1.32", "john", "main", ERR_PROW,
	    "prow token: /nonexistent/prow-token: No such file or directory");
	assert_int_equal(nseen, 0);
}

/* ---- prow_id_valid ---------------------------------------------------- */

static void
test_prow_id_valid_accepts_dns_subdomains_up_to_253_only(void **state)
{
	static const struct {
		const char	*id;
		int		 valid;
	} cases[] = {
		{ UUID, 1 },
		{ "pj-1", 1 },
		{ "a", 1 },
		{ "0", 1 },
		{ "e2e-k8s-1.32", 1 },
		{ "a.b.c", 1 },
		{ "", 0 },
		{ "Pj-1", 0 },
		{ "6C4D6AB4-9E1B-4D1F-8A44-1D3F0E6B2C11", 0 },
		{ "pj 1", 0 },
		{ " pj", 0 },
		{ "pj\n", 0 },
		{ "-pj", 0 },
		{ "pj-", 0 },
		{ ".pj", 0 },
		{ "pj.", 0 },
		{ "a..b", 0 },
		{ "a.-b", 0 },
		{ "a-.b", 0 },
		{ "pj_1", 0 },
		{ "pj/1", 0 },
		{ "p\xc3\xa9", 0 },
	};
	char	long_id[PROW_ID_MAX + 2];
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (prow_id_valid(cases[i].id) != cases[i].valid)
			fail_msg("prow_id_valid(\"%s\") is not %d",
			    cases[i].id, cases[i].valid);
	assert_int_equal(prow_id_valid(NULL), 0);

	/* Kubernetes caps the name, not its labels. */
	memset(long_id, 'a', PROW_ID_MAX);
	long_id[PROW_ID_MAX] = '\0';
	assert_int_equal(prow_id_valid(long_id), 1);
	long_id[PROW_ID_MAX] = 'a';
	long_id[PROW_ID_MAX + 1] = '\0';
	assert_int_equal(prow_id_valid(long_id), 0);
	long_id[PROW_ID_MAX] = '.';
	assert_int_equal(prow_id_valid(long_id), 0);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_gangway_periodic_posts_the_job_without_refs),
		T(test_gangway_postsubmit_and_presubmit_carry_the_configured_refs),
		T(test_gangway_path_substitutes_the_escaped_job_name),
		T(test_manual_trigger_posts_job_type_refs_and_envs_to_the_url),
		T(test_gangway_reads_the_id_from_a_lower_camel_case_answer),
		T(test_manual_trigger_accepts_a_plain_text_name_line),
		T(test_manual_trigger_reads_the_name_of_an_echoed_prowjob),
		T(test_gangway_does_not_take_a_name_for_an_id),
		T(test_a_job_off_the_allow_list_is_refused_before_sending),
		T(test_an_empty_user_or_branch_is_refused_before_sending),
		T(test_a_branch_other_than_base_ref_is_refused_for_a_postsubmit),
		T(test_a_401_rereads_the_token_and_retries_once),
		T(test_a_second_401_is_a_prow_error_without_the_token),
		T(test_a_404_quotes_the_first_line_of_a_text_body),
		T(test_a_500_is_not_retried),
		T(test_a_transport_failure_says_prow_is_unreachable),
		T(test_a_garbage_or_oversized_answer_is_a_prow_error),
		T(test_an_id_that_is_not_a_valid_name_is_a_prow_error),
		T(test_a_non_strict_json_answer_is_a_prow_error),
		T(test_each_error_envelope_shape_is_quoted_in_the_message),
		T(test_a_long_error_message_is_cut_to_one_quotable_line),
		T(test_a_missing_token_file_is_a_prow_error_before_sending),
		T(test_prow_id_valid_accepts_dns_subdomains_up_to_253_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
