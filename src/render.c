/*
 * render: the text and JSON response bodies (the HTML page is html.c's).
 * Records come from codec_cluster_to_json() and codec_creation_to_json()
 * so the API's records have one definition.  Everything is appended to
 * the caller's struct buf; the json-c objects built here are put before
 * returning.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "cluster.h"
#include "codec.h"
#include "errors.h"
#include "html.h"
#include "http.h"
#include "render.h"
#include "util.h"

/* Compact JSON, and "/" left alone: nothing here goes inside <script>. */
#define RENDER_JSON_FLAGS	(JSON_C_TO_STRING_PLAIN | \
				    JSON_C_TO_STRING_NOSLASHESCAPE)
/* Fields of a text list line: the API's line format. */
#define RENDER_TEXT_FIELDS	8
/* The status field of a creation's line and its summary key. */
#define RENDER_CREATING		"creating"

/*
 * Appends one text field.  The list format is one line of space-separated
 * fields that CI scripts split with `read` or `awk`: an empty field is
 * written "-", and a space, tab or other control character inside a free
 * text field (build, job, user, reason may hold spaces) becomes '_' so a
 * field never splits in two and a line never breaks.  Text output only:
 * JSON and HTML carry the value unchanged.
 */
static int
render_text_field(struct buf *out, const char *s)
{
	const char	*p, *run;

	if (s == NULL || *s == '\0')
		return buf_puts(out, "-");
	run = s;
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p > ' ' && *p != 0x7f)
			continue;
		if (p > run && buf_append(out, run, (size_t)(p - run)) == -1)
			return -1;
		if (buf_puts(out, "_") == -1)
			return -1;
		run = p + 1;
	}
	if (p > run)
		return buf_append(out, run, (size_t)(p - run));
	return 0;
}

/*
 * One list line of RENDER_TEXT_FIELDS fields.  Clusters and pending
 * creations share it so that every line splits the same way, whatever
 * scripts do with the ones they do not expect.
 */
static int
render_text_line(struct buf *out,
    const char *const fields[RENDER_TEXT_FIELDS])
{
	size_t	i;

	for (i = 0; i < RENDER_TEXT_FIELDS; i++) {
		if (i > 0)
			(void)buf_puts(out, " ");
		(void)render_text_field(out, fields[i]);
	}
	(void)buf_puts(out, "\n");
	return out->failed ? -1 : 0;
}

/* "name status purpose osImage build job user holdUntil\n" */
static int
render_cluster_line(struct buf *out, const struct cluster *c)
{
	char		 until[UTIL_TIME_MAX];
	const char	*fields[RENDER_TEXT_FIELDS];

	util_time_fmt(c->hold_until, until, sizeof(until));
	fields[0] = c->name;
	fields[1] = cluster_status_str(c->status);
	fields[2] = c->purpose;
	fields[3] = c->os_image;
	fields[4] = c->build;
	fields[5] = c->job;
	fields[6] = c->user;
	fields[7] = until;
	return render_text_line(out, fields);
}

/*
 * "id creating purpose - - job user expires\n": the cluster line's shape,
 * with "creating" where a status goes, so that a script reading the list
 * with `read name status rest` skips these lines by their status.  The
 * id is "-" while Prow is still being asked.
 */
static int
render_creation_line(struct buf *out, const struct creation *c)
{
	char		 expires[UTIL_TIME_MAX];
	const char	*fields[RENDER_TEXT_FIELDS];

	util_time_fmt(c->expires, expires, sizeof(expires));
	fields[0] = c->id;
	fields[1] = RENDER_CREATING;
	fields[2] = c->purpose;
	fields[3] = "";
	fields[4] = "";
	fields[5] = c->job;
	fields[6] = c->user;
	fields[7] = expires;
	return render_text_line(out, fields);
}

/* Serialises obj into out; obj stays the caller's. */
static int
render_json_put(struct buf *out, struct json_object *obj)
{
	const char	*s;

	if ((s = json_object_to_json_string_ext(obj, RENDER_JSON_FLAGS))
	    == NULL) {
		out->failed = 1;
		return -1;
	}
	return buf_puts(out, s);
}

