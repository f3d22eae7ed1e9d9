/*
 * test_router: whole requests through router_handle() against a real file
 * store in a fresh directory and a fake clock: every row of the API's
 * transition table a request can reach, every error code with its status,
 * identity, methods, formats and the health endpoints.
 */
#include "config.h"

#include <sys/stat.h>

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
#include "errors.h"
#include "http.h"
#include "log.h"
#include "router.h"
#include "store.h"
#include "util.h"

#define NOW		((time_t)1796292000)	/* 2026-12-03T10:00:00Z */
#define HOUR		((time_t)3600)
#define ADMIN		"alice"
#define FORM		"application/x-www-form-urlencoded"
#define BROWSER		"text/html,application/xhtml+xml,application/xml;" \
			    "q=0.9,*/*;q=0.8"
#define RETRY_AFTER	17

static time_t	fake_now;

static time_t
fake_clock(void)
{
	return fake_now;
}

struct fixture {
	char			 dir[64];
	char			 path[128];
	struct cfg		*cfg;
	struct store		 store;
	struct http_response	 resp;		/* of the last request */
	struct json_object	*json;		/* the last body parsed */
	struct json_object	*list;		/* the last record looked up */
};

/* One request as a test describes it; NULL strings are "". */
struct req {
	enum http_method	 method;
	const char		*path;
	const char		*query;
	const char		*body;		/* a form body */
	const char		*remote_user;
	const char		*accept;
	size_t			 bodylen;	/* 0: strlen(body) */
};

/* ---- fixture ----------------------------------------------------------- */

static int
setup(void **state)
{
	struct fixture	*f;
	struct err	 e;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->cfg = calloc(1, sizeof(*f->cfg));
	assert_non_null(f->cfg);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/test_router.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->path, sizeof(f->path), "%s/clusters.json", f->dir);

	cfg_defaults(f->cfg);
	assert_int_equal(util_strlcpy_checked(f->cfg->file_path, f->path,
	    sizeof(f->cfg->file_path)), 0);
	assert_int_equal(util_strlcpy_checked(f->cfg->admins[0], ADMIN,
	    sizeof(f->cfg->admins[0])), 0);
	f->cfg->nadmins = 1;
	f->cfg->retry_after_seconds = RETRY_AFTER;
	errors_clear(&e);
	if (store_open(&f->store, f->cfg, &e) == -1)
		fail_msg("store_open: %s", e.msg);
	fake_now = NOW;
	*state = f;
	return 0;
}

static void
unlink_in(const struct fixture *f, const char *suffix)
{
	char	p[PATH_MAX];

	(void)snprintf(p, sizeof(p), "%s%s", f->path, suffix);
	(void)unlink(p);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	buf_free(&f->resp.body);
	json_object_put(f->json);
	json_object_put(f->list);
	store_close(&f->store);
	unlink_in(f, "");
	unlink_in(f, ".lock");
	unlink_in(f, ".tmp");
	(void)rmdir(f->dir);
	free(f->cfg);
	free(f);
	return 0;
}

/* ---- requests ---------------------------------------------------------- */

/* Runs q through the router; the response is in f->resp until the next
 * request.  Returns the status. */
static int
run(struct fixture *f, const struct req *q)
{
	struct http_request	r;
	char			*body = NULL;
	size_t			 len = 0;

	buf_free(&f->resp.body);
	memset(&f->resp, 0, sizeof(f->resp));
	memset(&r, 0, sizeof(r));
	r.method = q->method;
	r.path = q->path;
	r.query = q->query != NULL ? q->query : "";
	r.accept = q->accept != NULL ? q->accept : "";
	r.remote_user = q->remote_user != NULL ? q->remote_user : "";
	r.content_type = q->body != NULL ? FORM : "";
	(void)snprintf(r.request_id, sizeof(r.request_id), "req-%s",
	    q->path + 1);
	if (q->body != NULL) {
		len = strlen(q->body);
		body = strdup(q->body);
		assert_non_null(body);
		r.body = body;
	}
	r.bodylen = q->bodylen != 0 ? q->bodylen : len;
	router_handle(f->cfg, &f->store, &r, fake_clock, &f->resp);
	free(body);
	assert_int_equal(f->resp.body.failed, 0);
	return f->resp.status;
}

static int
get(struct fixture *f, const char *path, const char *query)
{
	struct req	q = { HTTP_GET, path, query, NULL, NULL, NULL, 0 };

	return run(f, &q);
}

static int
get_as(struct fixture *f, const char *user, const char *path,
    const char *query)
{
	struct req	q = { HTTP_GET, path, query, NULL, user, NULL, 0 };

	return run(f, &q);
}

static int
post_as(struct fixture *f, const char *user, const char *path,
    const char *body)
{
	struct req	q = { HTTP_POST, path, NULL, body, user, NULL, 0 };

	return run(f, &q);
}

static int
admin(struct fixture *f, const char *path, const char *body)
{
	return post_as(f, ADMIN, path, body);
}

/* The body of the last response as a string ("" when empty). */
static const char *
body(const struct fixture *f)
{
	return f->resp.body.data != NULL ? f->resp.body.data : "";
}

/* Adds a vacant cluster through the admin verb. */
static void
add(struct fixture *f, const char *name, const char *purpose,
    const char *os)
{
	char	b[256];

	if (os != NULL)
		(void)snprintf(b, sizeof(b), "cluster=%s&purpose=%s&os=%s",
		    name, purpose, os);
	else
		(void)snprintf(b, sizeof(b), "cluster=%s&purpose=%s", name,
		    purpose);
	if (admin(f, "/add", b) != 200)
		fail_msg("add %s: %d %s", name, f->resp.status, body(f));
}

/* getvacant for (job, build) in the default purpose; returns the status. */
static int
getvacant(struct fixture *f, const char *job, const char *build)
{
	char	q[256];

	(void)snprintf(q, sizeof(q), "build=%s&job=%s", build, job);
	return get(f, "/getvacant", q);
}

/* Asserts the last response is a text error: status, exactly one line
 * "error: code: message\n". */
static void
assert_text_error(const struct fixture *f, int status, const char *code)
{
	const char	*b = body(f);
	char		 prefix[64];

	if (f->resp.status != status)
		fail_msg("status %d, not %d: %s", f->resp.status, status, b);
	assert_int_equal(f->resp.format, HTTP_FMT_TEXT);
	(void)snprintf(prefix, sizeof(prefix), "error: %s: ", code);
	if (strncmp(b, prefix, strlen(prefix)) != 0)
		fail_msg("body \"%s\" does not start with \"%s\"", b, prefix);
	assert_true(strlen(b) > strlen(prefix) + 1);	/* a message */
	assert_int_equal(b[strlen(b) - 1], '\n');
	assert_ptr_equal(strchr(b, '\n'), b + strlen(b) - 1);
}

/* Parses the last body as JSON (owned by f). */
static struct json_object *
parse(struct fixture *f)
{
	json_object_put(f->json);
	f->json = json_tokener_parse(body(f));
	if (f->json == NULL)
		fail_msg("body is not JSON: %s", body(f));
	return f->json;
}

