/*
 * cluster: the pure state machine over the cluster list.  Every transition
 * of the API's table is a function of (list, arguments, now): no I/O, no
 * clock, no logging.  The list owns its records; cluster_list_free()
 * releases them.
 */
#ifndef CIMASTER_CLUSTER_H
#define CIMASTER_CLUSTER_H

#include <stddef.h>
#include <time.h>

#include "errors.h"

#define CLUSTER_NAME_MAX	63	/* a DNS label */
#define CLUSTER_LABEL_MAX	63	/* purpose, OS image */
#define CLUSTER_TEXT_MAX	256	/* build, job, user, branch, reason */
#define CREATION_ID_MAX		253	/* a Kubernetes object name */
#define CREATION_TICKET_LEN	16	/* hex digits */

enum cluster_status {
	CLUSTER_VACANT,
	CLUSTER_OCCUPIED,
	CLUSTER_HELD,
	CLUSTER_DISABLED,
	CLUSTER_STATUS__MAX
};

struct cluster {
	char			name[CLUSTER_NAME_MAX + 1];
	char			purpose[CLUSTER_LABEL_MAX + 1];
	char			os_image[CLUSTER_LABEL_MAX + 1];
	enum cluster_status	status;
	char			build[CLUSTER_TEXT_MAX + 1];
	char			job[CLUSTER_TEXT_MAX + 1];
	char			user[CLUSTER_TEXT_MAX + 1];
	time_t			since;		/* 0: unknown */
	time_t			hold_until;	/* 0 unless held */
	char			reason[CLUSTER_TEXT_MAX + 1];
	/* The holdUntil a "hold ends soon" warning was sent for (0: none),
	 * so that an extended hold gets a warning of its own. */
	time_t			hold_warned;
	/* The createcluster id the cluster was added for ("" if none), so
	 * that the creation job's retried add is recognised as its own. */
	char			creation[CREATION_ID_MAX + 1];
};

/*
 * A createcluster request that Prow is running (or is being asked to run):
 * the store keeps it beside the clusters so that an identical request
 * (same job, user, branch) finds it instead of starting a second job.
 */
struct creation {
	char		id[CREATION_ID_MAX + 1];   /* Prow's; "" while asking */
	char		job[CLUSTER_TEXT_MAX + 1];
	char		user[CLUSTER_TEXT_MAX + 1];
	char		branch[CLUSTER_TEXT_MAX + 1];
	char		purpose[CLUSTER_LABEL_MAX + 1]; /* the job's; "" = none */
	time_t		since;		/* asked */
	time_t		expires;	/* forgotten after */
	/* The request that reserved the record, so that only it fills in
	 * the id or takes the record back. */
	char		ticket[CREATION_TICKET_LEN + 1];
};

struct creation_list {
	struct creation	*items;
	size_t		 len;
	size_t		 cap;
};

/* The decoded store document: the clusters and the pending creations. */
struct cluster_list {
	struct cluster		*items;
	size_t			 len;
	size_t			 cap;
	struct creation_list	 creations;
};

/* The arguments of every verb, already validated by params.c.  Strings
 * are "" when absent. */
struct cluster_args {
	const char	*cluster;
	const char	*purpose;
	const char	*os_image;	/* "" = any */
	const char	*build;
	const char	*job;
	const char	*user;		/* the effective caller */
	const char	*reason;
	long		 hours;		/* hold length, already range-checked */
	int		 is_admin;	/* the caller is in the admin list */
	int		 force;		/* delete: even when in use */
	const char	*creation;	/* add: the creation it completes */
};

/* What a transition did. */
enum cluster_change {
	CLUSTER_UNCHANGED,	/* success, nothing to write */
	CLUSTER_CHANGED,	/* success, the list must be written */
	CLUSTER_FAILED,		/* e holds the API error; nothing changed */
	CLUSTER_CHANGE__MAX
};

