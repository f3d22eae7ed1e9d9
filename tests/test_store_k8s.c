/*
 * test_store_k8s: the configmap backend against a scripted API server.
 * httpc_do() is wrapped (-Wl,--wrap=httpc_do): each test lists the answers
 * the server gives and checks the requests the backend made, with the
 * Status bodies a real API server sends.
 */
#include "config.h"

#include <sys/stat.h>

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
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "cfg.h"
#include "cluster.h"
#include "errors.h"
#include "httpc.h"
#include "store.h"
#include "util.h"

#include "httpc_fake.h"

/* ---- the scripted API server: tests/httpc_fake.h ---------------------- */

/* What the real API server says, word for word. */
#define CM_BODY(version, clusters)					\
	"{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{"	\
	"\"name\":\"clusters\",\"namespace\":\"ci\",\"uid\":"		\
	"\"0b1e4a7c-5d1f-4c2e-9a57-3f0c2d9e8b11\",\"resourceVersion\":"	\
	"\"" version "\",\"creationTimestamp\":\"2026-12-01T09:00:00Z\"," \
	"\"labels\":{\"app\":\"cimaster\"},\"annotations\":{\"owner\":"	\
	"\"ci-team\"}},\"data\":{\"clusters\":\"" clusters "\","	\
	"\"notes\":\"kept as it is\"}}"
#define NO_CLUSTERS	"[]"
#define ONE_CLUSTER	"[{\\\"name\\\":\\\"tess-ci-02\\\",\\\"purpose\\\":" \
	"\\\"tess-ci\\\",\\\"osImage\\\":\\\"\\\",\\\"status\\\":" \
	"\\\"vacant\\\",\\\"build\\\":\\\"\\\",\\\"job\\\":\\\"\\\"," \
	"\\\"user\\\":\\\"\\\",\\\"since\\\":\\\"\\\",\\\"holdUntil\\\":" \
	"\\\"\\\",\\\"reason\\\":\\\"\\\"}]"

#define STATUS(code, reason, message, details)				\
	"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"	\
	"\"status\":\"Failure\",\"message\":\"" message "\",\"reason\":" \
	"\"" reason "\",\"details\":" details ",\"code\":" #code "}"
#define CM_DETAILS	"{\"name\":\"clusters\",\"kind\":\"configmaps\"}"

#define ST_CONFLICT	STATUS(409, "Conflict", "Operation cannot be "	\
	"fulfilled on configmaps \\\"clusters\\\": the object has been " \
	"modified; please apply your changes to the latest version and " \
	"try again", CM_DETAILS)
#define ST_EXISTS	STATUS(409, "AlreadyExists", "configmaps "	\
	"\\\"clusters\\\" already exists", CM_DETAILS)
#define ST_NOT_FOUND	STATUS(404, "NotFound", "configmaps "		\
	"\\\"clusters\\\" not found", CM_DETAILS)
#define ST_INVALID	STATUS(422, "Invalid", "ConfigMap "		\
	"\\\"clusters\\\" is invalid: metadata.labels: Invalid value: "	\
	"\\\"-x\\\": a valid label must be an empty string or consist of " \
	"alphanumeric characters",					\
	"{\"name\":\"clusters\",\"kind\":\"ConfigMap\",\"causes\":[{"	\
	"\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: " \
	"\\\"-x\\\": a valid label must be an empty string or consist of " \
	"alphanumeric characters\",\"field\":\"metadata.labels\"}]}")
#define ST_UNAUTHORIZED	"{\"kind\":\"Status\",\"apiVersion\":\"v1\","	\
	"\"metadata\":{},\"status\":\"Failure\",\"message\":"		\
	"\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}"
#define ST_FORBIDDEN	STATUS(403, "Forbidden", "configmaps "		\
	"\\\"clusters\\\" is forbidden: User \\\"system:serviceaccount:" \
	"ci:cimaster\\\" cannot update resource \\\"configmaps\\\" in API " \
	"group \\\"\\\" in the namespace \\\"ci\\\"", CM_DETAILS)
#define ST_INTERNAL	STATUS(500, "InternalError", "Internal error "	\
	"occurred: etcdserver: request timed out", "{}")
#define ST_UNAVAILABLE	STATUS(503, "ServiceUnavailable", "the server " \
	"is currently unable to handle the request", "{}")

