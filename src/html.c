/*
 * html: the escaping HTML writer and the two pages (cluster list, error).
 * Every string that is not a literal of this file goes through
 * html_escape(); there is no JavaScript.  Output is appended to the
 * caller's struct buf.
 */
#include "config.h"

#include <string.h>

#include "cluster.h"
#include "html.h"
#include "render.h"
#include "util.h"

#define HTML_TITLE	"CIMaster clusters"

/* Shared by both pages: readable without any external resource. */
#define HTML_STYLE \
	"<style>\n" \
	"body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\n" \
	"h1{font-size:1.4em;margin:0 0 .5em}\n" \
	"h2{font-size:1.15em;margin:1.2em 0 .5em}\n" \
	"nav{margin:.3em 0}\n" \
	"nav a,nav strong{margin-right:.6em}\n" \
	".summary{margin:.8em 0;font-weight:bold}\n" \
	"table{border-collapse:collapse}\n" \
	"th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;" \
	"vertical-align:top;white-space:nowrap}\n" \
	"td:last-child{white-space:normal}\n" \
	"th{background:#f0f0f0}\n" \
	"td.t{white-space:nowrap;font-family:monospace}\n" \
	"tr.vacant{background:#e8f5e9}\n" \
	"tr.occupied{background:#fff8e1}\n" \
	"tr.held{background:#e3f2fd}\n" \
	"tr.disabled{background:#eee;color:#777}\n" \
	"</style>\n"

/* Appends s with & < > " ' replaced by entities: 0 or -1. */
int
html_escape(struct buf *out, const char *s)
{
	const char	*p, *run, *ent;

	if (s == NULL)
		return out->failed ? -1 : 0;
	run = s;
	for (p = s; *p != '\0'; p++) {
		switch (*p) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			continue;
		}
		if (p > run)
			(void)buf_append(out, run, (size_t)(p - run));
		(void)buf_puts(out, ent);
		run = p + 1;
	}
	if (p > run)
		(void)buf_append(out, run, (size_t)(p - run));
	return out->failed ? -1 : 0;
}

/* open, escaped s, close. */
static void
html_wrap(struct buf *out, const char *open, const char *s,
    const char *close)
{
	(void)buf_puts(out, open);
	(void)html_escape(out, s);
	(void)buf_puts(out, close);
}

static void
html_head(struct buf *out, const char *title)
{
	(void)buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width\">\n");
	html_wrap(out, "<title>", title, "</title>\n");
	(void)buf_puts(out, HTML_STYLE "</head>\n<body>\n");
}

/* Percent-encodes all but RFC 3986 unreserved characters. */
static void
html_url_encode(struct buf *out, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;
	char			 esc[3];

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL) {
			(void)buf_append(out, (const char *)p, 1);
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[*p >> 4];
		esc[2] = hex[*p & 0xf];
		(void)buf_append(out, esc, sizeof(esc));
	}
}

/*
 * One filter link: "?purpose=P&status=S" keeping the other filter of cur.
 * Only non-empty values are put in the query, because the API validates
 * purpose= and status= and an empty value would be a 400 (which is also
 * why this is a row of links and not a form).  The selected entry is
 * bold text, not a link.
 */
static void
html_filter_link(struct buf *out, const char *purpose, const char *status,
    const char *label, int selected)
{
	struct buf	 href = { 0 };

	if (selected) {
		html_wrap(out, "<strong>", label, "</strong>\n");
		return;
	}
	(void)buf_puts(&href, "?");
	if (purpose != NULL && purpose[0] != '\0') {
		(void)buf_puts(&href, "purpose=");
		html_url_encode(&href, purpose);
	}
	if (status != NULL && status[0] != '\0') {
		if (href.len > 1)
			(void)buf_puts(&href, "&");
		(void)buf_puts(&href, "status=");
		html_url_encode(&href, status);
	}
	/* A bare "?" is the unfiltered list on the same path. */
	if (href.failed)
		out->failed = 1;
	else
		html_wrap(out, "<a href=\"", href.data, "\">");
	html_wrap(out, "", label, "</a>\n");
	buf_free(&href);
}

