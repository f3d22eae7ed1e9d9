/*
 * test_render: the response bodies of render.c and html.c as a CI script,
 * a JSON client and a browser see them: exact text lines, JSON parsed back
 * field by field, and HTML that never carries a raw dynamic string.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "cluster.h"
#include "errors.h"
#include "html.h"
#include "http.h"
#include "render.h"
#include "util.h"

#define NFIXTURE	4
#define NCREATION	3
#define NOW		"2026-12-03T12:10:00Z"
#define XSS		"<script>alert(\"x\")</script>&'"
#define XSS_ESCAPED	"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" \
			    "&amp;&#39;"

struct fixture {
	struct cluster		items[NFIXTURE];
	struct creation		creations[NCREATION];
	struct cluster_list	l;
	struct buf		out;
	time_t			now;
};

static time_t
at(const char *s)
{
	time_t	t;

	assert_int_equal(util_time_parse(s, &t), 0);
	return t;
}

static void
set(char *dst, size_t dstsz, const char *src)
{
	assert_int_equal(util_strlcpy_checked(dst, src, dstsz), 0);
}
#define SET(field, s)	set((field), sizeof(field), (s))

/*
 * tess-ci-01 vacant; tess-ci-02 occupied by a job whose name has spaces;
 * tess-ci-03 held by "Jane Doe" with a reason; gpu-01 disabled.
 */
static int
setup(void **state)
{
	static struct fixture	 fx;
	struct cluster		*c = fx.items;

	memset(&fx, 0, sizeof(fx));
	SET(c[0].name, "tess-ci-01");
	SET(c[0].purpose, "tess-ci");
	c[0].status = CLUSTER_VACANT;
	c[0].since = at("2026-12-03T09:00:00Z");

	SET(c[1].name, "tess-ci-02");
	SET(c[1].purpose, "tess-ci");
	SET(c[1].os_image, "ubuntu-22.04");
	c[1].status = CLUSTER_OCCUPIED;
	SET(c[1].build, "123");
	SET(c[1].job, "e2e k8s\t1.32");
	c[1].since = at("2026-12-03T10:00:00Z");

	SET(c[2].name, "tess-ci-03");
	SET(c[2].purpose, "tess-ci");
	c[2].status = CLUSTER_HELD;
	SET(c[2].user, "Jane Doe");
	SET(c[2].reason, "debugging the CSI driver");
	c[2].since = at("2026-12-03T11:00:00Z");
	c[2].hold_until = at("2026-12-03T17:00:00Z");

	SET(c[3].name, "gpu-01");
	SET(c[3].purpose, "gpu");
	c[3].status = CLUSTER_DISABLED;
	SET(c[3].user, "admin");
	SET(c[3].reason, "broken node");
	c[3].since = at("2026-12-01T08:00:00Z");

	fx.l.items = fx.items;
	fx.l.len = fx.l.cap = NFIXTURE;
	fx.now = at(NOW);
	*state = &fx;
	return 0;
}

/*
 * The cluster fixture plus three creations, the list's only when a test
 * asks for them: one with Prow's id; one still asking Prow, with no
 * purpose; one that expired before NOW.
 */
static void
with_creations(struct fixture *fx)
{
	struct creation	*c = fx->creations;

	SET(c[0].id, "cc-7f3a");
	SET(c[0].job, "create-cluster");
	SET(c[0].user, "Jane Doe");
	SET(c[0].branch, "main");
	SET(c[0].purpose, "tess-ci");
	c[0].since = at("2026-12-03T12:00:00Z");
	c[0].expires = at("2026-12-03T14:00:00Z");
	SET(c[0].ticket, "0123456789abcdef");

	SET(c[1].job, "create-cluster");
	SET(c[1].user, "bob");
	SET(c[1].branch, "release-1.2");
	c[1].since = at("2026-12-03T12:05:00Z");
	c[1].expires = at("2026-12-03T14:05:00Z");
	SET(c[1].ticket, "fedcba9876543210");

	SET(c[2].id, "cc-old");
	SET(c[2].job, "create-cluster");
	SET(c[2].user, "carol");
	SET(c[2].branch, "main");
	SET(c[2].purpose, "gpu");
	c[2].since = at("2026-12-03T08:00:00Z");
	c[2].expires = at("2026-12-03T10:00:00Z");

	fx->l.creations.items = fx->creations;
	fx->l.creations.len = fx->l.creations.cap = NCREATION;
}

static int
teardown(void **state)
{
	struct fixture	*fx = *state;

	buf_free(&fx->out);
	return 0;
}

/* The body as a string ("" when nothing was written). */
static const char *
body(const struct buf *b)
{
	return b->len > 0 ? b->data : "";
}

static struct json_object *
parse(const struct buf *b)
{
	struct json_object	*o;

	o = json_tokener_parse(body(b));
	assert_non_null(o);
	return o;
}