#define SERVER		"https://k8s.test:6443"
#define CM_URL		SERVER "/api/v1/namespaces/ci/configmaps/clusters"
#define COLL_URL	SERVER "/api/v1/namespaces/ci/configmaps"

/* ---- fixture ----------------------------------------------------------- */

struct fx {
	char		 dir[64];
	char		 token[PATH_MAX];
	char		 ca[PATH_MAX];
	char		 lock[PATH_MAX];
	struct cfg	*c;
	struct store	 s;
	int		 opened;
};

static long	fake_now = 1000;

static long
fake_clock(void)
{
	return fake_now;
}

static void
write_file(const char *path, const char *text)
{
	FILE	*fp;

	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static int
setup(void **state)
{
	struct fx	*fx;

	assert_non_null(fx = calloc(1, sizeof(*fx)));
	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_store_k8s.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	(void)snprintf(fx->token, sizeof(fx->token), "%s/token", fx->dir);
	(void)snprintf(fx->ca, sizeof(fx->ca), "%s/ca.crt", fx->dir);
	(void)snprintf(fx->lock, sizeof(fx->lock), "%s/store.lock", fx->dir);
	write_file(fx->token, "tok-1\n");
	write_file(fx->ca, "-----BEGIN CERTIFICATE-----\n");
	assert_non_null(fx->c = calloc(1, sizeof(*fx->c)));
	cfg_defaults(fx->c);
	fx->c->backend = CFG_BACKEND_CONFIGMAP;
	copy(fx->c->cm_server, sizeof(fx->c->cm_server), SERVER);
	copy(fx->c->cm_ca_file, sizeof(fx->c->cm_ca_file), fx->ca);
	copy(fx->c->cm_token_file, sizeof(fx->c->cm_token_file), fx->token);
	copy(fx->c->lock_file, sizeof(fx->c->lock_file), fx->lock);
	fx->c->retry_base_ms = 1;
	fx->c->retry_cap_ms = 2;
	fake_now = 1000;
	script_reset();
	(void)unsetenv("KUBERNETES_SERVICE_HOST");
	(void)unsetenv("KUBERNETES_SERVICE_PORT");
	(void)unsetenv("CIMASTER_SA_DIR");
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;
	char		 path[PATH_MAX];
	const char	*names[] = { "token", "ca.crt", "store.lock",
			    "namespace" };
	size_t		 i;

	if (fx->opened)
		store_close(&fx->s);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", fx->dir, names[i]);
		(void)unlink(path);
	}
	assert_int_equal(rmdir(fx->dir), 0);
	script_reset();
	free(fx->c);
	free(fx);
	return 0;
}

/* Opens the backend as configured, on the fake clock. */
static void
open_store(struct fx *fx)
{
	struct err	e;

	errors_clear(&e);
	if (store_open(&fx->s, fx->c, &e) == -1)
		fail_msg("store_open: %s", e.msg);
	fx->opened = 1;
	store_k8s_set_clock(&fx->s, fake_clock);
	/* Opening read the token and sent nothing. */
	assert_int_equal(nseen, 0);
}

static struct json_object *
parse(const char *text)
{
	struct json_object	*o;

	assert_non_null(text);
	assert_non_null(o = json_tokener_parse(text));
	return o;
}

/* The string at a dotted path of o, or NULL. */
static const char *
str_at(struct json_object *o, const char *path)
{
	char	buf[256], *p, *dot;

	copy(buf, sizeof(buf), path);
	for (p = buf; ; p = dot + 1) {
		if ((dot = strchr(p, '.')) != NULL)
			*dot = '\0';
		if (!json_object_object_get_ex(o, p, &o))
			return NULL;
		if (dot == NULL)
			break;
	}
	return json_object_is_type(o, json_type_string) ?
	    json_object_get_string(o) : NULL;
}

/* The transition the transactions run: adds tess-ci-01. */
static enum cluster_change
add_one(struct cluster_list *l, void *arg, time_t now, struct err *e)
{
	struct cluster	rec;

	memset(&rec, 0, sizeof(rec));
	(void)snprintf(rec.name, sizeof(rec.name), "tess-ci-01");
	(void)snprintf(rec.purpose, sizeof(rec.purpose), "tess-ci");
	rec.status = CLUSTER_VACANT;
	rec.since = now;
	return cluster_list_push(l, &rec) == 0 ? CLUSTER_CHANGED :
	    CLUSTER_FAILED;
}

