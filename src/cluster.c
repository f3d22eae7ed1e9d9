/*
 * cluster: the transitions of the API's table as pure functions of (list,
 * arguments, now).  No I/O, clock or logging: the store's transaction loop
 * calls them and writes the list back when they say CLUSTER_CHANGED.
 * Each transition edits a copy of the record and commits it at the end.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "creation.h"
#include "errors.h"
#include "util.h"

/*
 * A sanity bound on hold lengths so that now + hours * 3600 cannot
 * overflow time_t.  The configured maximum (max_hold_hours, 72 by
 * default) is far below it and is enforced by params.c.
 */
#define CLUSTER_HOLD_HOURS_LIMIT	(24L * 366 * 100)
#define SECONDS_PER_HOUR		3600

static const char *const status_names[CLUSTER_STATUS__MAX] = {
	[CLUSTER_VACANT] =	"vacant",
	[CLUSTER_OCCUPIED] =	"occupied",
	[CLUSTER_HELD] =	"held",
	[CLUSTER_DISABLED] =	"disabled",
};

/* Arguments are "" when absent; a NULL from a careless caller counts as
 * absent rather than crashing the worker. */
static const char *
arg(const char *s)
{
	return s != NULL ? s : "";
}

static void
set_picked(long *picked, long idx)
{
	if (picked != NULL)
		*picked = idx;
}

/* Everything that says who uses the cluster and why. */
static void
clear_use(struct cluster *c)
{
	c->build[0] = '\0';
	c->job[0] = '\0';
	c->user[0] = '\0';
	c->reason[0] = '\0';
	c->hold_until = 0;
	c->hold_warned = 0;
}

/* The copies below cannot fail for arguments params.c validated; a
 * failure means a caller skipped validation, which is a bad parameter
 * rather than a reason to truncate a name silently. */
static int
copy_arg(char *dst, size_t dstsz, const char *src, const char *what,
    struct err *e)
{
	if (util_strlcpy_checked(dst, arg(src), dstsz) == -1)
		return errors_set(e, ERR_BAD_PARAM,
		    "%s is longer than %zu bytes", what, dstsz - 1);
	return 0;
}

/* Looks the cluster of a->cluster up; ERR_NO_SUCH_CLUSTER when absent. */
static long
lookup(const struct cluster_list *l, const struct cluster_args *a,
    long *picked, struct err *e)
{
	long	idx;

	set_picked(picked, -1);
	if ((idx = cluster_find(l, arg(a->cluster))) == -1) {
		errors_set(e, ERR_NO_SUCH_CLUSTER, "no cluster named %s",
		    arg(a->cluster));
		return -1;
	}
	set_picked(picked, idx);
	return idx;
}

const char *
cluster_status_str(enum cluster_status s)
{
	if ((unsigned)s >= CLUSTER_STATUS__MAX)
		return "unknown";
	return status_names[s];
}

int
cluster_status_parse(const char *s, enum cluster_status *out)
{
	size_t	i;

	if (s == NULL)
		return -1;
	for (i = 0; i < CLUSTER_STATUS__MAX; i++)
		if (strcmp(s, status_names[i]) == 0) {
			*out = (enum cluster_status)i;
			return 0;
		}
	return -1;
}

long
cluster_find(const struct cluster_list *l, const char *name)
{
	size_t	i;

	if (l == NULL || name == NULL)
		return -1;
	for (i = 0; i < l->len; i++)
		if (strcmp(l->items[i].name, name) == 0)
			return (long)i;
	return -1;
}

int
cluster_list_push(struct cluster_list *l, const struct cluster *c)
{
	struct cluster	*p;

	if ((p = util_array_grow(l->items, l->len, &l->cap,
	    sizeof(*p))) == NULL)
		return -1;
	l->items = p;
	l->items[l->len++] = *c;
	return 0;
}

void
cluster_list_free(struct cluster_list *l)
{
	if (l == NULL)
		return;
	free(l->items);
	l->items = NULL;
	l->len = l->cap = 0;
	creation_list_free(&l->creations);
}