/* 1 when the purpose of l->items[i] appeared before i. */
static int
html_purpose_seen(const struct cluster_list *l, size_t i)
{
	size_t	j;

	for (j = 0; j < i; j++)
		if (strcmp(l->items[j].purpose, l->items[i].purpose) == 0)
			return 1;
	return 0;
}

/* The filter links: every status, and every purpose in the list. */
static void
html_filters(struct buf *out, const struct cluster_list *l,
    const struct render_filter *f)
{
	const char	*purpose = "", *status = "";
	int		 s;
	size_t		 i;

	if (f != NULL && f->purpose != NULL)
		purpose = f->purpose;
	if (f != NULL && (unsigned)f->status < CLUSTER_STATUS__MAX)
		status = cluster_status_str(f->status);

	(void)buf_puts(out, "<nav>Status:\n");
	html_filter_link(out, purpose, "", "all", status[0] == '\0');
	for (s = 0; s < CLUSTER_STATUS__MAX; s++)
		html_filter_link(out, purpose, cluster_status_str(s),
		    cluster_status_str(s), strcmp(status,
		    cluster_status_str(s)) == 0);
	(void)buf_puts(out, "</nav>\n<nav>Purpose:\n");
	html_filter_link(out, "", status, "all", purpose[0] == '\0');
	for (i = 0; i < l->len; i++) {
		if (html_purpose_seen(l, i))
			continue;
		html_filter_link(out, l->items[i].purpose, status,
		    l->items[i].purpose,
		    strcmp(purpose, l->items[i].purpose) == 0);
	}
	(void)buf_puts(out, "</nav>\n");
}

static void
html_row(struct buf *out, const struct cluster *c)
{
	char	since[UTIL_TIME_MAX], until[UTIL_TIME_MAX];

	util_time_fmt(c->since, since, sizeof(since));
	util_time_fmt(c->hold_until, until, sizeof(until));
	html_wrap(out, "<tr class=\"", cluster_status_str(c->status), "\">");
	html_wrap(out, "<td>", c->name, "</td>");
	html_wrap(out, "<td>", cluster_status_str(c->status), "</td>");
	html_wrap(out, "<td>", c->purpose, "</td>");
	html_wrap(out, "<td>", c->os_image, "</td>");
	html_wrap(out, "<td>", c->build, "</td>");
	html_wrap(out, "<td>", c->job, "</td>");
	html_wrap(out, "<td>", c->user, "</td>");
	html_wrap(out, "<td class=\"t\">", since, "</td>");
	html_wrap(out, "<td class=\"t\">", until, "</td>");
	html_wrap(out, "<td>", c->reason, "</td>");
	(void)buf_puts(out, "</tr>\n");
}

static void
html_creation_row(struct buf *out, const struct creation *c)
{
	char	since[UTIL_TIME_MAX], expires[UTIL_TIME_MAX];

	util_time_fmt(c->since, since, sizeof(since));
	util_time_fmt(c->expires, expires, sizeof(expires));
	/* No id yet: the request is still waiting for Prow's answer. */
	html_wrap(out, "<tr><td>", c->id[0] != '\0' ? c->id :
	    "(asking Prow)", "</td>");
	html_wrap(out, "<td>", c->job, "</td>");
	html_wrap(out, "<td>", c->user, "</td>");
	html_wrap(out, "<td>", c->branch, "</td>");
	html_wrap(out, "<td>", c->purpose, "</td>");
	html_wrap(out, "<td class=\"t\">", since, "</td>");
	html_wrap(out, "<td class=\"t\">", expires, "</td>");
	(void)buf_puts(out, "</tr>\n");
}

/* The pending creations f shows, under their own heading; nothing at all
 * when there is none, so the usual page stays as it was. */
