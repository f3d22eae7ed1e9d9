/*
 * test_metrics: the Prometheus page as a scraper reads it, after requests
 * through router_handle() against a real file store: counters by route and
 * status, the histogram, store and Prow outcomes, the cluster gauges, label
 * escaping, a store that cannot be read, and counters shared across fork.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

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
#include "creation.h"
#include "errors.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "store.h"
#include "util.h"

#define NOW		((time_t)1796292000)	/* 2026-12-03T10:00:00Z */
#define ADMIN		"alice"
#define FORM		"application/x-www-form-urlencoded"
#define WORKERS		3
#define FORKED_WORKERS	2
#define FORKED_REQUESTS	25

static time_t
fake_clock(void)
{
	return NOW;
}

struct fixture {
	char			 dir[64];
	char			 path[128];
	struct cfg		*cfg;
	struct store		 store;
	struct http_response	 resp;		/* of the last request */
};

static int
setup(void **state)
{
	struct fixture	*f;
	struct err	 e;
	const char	*paths[METRICS_PATHS_MAX];
	size_t		 npaths;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->cfg = calloc(1, sizeof(*f->cfg));
	assert_non_null(f->cfg);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/test_metrics.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->path, sizeof(f->path), "%s/clusters.json", f->dir);
	cfg_defaults(f->cfg);
	assert_int_equal(util_strlcpy_checked(f->cfg->file_path, f->path,
	    sizeof(f->cfg->file_path)), 0);
	assert_int_equal(util_strlcpy_checked(f->cfg->admins[0], ADMIN,
	    sizeof(f->cfg->admins[0])), 0);
	f->cfg->nadmins = 1;
	f->cfg->workers = WORKERS;
	errors_clear(&e);
	if (store_open(&f->store, f->cfg, &e) == -1)
		fail_msg("store_open: %s", e.msg);
	npaths = router_paths(paths, METRICS_PATHS_MAX);
	if (metrics_open(paths, npaths, &e) == -1)
		fail_msg("metrics_open: %s", e.msg);
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

	metrics_close();
	buf_free(&f->resp.body);
	store_close(&f->store);
	unlink_in(f, "");
	unlink_in(f, ".lock");
	unlink_in(f, ".tmp");
	(void)rmdir(f->dir);
	free(f->cfg);
	free(f);
	return 0;
}

/* One request through the router; returns the status.  body is a form
 * body (POST) or NULL (GET); user is REMOTE_USER or NULL. */
static int
run(struct fixture *f, enum http_method m, const char *path,
    const char *query, const char *body, const char *user,
    const char *accept)
{
	struct http_request	r;

	buf_free(&f->resp.body);
	memset(&f->resp, 0, sizeof(f->resp));
	memset(&r, 0, sizeof(r));
	r.method = m;
	r.path = path;
	r.query = query != NULL ? query : "";
	r.accept = accept != NULL ? accept : "";
	r.remote_user = user != NULL ? user : "";
	r.content_type = body != NULL ? FORM : "";
	(void)snprintf(r.request_id, sizeof(r.request_id), "req-metrics");
	if (body != NULL) {
		r.body = strdup(body);
		assert_non_null(r.body);
		r.bodylen = strlen(body);
	}
	router_handle(f->cfg, &f->store, &r, fake_clock, &f->resp);
	free(r.body);
	assert_int_equal(f->resp.body.failed, 0);
	return f->resp.status;
}

static int
get(struct fixture *f, const char *path, const char *query)
{
	return run(f, HTTP_GET, path, query, NULL, NULL, NULL);
}

static int
admin(struct fixture *f, const char *path, const char *body)
{
	return run(f, HTTP_POST, path, NULL, body, ADMIN, NULL);
}

static void
add(struct fixture *f, const char *name, const char *purpose)
{
	char	b[256];

	(void)snprintf(b, sizeof(b), "cluster=%s&purpose=%s", name, purpose);
	if (admin(f, "/add", b) != 200)
		fail_msg("add %s: %d", name, f->resp.status);
}