/* ---- request building -------------------------------------------------- */

static void
test_load_gets_the_configmap_with_the_configured_token_and_ca(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	open_store(fx);
	answer(200, CM_BODY("4711", ONE_CLUSTER));
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_OK);
	assert_int_equal(nseen, 1);
	assert_string_equal(seen[0].method, "GET");
	assert_string_equal(seen[0].url, CM_URL);
	assert_string_equal(seen[0].accept, "application/json");
	/* The token file's newline is not part of the token. */
	assert_string_equal(seen[0].token, "tok-1");
	assert_string_equal(seen[0].ca_file, fx->ca);
	assert_null(seen[0].body);
	assert_string_equal(store_doc_version(doc), "4711");
	assert_string_equal(str_at(doc, "metadata.uid"),
	    "0b1e4a7c-5d1f-4c2e-9a57-3f0c2d9e8b11");
	json_object_put(doc);
}

static void
test_timeouts_and_the_size_cap_come_from_the_configuration(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	fx->c->cm_connect_timeout_ms = 1500;
	fx->c->cm_timeout_ms = 7000;
	fx->c->cm_max_response_bytes = 65536;
	open_store(fx);
	answer(200, CM_BODY("1", NO_CLUSTERS));
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_OK);
	assert_int_equal(seen[0].connect_timeout_ms, 1500);
	assert_int_equal(seen[0].timeout_ms, 7000);
	assert_int_equal(seen[0].max_response, 65536);
	json_object_put(doc);

	/* Inside a transaction, no request outlives its deadline. */
	answer(200, CM_BODY("1", NO_CLUSTERS));
	fx->s.deadline = store_mono_ms() + 300;
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_OK);
	assert_true(seen[1].timeout_ms <= 300);
	assert_true(seen[1].timeout_ms >= 100);
	assert_true(seen[1].connect_timeout_ms <= seen[1].timeout_ms);
	fx->s.deadline = 0;
	json_object_put(doc);
}

static void
test_replace_puts_the_object_as_read_with_only_data_clusters_changed(
    void **state)
{
	struct fx		*fx = *state;
	struct json_object	*sent, *orig;
	struct cluster_list	 out;
	struct err		 e;

	open_store(fx);
	answer(200, CM_BODY("4711", ONE_CLUSTER));
	answer(200, CM_BODY("4712", NO_CLUSTERS));
	assert_int_equal(store_txn(&fx->s, add_one, NULL, NULL, &out, &e), 0);
	assert_int_equal(out.len, 2);
	cluster_list_free(&out);

	assert_int_equal(nseen, 2);
	assert_string_equal(seen[1].method, "PUT");
	assert_string_equal(seen[1].url, CM_URL);
	assert_string_equal(seen[1].content_type, "application/json");
	assert_string_equal(seen[1].token, "tok-1");
	sent = parse(seen[1].body);
	orig = parse(CM_BODY("4711", ONE_CLUSTER));
	/* The version as read: the API server's compare-and-swap. */
	assert_string_equal(str_at(sent, "metadata.resourceVersion"), "4711");
	assert_non_null(strstr(str_at(sent, "data.clusters"),
	    "\"tess-ci-01\""));
	assert_non_null(strstr(str_at(sent, "data.clusters"),
	    "\"tess-ci-02\""));
	/* Everything else exactly as read. */
	json_object_object_del(json_object_object_get(sent, "data"),
	    "clusters");
	json_object_object_del(json_object_object_get(orig, "data"),
	    "clusters");
	assert_true(json_object_equal(sent, orig));
	json_object_put(sent);
	json_object_put(orig);
}

static void
test_replace_never_puts_without_a_resource_version(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc, *meta;
	struct err		 e;

	open_store(fx);
	doc = store_doc_new("ci", "clusters", "");
	assert_true(json_object_object_get_ex(doc, "metadata", &meta));
	assert_int_equal(fx->s.ops->replace(&fx->s, doc, &e), STORE_ERROR);
	assert_int_equal(e.code, ERR_INTERNAL);
	assert_non_null(strstr(e.msg, "resourceVersion"));
	json_object_object_del(meta, "resourceVersion");
	assert_int_equal(fx->s.ops->replace(&fx->s, doc, &e), STORE_ERROR);
	assert_int_equal(e.code, ERR_INTERNAL);
	assert_int_equal(nseen, 0);
	json_object_put(doc);
}

