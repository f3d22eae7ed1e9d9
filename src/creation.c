/*
 * creation: reserve, settle, abort, close and expire the pending
 * createcluster records.  The reservation is what makes createcluster
 * idempotent: it is written with the store's compare-and-swap before Prow
 * is called, so of N identical requests exactly one gets CREATION_RESERVED.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "creation.h"
#include "errors.h"
#include "util.h"

int
creation_list_push(struct creation_list *l, const struct creation *c)
{
	struct creation	*p;

	if ((p = util_array_grow(l->items, l->len, &l->cap,
	    sizeof(*p))) == NULL)
		return -1;
	l->items = p;
	l->items[l->len++] = *c;
	return 0;
}

void
creation_list_free(struct creation_list *l)
{
	if (l == NULL)
		return;
	free(l->items);
	l->items = NULL;
	l->len = l->cap = 0;
}

/* Removes record i, keeping the order of the others. */
static void
remove_at(struct creation_list *l, size_t i)
{
	memmove(&l->items[i], &l->items[i + 1],
	    (l->len - i - 1) * sizeof(l->items[0]));
	l->len--;
}

long
creation_find(const struct cluster_list *l, const char *job,
    const char *user, const char *branch, time_t now)
{
	const struct creation	*c;
	size_t			 i;

	for (i = 0; i < l->creations.len; i++) {
		c = &l->creations.items[i];
		if (c->expires > now && strcmp(c->job, job) == 0 &&
		    strcmp(c->user, user) == 0 &&
		    strcmp(c->branch, branch) == 0)
			return (long)i;
	}
	return -1;
}

long
creation_find_ticket(const struct cluster_list *l, const char *ticket)
{
	size_t	i;

	if (ticket == NULL || ticket[0] == '\0')
		return -1;
	for (i = 0; i < l->creations.len; i++)
		if (strcmp(l->creations.items[i].ticket, ticket) == 0)
			return (long)i;
	return -1;
}

enum cluster_change
creation_expire(struct cluster_list *l, time_t now, size_t *dropped)
{
	size_t	i, n = 0;

	for (i = 0; i < l->creations.len; )
		if (l->creations.items[i].expires <= now) {
			remove_at(&l->creations, i);
			n++;
		} else
			i++;
	if (dropped != NULL)
		*dropped = n;
	return n > 0 ? CLUSTER_CHANGED : CLUSTER_UNCHANGED;
}

/* Clusters of purpose, whatever their status, plus its live creations. */
static long
count_purpose(const struct cluster_list *l, const char *purpose)
{
	size_t	i;
	long	n = 0;

	for (i = 0; i < l->len; i++)
		if (strcmp(l->items[i].purpose, purpose) == 0)
			n++;
	for (i = 0; i < l->creations.len; i++)
		if (strcmp(l->creations.items[i].purpose, purpose) == 0)
			n++;
	return n;
}

static const char *
arg(const char *s)
{
	return s != NULL ? s : "";
}

enum cluster_change
creation_begin(struct cluster_list *l, const struct creation_args *a,
    time_t now, enum creation_outcome *outcome, struct creation *found,
    struct err *e)
{
	enum cluster_change	 rc;
	struct creation		 c;
	long			 i;

	rc = creation_expire(l, now, NULL);
	if ((i = creation_find(l, arg(a->job), arg(a->user), arg(a->branch),
	    now)) >= 0) {
		*found = l->creations.items[i];
		/* Our own reservation, written by an attempt whose answer
		 * was lost (store.c retries on a fresh load): still ours. */
		*outcome = strcmp(found->ticket, arg(a->ticket)) == 0 ?
		    CREATION_RESERVED : CREATION_PENDING;
		return rc;
	}
	if (a->max_clusters > 0 &&
	    count_purpose(l, arg(a->purpose)) >= a->max_clusters) {
		*outcome = CREATION_AT_MAX;
		return rc;
	}
	/* Expired ones are gone by now: every record left is live. */
	if (a->max_pending > 0 &&
	    l->creations.len >= (size_t)a->max_pending) {
		*outcome = CREATION_TOO_MANY;
		return rc;
	}
	memset(&c, 0, sizeof(c));
	/* The handler passes checked parameters; a too-long one is a bug
	 * worth refusing rather than truncating into another key. */
	if (util_strlcpy_checked(c.job, arg(a->job), sizeof(c.job)) == -1 ||
	    util_strlcpy_checked(c.user, arg(a->user), sizeof(c.user)) == -1 ||
	    util_strlcpy_checked(c.branch, arg(a->branch),
	    sizeof(c.branch)) == -1 ||
	    util_strlcpy_checked(c.purpose, arg(a->purpose),
	    sizeof(c.purpose)) == -1 ||
	    util_strlcpy_checked(c.ticket, arg(a->ticket),
	    sizeof(c.ticket)) == -1) {
		errors_set(e, ERR_INTERNAL, "creation: an argument is too "
		    "long");
		return CLUSTER_FAILED;
	}
	c.since = now;
	c.expires = a->reserve_until > now ? a->reserve_until : now + 1;
	if (creation_list_push(&l->creations, &c) == -1) {
		errors_set(e, ERR_INTERNAL, "creation: out of memory");
		return CLUSTER_FAILED;
	}
	*found = c;
	*outcome = CREATION_RESERVED;
	return CLUSTER_CHANGED;
}

enum cluster_change
creation_settle(struct cluster_list *l, const struct creation *rec,
    const char *id, time_t expires, time_t now, struct err *e)
{
	struct creation	 c;
	long		 i;

	if ((i = creation_find_ticket(l, rec->ticket)) >= 0) {
		c = l->creations.items[i];
		if (util_strlcpy_checked(c.id, id, sizeof(c.id)) == -1)
			goto toolong;
		c.expires = expires;
		l->creations.items[i] = c;
		return CLUSTER_CHANGED;
	}
	/* Our reservation ran out while Prow took its time.  The job runs
	 * all the same, so record it, unless a newer request for the same
	 * key reserved in the meantime: two records of one key would make
	 * the next request's answer depend on the order. */
	if (creation_find(l, rec->job, rec->user, rec->branch, now) >= 0)
		return CLUSTER_UNCHANGED;
	c = *rec;
	if (util_strlcpy_checked(c.id, id, sizeof(c.id)) == -1)
		goto toolong;
	c.expires = expires;
	if (creation_list_push(&l->creations, &c) == -1) {
		errors_set(e, ERR_INTERNAL, "creation: out of memory");
		return CLUSTER_FAILED;
	}
	return CLUSTER_CHANGED;
toolong:
	errors_set(e, ERR_INTERNAL, "creation: id too long");
	return CLUSTER_FAILED;
}

enum cluster_change
creation_abort(struct cluster_list *l, const char *ticket)
{
	long	i;

	if ((i = creation_find_ticket(l, ticket)) < 0)
		return CLUSTER_UNCHANGED;
	remove_at(&l->creations, (size_t)i);
	return CLUSTER_CHANGED;
}

enum cluster_change
creation_close(struct cluster_list *l, const char *id, int *closed)
{
	size_t	i;

	if (closed != NULL)
		*closed = 0;
	if (id == NULL || id[0] == '\0')
		return CLUSTER_UNCHANGED;
	for (i = 0; i < l->creations.len; i++)
		if (strcmp(l->creations.items[i].id, id) == 0) {
			remove_at(&l->creations, i);
			if (closed != NULL)
				*closed = 1;
			return CLUSTER_CHANGED;
		}
	return CLUSTER_UNCHANGED;
}