static const char *
body(const struct fixture *f)
{
	return f->resp.body.data != NULL ? f->resp.body.data : "";
}

/* Scrapes /metrics as Prometheus would; the page is body(f). */
static void
scrape(struct fixture *f)
{
	if (get(f, "/metrics", "") != 200)
		fail_msg("/metrics: %d %s", f->resp.status, body(f));
	assert_string_equal(f->resp.content_type, METRICS_CONTENT_TYPE);
}

/* The first place text starts a line of page, or NULL. */
static const char *
at_line_start(const char *page, const char *text)
{
	const char	*p;

	for (p = page; (p = strstr(p, text)) != NULL; p++)
		if (p == page || p[-1] == '\n')
			return p;
	return NULL;
}

/* Asserts page has line (given without its newline) or block (whole
 * lines ending in newlines, consecutive and in this order). */
static void
assert_page_has(const char *page, const char *text)
{
	char	want[2048];
	size_t	n = strlen(text);

	assert_true(n > 0 && n + 2 <= sizeof(want));
	(void)snprintf(want, sizeof(want), "%s%s", text,
	    text[n - 1] == '\n' ? "" : "\n");
	if (at_line_start(page, want) == NULL)
		fail_msg("the page lacks\n%s--- page:\n%s", want, page);
}

/* Asserts a line of page starts with prefix. */
static void
assert_page_has_prefix(const char *page, const char *prefix)
{
	if (at_line_start(page, prefix) == NULL)
		fail_msg("no line starts with %s\n--- page:\n%s", prefix,
		    page);
}

static void
assert_page_lacks(const char *page, const char *text)
{
	if (strstr(page, text) != NULL)
		fail_msg("the page has \"%s\"\n--- page:\n%s", text, page);
}

/* The corrupt document test_router also uses: not JSON at all. */
static void
corrupt_store(const struct fixture *f)
{
	static const char	garbage[] = "{\"apiVersion\": \"v1\", \"kind";
	int			fd;

	fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd != -1);
	assert_int_equal(write(fd, garbage, sizeof(garbage) - 1),
	    (ssize_t)(sizeof(garbage) - 1));
	(void)close(fd);
}

/* ---- requests ---------------------------------------------------------- */

static void
test_requests_are_counted_once_by_route_and_status(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci");
	assert_int_equal(get(f, "/getvacant", "build=1&job=j"), 200);
	assert_int_equal(get(f, "/getvacant", "build=2&job=j"), 503);
	assert_int_equal(get(f, "/getvacant", "build=3&job=j"), 503);
	assert_int_equal(get(f, "/getvacant", "job=j"), 400);
	assert_int_equal(run(f, HTTP_POST, "/add", NULL,
	    "cluster=c2&purpose=p", NULL, NULL), 403);
	scrape(f);
	assert_page_has(body(f),
	    "cimaster_requests_total{path=\"/getvacant\",code=\"200\"} 1");
	assert_page_has(body(f),
	    "cimaster_requests_total{path=\"/getvacant\",code=\"503\"} 2");
	assert_page_has(body(f),
	    "cimaster_requests_total{path=\"/getvacant\",code=\"400\"} 1");
	assert_page_has(body(f),
	    "cimaster_requests_total{path=\"/add\",code=\"200\"} 1");
	assert_page_has(body(f),
	    "cimaster_requests_total{path=\"/add\",code=\"403\"} 1");
	/* A scrape is counted once it is answered, like any request. */
	assert_page_lacks(body(f), "{path=\"/metrics\"");
	scrape(f);
	assert_page_has(body(f),
	    "cimaster_requests_total{path=\"/metrics\",code=\"200\"} 1");
}

static void
test_unknown_paths_share_the_label_other(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(get(f, "/wp-login.php", ""), 404);
	assert_int_equal(get(f, "/a\"b\\c", ""), 404);
	assert_int_equal(get(f, "/getvacant/", ""), 404);
	scrape(f);
	assert_page_has(body(f),
	    "cimaster_requests_total{path=\"other\",code=\"404\"} 3");
	assert_page_lacks(body(f), "wp-login");
	assert_page_lacks(body(f), "/getvacant/");
}

