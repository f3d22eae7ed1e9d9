/*
 * handlers: each verb is arguments -> one store transaction over the pure
 * transition in cluster.c -> render.  The record acted on is copied out of
 * the transaction so nothing borrowed outlives it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cfg.h"
#include "cluster.h"
#include "creation.h"
#include "handlers.h"
#include "log.h"
#include "metrics.h"
#include "prow.h"
#include "render.h"
#include "store.h"

/* How often a request waiting for an identical one's Prow call looks at
 * the store again. */
#define CREATION_POLL_MS	200
/* The user auto-provisioning asks Prow on behalf of (the job's AUTHOR). */
#define CREATION_AUTO_USER	"cimaster"

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
	a->creation = p->creation;
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

/* The steps of a createcluster request, each one transaction. */
enum creation_step {
	STEP_BEGIN,		/* find an identical pending one or reserve */
	STEP_SETTLE,		/* Prow answered: record its id */
	STEP_ABORT,		/* Prow refused: give the reservation back */
	STEP__MAX
};

struct creation_txn {
	enum creation_step	 step;
	struct creation_args	 a;
	enum creation_outcome	 outcome;	/* STEP_BEGIN's */
	struct creation		 rec;	/* begin: found or reserved */
	const char		*id;	/* STEP_SETTLE */
	time_t			 expires;
};

static enum cluster_change
creation_apply(struct cluster_list *l, void *arg, time_t now, struct err *e)
{
	struct creation_txn	*t = arg;

	switch (t->step) {
	case STEP_BEGIN:
		return creation_begin(l, &t->a, now, &t->outcome, &t->rec, e);
	case STEP_SETTLE:
		return creation_settle(l, &t->rec, t->id, t->expires, now, e);
	case STEP_ABORT:
		return creation_abort(l, t->rec.ticket);
	default:
		errors_set(e, ERR_INTERNAL, "creation: no step %d",
		    (int)t->step);
		return CLUSTER_FAILED;
	}
}

static time_t
ctx_now(const struct handler_ctx *h)
{
	return h->clock != NULL ? h->clock() : time(NULL);
}