static struct json_object *
member(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no key %s in %s", key, json_object_to_json_string(o));
	return v;
}

static const char *
member_str(struct json_object *o, const char *key)
{
	return json_object_get_string(member(o, key));
}

/* Asserts the last response is a JSON error with status and code. */
static void
assert_json_error(struct fixture *f, int status, const char *code)
{
	struct json_object	*err;

	assert_int_equal(f->resp.status, status);
	assert_int_equal(f->resp.format, HTTP_FMT_JSON);
	err = member(parse(f), "error");
	assert_string_equal(member_str(err, "code"), code);
	assert_true(strlen(member_str(err, "message")) > 0);
}

/*
 * Field key of cluster name as the JSON list shows it (a fresh GET, as a
 * user would check); NULL when there is no such cluster.  Borrowed until
 * the next call.
 */
static const char *
field(struct fixture *f, const char *name, const char *key)
{
	struct json_object	*arr;
	size_t			 i;

	assert_int_equal(get(f, "/clusters", "format=json"), 200);
	json_object_put(f->list);
	f->list = json_tokener_parse(body(f));
	assert_non_null(f->list);
	arr = member(f->list, "clusters");
	for (i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *c = json_object_array_get_idx(arr, i);

		if (strcmp(member_str(c, "name"), name) == 0)
			return member_str(c, key);
	}
	return NULL;
}

static void
assert_status_of(struct fixture *f, const char *name, const char *status)
{
	const char	*s = field(f, name, "status");

	if (s == NULL)
		fail_msg("no cluster %s", name);
	if (strcmp(s, status) != 0)
		fail_msg("cluster %s is %s, not %s", name, s, status);
}

static void
time_str(time_t t, char *dst)
{
	util_time_fmt(t, dst, UTIL_TIME_MAX);
}

/* The whole store file, for byte-for-byte comparisons; caller frees. */
static char *
slurp(const char *path, size_t *len)
{
	struct buf	 b = { 0 };
	char		 chunk[4096];
	ssize_t		 n;
	int		 fd;

	fd = open(path, O_RDONLY);
	assert_true(fd != -1);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		assert_int_equal(buf_append(&b, chunk, (size_t)n), 0);
	assert_int_equal(n, 0);
	(void)close(fd);
	*len = b.len;
	if (b.data == NULL)
		return strdup("");
	return b.data;
}

/* ---- admin verbs: add, identity, methods ------------------------------- */

static void
test_add_by_an_admin_creates_a_vacant_cluster_in_the_store(void **state)
{
	struct fixture		*f = *state;
	struct json_object	*doc, *kind;
	char			 since[UTIL_TIME_MAX];

	assert_int_equal(admin(f, "/add",
	    "cluster=tess-ci-01&purpose=tess-ci&os=ubuntu-22.04"), 200);
	assert_int_equal(f->resp.format, HTTP_FMT_TEXT);
	assert_string_equal(body(f),
	    "tess-ci-01 vacant tess-ci ubuntu-22.04 - - - -\n");
	assert_status_of(f, "tess-ci-01", "vacant");
	assert_string_equal(field(f, "tess-ci-01", "purpose"), "tess-ci");
	assert_string_equal(field(f, "tess-ci-01", "osImage"), "ubuntu-22.04");
	time_str(NOW, since);
	assert_string_equal(field(f, "tess-ci-01", "since"), since);

	/* The file is a ConfigMap manifest a kubectl could load. */
	doc = json_object_from_file(f->path);
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "kind", &kind));
	assert_string_equal(json_object_get_string(kind), "ConfigMap");
	json_object_put(doc);
}

static void
test_add_of_an_existing_cluster_is_409_exists(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(admin(f, "/add", "cluster=c1&purpose=other"), 409);
	assert_text_error(f, 409, "exists");
	assert_string_equal(field(f, "c1", "purpose"), "tess-ci");
}

static void
test_add_without_purpose_is_400_bad_param_naming_it(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(admin(f, "/add", "cluster=c1"), 400);
	assert_text_error(f, 400, "bad_param");
	assert_non_null(strstr(body(f), "purpose"));
	assert_null(field(f, "c1", "status"));
}

static void
test_admin_verbs_refuse_get_with_405_and_allow_post(void **state)
{
	static const char *const paths[] = {
		"/add", "/delete", "/disable", "/enable",
	};
	struct fixture	*f = *state;
	struct req	 q;
	size_t		 i;

	add(f, "c1", "tess-ci", NULL);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_int_equal(get_as(f, ADMIN, paths[i],
		    "cluster=c1&purpose=tess-ci"), 405);
		assert_text_error(f, 405, "method_not_allowed");
		assert_non_null(f->resp.allow);
		assert_string_equal(f->resp.allow, "POST");

		memset(&q, 0, sizeof(q));
		q.method = HTTP_HEAD;
		q.path = paths[i];
		q.query = "cluster=c1";
		q.remote_user = ADMIN;
		assert_int_equal(run(f, &q), 405);
		assert_string_equal(f->resp.allow, "POST");
	}
	/* Nothing happened to the cluster. */
	assert_status_of(f, "c1", "vacant");
}

static void
test_admin_verbs_refuse_a_non_admin_with_403_not_admin(void **state)
{
	static const char *const paths[] = {
		"/add", "/delete", "/disable", "/enable",
	};
	struct fixture	*f = *state;
	size_t		 i;

	add(f, "c1", "tess-ci", NULL);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_int_equal(post_as(f, "bob", paths[i],
		    "cluster=c1&purpose=tess-ci"), 403);
		assert_text_error(f, 403, "not_admin");
		assert_non_null(strstr(body(f), "bob"));
		assert_null(f->resp.allow);
	}
	assert_status_of(f, "c1", "vacant");
}

static void
test_admin_verbs_refuse_a_caller_without_remote_user(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(post_as(f, NULL, "/add",
	    "cluster=c1&purpose=tess-ci"), 403);
	assert_text_error(f, 403, "not_admin");
	assert_null(field(f, "c1", "status"));
}

static void
test_the_user_parameter_gives_no_admin_rights(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(post_as(f, NULL, "/add",
	    "cluster=c1&purpose=tess-ci&user=" ADMIN), 403);
	assert_text_error(f, 403, "not_admin");
	assert_int_equal(post_as(f, "bob", "/add",
	    "cluster=c1&purpose=tess-ci&user=" ADMIN), 403);
	assert_text_error(f, 403, "not_admin");
	assert_null(field(f, "c1", "status"));
}

static void
test_other_methods_are_405_with_the_routes_methods(void **state)
{
	struct fixture	*f = *state;
	struct req	 q;

	memset(&q, 0, sizeof(q));
	q.method = HTTP_OTHER;
	q.path = "/getvacant";
	q.query = "build=1&job=j";
	assert_int_equal(run(f, &q), 405);
	assert_text_error(f, 405, "method_not_allowed");
	assert_string_equal(f->resp.allow, "GET, POST");

	q.method = HTTP_POST;
	q.path = "/healthz";
	q.query = "";
	assert_int_equal(run(f, &q), 405);
	assert_string_equal(f->resp.allow, "GET, HEAD");
}

