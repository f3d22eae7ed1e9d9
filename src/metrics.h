/*
 * metrics: the counters every worker adds to, kept in one shared mapping
 * the parent makes before it forks, and the Prometheus text page that
 * shows them with gauges computed from a store read.  No HTTP, store or
 * rendering headers here: store.c counts through this file too.
 */
#ifndef CIMASTER_METRICS_H
#define CIMASTER_METRICS_H

#include <stddef.h>
#include <time.h>

#include "errors.h"

struct buf;
struct cluster_list;

/* Room for the route table's paths (path labels). */
#define METRICS_PATHS_MAX	32

/* The exposition format the page is written in (format 0.0.4). */
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* How a store transaction ended (store_txn()), and its attempts. */
enum metrics_store {
	METRICS_STORE_ATTEMPT,		/* one load -> transition -> replace */
	METRICS_STORE_CONFLICT,		/* an attempt lost the race */
	METRICS_STORE_UNAVAILABLE,	/* an attempt met a transient failure */
	METRICS_STORE_OK,		/* written, or nothing to write */
	METRICS_STORE_REFUSED,		/* the transition said no (API error) */
	METRICS_STORE_FAILED,		/* the store failed (store_error) */
	METRICS_STORE_BUSY,		/* conflicts or the lock outlasted it */
	METRICS_STORE__MAX
};

/* What a request that needs a new cluster got from Prow. */
enum metrics_prow {
	METRICS_PROW_STARTED,		/* Prow started the job */
	METRICS_PROW_REFUSED,		/* Prow refused or did not answer */
	METRICS_PROW_PENDING,		/* an identical pending one answered */
	METRICS_PROW__MAX
};

/*
 * Maps the shared counters, zeroed; every process forked afterwards adds
 * to the same ones.  paths (borrowed, static storage: the route table's,
 * router_paths()) are the path labels; any other path counts as "other".
 * 0, or -1 with e set.  Until it is called (unit tests,
 * cimaster-expire) the metrics_count_*() calls do nothing and the page
 * shows zeros.  metrics_close() unmaps them (tests; accepts no mapping).
 */
int	metrics_open(const char *const *paths, size_t npaths,
	    struct err *e);
void	metrics_close(void);

/*
 * Counts one request: path is the route table's path, or NULL for a path
 * that has no route (counted as "other", so scanners cannot grow the
 * label set); status the HTTP status sent; usec how long it took.
 */
void	metrics_count_request(const char *path, int status, long usec);
void	metrics_count_store(enum metrics_store ev);
void	metrics_count_prow(enum metrics_prow ev);

/*
 * Appends the whole page to out: the counters, then the gauges of l
 * (NULL when the store could not be read: cimaster_store_up 0 and no
 * cluster gauges), creations pending at now, and the configured worker
 * count.  0, or -1 on allocation failure.
 */
int	metrics_render(struct buf *out, const struct cluster_list *l,
	    time_t now, int workers);

/* Appends s as an exposition-format label value (without the quotes):
 * backslash, double quote and newline escaped.  0 or -1. */
int	metrics_escape_label(struct buf *out, const char *s);

#endif