/* A document whose data.clusters is n bytes long. */
static struct json_object *
doc_of_size(size_t n)
{
	struct json_object	*doc, *data;
	char			*big;

	assert_non_null(big = malloc(n + 1));
	memset(big, 'x', n);
	big[n] = '\0';
	doc = store_doc_new("ci", "clusters", "4711");
	assert_true(json_object_object_get_ex(doc, "data", &data));
	json_object_object_add(data, "clusters", json_object_new_string(big));
	free(big);
	return doc;
}

static void
test_data_over_one_mib_is_refused_before_sending(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc;
	struct err		 e;

	open_store(fx);
	doc = doc_of_size(1048577);
	assert_int_equal(fx->s.ops->replace(&fx->s, doc, &e), STORE_ERROR);
	assert_int_equal(e.code, ERR_STORE);
	assert_non_null(strstr(e.msg, "1048577 bytes"));
	assert_non_null(strstr(e.msg, "1048576"));
	assert_non_null(strstr(e.msg, "nothing was sent"));
	assert_int_equal(nseen, 0);
	json_object_put(doc);

	/* Exactly 1 MiB is the server's to judge. */
	doc = doc_of_size(1048576);
	answer(200, CM_BODY("4712", NO_CLUSTERS));
	assert_int_equal(fx->s.ops->replace(&fx->s, doc, &e), STORE_OK);
	assert_int_equal(nseen, 1);
	json_object_put(doc);
}

/* ---- classification ---------------------------------------------------- */

static void
test_a_409_conflict_is_retried_on_a_fresh_read(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*sent;
	struct err		 e;

	open_store(fx);
	answer(200, CM_BODY("4711", NO_CLUSTERS));
	answer(409, ST_CONFLICT);
	answer(200, CM_BODY("4713", ONE_CLUSTER));
	answer(200, CM_BODY("4714", NO_CLUSTERS));
	assert_int_equal(store_txn(&fx->s, add_one, NULL, NULL, NULL, &e), 0);
	assert_int_equal(nseen, 4);
	assert_string_equal(seen[2].method, "GET");
	sent = parse(seen[3].body);
	assert_string_equal(str_at(sent, "metadata.resourceVersion"), "4713");
	/* The winner's cluster survives the retry. */
	assert_non_null(strstr(str_at(sent, "data.clusters"), "tess-ci-02"));
	json_object_put(sent);
}

static void
test_a_409_conflict_is_a_conflict_and_not_an_error(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	open_store(fx);
	answer(200, CM_BODY("4711", NO_CLUSTERS));
	answer(409, ST_CONFLICT);
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_OK);
	assert_int_equal(fx->s.ops->replace(&fx->s, doc, &e),
	    STORE_CONFLICT);
	json_object_put(doc);
}

static void
test_a_put_answered_404_counts_as_a_conflict(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	open_store(fx);
	answer(200, CM_BODY("4711", NO_CLUSTERS));
	answer(404, ST_NOT_FOUND);
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_OK);
	/* Deleted since read: the next load decides what that means. */
	assert_int_equal(fx->s.ops->replace(&fx->s, doc, &e),
	    STORE_CONFLICT);
	json_object_put(doc);
}

static void
test_a_404_without_create_if_missing_is_a_store_error_naming_it(
    void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	open_store(fx);
	answer(404, ST_NOT_FOUND);
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_ERROR);
	assert_null(doc);
	assert_int_equal(e.code, ERR_STORE);
	assert_string_equal(e.msg, "configmap ci/clusters not found (set "
	    "store.configmap.create_if_missing or create it: see "
	    "docs/kubernetes.md)");
	assert_int_equal(nseen, 1);
}