/*
 * The contract lists GET and POST for the CI verbs.  A HEAD (curl -I, a
 * link checker, a monitoring probe) gets no body, so it must not take a
 * cluster that nobody will ever learn the name of, or hold, or free one.
 */
static void
test_head_on_a_verb_changes_nothing(void **state)
{
	static const char *const verbs[][2] = {
		{ "/getvacant", "build=1&job=j" },
		{ "/hold", "cluster=c2&user=dev" },
		{ "/finish", "cluster=c3" },
	};
	struct fixture	*f = *state;
	struct req	 q;
	size_t		 i;

	add(f, "c1", "tess-ci", NULL);
	add(f, "c2", "other", NULL);
	add(f, "c3", "third", NULL);
	assert_int_equal(get(f, "/getvacant", "build=9&job=j&purpose=third"),
	    200);
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		memset(&q, 0, sizeof(q));
		q.method = HTTP_HEAD;
		q.path = verbs[i][0];
		q.query = verbs[i][1];
		(void)run(f, &q);
	}
	assert_status_of(f, "c1", "vacant");
	assert_status_of(f, "c2", "vacant");
	assert_status_of(f, "c3", "occupied");
}

/* ---- getvacant --------------------------------------------------------- */

static void
test_getvacant_answers_the_name_and_a_newline_only(void **state)
{
	struct fixture	*f = *state;
	char		 since[UTIL_TIME_MAX];

	add(f, "tess-ci-01", "tess-ci", NULL);
	fake_now = NOW + 60;
	assert_int_equal(getvacant(f, "e2e-k8s-1.32", "123"), 200);
	assert_int_equal(f->resp.format, HTTP_FMT_TEXT);
	assert_string_equal(body(f), "tess-ci-01\n");
	assert_int_equal(f->resp.retry_after, 0);
	assert_status_of(f, "tess-ci-01", "occupied");
	assert_string_equal(field(f, "tess-ci-01", "build"), "123");
	assert_string_equal(field(f, "tess-ci-01", "job"), "e2e-k8s-1.32");
	time_str(NOW + 60, since);
	assert_string_equal(field(f, "tess-ci-01", "since"), since);
}