/* The filter of getvacant: purpose, and the OS image when one is asked. */
static int
matches(const struct cluster *c, const char *purpose, const char *os)
{
	if (strcmp(c->purpose, purpose) != 0)
		return 0;
	return os[0] == '\0' || strcmp(c->os_image, os) == 0;
}

/*
 * vacant -> occupied.  A retried getvacant (the CI job timed out waiting
 * for the answer) must get the cluster it already has, whatever purpose it
 * asks for now, or it would leak a second cluster.  Among the vacant ones
 * the one vacant longest is picked so that use spreads across the pool.
 * On success *picked is the cluster's index.
 */
enum cluster_change
cluster_getvacant(struct cluster_list *l, const struct cluster_args *a,
    time_t now, long *picked, struct err *e)
{
	const char	*purpose = arg(a->purpose), *os = arg(a->os_image);
	const char	*build = arg(a->build), *job = arg(a->job);
	struct cluster	 next;
	size_t		 i, pool = 0;
	long		 best = -1;

	set_picked(picked, -1);
	/* An empty (job, build) would match every vacant-looking record. */
	if (build[0] == '\0' || job[0] == '\0') {
		errors_set(e, ERR_BAD_PARAM, "getvacant needs build and job");
		return CLUSTER_FAILED;
	}
	for (i = 0; i < l->len; i++) {
		const struct cluster *c = &l->items[i];

		if (c->status == CLUSTER_OCCUPIED &&
		    strcmp(c->build, build) == 0 && strcmp(c->job, job) == 0) {
			set_picked(picked, (long)i);
			return CLUSTER_UNCHANGED;
		}
	}
	for (i = 0; i < l->len; i++) {
		const struct cluster *c = &l->items[i];

		if (!matches(c, purpose, os))
			continue;
		pool++;
		if (c->status != CLUSTER_VACANT)
			continue;
		/* Strictly smaller: ties keep the earlier one in the list. */
		if (best == -1 || c->since < l->items[best].since)
			best = (long)i;
	}
	if (pool == 0) {
		if (os[0] != '\0')
			errors_set(e, ERR_NO_SUCH_PURPOSE, "no cluster of "
			    "purpose %s with OS image %s", purpose, os);
		else
			errors_set(e, ERR_NO_SUCH_PURPOSE,
			    "no cluster of purpose %s", purpose);
		return CLUSTER_FAILED;
	}
	if (best == -1) {
		if (os[0] != '\0')
			errors_set(e, ERR_NO_VACANT, "no vacant cluster of "
			    "purpose %s with OS image %s (%zu in pool)",
			    purpose, os, pool);
		else
			errors_set(e, ERR_NO_VACANT, "no vacant cluster of "
			    "purpose %s (%zu in pool)", purpose, pool);
		return CLUSTER_FAILED;
	}
	next = l->items[best];
	clear_use(&next);
	if (copy_arg(next.build, sizeof(next.build), build, "build", e) == -1 ||
	    copy_arg(next.job, sizeof(next.job), job, "job", e) == -1)
		return CLUSTER_FAILED;
	next.status = CLUSTER_OCCUPIED;
	next.since = now;
	l->items[best] = next;
	set_picked(picked, best);
	return CLUSTER_CHANGED;
}

/*
 * occupied -> vacant.  A held cluster stays held (the job ended while a
 * developer debugs it) and a vacant one stays vacant: a retried finish
 * must not fail a job.  The build, when given, guards against a late
 * finish of an old build returning someone else's cluster.
 */