static void
test_a_404_with_create_if_missing_posts_an_empty_configmap_and_loads_it(
    void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL, *posted, *meta;
	struct err		 e;

	fx->c->cm_create_if_missing = 1;
	open_store(fx);
	answer(404, ST_NOT_FOUND);
	answer(201, CM_BODY("1", NO_CLUSTERS));
	answer(200, CM_BODY("1", NO_CLUSTERS));
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_OK);
	assert_string_equal(store_doc_version(doc), "1");
	assert_int_equal(nseen, 3);
	assert_string_equal(seen[1].method, "POST");
	assert_string_equal(seen[1].url, COLL_URL);
	assert_string_equal(seen[1].content_type, "application/json");
	posted = parse(seen[1].body);
	assert_string_equal(str_at(posted, "kind"), "ConfigMap");
	assert_string_equal(str_at(posted, "apiVersion"), "v1");
	assert_string_equal(str_at(posted, "metadata.name"), "clusters");
	assert_string_equal(str_at(posted, "metadata.namespace"), "ci");
	assert_string_equal(str_at(posted, "data.clusters"), "[]");
	/* A create carries no version at all. */
	assert_true(json_object_object_get_ex(posted, "metadata", &meta));
	assert_false(json_object_object_get_ex(meta, "resourceVersion",
	    NULL));
	assert_string_equal(seen[2].method, "GET");
	json_object_put(posted);
	json_object_put(doc);
}

static void
test_a_409_already_exists_on_create_reads_what_someone_else_made(
    void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	fx->c->cm_create_if_missing = 1;
	open_store(fx);
	answer(404, ST_NOT_FOUND);
	answer(409, ST_EXISTS);
	answer(200, CM_BODY("8", ONE_CLUSTER));
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_OK);
	assert_string_equal(store_doc_version(doc), "8");
	assert_non_null(strstr(str_at(doc, "data.clusters"), "tess-ci-02"));
	assert_int_equal(nseen, 3);
	json_object_put(doc);
}

static void
test_a_404_without_a_status_is_not_taken_for_a_missing_configmap(
    void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	fx->c->cm_create_if_missing = 1;
	open_store(fx);
	answer_text(404, "404 page not found\n", 0);
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_ERROR);
	assert_non_null(strstr(e.msg, "without a Kubernetes Status"));
	assert_non_null(strstr(e.msg, "404 page not found"));
	/* Nothing was created behind a wrong server URL. */
	assert_int_equal(nseen, 1);
}

static void
test_a_422_is_a_store_error_with_the_causes(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	open_store(fx);
	answer(200, CM_BODY("4711", NO_CLUSTERS));
	answer(422, ST_INVALID);
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_OK);
	assert_int_equal(fx->s.ops->replace(&fx->s, doc, &e), STORE_ERROR);
	assert_int_equal(e.code, ERR_STORE);
	assert_non_null(strstr(e.msg, "invalid"));
	assert_non_null(strstr(e.msg, "metadata.labels: Invalid value: "
	    "\"-x\""));
	json_object_put(doc);
}

static void
test_a_403_names_the_verb_and_the_resource(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	open_store(fx);
	answer(200, CM_BODY("4711", NO_CLUSTERS));
	answer(403, ST_FORBIDDEN);
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_OK);
	assert_int_equal(fx->s.ops->replace(&fx->s, doc, &e), STORE_ERROR);
	assert_int_equal(e.code, ERR_STORE);
	assert_non_null(strstr(e.msg, "forbidden"));
	assert_non_null(strstr(e.msg, "may not update configmaps in "
	    "namespace ci"));
	assert_non_null(strstr(e.msg, "docs/kubernetes.md"));
	json_object_put(doc);

	/* Not worth a retry inside a transaction either. */
	answer(403, STATUS(403, "Forbidden", "configmaps \\\"clusters\\\" is "
	    "forbidden", CM_DETAILS));
	assert_int_equal(store_txn(&fx->s, add_one, NULL, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_STORE);
	assert_non_null(strstr(e.msg, "may not get configmaps"));
	assert_int_equal(nseen, 3);
}

static void
test_a_401_rereads_the_token_and_retries_once(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	open_store(fx);
	/* The kubelet rotated the token; our copy is not due yet. */
	write_file(fx->token, "tok-2\n");
	answer(401, ST_UNAUTHORIZED);
	answer(200, CM_BODY("4711", NO_CLUSTERS));
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_OK);
	assert_int_equal(nseen, 2);
	assert_string_equal(seen[0].token, "tok-1");
	assert_string_equal(seen[1].token, "tok-2");
	json_object_put(doc);
}