static void
test_getvacant_is_idempotent_per_job_and_build(void **state)
{
	struct fixture	*f = *state;
	char		*before, *after;
	size_t		 blen, alen;

	add(f, "c1", "tess-ci", NULL);
	add(f, "c2", "tess-ci", NULL);
	assert_int_equal(getvacant(f, "j", "1"), 200);
	assert_string_equal(body(f), "c1\n");
	before = slurp(f->path, &blen);

	/* The CI retry after a timeout gets the same cluster back... */
	fake_now += 30;
	assert_int_equal(getvacant(f, "j", "1"), 200);
	assert_string_equal(body(f), "c1\n");
	/* ...and nothing changed: no second cluster, no new write. */
	after = slurp(f->path, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	assert_status_of(f, "c2", "vacant");
	free(before);
	free(after);

	/* Another build of the same job is another caller. */
	assert_int_equal(getvacant(f, "j", "2"), 200);
	assert_string_equal(body(f), "c2\n");
	/* The same build of another job too. */
	assert_int_equal(getvacant(f, "k", "1"), 503);
	assert_text_error(f, 503, "no_vacant_cluster");
}

static void
test_getvacant_never_gives_one_cluster_to_two_callers(void **state)
{
	struct fixture	*f = *state;
	char		 got[3][64];
	int		 i;

	add(f, "c1", "tess-ci", NULL);
	add(f, "c2", "tess-ci", NULL);
	add(f, "c3", "tess-ci", NULL);
	for (i = 0; i < 3; i++) {
		char	b[8];

		(void)snprintf(b, sizeof(b), "%d", i);
		assert_int_equal(getvacant(f, "j", b), 200);
		assert_int_equal(util_strlcpy_checked(got[i], body(f),
		    sizeof(got[i])), 0);
	}
	assert_string_not_equal(got[0], got[1]);
	assert_string_not_equal(got[0], got[2]);
	assert_string_not_equal(got[1], got[2]);
	assert_int_equal(getvacant(f, "j", "3"), 503);
}

static void
test_getvacant_of_an_unknown_purpose_is_404_no_such_purpose(
    void **state)
{
	struct fixture	*f = *state;

	/* An empty store has no purpose at all. */
	assert_int_equal(getvacant(f, "j", "1"), 404);
	assert_text_error(f, 404, "no_such_purpose");
	assert_int_equal(f->resp.retry_after, 0);

	add(f, "c1", "tess-ci", "ubuntu");
	assert_int_equal(get(f, "/getvacant", "build=1&job=j&purpose=gpu"),
	    404);
	assert_text_error(f, 404, "no_such_purpose");
	assert_non_null(strstr(body(f), "gpu"));
	assert_int_equal(get(f, "/getvacant",
	    "build=1&job=j&purpose=tess-ci&os=rhel9"), 404);
	assert_text_error(f, 404, "no_such_purpose");
	assert_status_of(f, "c1", "vacant");
}

static void
test_getvacant_with_none_vacant_is_503_with_retry_after(void **state)
{
	struct fixture	*f = *state;
	struct req	 q;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(getvacant(f, "j", "1"), 200);
	assert_int_equal(getvacant(f, "j", "2"), 503);
	assert_text_error(f, 503, "no_vacant_cluster");
	assert_int_equal(f->resp.retry_after, RETRY_AFTER);

	memset(&q, 0, sizeof(q));
	q.method = HTTP_GET;
	q.path = "/getvacant";
	q.query = "build=2&job=j";
	q.accept = "application/json";
	assert_int_equal(run(f, &q), 503);
	assert_json_error(f, 503, "no_vacant_cluster");
	assert_int_equal(f->resp.retry_after, RETRY_AFTER);
}

static void
test_getvacant_uses_the_configured_default_purpose(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(util_strlcpy_checked(f->cfg->default_purpose, "gpu",
	    sizeof(f->cfg->default_purpose)), 0);
	add(f, "c1", "tess-ci", NULL);
	add(f, "g1", "gpu", NULL);
	assert_int_equal(getvacant(f, "j", "1"), 200);
	assert_string_equal(body(f), "g1\n");
	assert_int_equal(get(f, "/getvacant", "build=2&job=j&purpose=tess-ci"),
	    200);
	assert_string_equal(body(f), "c1\n");
}

static void
test_getvacant_honours_the_os_image(void **state)
{
	struct fixture	*f = *state;

	add(f, "u1", "tess-ci", "ubuntu");
	add(f, "r1", "tess-ci", "rhel9");
	assert_int_equal(get(f, "/getvacant", "build=1&job=j&os=rhel9"), 200);
	assert_string_equal(body(f), "r1\n");
	assert_int_equal(get(f, "/getvacant", "build=2&job=j&os=rhel9"), 503);
	assert_text_error(f, 503, "no_vacant_cluster");
}

static void
test_getvacant_never_allocates_a_disabled_cluster(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(admin(f, "/disable", "cluster=c1&reason=broken"),
	    200);
	/* It exists, so the purpose exists: 503, not 404. */
	assert_int_equal(getvacant(f, "j", "1"), 503);
	assert_text_error(f, 503, "no_vacant_cluster");
	assert_status_of(f, "c1", "disabled");
	assert_int_equal(admin(f, "/enable", "cluster=c1"), 200);
	assert_int_equal(getvacant(f, "j", "1"), 200);
	assert_string_equal(body(f), "c1\n");
}

static void
test_getvacant_without_build_or_job_is_400_naming_it(
    void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(get(f, "/getvacant", "job=j"), 400);
	assert_text_error(f, 400, "bad_param");
	assert_non_null(strstr(body(f), "build"));
	assert_int_equal(get(f, "/getvacant", "build=1"), 400);
	assert_text_error(f, 400, "bad_param");
	assert_non_null(strstr(body(f), "job"));
	assert_int_equal(get(f, "/getvacant", "build=&job=j"), 400);
	assert_non_null(strstr(body(f), "build"));
	assert_int_equal(get(f, "/getvacant", "build=1&job=a%0Ab"), 400);
	assert_non_null(strstr(body(f), "job"));
	assert_status_of(f, "c1", "vacant");
}

static void
test_getvacant_accepts_post_with_a_form_body(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(post_as(f, NULL, "/getvacant", "build=7&job=j+x"),
	    200);
	assert_string_equal(body(f), "c1\n");
	assert_string_equal(field(f, "c1", "job"), "j x");
}

/* ---- finish ------------------------------------------------------------ */

static void
test_finish_makes_an_occupied_cluster_vacant_again(
    void **state)
{
	struct fixture	*f = *state;
	char		 since[UTIL_TIME_MAX];

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(getvacant(f, "j", "1"), 200);
	fake_now = NOW + HOUR;
	assert_int_equal(get(f, "/finish", "cluster=c1&build=1"), 200);
	assert_string_equal(body(f), "c1 vacant tess-ci - - - - -\n");
	assert_status_of(f, "c1", "vacant");
	assert_string_equal(field(f, "c1", "build"), "");
	assert_string_equal(field(f, "c1", "job"), "");
	time_str(NOW + HOUR, since);
	assert_string_equal(field(f, "c1", "since"), since);
	/* Vacant again: the next job gets it. */
	assert_int_equal(getvacant(f, "j", "2"), 200);
	assert_string_equal(body(f), "c1\n");
}

static void
test_finish_without_build_returns_any_occupied_cluster(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(getvacant(f, "j", "1"), 200);
	assert_int_equal(get(f, "/finish", "cluster=c1"), 200);
	assert_status_of(f, "c1", "vacant");
}

static void
test_finish_of_a_held_cluster_is_200_and_it_stays_held(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(getvacant(f, "j", "1"), 200);
	assert_int_equal(get(f, "/hold", "cluster=c1&user=dev"), 200);
	assert_int_equal(get(f, "/finish", "cluster=c1&build=1"), 200);
	assert_status_of(f, "c1", "held");
	assert_string_equal(field(f, "c1", "user"), "dev");
}

static void
test_finish_of_a_vacant_cluster_is_200_every_time(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(get(f, "/finish", "cluster=c1"), 200);
	assert_int_equal(get(f, "/finish", "cluster=c1&build=9"), 200);
	assert_status_of(f, "c1", "vacant");
	assert_int_equal(getvacant(f, "j", "1"), 200);
	assert_int_equal(get(f, "/finish", "cluster=c1&build=1"), 200);
	/* A retried finish must not fail the job. */
	assert_int_equal(get(f, "/finish", "cluster=c1&build=1"), 200);
	assert_status_of(f, "c1", "vacant");
}

static void
test_finish_by_another_build_is_409_not_owner(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(getvacant(f, "j", "1"), 200);
	assert_int_equal(get(f, "/finish", "cluster=c1&build=2"), 409);
	assert_text_error(f, 409, "not_owner");
	assert_status_of(f, "c1", "occupied");
	assert_string_equal(field(f, "c1", "build"), "1");
}

static void
test_finish_of_an_unknown_cluster_is_404_no_such_cluster(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(get(f, "/finish", "cluster=nope"), 404);
	assert_text_error(f, 404, "no_such_cluster");
	assert_non_null(strstr(body(f), "nope"));
}

/* ---- hold -------------------------------------------------------------- */

static void
test_hold_of_a_vacant_cluster_records_user_until_and_reason(void **state)
{
	struct fixture	*f = *state;
	char		 until[UTIL_TIME_MAX];

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(get(f, "/hold",
	    "cluster=c1&user=dev&hours=2&reason=etcd+flakes"), 200);
	time_str(NOW + 2 * HOUR, until);
	assert_status_of(f, "c1", "held");
	assert_string_equal(field(f, "c1", "user"), "dev");
	assert_string_equal(field(f, "c1", "holdUntil"), until);
	assert_string_equal(field(f, "c1", "reason"), "etcd flakes");
	/* A held cluster is not allocated. */
	assert_int_equal(getvacant(f, "j", "1"), 503);
}

static void
test_hold_of_an_occupied_cluster_makes_it_held(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(getvacant(f, "j", "1"), 200);
	assert_int_equal(get(f, "/hold", "cluster=c1&user=dev"), 200);
	assert_status_of(f, "c1", "held");
	assert_string_equal(field(f, "c1", "user"), "dev");
}

static void
test_hold_lasts_the_configured_hours_by_default(void **state)
{
	struct fixture	*f = *state;
	char		 until[UTIL_TIME_MAX];

	f->cfg->hold_hours = 5;
	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(get(f, "/hold", "cluster=c1&user=dev"), 200);
	time_str(NOW + 5 * HOUR, until);
	assert_string_equal(field(f, "c1", "holdUntil"), until);
}

static void
test_hold_by_the_same_user_extends_the_hold(void **state)
{
	struct fixture	*f = *state;
	char		 until[UTIL_TIME_MAX];

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(get(f, "/hold", "cluster=c1&user=dev&hours=1"), 200);
	fake_now = NOW + HOUR / 2;
	assert_int_equal(get(f, "/hold", "cluster=c1&user=dev&hours=4"), 200);
	time_str(NOW + HOUR / 2 + 4 * HOUR, until);
	assert_status_of(f, "c1", "held");
	assert_string_equal(field(f, "c1", "holdUntil"), until);
}

static void
test_hold_of_another_users_hold_is_409_naming_holder_and_end(
    void **state)
{
	struct fixture	*f = *state;
	char		 until[UTIL_TIME_MAX];

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(get(f, "/hold", "cluster=c1&user=dev&hours=3"), 200);
	assert_int_equal(get(f, "/hold", "cluster=c1&user=eve"), 409);
	assert_text_error(f, 409, "held_by_other");
	time_str(NOW + 3 * HOUR, until);
	assert_non_null(strstr(body(f), "dev"));
	assert_non_null(strstr(body(f), until));
	assert_string_equal(field(f, "c1", "user"), "dev");
}

static void
test_hold_of_a_disabled_cluster_is_409_disabled(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(admin(f, "/disable", "cluster=c1"), 200);
	assert_int_equal(get(f, "/hold", "cluster=c1&user=dev"), 409);
	assert_text_error(f, 409, "disabled");
	assert_status_of(f, "c1", "disabled");
}

static void
test_hold_above_the_maximum_hours_is_400_bad_param(void **state)
{
	struct fixture	*f = *state;

	f->cfg->max_hold_hours = 10;
	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(get(f, "/hold", "cluster=c1&user=dev&hours=11"), 400);
	assert_text_error(f, 400, "bad_param");
	assert_non_null(strstr(body(f), "hours"));
	assert_int_equal(get(f, "/hold", "cluster=c1&user=dev&hours=0"), 400);
	assert_text_error(f, 400, "bad_param");
	assert_status_of(f, "c1", "vacant");
	assert_int_equal(get(f, "/hold", "cluster=c1&user=dev&hours=10"), 200);
	assert_status_of(f, "c1", "held");
}

static void
test_hold_without_user_or_remote_user_is_400_bad_param(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(get(f, "/hold", "cluster=c1"), 400);
	assert_text_error(f, 400, "bad_param");
	assert_non_null(strstr(body(f), "user"));
	assert_status_of(f, "c1", "vacant");
}

static void
test_remote_user_wins_over_the_user_parameter(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(get_as(f, "bob", "/hold", "cluster=c1&user=mallory"),
	    200);
	assert_string_equal(field(f, "c1", "user"), "bob");
	/* Naming the holder in user= does not make mallory the holder. */
	assert_int_equal(get_as(f, "mallory", "/release",
	    "cluster=c1&user=bob"), 403);
	assert_text_error(f, 403, "not_holder");
	/* An authenticated caller needs no user= at all. */
	assert_int_equal(get_as(f, "bob", "/release", "cluster=c1"), 200);
	assert_status_of(f, "c1", "vacant");
}

/* ---- release ----------------------------------------------------------- */

static void
test_release_by_the_holder_makes_the_cluster_vacant(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(get(f, "/hold", "cluster=c1&user=dev&reason=x"), 200);
	fake_now = NOW + 60;
	assert_int_equal(get(f, "/release", "cluster=c1&user=dev"), 200);
	assert_status_of(f, "c1", "vacant");
	assert_string_equal(field(f, "c1", "user"), "");
	assert_string_equal(field(f, "c1", "holdUntil"), "");
	assert_string_equal(field(f, "c1", "reason"), "");
	assert_int_equal(getvacant(f, "j", "1"), 200);
}

static void
test_release_by_an_admin_makes_the_cluster_vacant(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(get(f, "/hold", "cluster=c1&user=dev"), 200);
	assert_int_equal(post_as(f, ADMIN, "/release", "cluster=c1"), 200);
	assert_status_of(f, "c1", "vacant");
}

static void
test_release_by_someone_else_is_403_not_holder(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(get(f, "/hold", "cluster=c1&user=dev"), 200);
	assert_int_equal(get(f, "/release", "cluster=c1&user=eve"), 403);
	assert_text_error(f, 403, "not_holder");
	/* Typing an admin's name is not being one. */
	assert_int_equal(get(f, "/release", "cluster=c1&user=" ADMIN), 403);
	assert_text_error(f, 403, "not_holder");
	assert_status_of(f, "c1", "held");
}

static void
test_release_of_a_cluster_not_held_is_409_not_held(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(get(f, "/release", "cluster=c1&user=dev"), 409);
	assert_text_error(f, 409, "not_held");
	assert_int_equal(getvacant(f, "j", "1"), 200);
	assert_int_equal(get_as(f, ADMIN, "/release", "cluster=c1"), 409);
	assert_text_error(f, 409, "not_held");
	assert_status_of(f, "c1", "occupied");
}

/* ---- disable, enable, delete ------------------------------------------- */

static void
test_disable_takes_any_cluster_out_of_allocation(void **state)
{
	struct fixture	*f = *state;

	add(f, "v", "tess-ci", NULL);
	add(f, "o", "tess-ci", NULL);
	add(f, "h", "tess-ci", NULL);
	add(f, "d", "tess-ci", NULL);
	assert_int_equal(get(f, "/hold", "cluster=h&user=dev"), 200);
	assert_int_equal(getvacant(f, "j", "1"), 200);
	assert_string_equal(body(f), "v\n");
	assert_int_equal(admin(f, "/disable", "cluster=d"), 200);
	assert_int_equal(admin(f, "/disable", "cluster=v&reason=bad+disk"),
	    200);
	assert_int_equal(admin(f, "/disable", "cluster=h"), 200);
	assert_int_equal(admin(f, "/disable", "cluster=d"), 200);
	assert_status_of(f, "v", "disabled");
	assert_string_equal(field(f, "v", "reason"), "bad disk");
	assert_string_equal(field(f, "v", "build"), "");
	assert_status_of(f, "h", "disabled");
	assert_status_of(f, "d", "disabled");
	assert_int_equal(getvacant(f, "j", "2"), 200);
	assert_string_equal(body(f), "o\n");
	assert_int_equal(admin(f, "/disable", "cluster=o"), 200);
	assert_status_of(f, "o", "disabled");
	assert_int_equal(getvacant(f, "j", "3"), 503);
}

static void
test_enable_makes_a_disabled_cluster_vacant(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(admin(f, "/disable", "cluster=c1&reason=x"), 200);
	fake_now = NOW + HOUR;
	assert_int_equal(admin(f, "/enable", "cluster=c1"), 200);
	assert_status_of(f, "c1", "vacant");
	assert_string_equal(field(f, "c1", "reason"), "");
	assert_int_equal(getvacant(f, "j", "1"), 200);
	assert_string_equal(body(f), "c1\n");
}

static void
test_delete_removes_a_vacant_or_disabled_cluster(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	add(f, "c2", "tess-ci", NULL);
	assert_int_equal(admin(f, "/delete", "cluster=c1"), 200);
	assert_null(field(f, "c1", "status"));
	assert_int_equal(admin(f, "/disable", "cluster=c2"), 200);
	assert_int_equal(admin(f, "/delete", "cluster=c2"), 200);
	assert_null(field(f, "c2", "status"));
	assert_int_equal(get(f, "/finish", "cluster=c1"), 404);
	assert_text_error(f, 404, "no_such_cluster");
	/* The purpose is gone with its last cluster. */
	assert_int_equal(getvacant(f, "j", "1"), 404);
	assert_text_error(f, 404, "no_such_purpose");
}

static void
test_delete_of_a_cluster_in_use_is_409_in_use_unless_forced(void **state)
{
	struct fixture	*f = *state;

	add(f, "o", "tess-ci", NULL);
	add(f, "h", "tess-ci", NULL);
	assert_int_equal(getvacant(f, "j", "1"), 200);
	assert_string_equal(body(f), "o\n");
	assert_int_equal(get(f, "/hold", "cluster=h&user=dev"), 200);

	assert_int_equal(admin(f, "/delete", "cluster=o"), 409);
	assert_text_error(f, 409, "in_use");
	assert_int_equal(admin(f, "/delete", "cluster=h&force=0"), 409);
	assert_text_error(f, 409, "in_use");
	assert_status_of(f, "o", "occupied");
	assert_status_of(f, "h", "held");

	assert_int_equal(admin(f, "/delete", "cluster=o&force=1"), 200);
	assert_int_equal(admin(f, "/delete", "cluster=h&force=1"), 200);
	assert_null(field(f, "o", "status"));
	assert_null(field(f, "h", "status"));
}

static void
test_every_verb_on_an_unknown_cluster_is_404_no_such_cluster(void **state)
{
	static const char *const ci[] = { "/finish", "/hold", "/release" };
	static const char *const adm[] = { "/delete", "/disable", "/enable" };
	struct fixture	*f = *state;
	size_t		 i;

	add(f, "c1", "tess-ci", NULL);
	for (i = 0; i < sizeof(ci) / sizeof(ci[0]); i++) {
		assert_int_equal(get(f, ci[i], "cluster=c9&user=dev"), 404);
		assert_text_error(f, 404, "no_such_cluster");
	}
	for (i = 0; i < sizeof(adm) / sizeof(adm[0]); i++) {
		assert_int_equal(admin(f, adm[i], "cluster=c9"), 404);
		assert_text_error(f, 404, "no_such_cluster");
	}
}

/* ---- paths, health, formats -------------------------------------------- */

static void
test_an_unknown_path_is_404_not_found(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(get(f, "/nope", ""), 404);
	assert_text_error(f, 404, "not_found");
	assert_int_equal(get(f, "/getvacant/", "build=1&job=j"), 404);
	assert_text_error(f, 404, "not_found");
	assert_int_equal(get(f, "/GETVACANT", "build=1&job=j"), 404);
	assert_text_error(f, 404, "not_found");
}

static void
test_healthz_answers_200(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(get(f, "/healthz", ""), 200);
	assert_string_equal(body(f), "ok\n");
	assert_int_equal(get(f, "/healthz", "format=json"), 200);
	assert_string_equal(member_str(parse(f), "status"), "ok");
}

static void
test_readyz_is_200_when_the_store_answers(void **state)
{
	struct fixture	*f = *state;

	/* No file yet is an empty store, which answers. */
	assert_int_equal(get(f, "/readyz", ""), 200);
	assert_string_equal(body(f), "ready\n");
	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(get(f, "/readyz", "format=json"), 200);
	assert_string_equal(member_str(parse(f), "status"), "ready");
}

static void
test_readyz_is_503_with_a_corrupt_store_left_byte_for_byte(void **state)
{
	static const char	 garbage[] =
	    "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metad";
	struct fixture		*f = *state;
	struct stat		 st;
	char			*after, tmp[PATH_MAX];
	size_t			 alen;
	int			 fd;

	fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd != -1);
	assert_int_equal(write(fd, garbage, sizeof(garbage) - 1),
	    (ssize_t)(sizeof(garbage) - 1));
	(void)close(fd);

	assert_int_equal(get(f, "/readyz", ""), 503);
	assert_text_error(f, 503, "store_error");
	assert_int_equal(get(f, "/readyz", "format=json"), 503);
	assert_json_error(f, 503, "store_error");
	assert_int_equal(get(f, "/healthz", ""), 200);

	/* Writers fail too, and none of them overwrites the file. */
	assert_int_equal(getvacant(f, "j", "1"), 500);
	assert_text_error(f, 500, "store_error");
	assert_int_equal(admin(f, "/add", "cluster=c1&purpose=tess-ci"), 500);
	assert_text_error(f, 500, "store_error");
	assert_int_equal(get(f, "/clusters", ""), 500);
	assert_text_error(f, 500, "store_error");

	after = slurp(f->path, &alen);
	assert_int_equal(alen, sizeof(garbage) - 1);
	assert_memory_equal(after, garbage, alen);
	free(after);
	(void)snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	assert_int_equal(stat(tmp, &st), -1);
}