static void
test_every_api_path_is_counted_under_its_own_label(void **state)
{
	static const char *const paths[] = {
		"/", "/clusters", "/getvacant", "/finish", "/hold",
		"/release", "/createcluster", "/add", "/delete", "/disable",
		"/enable", "/healthz", "/readyz", "/metrics",
	};
	struct fixture	*f = *state;
	char		 want[128];
	size_t		 i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		(void)get(f, paths[i], "");
	scrape(f);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		(void)snprintf(want, sizeof(want),
		    "cimaster_requests_total{path=\"%s\",code=\"", paths[i]);
		assert_page_has_prefix(body(f), want);
	}
	assert_page_lacks(body(f), "{path=\"other\"");
}

static void
test_a_status_outside_the_list_is_code_other(void **state)
{
	struct fixture	*f = *state;

	metrics_count_request("/healthz", 418, 10);
	metrics_count_request("/healthz", 200, 10);
	scrape(f);
	assert_page_has(body(f),
	    "cimaster_requests_total{path=\"/healthz\",code=\"other\"} 1");
	assert_page_has(body(f),
	    "cimaster_requests_total{path=\"/healthz\",code=\"200\"} 1");
}

/* ---- the histogram ----------------------------------------------------- */

static void
test_the_histogram_buckets_are_cumulative_with_le_inclusive(void **state)
{
	struct buf	b = { 0 };

	(void)state;
	metrics_count_request("/healthz", 200, 5000);	   /* le 0.005 */
	metrics_count_request("/healthz", 200, 5001);	   /* le 0.01 */
	metrics_count_request("/healthz", 200, 3000000);   /* le 5 */
	metrics_count_request("/healthz", 200, 20000000);  /* +Inf */
	assert_int_equal(metrics_render(&b, NULL, NOW, 1), 0);
	assert_page_has(b.data,
	    "# HELP cimaster_request_duration_seconds Time from routing a "
	    "request to its response being ready.\n"
	    "# TYPE cimaster_request_duration_seconds histogram\n"
	    "cimaster_request_duration_seconds_bucket{le=\"0.005\"} 1\n"
	    "cimaster_request_duration_seconds_bucket{le=\"0.01\"} 2\n"
	    "cimaster_request_duration_seconds_bucket{le=\"0.025\"} 2\n"
	    "cimaster_request_duration_seconds_bucket{le=\"0.05\"} 2\n"
	    "cimaster_request_duration_seconds_bucket{le=\"0.1\"} 2\n"
	    "cimaster_request_duration_seconds_bucket{le=\"0.25\"} 2\n"
	    "cimaster_request_duration_seconds_bucket{le=\"0.5\"} 2\n"
	    "cimaster_request_duration_seconds_bucket{le=\"1\"} 2\n"
	    "cimaster_request_duration_seconds_bucket{le=\"2.5\"} 2\n"
	    "cimaster_request_duration_seconds_bucket{le=\"5\"} 3\n"
	    "cimaster_request_duration_seconds_bucket{le=\"10\"} 3\n"
	    "cimaster_request_duration_seconds_bucket{le=\"+Inf\"} 4\n"
	    "cimaster_request_duration_seconds_sum 23.010001\n"
	    "cimaster_request_duration_seconds_count 4\n");
	buf_free(&b);
}

/* The value of the sample line starting with name, or -1. */
static long
sample(const char *page, const char *name)
{
	char		 want[256];
	const char	*p;
	long		 v;

	(void)snprintf(want, sizeof(want), "\n%s ", name);
	if ((p = strstr(page, want)) == NULL)
		return -1;
	p += strlen(want);
	v = strtol(p, NULL, 10);
	return v;
}