static void
test_a_second_401_is_a_store_error_that_never_shows_the_token(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	open_store(fx);
	answer(401, ST_UNAUTHORIZED);
	answer(401, ST_UNAUTHORIZED);
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_ERROR);
	assert_int_equal(e.code, ERR_STORE);
	assert_non_null(strstr(e.msg, "unauthorized"));
	assert_non_null(strstr(e.msg, fx->token));
	assert_null(strstr(e.msg, "tok-1"));
	assert_int_equal(nseen, 2);
}

static void
test_the_token_is_reread_once_older_than_the_interval(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	fx->c->cm_token_reread_seconds = 60;
	open_store(fx);
	write_file(fx->token, "tok-2\n");
	answer(200, CM_BODY("1", NO_CLUSTERS));
	answer(200, CM_BODY("1", NO_CLUSTERS));
	answer(200, CM_BODY("1", NO_CLUSTERS));
	/* Read at 1000 on the fake clock, when the store was opened. */
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_OK);
	json_object_put(doc);
	write_file(fx->token, "tok-3\n");
	fake_now = 1059;
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_OK);
	json_object_put(doc);
	fake_now = 1060;
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_OK);
	json_object_put(doc);
	assert_string_equal(seen[0].token, "tok-1");
	assert_string_equal(seen[1].token, "tok-1");
	assert_string_equal(seen[2].token, "tok-3");
}

static void
test_a_token_file_that_vanished_fails_the_request_without_sending(
    void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	fx->c->cm_token_reread_seconds = 1;
	open_store(fx);
	assert_int_equal(unlink(fx->token), 0);
	fake_now += 1000000;
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_ERROR);
	assert_non_null(strstr(e.msg, fx->token));
	assert_int_equal(nseen, 0);
}

static void
test_a_429_in_plain_text_is_unavailable_with_its_retry_after(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	open_store(fx);
	answer_text(429, "Too many requests, please try again later.\n", 2);
	fx->s.retry_after_ms = -1;
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e),
	    STORE_UNAVAILABLE);
	assert_int_equal(fx->s.retry_after_ms, 2000);
	assert_int_equal(e.code, ERR_STORE);
	assert_non_null(strstr(e.msg, "429"));
	assert_non_null(strstr(e.msg, "Too many requests"));
}

static void
test_500_and_503_are_unavailable(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	open_store(fx);
	answer(200, CM_BODY("4711", NO_CLUSTERS));
	answer(500, ST_INTERNAL);
	answer(503, ST_UNAVAILABLE);
	script[2].retry_after = 1;
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_OK);
	fx->s.retry_after_ms = -1;
	assert_int_equal(fx->s.ops->replace(&fx->s, doc, &e),
	    STORE_UNAVAILABLE);
	assert_int_equal(fx->s.retry_after_ms, -1);
	assert_non_null(strstr(e.msg, "500 InternalError"));
	assert_non_null(strstr(e.msg, "etcdserver: request timed out"));
	assert_int_equal(fx->s.ops->replace(&fx->s, doc, &e),
	    STORE_UNAVAILABLE);
	assert_int_equal(fx->s.retry_after_ms, 1000);
	assert_non_null(strstr(e.msg, "503 ServiceUnavailable"));
	json_object_put(doc);
}

static void
test_a_transport_failure_is_unavailable(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	open_store(fx);
	answer_transport_failure();
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e),
	    STORE_UNAVAILABLE);
	assert_int_equal(e.code, ERR_STORE);
	assert_non_null(strstr(e.msg, "Connection refused"));
}

static void
test_a_txn_rides_out_a_503_and_a_lost_connection(void **state)
{
	struct fx	*fx = *state;
	struct err	 e;

	open_store(fx);
	answer(503, ST_UNAVAILABLE);
	answer(200, CM_BODY("4711", NO_CLUSTERS));
	answer_transport_failure();
	answer(200, CM_BODY("4711", NO_CLUSTERS));
	answer(200, CM_BODY("4712", NO_CLUSTERS));
	assert_int_equal(store_txn(&fx->s, add_one, NULL, NULL, NULL, &e), 0);
	assert_int_equal(nseen, 5);
	assert_string_equal(seen[4].method, "PUT");
}