static void
test_the_list_is_html_for_a_browser(void **state)
{
	struct fixture	*f = *state;
	struct req	 q;

	add(f, "tess-ci-01", "tess-ci", NULL);
	memset(&q, 0, sizeof(q));
	q.method = HTTP_GET;
	q.path = "/";
	q.accept = BROWSER;
	assert_int_equal(run(f, &q), 200);
	assert_int_equal(f->resp.format, HTTP_FMT_HTML);
	assert_non_null(strstr(body(f), "<table"));
	assert_non_null(strstr(body(f), "tess-ci-01"));
	q.path = "/clusters";
	assert_int_equal(run(f, &q), 200);
	assert_int_equal(f->resp.format, HTTP_FMT_HTML);
	assert_non_null(strstr(body(f), "</html>"));
}

static void
test_verbs_answer_text_even_to_a_browser(void **state)
{
	struct fixture	*f = *state;
	struct req	 q;

	add(f, "c1", "tess-ci", NULL);
	memset(&q, 0, sizeof(q));
	q.method = HTTP_GET;
	q.path = "/getvacant";
	q.query = "build=1&job=j";
	q.accept = BROWSER;
	assert_int_equal(run(f, &q), 200);
	assert_int_equal(f->resp.format, HTTP_FMT_TEXT);
	assert_string_equal(body(f), "c1\n");

	q.query = "build=2&job=j";
	assert_int_equal(run(f, &q), 503);
	assert_text_error(f, 503, "no_vacant_cluster");

	q.path = "/nope";
	assert_int_equal(run(f, &q), 404);
	assert_text_error(f, 404, "not_found");

	q.path = "/healthz";
	q.query = "";
	assert_int_equal(run(f, &q), 200);
	assert_int_equal(f->resp.format, HTTP_FMT_TEXT);
	assert_string_equal(body(f), "ok\n");
}