static void
html_creations(struct buf *out, const struct creation_list *cl,
    const struct render_filter *f, size_t creating)
{
	size_t	i;

	if (creating == 0)
		return;
	(void)buf_puts(out, "<h2>Being created</h2>\n<table>\n<thead><tr>"
	    "<th>Id</th><th>Job</th><th>User</th><th>Branch</th>"
	    "<th>Purpose</th><th>Asked</th><th>Expires</th></tr></thead>\n"
	    "<tbody>\n");
	for (i = 0; i < cl->len; i++)
		if (render_creation_match(f, &cl->items[i]))
			html_creation_row(out, &cl->items[i]);
	(void)buf_puts(out, "</tbody>\n</table>\n");
}

/*
 * The list page: filter links, a summary of the filtered clusters (every
 * status, zeros included, and the shown creations when there are any),
 * the table, one row per filtered cluster with the status as its class,
 * then the pending creations' table when one is shown.  0 or -1.
 */
int
html_list_page(struct buf *out, const struct cluster_list *l,
    const struct render_filter *f)
{
	size_t	counts[CLUSTER_STATUS__MAX] = { 0 };
	size_t	i, shown = 0, creating = 0;
	int	s;

	for (i = 0; i < l->len; i++) {
		if (!render_filter_match(f, &l->items[i]))
			continue;
		shown++;
		if ((unsigned)l->items[i].status < CLUSTER_STATUS__MAX)
			counts[l->items[i].status]++;
	}
	for (i = 0; i < l->creations.len; i++)
		if (render_creation_match(f, &l->creations.items[i]))
			creating++;

	html_head(out, HTML_TITLE);
	(void)buf_puts(out, "<h1>" HTML_TITLE "</h1>\n");
	html_filters(out, l, f);
	(void)buf_printf(out, "<p class=\"summary\">%zu cluster%s", shown,
	    shown == 1 ? "" : "s");
	for (s = 0; s < CLUSTER_STATUS__MAX; s++) {
		(void)buf_printf(out, "%s%zu ", s == 0 ? ": " : ", ",
		    counts[s]);
		(void)html_escape(out, cluster_status_str(s));
	}
	if (creating > 0)
		(void)buf_printf(out, ", %zu being created", creating);
	(void)buf_puts(out, "</p>\n<table>\n<thead><tr><th>Name</th>"
	    "<th>Status</th><th>Purpose</th><th>OS image</th><th>Build</th>"
	    "<th>Job</th><th>User</th><th>Since</th><th>Hold until</th>"
	    "<th>Reason</th></tr></thead>\n<tbody>\n");
	for (i = 0; i < l->len; i++)
		if (render_filter_match(f, &l->items[i]))
			html_row(out, &l->items[i]);
	if (shown == 0)
		(void)buf_puts(out, "<tr><td colspan=\"10\">No cluster matches."
		    "</td></tr>\n");
	(void)buf_puts(out, "</tbody>\n</table>\n");
	html_creations(out, &l->creations, f, creating);
	(void)buf_puts(out, "</body>\n</html>\n");
	return out->failed ? -1 : 0;
}

/* A small page naming the HTTP status, the API code and the message, with
 * a link back to the list.  0 or -1. */
int
html_error_page(struct buf *out, int status, const char *code,
    const char *msg)
{
	struct buf	title = { 0 };

	(void)buf_printf(&title, "%d ", status);
	(void)buf_puts(&title, code != NULL ? code : "");
	if (title.failed)
		out->failed = 1;
	else {
		html_head(out, title.data);
		html_wrap(out, "<h1>", title.data, "</h1>\n");
	}
	html_wrap(out, "<p>", msg, "</p>\n");
	(void)buf_puts(out, "<p><a href=\"/\">All clusters</a></p>\n"
	    "</body>\n</html>\n");
	buf_free(&title);
	return out->failed ? -1 : 0;
}