static void
test_a_txn_that_stays_unavailable_is_a_store_error(void **state)
{
	struct fx	*fx = *state;
	struct err	 e;

	fx->c->retry_policy = CFG_RETRY_SEED;
	open_store(fx);
	answer(500, ST_INTERNAL);
	answer(503, ST_UNAVAILABLE);
	answer_text(429, "Too many requests, please try again later.\n", 0);
	assert_int_equal(store_txn(&fx->s, add_one, NULL, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_STORE);
	assert_non_null(strstr(e.msg, "3 attempts"));
	assert_non_null(strstr(e.msg, "Too many requests"));
	assert_int_equal(nseen, 3);
}

static void
test_a_200_that_is_not_our_configmap_is_a_store_error(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	open_store(fx);
	answer(200, "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\","
	    "\"metadata\":{\"name\":\"clusters\"},\"data\":{}}");
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_ERROR);
	assert_non_null(strstr(e.msg, "no metadata.resourceVersion"));
	answer(200, "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\","
	    "\"metadata\":{\"name\":\"other\",\"resourceVersion\":\"3\"}}");
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_ERROR);
	assert_non_null(strstr(e.msg, "not ConfigMap clusters"));
	answer(200, "<html>proxy login</html>");
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_ERROR);
	assert_non_null(strstr(e.msg, "not JSON"));
	answer(200, CM_BODY("5", NO_CLUSTERS) " trailing");
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_ERROR);
	assert_null(doc);
}

/* ---- configuration ----------------------------------------------------- */

/* A fake service-account directory: the fixture's dir with a namespace
 * file, and the service environment of a pod. */
static void
play_pod(struct fx *fx, const char *host)
{
	char	path[PATH_MAX];

	(void)snprintf(path, sizeof(path), "%s/namespace", fx->dir);
	write_file(path, "team-a\n");
	assert_int_equal(setenv("KUBERNETES_SERVICE_HOST", host, 1), 0);
	assert_int_equal(setenv("KUBERNETES_SERVICE_PORT", "443", 1), 0);
	assert_int_equal(setenv("CIMASTER_SA_DIR", fx->dir, 1), 0);
	fx->c->cm_server[0] = '\0';
	fx->c->cm_ca_file[0] = '\0';
	fx->c->cm_token_file[0] = '\0';
	fx->c->cm_namespace[0] = '\0';
}

static void
test_in_a_pod_the_service_account_gives_server_token_ca_and_namespace(
    void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	play_pod(fx, "10.96.0.1");
	open_store(fx);
	answer(200, "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\","
	    "\"metadata\":{\"name\":\"clusters\",\"namespace\":\"team-a\","
	    "\"resourceVersion\":\"9\"}}");
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_OK);
	assert_string_equal(seen[0].url, "https://10.96.0.1:443/api/v1/"
	    "namespaces/team-a/configmaps/clusters");
	assert_string_equal(seen[0].token, "tok-1");
	assert_string_equal(seen[0].ca_file, fx->ca);
	json_object_put(doc);
}

static void
test_in_a_pod_a_configured_namespace_wins_and_ipv6_is_bracketed(
    void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	play_pod(fx, "fd00:10:96::1");
	copy(fx->c->cm_namespace, sizeof(fx->c->cm_namespace), "ci");
	open_store(fx);
	answer(200, CM_BODY("1", NO_CLUSTERS));
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_OK);
	assert_string_equal(seen[0].url, "https://[fd00:10:96::1]:443/api/v1/"
	    "namespaces/ci/configmaps/clusters");
	json_object_put(doc);
}

static void
test_outside_a_pod_an_empty_server_is_refused_at_open(void **state)
{
	struct fx	*fx = *state;
	struct err	 e;

	fx->c->cm_server[0] = '\0';
	assert_int_equal(store_open(&fx->s, fx->c, &e), -1);
	assert_int_equal(e.code, ERR_STORE);
	assert_non_null(strstr(e.msg, "KUBERNETES_SERVICE_HOST"));
	assert_non_null(strstr(e.msg, "set store.configmap.server"));
}