static void
test_format_json_gives_json_for_verbs_lists_and_errors(void **state)
{
	struct fixture		*f = *state;
	struct json_object	*c, *sum;
	char			 since[UTIL_TIME_MAX];

	add(f, "c1", "tess-ci", NULL);
	add(f, "c2", "tess-ci", NULL);
	assert_int_equal(get(f, "/getvacant", "build=1&job=j&format=json"),
	    200);
	assert_int_equal(f->resp.format, HTTP_FMT_JSON);
	c = member(parse(f), "cluster");
	time_str(NOW, since);
	assert_string_equal(member_str(c, "name"), "c1");
	assert_string_equal(member_str(c, "status"), "occupied");
	assert_string_equal(member_str(c, "build"), "1");
	assert_string_equal(member_str(c, "job"), "j");
	assert_string_equal(member_str(c, "since"), since);
	assert_string_equal(member_str(c, "purpose"), "tess-ci");
	assert_string_equal(member_str(c, "osImage"), "");
	assert_string_equal(member_str(c, "user"), "");
	assert_string_equal(member_str(c, "holdUntil"), "");
	assert_string_equal(member_str(c, "reason"), "");

	assert_int_equal(get(f, "/clusters", "format=json"), 200);
	assert_int_equal(json_object_array_length(member(parse(f),
	    "clusters")), 2);
	sum = member(f->json, "summary");
	assert_int_equal(json_object_get_int(member(sum, "vacant")), 1);
	assert_int_equal(json_object_get_int(member(sum, "occupied")), 1);
	assert_int_equal(json_object_get_int(member(sum, "held")), 0);
	assert_int_equal(json_object_get_int(member(sum, "disabled")), 0);

	assert_int_equal(get(f, "/finish", "cluster=zz&format=json"), 404);
	assert_json_error(f, 404, "no_such_cluster");
	assert_int_equal(get(f, "/nope", "format=json"), 404);
	assert_json_error(f, 404, "not_found");
	assert_int_equal(get(f, "/finish", "cluster=-x&format=json"), 400);
	assert_json_error(f, 400, "bad_param");
}