enum cluster_change
cluster_finish(struct cluster_list *l, const struct cluster_args *a,
    time_t now, long *picked, struct err *e)
{
	struct cluster	*c;
	const char	*build = arg(a->build);
	long		 idx;

	if ((idx = lookup(l, a, picked, e)) == -1)
		return CLUSTER_FAILED;
	c = &l->items[idx];
	if (c->status != CLUSTER_OCCUPIED)
		return CLUSTER_UNCHANGED;
	if (build[0] != '\0' && strcmp(build, c->build) != 0) {
		errors_set(e, ERR_NOT_OWNER, "cluster %s is occupied by job %s "
		    "build %s, not build %s", c->name, c->job, c->build, build);
		return CLUSTER_FAILED;
	}
	clear_use(c);
	c->status = CLUSTER_VACANT;
	c->since = now;
	return CLUSTER_CHANGED;
}

/*
 * vacant/occupied -> held for a->hours; the holder holding again extends
 * (or shortens) the hold to now + hours.  An occupied cluster keeps its
 * build and job so that people see which job failed on it.
 */
enum cluster_change
cluster_hold(struct cluster_list *l, const struct cluster_args *a,
    time_t now, long *picked, struct err *e)
{
	struct cluster	 next;
	const char	*user = arg(a->user), *reason = arg(a->reason);
	char		 until[UTIL_TIME_MAX];
	long		 idx;

	if ((idx = lookup(l, a, picked, e)) == -1)
		return CLUSTER_FAILED;
	next = l->items[idx];
	if (user[0] == '\0') {
		errors_set(e, ERR_BAD_PARAM, "hold needs a user");
		return CLUSTER_FAILED;
	}
	if (a->hours <= 0 || a->hours > CLUSTER_HOLD_HOURS_LIMIT) {
		errors_set(e, ERR_BAD_PARAM, "hours must be between 1 and %ld",
		    CLUSTER_HOLD_HOURS_LIMIT);
		return CLUSTER_FAILED;
	}
	switch (next.status) {
	case CLUSTER_DISABLED:
		if (next.reason[0] != '\0')
			errors_set(e, ERR_DISABLED,
			    "cluster %s is disabled: %s", next.name,
			    next.reason);
		else
			errors_set(e, ERR_DISABLED, "cluster %s is disabled",
			    next.name);
		return CLUSTER_FAILED;
	case CLUSTER_HELD:
		if (strcmp(next.user, user) != 0) {
			util_time_fmt(next.hold_until, until, sizeof(until));
			errors_set(e, ERR_HELD_BY_OTHER,
			    "cluster %s is held by %s until %s", next.name,
			    next.user,
			    until[0] != '\0' ? until : "further notice");
			return CLUSTER_FAILED;
		}
		/* Extending keeps the old reason unless a new one is given. */
		if (reason[0] != '\0' && copy_arg(next.reason,
		    sizeof(next.reason), reason, "reason", e) == -1)
			return CLUSTER_FAILED;
		break;
	default:
		/* vacant or occupied; build and job stay. */
		if (copy_arg(next.user, sizeof(next.user), user, "user",
		    e) == -1 || copy_arg(next.reason, sizeof(next.reason),
		    reason, "reason", e) == -1)
			return CLUSTER_FAILED;
		next.status = CLUSTER_HELD;
		next.since = now;
		/* A hand-edited record may carry one: it was not for us. */
		next.hold_warned = 0;
		break;
	}
	next.hold_until = now + (time_t)a->hours * SECONDS_PER_HOUR;
	l->items[idx] = next;
	return CLUSTER_CHANGED;
}

/* held -> vacant, by the holder or an admin. */
enum cluster_change
cluster_release(struct cluster_list *l, const struct cluster_args *a,
    time_t now, long *picked, struct err *e)
{
	struct cluster	*c;
	long		 idx;

	if ((idx = lookup(l, a, picked, e)) == -1)
		return CLUSTER_FAILED;
	c = &l->items[idx];
	if (c->status != CLUSTER_HELD) {
		errors_set(e, ERR_NOT_HELD, "cluster %s is not held (it is %s)",
		    c->name, cluster_status_str(c->status));
		return CLUSTER_FAILED;
	}
	if (!a->is_admin && strcmp(arg(a->user), c->user) != 0) {
		errors_set(e, ERR_NOT_HOLDER, "cluster %s is held by %s; only "
		    "the holder or an admin can release it", c->name, c->user);
		return CLUSTER_FAILED;
	}
	clear_use(c);
	c->status = CLUSTER_VACANT;
	c->since = now;
	return CLUSTER_CHANGED;
}