static void
test_the_histogram_counts_every_routed_request(void **state)
{
	struct fixture	*f = *state;
	const char	*page, *p, *sp;
	long		 total = 0, n;
	int		 i;

	for (i = 0; i < 7; i++)
		(void)get(f, "/healthz", "");
	(void)get(f, "/nope", "");
	(void)get(f, "/clusters", "");
	scrape(f);
	page = body(f);
	/* Every request line's count, summed, is the histogram's count. */
	for (p = page; (p = strstr(p, "\ncimaster_requests_total{")) != NULL;
	    p++) {
		sp = strchr(p + 1, ' ');
		assert_non_null(sp);
		total += strtol(sp + 1, NULL, 10);
	}
	assert_int_equal(total, 9);
	assert_int_equal(sample(page,
	    "cimaster_request_duration_seconds_count"), 9);
	n = sample(page,
	    "cimaster_request_duration_seconds_bucket{le=\"+Inf\"}");
	assert_int_equal(n, 9);
}

/* ---- the store and Prow ------------------------------------------------ */

static void
test_store_transactions_are_counted_by_outcome(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci");
	assert_int_equal(get(f, "/getvacant", "build=1&job=j"), 200);
	assert_int_equal(get(f, "/getvacant", "build=2&job=j"), 503);
	assert_int_equal(get(f, "/hold", "cluster=nope&user=u"), 404);
	assert_int_equal(get(f, "/clusters", ""), 200);	/* a read */
	corrupt_store(f);
	assert_int_equal(get(f, "/getvacant", "build=3&job=j"), 500);
	scrape(f);
	assert_page_has(body(f),
	    "# TYPE cimaster_store_transactions_total counter\n"
	    "cimaster_store_transactions_total{outcome=\"ok\"} 2\n"
	    "cimaster_store_transactions_total{outcome=\"refused\"} 2\n"
	    "cimaster_store_transactions_total{outcome=\"failed\"} 1\n"
	    "cimaster_store_transactions_total{outcome=\"busy\"} 0\n");
	assert_page_has(body(f), "cimaster_store_attempts_total 5");
	assert_page_has(body(f), "cimaster_store_conflicts_total 0");
	assert_page_has(body(f), "cimaster_store_unavailable_total 0");
}

/* A backend that loses the race, then meets an outage, then writes. */
static int	script_conflicts, script_unavailable;

static enum store_result
script_load(struct store *s, struct json_object **doc, struct err *e)
{
	(void)s;
	(void)e;
	*doc = store_doc_new("ci", "clusters", "1");
	return *doc != NULL ? STORE_OK : STORE_ERROR;
}

static enum store_result
script_replace(struct store *s, struct json_object *doc, struct err *e)
{
	(void)s;
	(void)doc;
	if (script_conflicts > 0) {
		script_conflicts--;
		return STORE_CONFLICT;
	}
	if (script_unavailable > 0) {
		script_unavailable--;
		errors_set(e, ERR_STORE, "503 from the script");
		return STORE_UNAVAILABLE;
	}
	return STORE_OK;
}

static const struct store_ops	script_ops = {
	script_load, script_replace, NULL
};

static enum cluster_change
change(struct cluster_list *l, void *arg, time_t now, struct err *e)
{
	(void)l;
	(void)arg;
	(void)now;
	(void)e;
	return CLUSTER_CHANGED;
}

static void
test_conflicts_and_outages_are_counted_per_attempt(void **state)
{
	struct store	s;
	struct err	e;
	struct buf	b = { 0 };

	(void)state;
	memset(&s, 0, sizeof(s));
	s.ops = &script_ops;
	s.retry.deadline_ms = 10000;	/* base 0: no sleeping */
	script_conflicts = 2;
	script_unavailable = 1;
	errors_clear(&e);
	assert_int_equal(store_txn(&s, change, NULL, fake_clock, NULL, &e),
	    0);
	/* Then one that never stops conflicting, within 3 attempts. */
	s.retry.attempts = 3;
	script_conflicts = 1000;
	assert_int_equal(store_txn(&s, change, NULL, fake_clock, NULL, &e),
	    -1);
	assert_int_equal(e.code, ERR_STORE_BUSY);
	assert_int_equal(metrics_render(&b, NULL, NOW, 1), 0);
	assert_page_has(b.data,
	    "cimaster_store_transactions_total{outcome=\"ok\"} 1\n"
	    "cimaster_store_transactions_total{outcome=\"refused\"} 0\n"
	    "cimaster_store_transactions_total{outcome=\"failed\"} 0\n"
	    "cimaster_store_transactions_total{outcome=\"busy\"} 1\n");
	assert_page_has(b.data, "cimaster_store_attempts_total 7");
	assert_page_has(b.data, "cimaster_store_conflicts_total 5");
	assert_page_has(b.data, "cimaster_store_unavailable_total 1");
	buf_free(&b);
}

