/*
 * creation: the pure transitions over the pending createcluster records
 * kept beside the clusters (struct cluster_list's creations).  Like
 * cluster.c: functions of (list, arguments, now), no I/O, no clock.
 */
#ifndef CIMASTER_CREATION_H
#define CIMASTER_CREATION_H

#include <stddef.h>
#include <time.h>

#include "cluster.h"
#include "errors.h"

/* What creation_begin() found. */
enum creation_outcome {
	CREATION_RESERVED,	/* a new record for this ticket: ask Prow */
	CREATION_PENDING,	/* an identical request's record is live */
	CREATION_AT_MAX,	/* max_clusters of the purpose exist or are
				 * pending: nothing reserved */
	CREATION_TOO_MANY,	/* max_pending creations are pending:
				 * nothing reserved */
	CREATION_OUTCOME__MAX
};

/* One request; strings borrowed, "" when absent. */
struct creation_args {
	const char	*job;
	const char	*user;
	const char	*branch;
	const char	*purpose;	/* the job's purpose, "" for none */
	const char	*ticket;	/* CREATION_TICKET_LEN hex digits */
	long		 max_clusters;	/* > 0: auto-provisioning's limit */
	long		 max_pending;	/* > 0: live creations at most (the
					 * store document must not fill) */
	time_t		 reserve_until;	/* how long a reservation without an
					 * id may stand (the Prow call's
					 * timeout and some) */
};

/* Appends a copy of c: 0 or -1 (allocation). */
int	creation_list_push(struct creation_list *l, const struct creation *c);
void	creation_list_free(struct creation_list *l);	/* accepts NULL */

/* Index in l->creations of the live record of job, user and branch, or
 * -1.  Expired records (expires <= now) are not live. */
long	creation_find(const struct cluster_list *l, const char *job,
	    const char *user, const char *branch, time_t now);
/* Index of the record reserved by ticket, or -1. */
long	creation_find_ticket(const struct cluster_list *l, const char *ticket);

/*
 * Drops expired records, then: the live record of the same job, user and
 * branch is copied to *found (CREATION_PENDING, or CREATION_RESERVED when
 * its ticket is a->ticket: a retry of this very reservation); or, with max_clusters > 0,
 * when the clusters of the purpose plus its live creations reach it,
 * CREATION_AT_MAX; with max_pending > 0, when that many creations are
 * live, CREATION_TOO_MANY; otherwise a record for a->ticket is appended (id "",
 * expires reserve_until) and copied to *found (CREATION_RESERVED).
 * CLUSTER_CHANGED when anything was dropped or reserved; CLUSTER_FAILED
 * (ERR_INTERNAL) only on allocation failure, list untouched.
 */
enum cluster_change creation_begin(struct cluster_list *l,
		    const struct creation_args *a, time_t now,
		    enum creation_outcome *outcome, struct creation *found,
		    struct err *e);
/*
 * Prow started the job: the ticket's record gets id and expires.  When
 * the record is gone (it outlived its reservation and was dropped) rec,
 * the record as reserved, is put back with the id unless another live
 * record of the same job, user and branch took its place.  Never fails
 * but on allocation (CLUSTER_FAILED, ERR_INTERNAL).
 */
enum cluster_change creation_settle(struct cluster_list *l,
		    const struct creation *rec, const char *id, time_t expires,
		    time_t now, struct err *e);
/* Prow refused: the ticket's record goes.  Never fails. */
enum cluster_change creation_abort(struct cluster_list *l,
		    const char *ticket);
/* A cluster was added for creation id: its record goes; *closed (may be
 * NULL) is 1 when there was one.  Never fails. */
enum cluster_change creation_close(struct cluster_list *l, const char *id,
		    int *closed);
/* Drops every record with expires <= now; *dropped (may be NULL) gets
 * the count.  Never fails. */
enum cluster_change creation_expire(struct cluster_list *l, time_t now,
		    size_t *dropped);

#endif