/* A new vacant cluster at the end of the list; *picked is its index. */
enum cluster_change
cluster_add(struct cluster_list *l, const struct cluster_args *a,
    time_t now, long *picked, struct err *e)
{
	struct cluster	c;
	const char	*name = arg(a->cluster);
	long		 idx;

	set_picked(picked, -1);
	if ((idx = cluster_find(l, name)) != -1) {
		/* The creation job asking again after a lost answer: its
		 * cluster is there, as it asked. */
		if (arg(a->creation)[0] != '\0' &&
		    strcmp(l->items[idx].creation, a->creation) == 0 &&
		    strcmp(l->items[idx].purpose, arg(a->purpose)) == 0 &&
		    strcmp(l->items[idx].os_image, arg(a->os_image)) == 0) {
			set_picked(picked, idx);
			return CLUSTER_UNCHANGED;
		}
		errors_set(e, ERR_EXISTS, "cluster %s exists already", name);
		return CLUSTER_FAILED;
	}
	memset(&c, 0, sizeof(c));
	if (name[0] == '\0') {
		errors_set(e, ERR_BAD_PARAM, "add needs a cluster name");
		return CLUSTER_FAILED;
	}
	if (copy_arg(c.name, sizeof(c.name), name, "cluster", e) == -1 ||
	    copy_arg(c.purpose, sizeof(c.purpose), a->purpose, "purpose",
	    e) == -1 || copy_arg(c.os_image, sizeof(c.os_image), a->os_image,
	    "os", e) == -1 || copy_arg(c.creation, sizeof(c.creation),
	    a->creation, "creation", e) == -1)
		return CLUSTER_FAILED;
	c.status = CLUSTER_VACANT;
	c.since = now;
	if (cluster_list_push(l, &c) == -1) {
		errors_set(e, ERR_INTERNAL, "out of memory adding cluster %s",
		    name);
		return CLUSTER_FAILED;
	}
	/* The creation job reports its cluster: the request is done. */
	(void)creation_close(l, a->creation, NULL);
	set_picked(picked, (long)l->len - 1);
	return CLUSTER_CHANGED;
}

/*
 * Removes a vacant or disabled cluster (any, with force); the others keep
 * their order.  *picked is the index the cluster had: the record is gone
 * when this returns, so a caller that wants to show it copies
 * l->items[cluster_find(...)] before calling.
 */
enum cluster_change
cluster_delete(struct cluster_list *l, const struct cluster_args *a,
    time_t now, long *picked, struct err *e)
{
	struct cluster	*c;
	long		 idx;

	if ((idx = lookup(l, a, picked, e)) == -1)
		return CLUSTER_FAILED;
	c = &l->items[idx];
	if (!a->force && c->status != CLUSTER_VACANT &&
	    c->status != CLUSTER_DISABLED) {
		if (c->status == CLUSTER_HELD)
			errors_set(e, ERR_IN_USE, "cluster %s is held by %s; "
			    "release it or use force=1", c->name, c->user);
		else
			errors_set(e, ERR_IN_USE, "cluster %s is occupied by "
			    "job %s build %s; finish it or use force=1",
			    c->name, c->job, c->build);
		return CLUSTER_FAILED;
	}
	memmove(&l->items[idx], &l->items[idx + 1],
	    (l->len - (size_t)idx - 1) * sizeof(l->items[0]));
	l->len--;
	return CLUSTER_CHANGED;
}

/*
 * any -> disabled, recording who and why.  Disabling a disabled cluster
 * again only updates the reason, so an admin can correct it.
 */