const char	*cluster_status_str(enum cluster_status s);
/* "vacant" etc. to the enum: 0 or -1. */
int		 cluster_status_parse(const char *s, enum cluster_status *out);

/* Index of the cluster named name, or -1. */
long		 cluster_find(const struct cluster_list *l, const char *name);
/* Appends a copy of c: 0 or -1 (allocation). */
int		 cluster_list_push(struct cluster_list *l, const struct cluster *c);
/* Frees the clusters and the creations; accepts NULL. */
void		 cluster_list_free(struct cluster_list *l);

/*
 * The transitions.  Each returns CLUSTER_CHANGED or CLUSTER_UNCHANGED on
 * success and CLUSTER_FAILED with e set (code and a message for people) on
 * an API error; on failure the list is untouched.  *picked (where given)
 * is set to the index of the cluster the verb acted on.
 */
/* vacant -> occupied; idempotent per (job, build); ERR_NO_SUCH_PURPOSE,
 * ERR_NO_VACANT. */
enum cluster_change cluster_getvacant(struct cluster_list *l,
		    const struct cluster_args *a, time_t now, long *picked,
		    struct err *e);
/* occupied -> vacant; held, disabled and vacant stay as they are;
 * ERR_NO_SUCH_CLUSTER, ERR_NOT_OWNER (build given, other build). */
enum cluster_change cluster_finish(struct cluster_list *l,
		    const struct cluster_args *a, time_t now, long *picked,
		    struct err *e);
/* vacant/occupied -> held; held by same user -> extended;
 * ERR_HELD_BY_OTHER, ERR_DISABLED, ERR_NO_SUCH_CLUSTER. */
enum cluster_change cluster_hold(struct cluster_list *l,
		    const struct cluster_args *a, time_t now, long *picked,
		    struct err *e);
/* held -> vacant by holder or admin; ERR_NOT_HOLDER, ERR_NOT_HELD. */
enum cluster_change cluster_release(struct cluster_list *l,
		    const struct cluster_args *a, time_t now, long *picked,
		    struct err *e);
/* new vacant cluster, closing the pending creation a->creation names
 * (when there is one); ERR_EXISTS, but unchanged success for a repeat of
 * an add with the same creation id, purpose and OS image (the creation
 * job's retry after a lost answer). */
enum cluster_change cluster_add(struct cluster_list *l,
		    const struct cluster_args *a, time_t now, long *picked,
		    struct err *e);
/* removes a vacant/disabled cluster (any with force); ERR_IN_USE. */
enum cluster_change cluster_delete(struct cluster_list *l,
		    const struct cluster_args *a, time_t now, long *picked,
		    struct err *e);
/* any -> disabled (records user, reason; clears build, job, hold);
 * already disabled: unchanged. */
enum cluster_change cluster_disable(struct cluster_list *l,
		    const struct cluster_args *a, time_t now, long *picked,
		    struct err *e);
/* disabled -> vacant; any other status is already allocatable:
 * unchanged. */
enum cluster_change cluster_enable(struct cluster_list *l,
		    const struct cluster_args *a, time_t now, long *picked,
		    struct err *e);
/* every held cluster with hold_until <= now -> vacant; *released gets the
 * count.  Never fails. */
enum cluster_change cluster_expire(struct cluster_list *l, time_t now,
		    size_t *released);
/* 1 when c is a hold that ends after now but within warn_seconds of it and
 * no warning was sent for its current holdUntil; 0 otherwise (always 0
 * for warn_seconds <= 0). */
int		 cluster_warn_due(const struct cluster *c, time_t now,
		    long warn_seconds);
/* Records that a warning went out for each of the n records in sent (as
 * they were when it was sent): a cluster still held by the same user with
 * the same holdUntil gets hold_warned = holdUntil.  *marked (may be NULL)
 * gets the count.  Never fails. */
enum cluster_change cluster_mark_warned(struct cluster_list *l,
		    const struct cluster *sent, size_t n, size_t *marked);

#endif
