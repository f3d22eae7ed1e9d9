/*
 * render: the response bodies in text, JSON and HTML.  Text and JSON are
 * written here; HTML goes through html.c, the escaping writer.  Bodies
 * are appended to a caller-owned struct buf.
 */
#ifndef CIMASTER_RENDER_H
#define CIMASTER_RENDER_H

#include "cluster.h"
#include "errors.h"
#include "http.h"
#include "util.h"

/* List filters; "" / CLUSTER_STATUS__MAX mean "any". */
struct render_filter {
	const char		*purpose;
	const char		*name;
	enum cluster_status	 status;
};

/*
 * The cluster list.  text: one line per cluster, "name status purpose
 * osImage build job user holdUntil", "-" for empty fields; JSON:
 * {"clusters":[...],"summary":{...}}; HTML: a page with a table.  The
 * summary counts the filtered clusters.  0, or -1 on allocation failure.
 */
int	render_list(struct buf *out, enum http_format fmt,
	    const struct cluster_list *l, const struct render_filter *f);
/* 1 when c passes f (NULL: every cluster does), else 0.  html.c shares
 * it so the page and the other formats filter alike. */
int	render_filter_match(const struct render_filter *f,
	    const struct cluster *c);
/* One cluster after a verb: text "name\n" when name_only (getvacant),
 * else the list line; JSON {"cluster":{...}}. HTML renders as text. */
int	render_cluster(struct buf *out, enum http_format fmt,
	    const struct cluster *c, int name_only);
/* An error: text "error: code: message\n"; JSON
 * {"error":{"code":..,"message":..}}; HTML a small escaped page. */
int	render_error(struct buf *out, enum http_format fmt,
	    const struct err *e);
/* A short status message ("ok", "ready"): text "msg\n"; JSON
 * {"status":"msg"}. */
int	render_status(struct buf *out, enum http_format fmt,
	    const char *msg);

#endif