static void
test_prow_outcomes_are_shown_zeros_included(void **state)
{
	struct fixture	*f = *state;

	metrics_count_prow(METRICS_PROW_STARTED);
	metrics_count_prow(METRICS_PROW_PENDING);
	metrics_count_prow(METRICS_PROW_PENDING);
	scrape(f);
	assert_page_has(body(f),
	    "# TYPE cimaster_prow_requests_total counter\n"
	    "cimaster_prow_requests_total{outcome=\"started\"} 1\n"
	    "cimaster_prow_requests_total{outcome=\"refused\"} 0\n"
	    "cimaster_prow_requests_total{outcome=\"pending\"} 2\n");
}

/* ---- gauges ------------------------------------------------------------ */

static void
test_cluster_gauges_show_all_four_statuses_of_each_purpose(void **state)
{
	struct fixture	*f = *state;

	add(f, "b1", "p-b");
	add(f, "b2", "p-b");
	add(f, "a1", "p-a");
	add(f, "a2", "p-a");
	assert_int_equal(get(f, "/hold", "cluster=a2&user=dev"), 200);
	assert_int_equal(admin(f, "/disable", "cluster=b1"), 200);
	assert_int_equal(get(f, "/getvacant", "build=1&job=j&purpose=p-b"),
	    200);
	scrape(f);
	assert_page_has(body(f),
	    "# HELP cimaster_store_up 1 when this scrape could read the "
	    "store, else 0.\n"
	    "# TYPE cimaster_store_up gauge\n"
	    "cimaster_store_up 1\n"
	    "# HELP cimaster_clusters Clusters in the store by purpose and "
	    "status.\n"
	    "# TYPE cimaster_clusters gauge\n"
	    "cimaster_clusters{purpose=\"p-a\",status=\"vacant\"} 1\n"
	    "cimaster_clusters{purpose=\"p-a\",status=\"occupied\"} 0\n"
	    "cimaster_clusters{purpose=\"p-a\",status=\"held\"} 1\n"
	    "cimaster_clusters{purpose=\"p-a\",status=\"disabled\"} 0\n"
	    "cimaster_clusters{purpose=\"p-b\",status=\"vacant\"} 0\n"
	    "cimaster_clusters{purpose=\"p-b\",status=\"occupied\"} 1\n"
	    "cimaster_clusters{purpose=\"p-b\",status=\"held\"} 0\n"
	    "cimaster_clusters{purpose=\"p-b\",status=\"disabled\"} 1\n"
	    "# HELP cimaster_creations_pending Cluster creations asked of "
	    "Prow and not yet added.\n");
	assert_page_has(body(f), "cimaster_creations_pending 0");
	assert_page_has(body(f),
	    "# TYPE cimaster_workers_configured gauge\n"
	    "cimaster_workers_configured 3\n");
}

static void
test_creations_pending_counts_only_unexpired_records(void **state)
{
	struct cluster_list	l;
	struct creation		c;
	struct buf		b = { 0 };

	(void)state;
	memset(&l, 0, sizeof(l));
	memset(&c, 0, sizeof(c));
	c.expires = NOW + 60;
	assert_int_equal(creation_list_push(&l.creations, &c), 0);
	c.expires = NOW;		/* lapsed: the store drops it lazily */
	assert_int_equal(creation_list_push(&l.creations, &c), 0);
	c.expires = NOW + 1;
	assert_int_equal(creation_list_push(&l.creations, &c), 0);
	assert_int_equal(metrics_render(&b, &l, NOW, 1), 0);
	assert_page_has(b.data, "cimaster_creations_pending 2");
	/* No cluster, no purpose: the family is there, with no samples. */
	assert_page_has(b.data, "# TYPE cimaster_clusters gauge\n"
	    "# HELP cimaster_creations_pending Cluster creations asked of "
	    "Prow and not yet added.\n");
	buf_free(&b);
	cluster_list_free(&l);
}

