/*
 * html: the escaping HTML writer.  Every string that reaches an HTML
 * page passes html_escape(); the page layout lives here too.
 */
#ifndef CIMASTER_HTML_H
#define CIMASTER_HTML_H

#include "cluster.h"
#include "util.h"

struct render_filter;

/* Appends s with & < > " ' escaped: 0 or -1. */
int	html_escape(struct buf *out, const char *s);
/* The whole cluster list page (summary, cluster table, and the pending
 * creations' table when f shows any): 0 or -1. */
int	html_list_page(struct buf *out, const struct cluster_list *l,
	    const struct render_filter *f);
/* A small error page: 0 or -1. */
int	html_error_page(struct buf *out, int status, const char *code,
	    const char *msg);

#endif