static void
test_format_json_wins_over_a_browsers_accept(void **state)
{
	struct fixture	*f = *state;
	struct req	 q;

	add(f, "c1", "tess-ci", NULL);
	memset(&q, 0, sizeof(q));
	q.method = HTTP_GET;
	q.path = "/";
	q.query = "format=json";
	q.accept = BROWSER;
	assert_int_equal(run(f, &q), 200);
	assert_int_equal(f->resp.format, HTTP_FMT_JSON);
	assert_int_equal(json_object_array_length(member(parse(f),
	    "clusters")), 1);

	q.query = "format=text";
	assert_int_equal(run(f, &q), 200);
	assert_int_equal(f->resp.format, HTTP_FMT_TEXT);
	assert_string_equal(body(f), "c1 vacant tess-ci - - - - -\n");
}

static void
test_accept_application_json_gives_json(void **state)
{
	struct fixture	*f = *state;
	struct req	 q;

	add(f, "c1", "tess-ci", NULL);
	memset(&q, 0, sizeof(q));
	q.method = HTTP_GET;
	q.path = "/getvacant";
	q.query = "build=1&job=j";
	q.accept = "application/json";
	assert_int_equal(run(f, &q), 200);
	assert_int_equal(f->resp.format, HTTP_FMT_JSON);
	assert_string_equal(member_str(member(parse(f), "cluster"), "name"),
	    "c1");
}

static void
test_a_bad_format_value_is_400_bad_param(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(get(f, "/clusters", "format=xml"), 400);
	assert_text_error(f, 400, "bad_param");
	assert_non_null(strstr(body(f), "format"));
}

static void
test_the_text_list_is_one_line_per_cluster_with_dashes(void **state)
{
	struct fixture	*f = *state;
	char		 want[512], until[UTIL_TIME_MAX];

	add(f, "c1", "tess-ci", "ubuntu");
	add(f, "c2", "tess-ci", NULL);
	add(f, "c3", "gpu", NULL);
	assert_int_equal(getvacant(f, "e2e", "42"), 200);
	assert_int_equal(get(f, "/hold", "cluster=c2&user=dev&hours=1"), 200);
	assert_int_equal(get(f, "/", ""), 200);
	assert_int_equal(f->resp.format, HTTP_FMT_TEXT);
	time_str(NOW + HOUR, until);
	(void)snprintf(want, sizeof(want),
	    "c1 occupied tess-ci ubuntu 42 e2e - -\n"
	    "c2 held tess-ci - - - dev %s\n"
	    "c3 vacant gpu - - - - -\n", until);
	assert_string_equal(body(f), want);
}

static void
test_the_list_filters_by_purpose_status_and_name(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	add(f, "c2", "tess-ci", NULL);
	add(f, "g1", "gpu", NULL);
	assert_int_equal(getvacant(f, "j", "1"), 200);
	assert_int_equal(get(f, "/clusters", "purpose=gpu"), 200);
	assert_string_equal(body(f), "g1 vacant gpu - - - - -\n");
	assert_int_equal(get(f, "/clusters", "status=occupied"), 200);
	assert_string_equal(body(f), "c1 occupied tess-ci - 1 j - -\n");
	assert_int_equal(get(f, "/clusters", "name=c2"), 200);
	assert_string_equal(body(f), "c2 vacant tess-ci - - - - -\n");
	assert_int_equal(get(f, "/clusters",
	    "purpose=tess-ci&status=vacant"), 200);
	assert_string_equal(body(f), "c2 vacant tess-ci - - - - -\n");
	assert_int_equal(get(f, "/clusters", "status=held"), 200);
	assert_string_equal(body(f), "");
	assert_int_equal(get(f, "/clusters", "status=free"), 400);
	assert_text_error(f, 400, "bad_param");
	assert_non_null(strstr(body(f), "status"));
}

/* ---- request handling -------------------------------------------------- */

static void
test_an_oversize_body_is_413(void **state)
{
	struct fixture	*f = *state;
	struct req	 q;
	char		*big;

	add(f, "c1", "tess-ci", NULL);
	/* What the worker passes when it left a huge body unread. */
	memset(&q, 0, sizeof(q));
	q.method = HTTP_POST;
	q.path = "/getvacant";
	q.query = "build=1&job=j";
	q.bodylen = HTTP_BODY_MAX + 1;
	assert_int_equal(run(f, &q), 413);
	assert_text_error(f, 413, "too_large");

	/* A body that was read in full but is over the limit. */
	big = malloc(HTTP_BODY_MAX + 2);
	assert_non_null(big);
	memcpy(big, "build=1&job=", 12);
	memset(big + 12, 'j', HTTP_BODY_MAX + 1 - 12);
	big[HTTP_BODY_MAX + 1] = '\0';
	q.query = "";
	q.body = big;
	assert_int_equal(run(f, &q), 413);
	assert_text_error(f, 413, "too_large");
	free(big);
	assert_status_of(f, "c1", "vacant");
}

static void
test_a_malformed_escape_is_400_bad_param(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(get(f, "/getvacant", "build=1&job=%zz"), 400);
	assert_text_error(f, 400, "bad_param");
	assert_int_equal(get(f, "/finish", "cluster=c1%00"), 400);
	assert_text_error(f, 400, "bad_param");
}

static void
test_a_parameter_in_both_query_and_body_is_400_bad_param(void **state)
{
	struct fixture	*f = *state;
	struct req	 q;

	add(f, "c1", "tess-ci", NULL);
	add(f, "c2", "tess-ci", NULL);
	memset(&q, 0, sizeof(q));
	q.method = HTTP_POST;
	q.path = "/hold";
	q.query = "cluster=c1";
	q.body = "cluster=c2&user=dev";
	assert_int_equal(run(f, &q), 400);
	assert_text_error(f, 400, "bad_param");
	assert_non_null(strstr(body(f), "cluster"));
	assert_status_of(f, "c1", "vacant");
	assert_status_of(f, "c2", "vacant");
}

static void
test_unknown_and_foreign_parameters_are_ignored(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	/* hours and force are not getvacant's: ignored like utm_source. */
	assert_int_equal(get(f, "/getvacant",
	    "build=1&job=j&utm_source=mail&hours=abc&force=maybe"), 200);
	assert_string_equal(body(f), "c1\n");
}

static void
test_a_bad_cluster_name_is_400_bad_param_naming_it(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(admin(f, "/add", "cluster=Tess_CI&purpose=tess-ci"),
	    400);
	assert_text_error(f, 400, "bad_param");
	assert_non_null(strstr(body(f), "cluster"));
	assert_int_equal(get(f, "/clusters", ""), 200);
	assert_string_equal(body(f), "");
}