static void
test_label_values_are_escaped(void **state)
{
	struct buf	b = { 0 };

	(void)state;
	assert_int_equal(metrics_escape_label(&b, "plain-1.2_x"), 0);
	assert_string_equal(b.data, "plain-1.2_x");
	buf_reset(&b);
	assert_int_equal(metrics_escape_label(&b,
	    "a\"b\\c\nd} 1\nevil 2"), 0);
	assert_string_equal(b.data, "a\\\"b\\\\c\\nd} 1\\nevil 2");
	buf_reset(&b);
	assert_int_equal(metrics_escape_label(&b, "\\\"\n"), 0);
	assert_string_equal(b.data, "\\\\\\\"\\n");
	buf_free(&b);
}

static void
test_a_hostile_purpose_cannot_break_a_line(void **state)
{
	struct cluster_list	l;
	struct cluster		c;
	struct buf		b = { 0 };

	(void)state;
	memset(&l, 0, sizeof(l));
	memset(&c, 0, sizeof(c));
	(void)snprintf(c.name, sizeof(c.name), "c1");
	(void)snprintf(c.purpose, sizeof(c.purpose), "x\"} 9\nfake 1");
	c.status = CLUSTER_HELD;
	assert_int_equal(cluster_list_push(&l, &c), 0);
	assert_int_equal(metrics_render(&b, &l, NOW, 1), 0);
	assert_page_has(b.data, "cimaster_clusters{purpose=\"x\\\"} 9\\nfake "
	    "1\",status=\"held\"} 1");
	assert_page_lacks(b.data, "\nfake 1");
	buf_free(&b);
	cluster_list_free(&l);
}

/* ---- the page ---------------------------------------------------------- */

static void
test_a_store_that_cannot_be_read_is_store_up_0_and_still_200(void **state)
{
	struct fixture	*f = *state;

	add(f, "c1", "tess-ci");
	corrupt_store(f);
	scrape(f);
	assert_page_has(body(f), "cimaster_store_up 0");
	assert_page_lacks(body(f), "cimaster_clusters");
	assert_page_lacks(body(f), "cimaster_creations_pending");
	/* The counters still flow. */
	assert_page_has(body(f),
	    "cimaster_requests_total{path=\"/add\",code=\"200\"} 1");
	assert_page_has(body(f), "cimaster_workers_configured 3");
}

static void
test_every_sample_follows_help_and_type_of_its_family(void **state)
{
	struct fixture	*f = *state;
	char		 family[128], help[160], type[160];
	const char	*line, *end, *page, *p;
	size_t		 n;

	add(f, "c1", "tess-ci");
	(void)get(f, "/nope", "");
	scrape(f);
	page = body(f);
	assert_int_equal(page[strlen(page) - 1], '\n');
	for (line = page; *line != '\0'; line = end + 1) {
		end = strchr(line, '\n');
		assert_non_null(end);
		if (line[0] == '#')
			continue;
		n = strcspn(line, "{ ");
		assert_true(n < sizeof(family));
		memcpy(family, line, n);
		family[n] = '\0';
		/* A histogram's samples belong to the family without the
		 * suffix. */
		if (strstr(family, "_duration_seconds_") != NULL)
			*strrchr(family, '_') = '\0';
		(void)snprintf(help, sizeof(help), "# HELP %s ", family);
		(void)snprintf(type, sizeof(type), "# TYPE %s ", family);
		if ((p = at_line_start(page, help)) == NULL || p > line ||
		    (p = at_line_start(page, type)) == NULL || p > line)
			fail_msg("%.*s has no HELP and TYPE before it",
			    (int)(end - line), line);
	}
}

