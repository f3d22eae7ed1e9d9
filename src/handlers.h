/*
 * handlers: one function per API verb.  Each turns checked parameters
 * into a store transaction over a pure cluster transition and renders the
 * outcome.  This is the one module that ties store, cluster and render
 * together.
 */
#ifndef CIMASTER_HANDLERS_H
#define CIMASTER_HANDLERS_H

#include <time.h>

#include "errors.h"
#include "http.h"
#include "params.h"

struct cfg;
struct store;

/* Everything a handler needs; all borrowed for one request. */
struct handler_ctx {
	const struct cfg		*cfg;
	struct store			*store;
	const struct http_request	*req;
	const struct params		*p;
	const char			*user;	   /* effective caller, "" if none */
	int				 is_admin; /* REMOTE_USER is an admin */
	time_t				(*clock)(void);	/* NULL: time() */
	char				 cluster[CLUSTER_NAME_MAX + 1];
						/* out: the cluster acted on,
						 * for the log line */
	char				 creation[CREATION_ID_MAX + 1];
						/* out: the Prow job id */
};

/* Each renders into resp->body (resp->format is set by the caller) and
 * returns 0, or returns -1 with e set; the router renders errors. */
typedef int (*handler_fn)(struct handler_ctx *, struct http_response *,
		    struct err *);

int	handlers_list(struct handler_ctx *, struct http_response *,
	    struct err *);
int	handlers_getvacant(struct handler_ctx *, struct http_response *,
	    struct err *);
int	handlers_finish(struct handler_ctx *, struct http_response *,
	    struct err *);
int	handlers_hold(struct handler_ctx *, struct http_response *,
	    struct err *);
int	handlers_release(struct handler_ctx *, struct http_response *,
	    struct err *);
int	handlers_add(struct handler_ctx *, struct http_response *,
	    struct err *);
int	handlers_delete(struct handler_ctx *, struct http_response *,
	    struct err *);
int	handlers_disable(struct handler_ctx *, struct http_response *,
	    struct err *);
int	handlers_enable(struct handler_ctx *, struct http_response *,
	    struct err *);
/* 202 with the Prow job's id, new or pending (docs/prow.md). */
int	handlers_createcluster(struct handler_ctx *, struct http_response *,
	    struct err *);
int	handlers_healthz(struct handler_ctx *, struct http_response *,
	    struct err *);
int	handlers_readyz(struct handler_ctx *, struct http_response *,
	    struct err *);
/* The Prometheus page: always 200, with cimaster_store_up 0 when the
 * store cannot be read, so the counters are scraped even then. */
int	handlers_metrics(struct handler_ctx *, struct http_response *,
	    struct err *);

#endif