static void
test_open_refuses_what_requests_could_not_use(void **state)
{
	struct fx	*fx = *state;
	struct err	 e;

	/* A missing CA file. */
	copy(fx->c->cm_ca_file, sizeof(fx->c->cm_ca_file), "/nonexistent.crt");
	assert_int_equal(store_open(&fx->s, fx->c, &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent.crt"));
	copy(fx->c->cm_ca_file, sizeof(fx->c->cm_ca_file), fx->ca);

	/* A token file that holds no token. */
	write_file(fx->token, "\n");
	assert_int_equal(store_open(&fx->s, fx->c, &e), -1);
	assert_non_null(strstr(e.msg, "is empty"));
	write_file(fx->token, "tok 1\n");
	assert_int_equal(store_open(&fx->s, fx->c, &e), -1);
	assert_non_null(strstr(e.msg, "holds no bearer token"));
	assert_null(strstr(e.msg, "tok 1"));

	/* A token over plain http. */
	write_file(fx->token, "tok-1\n");
	copy(fx->c->cm_server, sizeof(fx->c->cm_server),
	    "http://k8s.test:8080");
	assert_int_equal(store_open(&fx->s, fx->c, &e), -1);
	assert_non_null(strstr(e.msg, "unencrypted"));

	/* A namespace left to a pod, outside one. */
	copy(fx->c->cm_server, sizeof(fx->c->cm_server), SERVER);
	fx->c->cm_namespace[0] = '\0';
	assert_int_equal(store_open(&fx->s, fx->c, &e), -1);
	assert_non_null(strstr(e.msg, "store.configmap.namespace is empty"));
	assert_int_equal(nseen, 0);
}

static void
test_a_server_without_a_token_file_sends_no_authorization(void **state)
{
	struct fx		*fx = *state;
	struct json_object	*doc = NULL;
	struct err		 e;

	/* kubectl proxy: plain http on loopback, no token. */
	copy(fx->c->cm_server, sizeof(fx->c->cm_server),
	    "http://127.0.0.1:8001/");
	fx->c->cm_token_file[0] = '\0';
	fx->c->cm_ca_file[0] = '\0';
	open_store(fx);
	answer(200, CM_BODY("1", NO_CLUSTERS));
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_OK);
	assert_string_equal(seen[0].url, "http://127.0.0.1:8001/api/v1/"
	    "namespaces/ci/configmaps/clusters");
	assert_string_equal(seen[0].token, "");
	assert_string_equal(seen[0].ca_file, "");
	json_object_put(doc);

	/* A 401 has no token to re-read: one request, a clear error. */
	answer(401, ST_UNAUTHORIZED);
	assert_int_equal(fx->s.ops->load(&fx->s, &doc, &e), STORE_ERROR);
	assert_non_null(strstr(e.msg, "no store.configmap.token_file"));
	assert_int_equal(nseen, 2);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_load_gets_the_configmap_with_the_configured_token_and_ca),
		T(test_timeouts_and_the_size_cap_come_from_the_configuration),
		T(test_replace_puts_the_object_as_read_with_only_data_clusters_changed),
		T(test_replace_never_puts_without_a_resource_version),
		T(test_data_over_one_mib_is_refused_before_sending),
		T(test_a_409_conflict_is_retried_on_a_fresh_read),
		T(test_a_409_conflict_is_a_conflict_and_not_an_error),
		T(test_a_put_answered_404_counts_as_a_conflict),
		T(test_a_404_without_create_if_missing_is_a_store_error_naming_it),
		T(test_a_404_with_create_if_missing_posts_an_empty_configmap_and_loads_it),
		T(test_a_409_already_exists_on_create_reads_what_someone_else_made),
		T(test_a_404_without_a_status_is_not_taken_for_a_missing_configmap),
		T(test_a_422_is_a_store_error_with_the_causes),
		T(test_a_403_names_the_verb_and_the_resource),
		T(test_a_401_rereads_the_token_and_retries_once),
		T(test_a_second_401_is_a_store_error_that_never_shows_the_token),
		T(test_the_token_is_reread_once_older_than_the_interval),
		T(test_a_token_file_that_vanished_fails_the_request_without_sending),
		T(test_a_429_in_plain_text_is_unavailable_with_its_retry_after),
		T(test_500_and_503_are_unavailable),
		T(test_a_transport_failure_is_unavailable),
		T(test_a_txn_rides_out_a_503_and_a_lost_connection),
		T(test_a_txn_that_stays_unavailable_is_a_store_error),
		T(test_a_200_that_is_not_our_configmap_is_a_store_error),
		T(test_in_a_pod_the_service_account_gives_server_token_ca_and_namespace),
		T(test_in_a_pod_a_configured_namespace_wins_and_ipv6_is_bracketed),
		T(test_outside_a_pod_an_empty_server_is_refused_at_open),
		T(test_open_refuses_what_requests_could_not_use),
		T(test_a_server_without_a_token_file_sends_no_authorization),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
