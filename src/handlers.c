/*
 * handlers: each verb is arguments -> one store transaction over the pure
 * transition in cluster.c -> render.  The record acted on is copied out of
 * the transaction so nothing borrowed outlives it.
 */
#include "config.h"

#include <string.h>

#include "cfg.h"
#include "cluster.h"
#include "handlers.h"
#include "render.h"
#include "store.h"

typedef enum cluster_change (*verb_fn)(struct cluster_list *,
		    const struct cluster_args *, time_t, long *, struct err *);

/* One verb inside store_txn(); result is the record it acted on. */
struct verb_txn {
	verb_fn				 fn;
	const struct cluster_args	*a;
	struct cluster			 result;
	int				 found;
};

static enum cluster_change
verb_apply(struct cluster_list *l, void *arg, time_t now, struct err *e)
{
	struct verb_txn		*t = arg;
	enum cluster_change	 rc;
	long			 before = -1, picked = -1;

	/* A retried attempt starts from scratch. */
	t->found = 0;
	if (t->a->cluster[0] != '\0' &&
	    (before = cluster_find(l, t->a->cluster)) >= 0)
		t->result = l->items[before];	/* what delete leaves */
	rc = t->fn(l, t->a, now, &picked, e);
	if (rc == CLUSTER_FAILED)
		return rc;
	if (picked >= 0 && (size_t)picked < l->len &&
	    (before < 0 || strcmp(l->items[picked].name, t->result.name) == 0))
		t->result = l->items[picked];
	t->found = picked >= 0 || before >= 0;
	return rc;
}

/* Fills the transition arguments from the checked parameters. */
static void
args_from_ctx(const struct handler_ctx *h, struct cluster_args *a)
{
	const struct params	*p = h->p;

	memset(a, 0, sizeof(*a));
	a->cluster = p->cluster;
	a->purpose = p->present & PARAM_BIT(PARAM_PURPOSE) ? p->purpose :
	    h->cfg->default_purpose;
	a->os_image = p->os;
	a->build = p->build;
	a->job = p->job;
	a->user = h->user;
	a->reason = p->reason;
	a->hours = p->present & PARAM_BIT(PARAM_HOURS) ? p->hours :
	    h->cfg->hold_hours;
	a->is_admin = h->is_admin;
	a->force = p->force;
}

/* The shared body of every single-cluster verb. */
static int
run_verb(struct handler_ctx *h, struct http_response *resp, verb_fn fn,
    int name_only, struct err *e)
{
	struct cluster_args	a;
	struct verb_txn		t;

	args_from_ctx(h, &a);
	memset(&t, 0, sizeof(t));
	t.fn = fn;
	t.a = &a;
	if (store_txn(h->store, verb_apply, &t, h->clock, NULL, e) == -1)
		return -1;
	if (!t.found)
		return errors_set(e, ERR_INTERNAL, "the verb acted on nothing");
	memcpy(h->cluster, t.result.name, sizeof(h->cluster));
	resp->status = 200;
	if (render_cluster(&resp->body, resp->format, &t.result,
	    name_only) == -1)
		return errors_set(e, ERR_INTERNAL, "out of memory");
	return 0;
}

int
handlers_list(struct handler_ctx *h, struct http_response *resp,
    struct err *e)
{
	struct cluster_list	l = { 0 };
	struct render_filter	f;
	int			ret = -1;

	if (store_read(h->store, &l, e) == -1)
		goto out;
	f.purpose = h->p->purpose;
	f.name = h->p->name;
	f.status = h->p->status;
	resp->status = 200;
	if (render_list(&resp->body, resp->format, &l, &f) == -1) {
		errors_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	ret = 0;
out:
	cluster_list_free(&l);
	return ret;
}

int
handlers_getvacant(struct handler_ctx *h, struct http_response *resp,
    struct err *e)
{
	return run_verb(h, resp, cluster_getvacant, 1, e);
}

int
handlers_finish(struct handler_ctx *h, struct http_response *resp,
    struct err *e)
{
	return run_verb(h, resp, cluster_finish, 0, e);
}

int
handlers_hold(struct handler_ctx *h, struct http_response *resp,
    struct err *e)
{
	if (h->user[0] == '\0')
		return errors_set(e, ERR_BAD_PARAM,
		    "user: missing (give user= or authenticate)");
	return run_verb(h, resp, cluster_hold, 0, e);
}

int
handlers_release(struct handler_ctx *h, struct http_response *resp,
    struct err *e)
{
	if (h->user[0] == '\0')
		return errors_set(e, ERR_BAD_PARAM,
		    "user: missing (give user= or authenticate)");
	return run_verb(h, resp, cluster_release, 0, e);
}

int
handlers_add(struct handler_ctx *h, struct http_response *resp,
    struct err *e)
{
	return run_verb(h, resp, cluster_add, 0, e);
}

int
handlers_delete(struct handler_ctx *h, struct http_response *resp,
    struct err *e)
{
	return run_verb(h, resp, cluster_delete, 0, e);
}

int
handlers_disable(struct handler_ctx *h, struct http_response *resp,
    struct err *e)
{
	return run_verb(h, resp, cluster_disable, 0, e);
}

int
handlers_enable(struct handler_ctx *h, struct http_response *resp,
    struct err *e)
{
	return run_verb(h, resp, cluster_enable, 0, e);
}

int
handlers_healthz(struct handler_ctx *h, struct http_response *resp,
    struct err *e)
{
	resp->status = 200;
	return render_status(&resp->body, resp->format, "ok") == -1 ?
	    errors_set(e, ERR_INTERNAL, "out of memory") : 0;
}

int
handlers_readyz(struct handler_ctx *h, struct http_response *resp,
    struct err *e)
{
	/* Ready means the store answers with a document that parses. */
	if (store_check(h->store, e) == -1) {
		/* Not ready is 503, so load balancers take this host out;
		 * the router renders e with this status. */
		resp->status = 503;
		return -1;
	}
	resp->status = 200;
	return render_status(&resp->body, resp->format, "ready") == -1 ?
	    errors_set(e, ERR_INTERNAL, "out of memory") : 0;
}