int
render_filter_match(const struct render_filter *f, const struct cluster *c)
{
	if (f == NULL)
		return 1;
	if (f->purpose != NULL && f->purpose[0] != '\0' &&
	    strcmp(f->purpose, c->purpose) != 0)
		return 0;
	if (f->name != NULL && f->name[0] != '\0' &&
	    strcmp(f->name, c->name) != 0)
		return 0;
	if ((unsigned)f->status < CLUSTER_STATUS__MAX && f->status != c->status)
		return 0;
	return 1;
}

int
render_creation_match(const struct render_filter *f,
    const struct creation *c)
{
	if (f == NULL)
		return 1;
	/* A creation has no cluster name or status yet. */
	if ((unsigned)f->status < CLUSTER_STATUS__MAX)
		return 0;
	if (f->name != NULL && f->name[0] != '\0')
		return 0;
	if (f->purpose != NULL && f->purpose[0] != '\0' &&
	    strcmp(f->purpose, c->purpose) != 0)
		return 0;
	return c->expires > f->now;
}

static int
render_list_text(struct buf *out, const struct cluster_list *l,
    const struct render_filter *f)
{
	const struct creation_list	*cl = &l->creations;
	size_t				 i;

	for (i = 0; i < l->len; i++) {
		if (!render_filter_match(f, &l->items[i]))
			continue;
		if (render_cluster_line(out, &l->items[i]) == -1)
			return -1;
	}
	for (i = 0; i < cl->len; i++) {
		if (!render_creation_match(f, &cl->items[i]))
			continue;
		if (render_creation_line(out, &cl->items[i]) == -1)
			return -1;
	}
	return 0;
}

/* Adds rec to arr, taking rec in every case: 0 or -1. */
static int
render_json_push(struct json_object *arr, struct json_object *rec)
{
	if (rec == NULL)
		return -1;
	if (json_object_array_add(arr, rec) != 0) {
		json_object_put(rec);
		return -1;
	}
	return 0;
}

static int
render_list_json(struct buf *out, const struct cluster_list *l,
    const struct render_filter *f)
{
	const struct creation_list	*cl = &l->creations;
	struct json_object		*root = NULL, *arr, *sum;
	long				 counts[CLUSTER_STATUS__MAX] = { 0 };
	long				 creating = 0;
	size_t				 i;
	int				 s, ret = -1;

	if ((root = json_object_new_object()) == NULL)
		goto out;
	arr = json_object_new_array();
	if (codec_json_add(root, "clusters", arr) == -1)
		goto out;
	for (i = 0; i < l->len; i++) {
		if (!render_filter_match(f, &l->items[i]))
			continue;
		if ((unsigned)l->items[i].status < CLUSTER_STATUS__MAX)
			counts[l->items[i].status]++;
		if (render_json_push(arr,
		    codec_cluster_to_json(&l->items[i])) == -1)
			goto out;
	}
	/* Always present, like "clusters": clients need not test for it. */
	arr = json_object_new_array();
	if (codec_json_add(root, "creations", arr) == -1)
		goto out;
	for (i = 0; i < cl->len; i++) {
		if (!render_creation_match(f, &cl->items[i]))
			continue;
		creating++;
		if (render_json_push(arr,
		    codec_creation_to_json(&cl->items[i])) == -1)
			goto out;
	}
	/* Every key always, so dashboards need not test for absence. */
	sum = json_object_new_object();
	if (codec_json_add(root, "summary", sum) == -1)
		goto out;
	for (s = 0; s < CLUSTER_STATUS__MAX; s++)
		if (codec_json_add(sum, cluster_status_str(s),
		    json_object_new_int64(counts[s])) == -1)
			goto out;
	if (codec_json_add(sum, RENDER_CREATING,
	    json_object_new_int64(creating)) == -1)
		goto out;
	if (render_json_put(out, root) == -1)
		goto out;
	ret = 0;
out:
	json_object_put(root);
	if (ret == -1)
		out->failed = 1;
	return ret;
}

/*
 * The cluster list in fmt, filtered by f (NULL: everything).  Text with no
 * matching cluster is an empty body.  0, or -1 on allocation failure (or
 * when out had already failed).
 */
int
render_list(struct buf *out, enum http_format fmt,
    const struct cluster_list *l, const struct render_filter *f)
{
	switch (fmt) {
	case HTTP_FMT_JSON:
		(void)render_list_json(out, l, f);
		break;
	case HTTP_FMT_HTML:
		(void)html_list_page(out, l, f);
		break;
	default:
		(void)render_list_text(out, l, f);
		break;
	}
	return out->failed ? -1 : 0;
}