static void
test_the_page_is_prometheus_text_whatever_the_format(void **state)
{
	struct fixture	*f = *state;
	struct buf	 head = { 0 };

	assert_int_equal(run(f, HTTP_GET, "/metrics", "format=json", NULL,
	    NULL, "application/json"), 200);
	assert_string_equal(f->resp.content_type, METRICS_CONTENT_TYPE);
	assert_true(strncmp(body(f), "# HELP ", 7) == 0);
	assert_int_equal(http_response_head(&f->resp, "id-1", &head), 0);
	assert_non_null(strstr(head.data, "Content-Type: text/plain; "
	    "version=0.0.4; charset=utf-8\r\n"));
	buf_free(&head);
	assert_int_equal(run(f, HTTP_HEAD, "/metrics", NULL, NULL, NULL,
	    NULL), 200);
	assert_int_equal(run(f, HTTP_POST, "/metrics", NULL, "", NULL, NULL),
	    405);
	/* An error is in the format asked for, with its content type. */
	assert_null(f->resp.content_type);
	assert_int_equal(get(f, "/metrics", "foo=1&format=bogus"), 400);
	assert_null(f->resp.content_type);
}

static void
test_without_a_mapping_counting_does_nothing(void **state)
{
	struct buf	b = { 0 };

	(void)state;
	metrics_close();
	metrics_count_request("/healthz", 200, 10);
	metrics_count_store(METRICS_STORE_OK);
	metrics_count_prow(METRICS_PROW_STARTED);
	assert_int_equal(metrics_render(&b, NULL, NOW, 1), 0);
	assert_page_lacks(b.data, "cimaster_requests_total{");
	assert_page_has(b.data,
	    "cimaster_request_duration_seconds_count 0");
	assert_page_has(b.data,
	    "cimaster_store_transactions_total{outcome=\"ok\"} 0");
	assert_page_has(b.data,
	    "cimaster_prow_requests_total{outcome=\"started\"} 0");
	buf_free(&b);
}

static void
test_forked_workers_count_into_one_page(void **state)
{
	struct fixture	*f = *state;
	char		 want[128];
	pid_t		 pids[FORKED_WORKERS];
	int		 i, j, st;

	for (i = 0; i < FORKED_WORKERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] != -1);
		if (pids[i] == 0) {
			for (j = 0; j < FORKED_REQUESTS; j++)
				if (get(f, "/healthz", "") != 200)
					_exit(1);
			_exit(0);
		}
	}
	for (i = 0; i < FORKED_WORKERS; i++) {
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	scrape(f);
	(void)snprintf(want, sizeof(want),
	    "cimaster_requests_total{path=\"/healthz\",code=\"200\"} %d",
	    FORKED_WORKERS * FORKED_REQUESTS);
	assert_page_has(body(f), want);
}

#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_requests_are_counted_once_by_route_and_status),
		T(test_unknown_paths_share_the_label_other),
		T(test_every_api_path_is_counted_under_its_own_label),
		T(test_a_status_outside_the_list_is_code_other),
		T(test_the_histogram_buckets_are_cumulative_with_le_inclusive),
		T(test_the_histogram_counts_every_routed_request),
		T(test_store_transactions_are_counted_by_outcome),
		T(test_conflicts_and_outages_are_counted_per_attempt),
		T(test_prow_outcomes_are_shown_zeros_included),
		T(test_cluster_gauges_show_all_four_statuses_of_each_purpose),
		T(test_creations_pending_counts_only_unexpired_records),
		T(test_label_values_are_escaped),
		T(test_a_hostile_purpose_cannot_break_a_line),
		T(test_a_store_that_cannot_be_read_is_store_up_0_and_still_200),
		T(test_every_sample_follows_help_and_type_of_its_family),
		T(test_the_page_is_prometheus_text_whatever_the_format),
		T(test_without_a_mapping_counting_does_nothing),
		T(test_forked_workers_count_into_one_page),
	};

	/* Errors only: the router's line per request is noise here. */
	log_init("test_metrics", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