static void
test_an_insane_remote_user_is_400_bad_param(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(get_as(f, "bo\nb", "/hold", "cluster=c1"), 400);
	assert_text_error(f, 400, "bad_param");
	assert_status_of(f, "c1", "vacant");
}

static void
test_the_state_is_shared_through_the_file(void **state)
{
	struct fixture		*f = *state;
	struct store		 other;
	struct cluster_list	 l = { 0 };
	struct err		 e;

	add(f, "c1", "tess-ci", NULL);
	assert_int_equal(getvacant(f, "j", "1"), 200);
	/* Another worker opening the same file sees the allocation. */
	errors_clear(&e);
	assert_int_equal(store_open(&other, f->cfg, &e), 0);
	assert_int_equal(store_read(&other, &l, &e), 0);
	assert_int_equal(l.len, 1);
	assert_string_equal(l.items[0].name, "c1");
	assert_int_equal(l.items[0].status, CLUSTER_OCCUPIED);
	assert_string_equal(l.items[0].build, "1");
	cluster_list_free(&l);
	store_close(&other);
}

/* Captures what router_handle logs for one request. */
static void
test_the_log_line_carries_the_request_id(void **state)
{
	struct fixture		*f = *state;
	struct http_request	 r;
	char			 logpath[PATH_MAX], *logged;
	size_t			 len;
	int			 fd, saved;

	add(f, "c1", "tess-ci", NULL);
	memset(&r, 0, sizeof(r));
	r.method = HTTP_GET;
	r.path = "/getvacant";
	r.query = "build=1&job=j";
	r.content_type = r.accept = r.remote_user = "";
	(void)snprintf(r.request_id, sizeof(r.request_id),
	    "5f2b9c0e7d1a4b3c8e6f0a1b2c3d4e5f");
	(void)snprintf(logpath, sizeof(logpath), "%s/log", f->dir);
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved != -1);
	assert_int_equal(dup2(fd, 2), 2);
	buf_free(&f->resp.body);
	memset(&f->resp, 0, sizeof(f->resp));
	router_handle(f->cfg, &f->store, &r, fake_clock, &f->resp);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	(void)close(saved);
	(void)close(fd);
	assert_int_equal(f->resp.status, 200);
	logged = slurp(logpath, &len);
	(void)unlink(logpath);
	if (strstr(logged, "5f2b9c0e7d1a4b3c8e6f0a1b2c3d4e5f") == NULL) {
		free(logged);
		fail_msg("the log line lacks the request id");
	}
	assert_non_null(strstr(logged, "/getvacant"));
	assert_non_null(strstr(logged, "200"));
	free(logged);
}

#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_add_by_an_admin_creates_a_vacant_cluster_in_the_store),
		T(test_add_of_an_existing_cluster_is_409_exists),
		T(test_add_without_purpose_is_400_bad_param_naming_it),
		T(test_admin_verbs_refuse_get_with_405_and_allow_post),
		T(test_admin_verbs_refuse_a_non_admin_with_403_not_admin),
		T(test_admin_verbs_refuse_a_caller_without_remote_user),
		T(test_the_user_parameter_gives_no_admin_rights),
		T(test_other_methods_are_405_with_the_routes_methods),
		T(test_head_on_a_verb_changes_nothing),
		T(test_getvacant_answers_the_name_and_a_newline_only),
		T(test_getvacant_is_idempotent_per_job_and_build),
		T(test_getvacant_never_gives_one_cluster_to_two_callers),
		T(test_getvacant_of_an_unknown_purpose_is_404_no_such_purpose),
		T(test_getvacant_with_none_vacant_is_503_with_retry_after),
		T(test_getvacant_uses_the_configured_default_purpose),
		T(test_getvacant_honours_the_os_image),
		T(test_getvacant_never_allocates_a_disabled_cluster),
		T(test_getvacant_without_build_or_job_is_400_naming_it),
		T(test_getvacant_accepts_post_with_a_form_body),
		T(test_finish_makes_an_occupied_cluster_vacant_again),
		T(test_finish_without_build_returns_any_occupied_cluster),
		T(test_finish_of_a_held_cluster_is_200_and_it_stays_held),
		T(test_finish_of_a_vacant_cluster_is_200_every_time),
		T(test_finish_by_another_build_is_409_not_owner),
		T(test_finish_of_an_unknown_cluster_is_404_no_such_cluster),
		T(test_hold_of_a_vacant_cluster_records_user_until_and_reason),
		T(test_hold_of_an_occupied_cluster_makes_it_held),
		T(test_hold_lasts_the_configured_hours_by_default),
		T(test_hold_by_the_same_user_extends_the_hold),
		T(test_hold_of_another_users_hold_is_409_naming_holder_and_end),
		T(test_hold_of_a_disabled_cluster_is_409_disabled),
		T(test_hold_above_the_maximum_hours_is_400_bad_param),
		T(test_hold_without_user_or_remote_user_is_400_bad_param),
		T(test_remote_user_wins_over_the_user_parameter),
		T(test_release_by_the_holder_makes_the_cluster_vacant),
		T(test_release_by_an_admin_makes_the_cluster_vacant),
		T(test_release_by_someone_else_is_403_not_holder),
		T(test_release_of_a_cluster_not_held_is_409_not_held),
		T(test_disable_takes_any_cluster_out_of_allocation),
		T(test_enable_makes_a_disabled_cluster_vacant),
		T(test_delete_removes_a_vacant_or_disabled_cluster),
		T(test_delete_of_a_cluster_in_use_is_409_in_use_unless_forced),
		T(test_every_verb_on_an_unknown_cluster_is_404_no_such_cluster),
		T(test_an_unknown_path_is_404_not_found),
		T(test_healthz_answers_200),
		T(test_readyz_is_200_when_the_store_answers),
		T(test_readyz_is_503_with_a_corrupt_store_left_byte_for_byte),
		T(test_the_list_is_html_for_a_browser),
		T(test_verbs_answer_text_even_to_a_browser),
		T(test_format_json_gives_json_for_verbs_lists_and_errors),
		T(test_format_json_wins_over_a_browsers_accept),
		T(test_accept_application_json_gives_json),
		T(test_a_bad_format_value_is_400_bad_param),
		T(test_the_text_list_is_one_line_per_cluster_with_dashes),
		T(test_the_list_filters_by_purpose_status_and_name),
		T(test_an_oversize_body_is_413),
		T(test_a_malformed_escape_is_400_bad_param),
		T(test_a_parameter_in_both_query_and_body_is_400_bad_param),
		T(test_unknown_and_foreign_parameters_are_ignored),
		T(test_a_bad_cluster_name_is_400_bad_param_naming_it),
		T(test_an_insane_remote_user_is_400_bad_param),
		T(test_the_state_is_shared_through_the_file),
		T(test_the_log_line_carries_the_request_id),
	};

	/* Only the test that looks at log lines wants them. */
	log_init("test_router", LOG_LEVEL_INFO);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