/*
 * One cluster after a verb.  Text: "name\n" when name_only (getvacant's
 * body, for CLUSTER=$(curl ...)), else the list line; JSON
 * {"cluster":{record}}; HTML falls back to text.  0 or -1.
 */
int
render_cluster(struct buf *out, enum http_format fmt,
    const struct cluster *c, int name_only)
{
	struct json_object	*root = NULL;

	if (fmt == HTTP_FMT_JSON) {
		if ((root = json_object_new_object()) == NULL ||
		    codec_json_add(root, "cluster",
		    codec_cluster_to_json(c)) == -1 ||
		    render_json_put(out, root) == -1)
			out->failed = 1;
		json_object_put(root);
	} else if (name_only) {
		(void)buf_puts(out, c->name);
		(void)buf_puts(out, "\n");
	} else
		(void)render_cluster_line(out, c);
	return out->failed ? -1 : 0;
}

/*
 * createcluster's 202 body.  Text: the id and a newline, for
 * ID=$(curl ...); HTML falls back to text.  JSON:
 * {"creation":{record},"new":is_new}, where new is true when this request
 * started the Prow job and false when an identical pending one (same job,
 * user, branch) was found.  0 or -1.
 */
int
render_creation(struct buf *out, enum http_format fmt,
    const struct creation *c, int is_new)
{
	struct json_object	*root = NULL;

	if (fmt == HTTP_FMT_JSON) {
		if ((root = json_object_new_object()) == NULL ||
		    codec_json_add(root, "creation",
		    codec_creation_to_json(c)) == -1 ||
		    codec_json_add(root, "new",
		    json_object_new_boolean(is_new != 0)) == -1 ||
		    render_json_put(out, root) == -1)
			out->failed = 1;
		json_object_put(root);
	} else {
		(void)buf_puts(out, c->id);
		(void)buf_puts(out, "\n");
	}
	return out->failed ? -1 : 0;
}

/*
 * An API error.  Text "error: code: message\n"; JSON
 * {"error":{"code":..,"message":..}}; HTML a page through html.c with the
 * code's HTTP status.  0 or -1.
 */
int
render_error(struct buf *out, enum http_format fmt, const struct err *e)
{
	struct json_object	*root = NULL, *obj;
	const char		*code, *p;
	int			 ret = -1;

	code = errors_code_str(e->code);
	switch (fmt) {
	case HTTP_FMT_JSON:
		if ((root = json_object_new_object()) == NULL)
			goto out;
		obj = json_object_new_object();
		if (codec_json_add(root, "error", obj) == -1 ||
		    codec_json_add(obj, "code",
		    json_object_new_string(code)) == -1 ||
		    codec_json_add(obj, "message",
		    json_object_new_string(e->msg)) == -1 ||
		    render_json_put(out, root) == -1)
			goto out;
		break;
	case HTTP_FMT_HTML:
		(void)html_error_page(out, errors_http_status(e->code), code,
		    e->msg);
		break;
	default:
		(void)buf_printf(out, "error: %s: ", code);
		/*
		 * One line whatever the message holds (it may quote a bad
		 * parameter), so `curl ... | head -1` shows all of it.
		 */
		for (p = e->msg; *p != '\0'; p++)
			(void)buf_append(out, ((unsigned char)*p < ' ' ||
			    *p == 0x7f) ? " " : p, 1);
		(void)buf_puts(out, "\n");
		break;
	}
	ret = out->failed ? -1 : 0;
out:
	json_object_put(root);
	if (ret == -1)
		out->failed = 1;
	return ret;
}

/* A short status message: text "msg\n", JSON {"status":"msg"}; HTML falls
 * back to text.  0 or -1. */
int
render_status(struct buf *out, enum http_format fmt, const char *msg)
{
	struct json_object	*root = NULL;

	if (fmt == HTTP_FMT_JSON) {
		if ((root = json_object_new_object()) == NULL ||
		    codec_json_add(root, "status",
		    json_object_new_string(msg)) == -1 ||
		    render_json_put(out, root) == -1)
			out->failed = 1;
		json_object_put(root);
	} else {
		(void)buf_puts(out, msg);
		(void)buf_puts(out, "\n");
	}
	return out->failed ? -1 : 0;
}