static struct json_object *
get(struct json_object *o, const char *key)
{
	struct json_object	*v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

static const char *
get_str(struct json_object *o, const char *key)
{
	struct json_object	*v = get(o, key);

	assert_true(json_object_is_type(v, json_type_string));
	return json_object_get_string(v);
}

static int64_t
get_int(struct json_object *o, const char *key)
{
	struct json_object	*v = get(o, key);

	assert_true(json_object_is_type(v, json_type_int));
	return json_object_get_int64(v);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t	n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* ---- text list ---------------------------------------------------- */

static void
test_text_list_has_a_line_per_cluster_and_dashes_when_empty(
    void **state)
{
	struct fixture	*fx = *state;

	assert_int_equal(render_list(&fx->out, HTTP_FMT_TEXT, &fx->l, NULL),
	    0);
	assert_string_equal(body(&fx->out),
	    "tess-ci-01 vacant tess-ci - - - - -\n"
	    "tess-ci-02 occupied tess-ci ubuntu-22.04 123 e2e_k8s_1.32 - -\n"
	    "tess-ci-03 held tess-ci - - - Jane_Doe 2026-12-03T17:00:00Z\n"
	    "gpu-01 disabled gpu - - - admin -\n");
}

static void
test_text_list_lines_always_split_into_eight_fields(void **state)
{
	struct fixture	*fx = *state;
	char		*line, *save, *tok;
	size_t		 n;

	SET(fx->items[1].build, "build 7 of  9");
	SET(fx->items[1].user, " lead space");
	assert_int_equal(render_list(&fx->out, HTTP_FMT_TEXT, &fx->l, NULL),
	    0);
	for (line = strtok_r(fx->out.data, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		/* Single spaces between fields, never an empty field. */
		assert_null(strstr(line, "  "));
		assert_null(strchr(line, '\t'));
		n = 1;
		for (tok = line; (tok = strchr(tok, ' ')) != NULL; tok++)
			n++;
		assert_int_equal(n, 8);
	}
	/* Each space becomes one '_': the field keeps its length. */
	buf_reset(&fx->out);
	assert_int_equal(render_cluster(&fx->out, HTTP_FMT_TEXT,
	    &fx->items[1], 0), 0);
	assert_string_equal(body(&fx->out), "tess-ci-02 occupied tess-ci "
	    "ubuntu-22.04 build_7_of__9 e2e_k8s_1.32 _lead_space -\n");
}

static void
test_text_list_of_no_clusters_is_an_empty_body(void **state)
{
	struct fixture		*fx = *state;
	struct cluster_list	 empty = { 0 };

	assert_int_equal(render_list(&fx->out, HTTP_FMT_TEXT, &empty, NULL),
	    0);
	assert_int_equal(fx->out.len, 0);
}

static void
test_text_list_shows_only_clusters_matching_every_filter(void **state)
{
	struct fixture		*fx = *state;
	struct render_filter	 f;

	f = (struct render_filter){ "tess-ci", "", CLUSTER_STATUS__MAX,
	    fx->now };
	assert_int_equal(render_list(&fx->out, HTTP_FMT_TEXT, &fx->l, &f), 0);
	assert_int_equal(count(body(&fx->out), "\n"), 3);
	assert_null(strstr(body(&fx->out), "gpu-01"));

	buf_reset(&fx->out);
	f = (struct render_filter){ "tess-ci", "", CLUSTER_HELD, fx->now };
	assert_int_equal(render_list(&fx->out, HTTP_FMT_TEXT, &fx->l, &f), 0);
	assert_string_equal(body(&fx->out),
	    "tess-ci-03 held tess-ci - - - Jane_Doe 2026-12-03T17:00:00Z\n");

	buf_reset(&fx->out);
	f = (struct render_filter){ "", "gpu-01", CLUSTER_STATUS__MAX,
	    fx->now };
	assert_int_equal(render_list(&fx->out, HTTP_FMT_TEXT, &fx->l, &f), 0);
	assert_string_equal(body(&fx->out),
	    "gpu-01 disabled gpu - - - admin -\n");

	/* A name matches exactly, not as a prefix. */
	buf_reset(&fx->out);
	f = (struct render_filter){ "", "tess-ci-0", CLUSTER_STATUS__MAX,
	    fx->now };
	assert_int_equal(render_list(&fx->out, HTTP_FMT_TEXT, &fx->l, &f), 0);
	assert_int_equal(fx->out.len, 0);

	buf_reset(&fx->out);
	f = (struct render_filter){ "gpu", "", CLUSTER_VACANT, fx->now };
	assert_int_equal(render_list(&fx->out, HTTP_FMT_TEXT, &fx->l, &f), 0);
	assert_int_equal(fx->out.len, 0);
}

/* ---- JSON list ---------------------------------------------------- */

static void
test_json_list_carries_every_record_field_unchanged(void **state)
{
	struct fixture		*fx = *state;
	struct json_object	*root, *arr, *rec;

	assert_int_equal(render_list(&fx->out, HTTP_FMT_JSON, &fx->l, NULL),
	    0);
	root = parse(&fx->out);
	arr = get(root, "clusters");
	assert_true(json_object_is_type(arr, json_type_array));
	assert_int_equal(json_object_array_length(arr), NFIXTURE);

	rec = json_object_array_get_idx(arr, 1);
	assert_string_equal(get_str(rec, "name"), "tess-ci-02");
	assert_string_equal(get_str(rec, "status"), "occupied");
	assert_string_equal(get_str(rec, "purpose"), "tess-ci");
	assert_string_equal(get_str(rec, "osImage"), "ubuntu-22.04");
	assert_string_equal(get_str(rec, "build"), "123");
	/* No '_' substitution outside the text format. */
	assert_string_equal(get_str(rec, "job"), "e2e k8s\t1.32");
	assert_string_equal(get_str(rec, "user"), "");
	assert_string_equal(get_str(rec, "since"), "2026-12-03T10:00:00Z");
	assert_string_equal(get_str(rec, "holdUntil"), "");

	rec = json_object_array_get_idx(arr, 2);
	assert_string_equal(get_str(rec, "name"), "tess-ci-03");
	assert_string_equal(get_str(rec, "status"), "held");
	assert_string_equal(get_str(rec, "user"), "Jane Doe");
	assert_string_equal(get_str(rec, "holdUntil"),
	    "2026-12-03T17:00:00Z");
	assert_string_equal(get_str(rec, "reason"),
	    "debugging the CSI driver");
	json_object_put(root);
}

static void
test_json_summary_counts_every_status_of_the_whole_list(void **state)
{
	struct fixture		*fx = *state;
	struct json_object	*root, *sum;

	fx->items[0].status = CLUSTER_HELD;
	assert_int_equal(render_list(&fx->out, HTTP_FMT_JSON, &fx->l, NULL),
	    0);
	root = parse(&fx->out);
	sum = get(root, "summary");
	assert_int_equal(json_object_object_length(sum), 5);
	assert_int_equal(get_int(sum, "vacant"), 0);
	assert_int_equal(get_int(sum, "occupied"), 1);
	assert_int_equal(get_int(sum, "held"), 2);
	assert_int_equal(get_int(sum, "disabled"), 1);
	assert_int_equal(get_int(sum, "creating"), 0);
	json_object_put(root);
}

static void
test_json_summary_counts_only_the_filtered_clusters(void **state)
{
	struct fixture		*fx = *state;
	struct render_filter	 f = { "tess-ci", "", CLUSTER_STATUS__MAX,
				    fx->now };
	struct json_object	*root, *arr, *sum;

	assert_int_equal(render_list(&fx->out, HTTP_FMT_JSON, &fx->l, &f), 0);
	root = parse(&fx->out);
	arr = get(root, "clusters");
	assert_int_equal(json_object_array_length(arr), 3);
	sum = get(root, "summary");
	assert_int_equal(get_int(sum, "vacant"), 1);
	assert_int_equal(get_int(sum, "occupied"), 1);
	assert_int_equal(get_int(sum, "held"), 1);
	assert_int_equal(get_int(sum, "disabled"), 0);
	json_object_put(root);

	buf_reset(&fx->out);
	f = (struct render_filter){ "", "", CLUSTER_DISABLED, fx->now };
	assert_int_equal(render_list(&fx->out, HTTP_FMT_JSON, &fx->l, &f), 0);
	root = parse(&fx->out);
	arr = get(root, "clusters");
	assert_int_equal(json_object_array_length(arr), 1);
	assert_string_equal(get_str(json_object_array_get_idx(arr, 0),
	    "name"), "gpu-01");
	sum = get(root, "summary");
	assert_int_equal(get_int(sum, "vacant"), 0);
	assert_int_equal(get_int(sum, "held"), 0);
	assert_int_equal(get_int(sum, "disabled"), 1);
	json_object_put(root);
}

static void
test_json_list_of_no_match_is_empty_with_zero_summary(
    void **state)
{
	struct fixture		*fx = *state;
	struct render_filter	 f = { "", "no-such", CLUSTER_STATUS__MAX,
				    fx->now };
	struct json_object	*root, *sum;

	assert_int_equal(render_list(&fx->out, HTTP_FMT_JSON, &fx->l, &f), 0);
	root = parse(&fx->out);
	assert_int_equal(json_object_array_length(get(root, "clusters")), 0);
	assert_int_equal(json_object_array_length(get(root, "creations")), 0);
	sum = get(root, "summary");
	assert_int_equal(get_int(sum, "vacant"), 0);
	assert_int_equal(get_int(sum, "occupied"), 0);
	assert_int_equal(get_int(sum, "held"), 0);
	assert_int_equal(get_int(sum, "disabled"), 0);
	json_object_put(root);
}

/* ---- pending creations ------------------------------------------- */

static void
test_text_list_ends_with_a_line_per_pending_creation(
    void **state)
{
	struct fixture		*fx = *state;
	struct render_filter	 f = { "", "", CLUSTER_STATUS__MAX, fx->now };

	with_creations(fx);
	assert_int_equal(render_list(&fx->out, HTTP_FMT_TEXT, &fx->l, &f), 0);
	/* Eight fields like a cluster line; "-" for the id while Prow is
	 * asked and for an empty purpose. */
	assert_string_equal(body(&fx->out),
	    "tess-ci-01 vacant tess-ci - - - - -\n"
	    "tess-ci-02 occupied tess-ci ubuntu-22.04 123 e2e_k8s_1.32 - -\n"
	    "tess-ci-03 held tess-ci - - - Jane_Doe 2026-12-03T17:00:00Z\n"
	    "gpu-01 disabled gpu - - - admin -\n"
	    "cc-7f3a creating tess-ci - - create-cluster Jane_Doe "
	    "2026-12-03T14:00:00Z\n"
	    "- creating - - - create-cluster bob 2026-12-03T14:05:00Z\n");
}

static void
test_stale_creations_are_hidden_in_every_format(void **state)
{
	struct fixture		*fx = *state;
	struct render_filter	 f = { "", "", CLUSTER_STATUS__MAX, fx->now };
	struct json_object	*root;

	with_creations(fx);
	assert_int_equal(render_list(&fx->out, HTTP_FMT_TEXT, &fx->l, &f), 0);
	assert_null(strstr(body(&fx->out), "cc-old"));
	assert_int_equal(count(body(&fx->out), " creating "), 2);

	buf_reset(&fx->out);
	assert_int_equal(render_list(&fx->out, HTTP_FMT_JSON, &fx->l, &f), 0);
	assert_null(strstr(body(&fx->out), "cc-old"));
	root = parse(&fx->out);
	assert_int_equal(json_object_array_length(get(root, "creations")), 2);
	assert_int_equal(get_int(get(root, "summary"), "creating"), 2);
	json_object_put(root);

	buf_reset(&fx->out);
	assert_int_equal(render_list(&fx->out, HTTP_FMT_HTML, &fx->l, &f), 0);
	assert_null(strstr(body(&fx->out), "cc-old"));
	assert_non_null(strstr(body(&fx->out), ", 2 being created"));

	/* expires is the first second the record is stale. */
	f.now = fx->creations[0].expires;
	assert_false(render_creation_match(&f, &fx->creations[0]));
	f.now = fx->creations[0].expires - 1;
	assert_true(render_creation_match(&f, &fx->creations[0]));
	/* No filter at all shows everything, stale records too. */
	assert_true(render_creation_match(NULL, &fx->creations[2]));
}

static void
test_status_or_name_filter_hides_every_creation(void **state)
{
	struct fixture		*fx = *state;
	struct render_filter	 f = { "", "", CLUSTER_HELD, fx->now };
	struct json_object	*root;

	with_creations(fx);
	assert_int_equal(render_list(&fx->out, HTTP_FMT_TEXT, &fx->l, &f), 0);
	assert_string_equal(body(&fx->out),
	    "tess-ci-03 held tess-ci - - - Jane_Doe 2026-12-03T17:00:00Z\n");

	/* Not even one whose id equals the name asked for. */
	buf_reset(&fx->out);
	f = (struct render_filter){ "", "cc-7f3a", CLUSTER_STATUS__MAX,
	    fx->now };
	assert_int_equal(render_list(&fx->out, HTTP_FMT_TEXT, &fx->l, &f), 0);
	assert_int_equal(fx->out.len, 0);

	buf_reset(&fx->out);
	f = (struct render_filter){ "tess-ci", "tess-ci-01",
	    CLUSTER_STATUS__MAX, fx->now };
	assert_int_equal(render_list(&fx->out, HTTP_FMT_JSON, &fx->l, &f), 0);
	root = parse(&fx->out);
	assert_int_equal(json_object_array_length(get(root, "clusters")), 1);
	assert_int_equal(json_object_array_length(get(root, "creations")), 0);
	assert_int_equal(get_int(get(root, "summary"), "creating"), 0);
	json_object_put(root);

	buf_reset(&fx->out);
	f = (struct render_filter){ "", "", CLUSTER_VACANT, fx->now };
	assert_int_equal(render_list(&fx->out, HTTP_FMT_HTML, &fx->l, &f), 0);
	assert_null(strstr(body(&fx->out), "Being created"));
	assert_null(strstr(body(&fx->out), "being created"));
	assert_null(strstr(body(&fx->out), "cc-7f3a"));
}

static void
test_purpose_filter_keeps_only_creations_of_that_purpose(void **state)
{
	struct fixture		*fx = *state;
	struct render_filter	 f = { "tess-ci", "", CLUSTER_STATUS__MAX,
				    fx->now };
	const char		*b;

	with_creations(fx);
	assert_int_equal(render_list(&fx->out, HTTP_FMT_TEXT, &fx->l, &f), 0);
	b = body(&fx->out);
	assert_int_equal(count(b, "\n"), 4);
	assert_non_null(strstr(b, "\ncc-7f3a creating tess-ci - - "
	    "create-cluster Jane_Doe 2026-12-03T14:00:00Z\n"));
	/* bob's creation has no purpose, so no purpose filter shows it. */
	assert_null(strstr(b, " bob "));

	/* Before the gpu creation went stale, the gpu filter shows it. */
	buf_reset(&fx->out);
	f = (struct render_filter){ "gpu", "", CLUSTER_STATUS__MAX,
	    at("2026-12-03T09:00:00Z") };
	assert_int_equal(render_list(&fx->out, HTTP_FMT_TEXT, &fx->l, &f), 0);
	assert_string_equal(body(&fx->out),
	    "gpu-01 disabled gpu - - - admin -\n"
	    "cc-old creating gpu - - create-cluster carol "
	    "2026-12-03T10:00:00Z\n");
}

static void
test_json_list_has_creations_and_a_creating_count(
    void **state)
{
	struct fixture		*fx = *state;
	struct render_filter	 f = { "", "", CLUSTER_STATUS__MAX, fx->now };
	struct json_object	*root, *arr, *rec, *sum;
	const char		*b, *clusters, *creations;

	with_creations(fx);
	assert_int_equal(render_list(&fx->out, HTTP_FMT_JSON, &fx->l, &f), 0);
	b = body(&fx->out);
	clusters = strstr(b, "\"clusters\":");
	creations = strstr(b, "\"creations\":");
	assert_non_null(clusters);
	assert_non_null(creations);
	assert_true(clusters < creations);
	/* The reservation ticket is the store's, never the API's. */
	assert_null(strstr(b, "0123456789abcdef"));
	assert_null(strstr(b, "ticket"));

	root = parse(&fx->out);
	assert_int_equal(json_object_array_length(get(root, "clusters")),
	    NFIXTURE);
	arr = get(root, "creations");
	assert_true(json_object_is_type(arr, json_type_array));
	assert_int_equal(json_object_array_length(arr), 2);
	rec = json_object_array_get_idx(arr, 0);
	assert_int_equal(json_object_object_length(rec), 7);
	assert_string_equal(get_str(rec, "id"), "cc-7f3a");
	assert_string_equal(get_str(rec, "job"), "create-cluster");
	assert_string_equal(get_str(rec, "user"), "Jane Doe");
	assert_string_equal(get_str(rec, "branch"), "main");
	assert_string_equal(get_str(rec, "purpose"), "tess-ci");
	assert_string_equal(get_str(rec, "since"), "2026-12-03T12:00:00Z");
	assert_string_equal(get_str(rec, "expires"), "2026-12-03T14:00:00Z");
	rec = json_object_array_get_idx(arr, 1);
	assert_string_equal(get_str(rec, "id"), "");
	assert_string_equal(get_str(rec, "purpose"), "");
	assert_string_equal(get_str(rec, "user"), "bob");

	sum = get(root, "summary");
	assert_int_equal(json_object_object_length(sum), 5);
	assert_int_equal(get_int(sum, "vacant"), 1);
	assert_int_equal(get_int(sum, "occupied"), 1);
	assert_int_equal(get_int(sum, "held"), 1);
	assert_int_equal(get_int(sum, "disabled"), 1);
	assert_int_equal(get_int(sum, "creating"), 2);
	json_object_put(root);
}

static void
test_html_list_shows_creations_escaped_under_a_heading(
    void **state)
{
	struct fixture		*fx = *state;
	struct render_filter	 f = { "", "", CLUSTER_STATUS__MAX, fx->now };
	const char		*b, *clusters, *heading;

	with_creations(fx);
	SET(fx->creations[0].job, XSS);
	SET(fx->creations[1].user, "O'Brien & <co>");
	SET(fx->creations[1].branch, "feature/<b>");
	assert_int_equal(render_list(&fx->out, HTTP_FMT_HTML, &fx->l, &f), 0);
	b = body(&fx->out);
	assert_null(strstr(b, XSS));
	assert_null(strstr(b, "<script"));
	assert_null(strstr(b, "<co>"));
	assert_null(strstr(b, "<b>"));
	assert_non_null(strstr(b, "4 clusters: 1 vacant, 1 occupied, "
	    "1 held, 1 disabled, 2 being created</p>"));

	/* The creations' table comes after the clusters' one. */
	clusters = strstr(b, "<th>Name</th>");
	heading = strstr(b, "<h2>Being created</h2>");
	assert_non_null(clusters);
	assert_non_null(heading);
	assert_true(clusters < heading);
	assert_non_null(strstr(heading, "<th>Id</th><th>Job</th>"
	    "<th>User</th><th>Branch</th><th>Purpose</th><th>Asked</th>"
	    "<th>Expires</th>"));
	assert_non_null(strstr(heading, "<tr><td>cc-7f3a</td><td>"
	    XSS_ESCAPED "</td><td>Jane Doe</td><td>main</td>"
	    "<td>tess-ci</td><td class=\"t\">2026-12-03T12:00:00Z</td>"
	    "<td class=\"t\">2026-12-03T14:00:00Z</td></tr>"));
	assert_non_null(strstr(heading, "<tr><td>(asking Prow)</td>"
	    "<td>create-cluster</td><td>O&#39;Brien &amp; &lt;co&gt;</td>"
	    "<td>feature/&lt;b&gt;</td><td></td>"));
	assert_int_equal(count(heading, "<tr><td>"), 2);
	assert_null(strstr(b, "cc-old"));
	assert_non_null(strstr(b, "</html>\n"));
}

static void
test_html_list_has_no_creations_table_when_none_is_shown(
    void **state)
{
	struct fixture		*fx = *state;
	struct render_filter	 f = { "", "", CLUSTER_STATUS__MAX,
				    at("2026-12-03T15:00:00Z") };
	const char		*b;

	with_creations(fx);
	assert_int_equal(render_list(&fx->out, HTTP_FMT_HTML, &fx->l, &f), 0);
	b = body(&fx->out);
	assert_non_null(strstr(b,
	    "4 clusters: 1 vacant, 1 occupied, 1 held, 1 disabled</p>"));
	assert_null(strstr(b, "<h2>"));
	assert_null(strstr(b, "being created"));
	assert_int_equal(count(b, "<table>"), 1);
}

static void
test_createcluster_text_body_is_the_id_and_a_newline(void **state)
{
	struct fixture	*fx = *state;

	with_creations(fx);
	assert_int_equal(render_creation(&fx->out, HTTP_FMT_TEXT,
	    &fx->creations[0], 1), 0);
	assert_string_equal(body(&fx->out), "cc-7f3a\n");
	/* A found one reads the same: ID=$(curl ...) works either way. */
	buf_reset(&fx->out);
	assert_int_equal(render_creation(&fx->out, HTTP_FMT_TEXT,
	    &fx->creations[0], 0), 0);
	assert_string_equal(body(&fx->out), "cc-7f3a\n");
	buf_reset(&fx->out);
	assert_int_equal(render_creation(&fx->out, HTTP_FMT_HTML,
	    &fx->creations[0], 1), 0);
	assert_string_equal(body(&fx->out), "cc-7f3a\n");
}

static void
test_createcluster_json_body_has_the_record_and_new(
    void **state)
{
	struct fixture		*fx = *state;
	struct json_object	*root, *rec, *isnew;

	with_creations(fx);
	assert_int_equal(render_creation(&fx->out, HTTP_FMT_JSON,
	    &fx->creations[0], 1), 0);
	root = parse(&fx->out);
	assert_int_equal(json_object_object_length(root), 2);
	rec = get(root, "creation");
	assert_string_equal(get_str(rec, "id"), "cc-7f3a");
	assert_string_equal(get_str(rec, "job"), "create-cluster");
	assert_string_equal(get_str(rec, "user"), "Jane Doe");
	assert_string_equal(get_str(rec, "branch"), "main");
	assert_string_equal(get_str(rec, "expires"), "2026-12-03T14:00:00Z");
	isnew = get(root, "new");
	assert_true(json_object_is_type(isnew, json_type_boolean));
	assert_true(json_object_get_boolean(isnew));
	json_object_put(root);

	buf_reset(&fx->out);
	assert_int_equal(render_creation(&fx->out, HTTP_FMT_JSON,
	    &fx->creations[0], 0), 0);
	root = parse(&fx->out);
	assert_string_equal(get_str(get(root, "creation"), "id"), "cc-7f3a");
	isnew = get(root, "new");
	assert_true(json_object_is_type(isnew, json_type_boolean));
	assert_false(json_object_get_boolean(isnew));
	json_object_put(root);
}

/* ---- one cluster, status ------------------------------------------ */

static void
test_getvacant_text_body_is_the_name_and_a_newline(void **state)
{
	struct fixture	*fx = *state;

	assert_int_equal(render_cluster(&fx->out, HTTP_FMT_TEXT,
	    &fx->items[1], 1), 0);
	assert_string_equal(body(&fx->out), "tess-ci-02\n");
}

static void
test_cluster_text_body_is_the_list_line(void **state)
{
	struct fixture	*fx = *state;

	assert_int_equal(render_cluster(&fx->out, HTTP_FMT_TEXT,
	    &fx->items[2], 0), 0);
	assert_string_equal(body(&fx->out),
	    "tess-ci-03 held tess-ci - - - Jane_Doe 2026-12-03T17:00:00Z\n");
}

static void
test_cluster_html_body_falls_back_to_text(void **state)
{
	struct fixture	*fx = *state;

	assert_int_equal(render_cluster(&fx->out, HTTP_FMT_HTML,
	    &fx->items[0], 1), 0);
	assert_string_equal(body(&fx->out), "tess-ci-01\n");
	buf_reset(&fx->out);
	assert_int_equal(render_cluster(&fx->out, HTTP_FMT_HTML,
	    &fx->items[0], 0), 0);
	assert_string_equal(body(&fx->out),
	    "tess-ci-01 vacant tess-ci - - - - -\n");
}

static void
test_cluster_json_body_wraps_the_record(void **state)
{
	struct fixture		*fx = *state;
	struct json_object	*root, *rec;

	/* name_only is a text matter: JSON always carries the record. */
	assert_int_equal(render_cluster(&fx->out, HTTP_FMT_JSON,
	    &fx->items[2], 1), 0);
	root = parse(&fx->out);
	assert_int_equal(json_object_object_length(root), 1);
	rec = get(root, "cluster");
	assert_string_equal(get_str(rec, "name"), "tess-ci-03");
	assert_string_equal(get_str(rec, "status"), "held");
	assert_string_equal(get_str(rec, "user"), "Jane Doe");
	assert_string_equal(get_str(rec, "since"), "2026-12-03T11:00:00Z");
	json_object_put(root);
}

static void
test_status_is_the_message_in_every_format(void **state)
{
	struct fixture		*fx = *state;
	struct json_object	*root;

	assert_int_equal(render_status(&fx->out, HTTP_FMT_TEXT, "ok"), 0);
	assert_string_equal(body(&fx->out), "ok\n");
	buf_reset(&fx->out);
	assert_int_equal(render_status(&fx->out, HTTP_FMT_HTML, "ready"), 0);
	assert_string_equal(body(&fx->out), "ready\n");
	buf_reset(&fx->out);
	assert_int_equal(render_status(&fx->out, HTTP_FMT_JSON, "ready"), 0);
	assert_string_equal(body(&fx->out), "{\"status\":\"ready\"}");
	root = parse(&fx->out);
	assert_string_equal(get_str(root, "status"), "ready");
	json_object_put(root);
}

/* ---- errors --------------------------------------------------------- */

static void
test_error_text_body_is_code_and_message_on_one_line(void **state)
{
	struct fixture	*fx = *state;
	struct err	 e;

	errors_set(&e, ERR_NO_SUCH_CLUSTER, "no cluster named %s", "x-1");
	assert_int_equal(render_error(&fx->out, HTTP_FMT_TEXT, &e), 0);
	assert_string_equal(body(&fx->out),
	    "error: no_such_cluster: no cluster named x-1\n");

	buf_reset(&fx->out);
	errors_set(&e, ERR_BAD_PARAM, "bad job \"a\nb\"");
	assert_int_equal(render_error(&fx->out, HTTP_FMT_TEXT, &e), 0);
	assert_string_equal(body(&fx->out),
	    "error: bad_param: bad job \"a b\"\n");
}

static void
test_error_json_body_has_code_and_escaped_message(void **state)
{
	struct fixture		*fx = *state;
	struct json_object	*root, *err;
	struct err		 e;

	errors_set(&e, ERR_HELD_BY_OTHER, "held by \"Jane\" \\ until %s",
	    "2026-12-03T17:00:00Z");
	assert_int_equal(render_error(&fx->out, HTTP_FMT_JSON, &e), 0);
	root = parse(&fx->out);
	assert_int_equal(json_object_object_length(root), 1);
	err = get(root, "error");
	assert_int_equal(json_object_object_length(err), 2);
	assert_string_equal(get_str(err, "code"), "held_by_other");
	assert_string_equal(get_str(err, "message"),
	    "held by \"Jane\" \\ until 2026-12-03T17:00:00Z");
	json_object_put(root);
}

static void
test_error_html_page_shows_status_code_and_escaped_message(void **state)
{
	struct fixture	*fx = *state;
	struct err	 e;

	errors_set(&e, ERR_NO_VACANT, "no vacant cluster for " XSS);
	assert_int_equal(render_error(&fx->out, HTTP_FMT_HTML, &e), 0);
	assert_non_null(strstr(body(&fx->out), "<!DOCTYPE html>"));
	assert_non_null(strstr(body(&fx->out), "<meta charset=\"utf-8\">"));
	assert_non_null(strstr(body(&fx->out), "503"));
	assert_non_null(strstr(body(&fx->out), "no_vacant_cluster"));
	assert_non_null(strstr(body(&fx->out),
	    "no vacant cluster for " XSS_ESCAPED));
	assert_null(strstr(body(&fx->out), XSS));
	assert_null(strstr(body(&fx->out), "<script"));
}

/* ---- HTML ------------------------------------------------------------ */

static void
test_html_escape_replaces_the_five_special_characters(void **state)
{
	struct fixture	*fx = *state;

	assert_int_equal(html_escape(&fx->out, "a&b<c>d\"e'f"), 0);
	assert_string_equal(body(&fx->out),
	    "a&amp;b&lt;c&gt;d&quot;e&#39;f");
	buf_reset(&fx->out);
	assert_int_equal(html_escape(&fx->out, "plain text ÄÖ"), 0);
	assert_string_equal(body(&fx->out), "plain text ÄÖ");
	buf_reset(&fx->out);
	assert_int_equal(html_escape(&fx->out, ""), 0);
	assert_int_equal(fx->out.len, 0);
}

static void
test_html_list_is_a_complete_page_with_a_row_per_cluster(void **state)
{
	struct fixture	*fx = *state;
	const char	*b;

	assert_int_equal(render_list(&fx->out, HTTP_FMT_HTML, &fx->l, NULL),
	    0);
	b = body(&fx->out);
	assert_true(strncmp(b, "<!DOCTYPE html>", 15) == 0);
	assert_non_null(strstr(b, "<meta charset=\"utf-8\">"));
	assert_non_null(strstr(b, "<title>CIMaster clusters</title>"));
	assert_non_null(strstr(b, "<th>Name</th><th>Status</th>"
	    "<th>Purpose</th><th>OS image</th><th>Build</th><th>Job</th>"
	    "<th>User</th><th>Since</th><th>Hold until</th>"
	    "<th>Reason</th>"));
	assert_non_null(strstr(b,
	    "4 clusters: 1 vacant, 1 occupied, 1 held, 1 disabled"));
	assert_int_equal(count(b, "<tr class="), NFIXTURE);
	assert_non_null(strstr(b, "<tr class=\"vacant\"><td>tess-ci-01</td>"));
	assert_non_null(strstr(b, "<tr class=\"held\"><td>tess-ci-03</td>"));
	assert_non_null(strstr(b, "<td>Jane Doe</td>"));
	assert_non_null(strstr(b, "2026-12-03T17:00:00Z"));
	assert_non_null(strstr(b, "<td>debugging the CSI driver</td>"));
	assert_non_null(strstr(b, "<tr class=\"disabled\"><td>gpu-01</td>"));
	assert_null(strstr(b, "<script"));
	assert_non_null(strstr(b, "</html>\n"));
}

static void
test_html_list_escapes_script_in_job_and_reason(void **state)
{
	struct fixture	*fx = *state;
	const char	*b;

	SET(fx->items[1].job, XSS);
	SET(fx->items[2].reason, XSS);
	SET(fx->items[2].user, "O'Brien & <co>");
	assert_int_equal(render_list(&fx->out, HTTP_FMT_HTML, &fx->l, NULL),
	    0);
	b = body(&fx->out);
	assert_null(strstr(b, XSS));
	assert_null(strstr(b, "<script"));
	assert_int_equal(count(b, "<td>" XSS_ESCAPED "</td>"), 2);
	assert_non_null(strstr(b, "<td>O&#39;Brien &amp; &lt;co&gt;</td>"));
}

static void
test_html_list_applies_the_filter_to_rows_and_summary(void **state)
{
	struct fixture		*fx = *state;
	struct render_filter	 f = { "tess-ci", "", CLUSTER_HELD, fx->now };
	const char		*b;

	assert_int_equal(render_list(&fx->out, HTTP_FMT_HTML, &fx->l, &f), 0);
	b = body(&fx->out);
	assert_int_equal(count(b, "<tr class="), 1);
	assert_non_null(strstr(b, "<tr class=\"held\"><td>tess-ci-03</td>"));
	assert_non_null(strstr(b,
	    "1 cluster: 0 vacant, 0 occupied, 1 held, 0 disabled"));
	/* The filter links keep the other filter and select the current. */
	assert_non_null(strstr(b, "<strong>held</strong>"));
	assert_non_null(strstr(b, "<strong>tess-ci</strong>"));
	assert_non_null(strstr(b,
	    "<a href=\"?purpose=tess-ci&amp;status=vacant\">vacant</a>"));
	assert_non_null(strstr(b,
	    "<a href=\"?purpose=gpu&amp;status=held\">gpu</a>"));
	assert_non_null(strstr(b, "<a href=\"?status=held\">all</a>"));
}

static void
test_html_list_with_no_match_says_so(void **state)
{
	struct fixture		*fx = *state;
	struct render_filter	 f = { "", "nope", CLUSTER_STATUS__MAX,
				    fx->now };
	const char		*b;

	assert_int_equal(render_list(&fx->out, HTTP_FMT_HTML, &fx->l, &f), 0);
	b = body(&fx->out);
	assert_int_equal(count(b, "<tr class="), 0);
	assert_non_null(strstr(b,
	    "0 clusters: 0 vacant, 0 occupied, 0 held, 0 disabled"));
	assert_non_null(strstr(b, "No cluster matches."));
}

static void
test_html_error_page_escapes_the_code_too(void **state)
{
	struct fixture	*fx = *state;
	const char	*b;

	assert_int_equal(html_error_page(&fx->out, 400, "<b>", "x > y"), 0);
	b = body(&fx->out);
	assert_non_null(strstr(b, "<title>400 &lt;b&gt;</title>"));
	assert_non_null(strstr(b, "<h1>400 &lt;b&gt;</h1>"));
	assert_non_null(strstr(b, "<p>x &gt; y</p>"));
	assert_null(strstr(b, "<b>"));
}

/* ---- failures -------------------------------------------------------- */

static void
test_every_renderer_reports_a_failed_buffer(void **state)
{
	struct fixture	*fx = *state;
	struct err	 e;
	int		 fmt;

	errors_set(&e, ERR_INTERNAL, "boom");
	with_creations(fx);
	for (fmt = 0; fmt < HTTP_FMT__MAX; fmt++) {
		fx->out.failed = 1;
		assert_int_equal(render_list(&fx->out, fmt, &fx->l, NULL), -1);
		assert_int_equal(render_cluster(&fx->out, fmt, &fx->items[0],
		    0), -1);
		assert_int_equal(render_cluster(&fx->out, fmt, &fx->items[0],
		    1), -1);
		assert_int_equal(render_error(&fx->out, fmt, &e), -1);
		assert_int_equal(render_status(&fx->out, fmt, "ok"), -1);
		assert_int_equal(render_creation(&fx->out, fmt,
		    &fx->creations[0], 1), -1);
		assert_int_equal(fx->out.len, 0);
	}
	assert_int_equal(html_escape(&fx->out, "x"), -1);
	assert_int_equal(html_error_page(&fx->out, 500, "c", "m"), -1);
	assert_int_equal(html_list_page(&fx->out, &fx->l, NULL), -1);
	assert_int_equal(fx->out.len, 0);
}

#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_text_list_has_a_line_per_cluster_and_dashes_when_empty),
		T(test_text_list_lines_always_split_into_eight_fields),
		T(test_text_list_of_no_clusters_is_an_empty_body),
		T(test_text_list_shows_only_clusters_matching_every_filter),
		T(test_json_list_carries_every_record_field_unchanged),
		T(test_json_summary_counts_every_status_of_the_whole_list),
		T(test_json_summary_counts_only_the_filtered_clusters),
		T(test_json_list_of_no_match_is_empty_with_zero_summary),
		T(test_text_list_ends_with_a_line_per_pending_creation),
		T(test_stale_creations_are_hidden_in_every_format),
		T(test_status_or_name_filter_hides_every_creation),
		T(test_purpose_filter_keeps_only_creations_of_that_purpose),
		T(test_json_list_has_creations_and_a_creating_count),
		T(test_html_list_shows_creations_escaped_under_a_heading),
		T(test_html_list_has_no_creations_table_when_none_is_shown),
		T(test_createcluster_text_body_is_the_id_and_a_newline),
		T(test_createcluster_json_body_has_the_record_and_new),
		T(test_getvacant_text_body_is_the_name_and_a_newline),
		T(test_cluster_text_body_is_the_list_line),
		T(test_cluster_html_body_falls_back_to_text),
		T(test_cluster_json_body_wraps_the_record),
		T(test_status_is_the_message_in_every_format),
		T(test_error_text_body_is_code_and_message_on_one_line),
		T(test_error_json_body_has_code_and_escaped_message),
		T(test_error_html_page_shows_status_code_and_escaped_message),
		T(test_html_escape_replaces_the_five_special_characters),
		T(test_html_list_is_a_complete_page_with_a_row_per_cluster),
		T(test_html_list_escapes_script_in_job_and_reason),
		T(test_html_list_applies_the_filter_to_rows_and_summary),
		T(test_html_list_with_no_match_says_so),
		T(test_html_error_page_escapes_the_code_too),
		T(test_every_renderer_reports_a_failed_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
