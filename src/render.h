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

/*
 * List filters; "" / CLUSTER_STATUS__MAX mean "any".  now is the caller's
 * clock: pending creations with expires <= now are stale (the store drops
 * them lazily) and never shown, so callers must set it.  A NULL filter
 * shows everything, stale creations included.
 */
struct render_filter {
	const char		*purpose;
	const char		*name;
	enum cluster_status	 status;
	time_t			 now;
};

/*
 * The cluster list.  text: one line per cluster, "name status purpose
 * osImage build job user holdUntil", then one per pending creation in the
 * same eight fields, "id creating purpose - - job user expires"; "-" for
 * empty fields.  JSON: {"clusters":[...],"creations":[...],"summary":
 * {...}}; HTML: a page with a table of each.  The summary counts the
 * filtered clusters and ("creating") creations.  0, or -1 on allocation
 * failure.
 */
int	render_list(struct buf *out, enum http_format fmt,
	    const struct cluster_list *l, const struct render_filter *f);
/* 1 when c passes f (NULL: every cluster does), else 0.  html.c shares
 * it so the page and the other formats filter alike. */
int	render_filter_match(const struct render_filter *f,
	    const struct cluster *c);
/* 1 when the pending creation c is shown under f, else 0: always with a
 * NULL f; otherwise only when f has no status or name filter (those are
 * about clusters), its purpose is empty or c's, and c->expires > f->now. */
int	render_creation_match(const struct render_filter *f,
	    const struct creation *c);
/* One cluster after a verb: text "name\n" when name_only (getvacant),
 * else the list line; JSON {"cluster":{...}}. HTML renders as text. */
int	render_cluster(struct buf *out, enum http_format fmt,
	    const struct cluster *c, int name_only);
/* createcluster's 202 body: text "id\n" (HTML renders as text); JSON
 * {"creation":{...},"new":is_new}, is_new 0 when an identical pending
 * request was found instead of starting a Prow job. */
int	render_creation(struct buf *out, enum http_format fmt,
	    const struct creation *c, int is_new);
/* An error: text "error: code: message\n"; JSON
 * {"error":{"code":..,"message":..}}; HTML a small escaped page. */
int	render_error(struct buf *out, enum http_format fmt,
	    const struct err *e);
/* A short status message ("ok", "ready"): text "msg\n"; JSON
 * {"status":"msg"}. */
int	render_status(struct buf *out, enum http_format fmt,
	    const char *msg);

#endif