/* 16 hex digits nobody else will draw. */
static int
new_ticket(char *out, size_t outsz, struct err *e)
{
	unsigned char	r[CREATION_TICKET_LEN / 2];
	size_t		i;

	if (outsz < CREATION_TICKET_LEN + 1 ||
	    getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return errors_set(e, ERR_INTERNAL, "creation: no random "
		    "ticket");
	for (i = 0; i < sizeof(r); i++)
		(void)snprintf(out + 2 * i, 3, "%02x", r[i]);
	return 0;
}

/*
 * An identical request holds the reservation and is asking Prow: wait
 * for the id it records, no longer than Prow may take (nginx gives up on
 * us after fastcgi_read_timeout).  0 with *rec updated, or -1.
 */
static int
creation_wait(struct handler_ctx *h, struct creation *rec, struct err *e)
{
	const struct cfg	*c = h->cfg;
	struct cluster_list	 l = { 0 };
	struct timespec		 ts = { 0, CREATION_POLL_MS * 1000000L };
	long			 i, limit, until;
	int			 ret = -1;

	/* As long as the holder may take: two calls, one after a 401. */
	limit = 2 * (c->prow_connect_timeout_ms + c->prow_timeout_ms);
	until = store_mono_ms() + limit;
	for (;;) {
		(void)nanosleep(&ts, NULL);
		cluster_list_free(&l);
		if (store_read(h->store, &l, e) == -1)
			goto out;
		if ((i = creation_find_ticket(&l, rec->ticket)) < 0) {
			errors_set(e, ERR_PROW, "an identical request asked "
			    "Prow for job %s and did not get a job id; ask "
			    "again", rec->job);
			goto out;
		}
		if (l.creations.items[i].id[0] != '\0') {
			*rec = l.creations.items[i];
			break;
		}
		if (store_mono_ms() >= until) {
			errors_set(e, ERR_PROW, "Prow has not answered an "
			    "identical request for job %s within %ld ms; ask "
			    "again", rec->job, limit);
			goto out;
		}
	}
	ret = 0;
out:
	cluster_list_free(&l);
	return ret;
}

/*
 * The one path to a new cluster, for createcluster and auto-provisioning:
 * reserve (or find the identical pending request) with the store's
 * compare-and-swap, ask Prow only when this request reserved, record the
 * id or give the reservation back.  With wait, a request that found an
 * identical one still asking Prow waits for its id.  0 with *rec and
 * *outcome set (CREATION_RESERVED: this request started the job), or -1
 * (ERR_TOO_MANY_CREATIONS when prow.max_pending are pending).
 */
static int
creation_start(struct handler_ctx *h, const struct cfg_prow_job *j,
    const char *user, const char *branch, long max_clusters, int wait,
    struct creation *rec, enum creation_outcome *outcome, struct err *e)
{
	const struct cfg	*c = h->cfg;
	struct creation_txn	 t;
	struct prow_result	 pr;
	struct err		 e2;
	char			 ticket[CREATION_TICKET_LEN + 1];
	long			 reserve_s;

	if (new_ticket(ticket, sizeof(ticket), e) == -1)
		return -1;
	memset(&t, 0, sizeof(t));
	t.step = STEP_BEGIN;
	t.a.job = j->name;
	t.a.user = user;
	t.a.branch = branch;
	t.a.purpose = j->purpose;
	t.a.ticket = ticket;
	t.a.max_clusters = max_clusters;
	t.a.max_pending = c->prow_max_pending;
	/* Long enough for two Prow calls (one after a 401) and the write
	 * of the id; a worker killed meanwhile leaves a reservation that
	 * lapses after this. */
	reserve_s = (2 * (c->prow_connect_timeout_ms + c->prow_timeout_ms) +
	    c->retry_deadline_ms) / 1000 + 2;
	t.a.reserve_until = ctx_now(h) + reserve_s;
	if (store_txn(h->store, creation_apply, &t, h->clock, NULL, e) == -1)
		return -1;
	*outcome = t.outcome;
	*rec = t.rec;
	if (t.outcome == CREATION_AT_MAX)
		return 0;
	if (t.outcome == CREATION_TOO_MANY)
		return errors_set(e, ERR_TOO_MANY_CREATIONS, "%ld creations "
		    "are pending, the most prow.max_pending allows; ask again "
		    "when one has its cluster", c->prow_max_pending);
	if (t.outcome == CREATION_PENDING) {
		metrics_count_prow(METRICS_PROW_PENDING);
		return rec->id[0] == '\0' && wait ? creation_wait(h, rec, e) :
		    0;
	}

	if (prow_create(c, j->name, user, branch, &pr, e) == -1) {
		metrics_count_prow(METRICS_PROW_REFUSED);
		t.step = STEP_ABORT;
		errors_clear(&e2);
		if (store_txn(h->store, creation_apply, &t, h->clock, NULL,
		    &e2) == -1)
			log_warn(h->req->request_id, "%s: reservation for %s "
			    "stays until it lapses: %s", __func__, j->name,
			    e2.msg);
		return -1;
	}
	metrics_count_prow(METRICS_PROW_STARTED);
	t.step = STEP_SETTLE;
	t.id = pr.id;
	t.expires = ctx_now(h) + c->prow_pending_minutes * 60;
	(void)util_strlcpy_checked(rec->id, pr.id, sizeof(rec->id));
	rec->expires = t.expires;
	errors_clear(&e2);
	/* The job runs whatever the store says now: the caller gets its id
	 * even when recording it failed. */
	if (store_txn(h->store, creation_apply, &t, h->clock, NULL, &e2) == -1)
		log_warn(h->req->request_id, "%s: Prow started %s as %s but "
		    "the store did not take it: %s", __func__, j->name, pr.id,
		    e2.msg);
	return 0;
}

/*
 * getvacant found nothing vacant of purpose (or no cluster of it at all):
 * start the purpose's creation job when auto-provisioning is on and the
 * purpose is below its maximum, and say what happened after e's message.
 * Never changes e's code.
 */
static void
auto_provision(struct handler_ctx *h, const char *purpose, struct err *e)
{
	const struct cfg_prow_job	*j;
	struct creation			 rec;
	enum creation_outcome		 outcome;
	struct err			 e2;
	char				 msg[ERR_MSG_MAX];
	const char			*branch, *one;

	if ((j = cfg_prow_job_for(h->cfg, purpose)) == NULL ||
	    j->max_clusters <= 0)
		return;
	branch = j->branch[0] != '\0' ? j->branch : j->base_ref[0] != '\0' ?
	    j->base_ref : "master";
	/* The first cluster of a purpose, or one more. */
	one = e->code == ERR_NO_SUCH_PURPOSE ? "one" : "another";
	errors_clear(&e2);
	memset(&rec, 0, sizeof(rec));
	(void)util_strlcpy_checked(msg, e->msg, sizeof(msg));
	if (creation_start(h, j, CREATION_AUTO_USER, branch, j->max_clusters,
	    0, &rec, &outcome, &e2) == -1)
		errors_set(e, e->code, "%s; %s Prow for %s%s: %s", msg,
		    e2.code == ERR_TOO_MANY_CREATIONS ? "not asking" : "asking",
		    one, e2.code == ERR_TOO_MANY_CREATIONS ? "" : " failed",
		    e2.msg);
	else if (outcome == CREATION_AT_MAX)
		errors_set(e, e->code, "%s; %ld %s clusters exist or are being "
		    "created, the most auto-provisioning makes", msg,
		    j->max_clusters, purpose);
	else if (outcome == CREATION_RESERVED)
		errors_set(e, e->code, "%s; asked Prow for %s: job %s, id %s",
		    msg, one, j->name, rec.id);
	else
		errors_set(e, e->code, "%s; %s is being created: job %s, id %s",
		    msg, one, j->name, rec.id[0] != '\0' ? rec.id :
		    "(Prow is being asked)");
	if (rec.id[0] != '\0' && outcome != CREATION_AT_MAX)
		(void)util_strlcpy_checked(h->creation, rec.id,
		    sizeof(h->creation));
}

/* hold, release and createcluster act for someone: user= or REMOTE_USER. */
static int
require_user(const struct handler_ctx *h, struct err *e)
{
	return h->user[0] == '\0' ? errors_set(e, ERR_BAD_PARAM,
	    "user: missing (give user= or authenticate)") : 0;
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
	f.now = ctx_now(h);
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
	struct cluster_args	a;

	if (run_verb(h, resp, cluster_getvacant, 1, e) == 0)
		return 0;
	/* Nothing to hand out: none vacant, or none at all (a purpose
	 * whose creation job is configured may start from nothing). */
	if ((e->code == ERR_NO_VACANT || e->code == ERR_NO_SUCH_PURPOSE) &&
	    h->cfg->prow_auto_provision) {
		args_from_ctx(h, &a);
		auto_provision(h, a.purpose, e);
	}
	return -1;
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
	if (require_user(h, e) == -1)
		return -1;
	return run_verb(h, resp, cluster_hold, 0, e);
}

int
handlers_release(struct handler_ctx *h, struct http_response *resp,
    struct err *e)
{
	if (require_user(h, e) == -1)
		return -1;
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
handlers_createcluster(struct handler_ctx *h, struct http_response *resp,
    struct err *e)
{
	const struct cfg_prow_job	*j;
	struct creation			 rec;
	enum creation_outcome		 outcome;

	if (require_user(h, e) == -1)
		return -1;
	/* Refused before anything is reserved or sent. */
	if ((j = prow_job_check(h->cfg, h->p->job, h->user, h->p->branch,
	    e)) == NULL)
		return -1;
	if (creation_start(h, j, h->user, h->p->branch, 0, 1, &rec, &outcome,
	    e) == -1)
		return -1;
	(void)util_strlcpy_checked(h->creation, rec.id, sizeof(h->creation));
	resp->status = 202;
	return render_creation(&resp->body, resp->format, &rec,
	    outcome == CREATION_RESERVED) == -1 ?
	    errors_set(e, ERR_INTERNAL, "out of memory") : 0;
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
	if (store_check(h->store, NULL, e) == -1) {
		/* Not ready is 503, so load balancers take this host out;
		 * the router renders e with this status. */
		resp->status = 503;
		return -1;
	}
	resp->status = 200;
	return render_status(&resp->body, resp->format, "ready") == -1 ?
	    errors_set(e, ERR_INTERNAL, "out of memory") : 0;
}

int
handlers_metrics(struct handler_ctx *h, struct http_response *resp,
    struct err *e)
{
	struct cluster_list	l = { 0 };
	struct err		e2;
	int			up, ret = -1;

	/* One load without retries, as /readyz: a scrape must not wait out
	 * the transaction deadline of an unavailable API server. */
	errors_clear(&e2);
	up = store_check(h->store, &l, &e2) == 0;
	if (!up)
		log_warn(h->req->request_id, "store_up 0: %s", e2.msg);
	resp->status = 200;
	resp->content_type = METRICS_CONTENT_TYPE;
	if (metrics_render(&resp->body, up ? &l : NULL, ctx_now(h),
	    h->cfg->workers) == -1) {
		errors_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	ret = 0;
out:
	cluster_list_free(&l);
	return ret;
}