enum cluster_change
cluster_disable(struct cluster_list *l, const struct cluster_args *a,
    time_t now, long *picked, struct err *e)
{
	struct cluster	 next;
	const char	*reason = arg(a->reason);
	long		 idx;

	if ((idx = lookup(l, a, picked, e)) == -1)
		return CLUSTER_FAILED;
	next = l->items[idx];
	if (next.status == CLUSTER_DISABLED) {
		if (reason[0] == '\0' || strcmp(reason, next.reason) == 0)
			return CLUSTER_UNCHANGED;
		if (copy_arg(next.reason, sizeof(next.reason), reason,
		    "reason", e) == -1)
			return CLUSTER_FAILED;
		l->items[idx] = next;
		return CLUSTER_CHANGED;
	}
	clear_use(&next);
	if (copy_arg(next.user, sizeof(next.user), a->user, "user", e) == -1 ||
	    copy_arg(next.reason, sizeof(next.reason), reason, "reason",
	    e) == -1)
		return CLUSTER_FAILED;
	next.status = CLUSTER_DISABLED;
	next.since = now;
	l->items[idx] = next;
	return CLUSTER_CHANGED;
}

/* disabled -> vacant; every other status is allocatable already. */
enum cluster_change
cluster_enable(struct cluster_list *l, const struct cluster_args *a,
    time_t now, long *picked, struct err *e)
{
	struct cluster	*c;
	long		 idx;

	if ((idx = lookup(l, a, picked, e)) == -1)
		return CLUSTER_FAILED;
	c = &l->items[idx];
	if (c->status != CLUSTER_DISABLED)
		return CLUSTER_UNCHANGED;
	clear_use(c);
	c->status = CLUSTER_VACANT;
	c->since = now;
	return CLUSTER_CHANGED;
}

/*
 * Releases every hold that ended at or before now.  A held record without
 * a holdUntil (hold_until 0, e.g. written by hand into the ConfigMap) has
 * no end to pass, so it stays held until someone releases it.
 */
enum cluster_change
cluster_expire(struct cluster_list *l, time_t now, size_t *released)
{
	struct cluster	*c;
	size_t		 i, n = 0;

	for (i = 0; i < l->len; i++) {
		c = &l->items[i];
		if (c->status != CLUSTER_HELD || c->hold_until == 0 ||
		    c->hold_until > now)
			continue;
		clear_use(c);
		c->status = CLUSTER_VACANT;
		c->since = now;
		n++;
	}
	if (released != NULL)
		*released = n;
	return n > 0 ? CLUSTER_CHANGED : CLUSTER_UNCHANGED;
}

/*
 * A warning is due once per holdUntil: an extended hold ends at another
 * time and is warned about again.  A hold that has ended already is
 * expiry's business, not a warning's.
 */
int
cluster_warn_due(const struct cluster *c, time_t now, long warn_seconds)
{
	if (warn_seconds <= 0 || c->status != CLUSTER_HELD ||
	    c->hold_until == 0 || c->hold_until <= now)
		return 0;
	if (c->hold_until - now > (time_t)warn_seconds)
		return 0;
	return c->hold_warned != c->hold_until;
}

/*
 * Runs after the warnings were posted, in a transaction of its own: a
 * record released, held by someone else or extended since then was not
 * what the warning talked about, so it stays unmarked.
 */
enum cluster_change
cluster_mark_warned(struct cluster_list *l, const struct cluster *sent,
    size_t n, size_t *marked)
{
	struct cluster	*c;
	size_t		 i, k = 0;
	long		 idx;

	for (i = 0; i < n; i++) {
		if ((idx = cluster_find(l, sent[i].name)) == -1)
			continue;
		c = &l->items[idx];
		if (c->status != CLUSTER_HELD ||
		    c->hold_until != sent[i].hold_until ||
		    c->hold_warned == c->hold_until ||
		    strcmp(c->user, sent[i].user) != 0)
			continue;
		c->hold_warned = c->hold_until;
		k++;
	}
	if (marked != NULL)
		*marked = k;
	return k > 0 ? CLUSTER_CHANGED : CLUSTER_UNCHANGED;
}
