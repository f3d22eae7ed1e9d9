/*
 * store: the one versioned ConfigMap document and the transaction loop on
 * top of it.  A backend offers load and replace (compare-and-swap on
 * metadata.resourceVersion); store_txn() is load -> pure transition ->
 * replace, retried on CONFLICT and UNAVAILABLE with jittered backoff under
 * a deadline.  Backends never see the service's HTTP requests or rendering.
 */
#ifndef CIMASTER_STORE_H
#define CIMASTER_STORE_H

#include <limits.h>
#include <time.h>

#include "cluster.h"
#include "errors.h"

struct json_object;
struct cfg;

enum store_result {
	STORE_OK,
	STORE_CONFLICT,		/* someone else wrote first */
	STORE_ERROR,		/* e says why */
	STORE_UNAVAILABLE,	/* transient (429, 5xx, transport): e says
				 * why, s->retry_after_ms may hint a wait */
	STORE_RESULT__MAX
};

struct store;

struct store_ops {
	/* The whole ConfigMap object as stored; *doc is new, the caller
	 * puts it.  metadata.resourceVersion is the version read.  Answers
	 * STORE_OK, STORE_ERROR or STORE_UNAVAILABLE, never CONFLICT. */
	enum store_result	(*load)(struct store *,
				    struct json_object **doc, struct err *);
	/* Writes doc if the stored version still equals doc's
	 * metadata.resourceVersion.  doc is borrowed. */
	enum store_result	(*replace)(struct store *,
				    struct json_object *doc, struct err *);
	void			(*close)(struct store *);
};

/* The retry policy of store_txn(). */
struct store_retry {
	int	attempts;	/* 0: unlimited until the deadline */
	long	base_ms;	/* first backoff ceiling */
	long	cap_ms;		/* largest backoff ceiling */
	long	min_ms;		/* smallest sleep (the seed policy: 50) */
	long	deadline_ms;	/* whole transaction */
};

struct store {
	const struct store_ops	*ops;
	void			*impl;	/* the backend's state */
	struct store_retry	 retry;
	/* Backoff jitter (store.c only).  Reseeded when the pid changes so
	 * that workers forked after store_open() do not sleep in step. */
	unsigned long		 rng;
	long			 rng_pid;
	/* Set by a backend answering STORE_UNAVAILABLE: the server's
	 * Retry-After in ms, -1 for none.  store.c resets it. */
	long			 retry_after_ms;
	/* store_mono_ms() by which the running transaction must end, 0
	 * for none: a backend keeps its requests inside it. */
	long			 deadline;
	/* The host-local lock taken around each attempt of store_txn()
	 * (store.lock_file with the configmap backend), "" for none. */
	char			 lock_path[PATH_MAX];
};

/* Opens the configured backend: 0, or -1 with e set.  store_close()
 * releases what open allocated. */
int	store_open(struct store *s, const struct cfg *c, struct err *e);
void	store_close(struct store *s);		/* accepts NULL */

/* A transition run inside a transaction: gets the decoded list, may
 * change it; returns what cluster_*() return. */
typedef enum cluster_change (*store_txn_fn)(struct cluster_list *l,
		    void *arg, time_t now, struct err *e);

/*
 * Runs fn on the current list and writes the result when fn says
 * CLUSTER_CHANGED, retrying the whole load/fn/replace on CONFLICT and on
 * UNAVAILABLE (waiting at least the backend's Retry-After), holding
 * s->lock_path's flock during each attempt when it is set.  now is read
 * once per attempt through the clock argument (time() when NULL).  On
 * success returns 0 and, when out is non-NULL, leaves the final list in
 * *out (caller frees with cluster_list_free()).  Returns -1 with e set:
 * fn's API error, ERR_STORE (also when the last attempt was UNAVAILABLE),
 * or ERR_STORE_BUSY when conflicts or the host lock outlast the policy.
 */
int	store_txn(struct store *s, store_txn_fn fn, void *arg,
	    time_t (*clock)(void), struct cluster_list *out, struct err *e);

/* Reads the current list (no write), retrying an UNAVAILABLE load as
 * store_txn() does: 0 or -1 with ERR_STORE. */
int	store_read(struct store *s, struct cluster_list *out, struct err *e);
/* One load and decode, no retry: what /readyz and /metrics ask ("does
 * the store answer now?"), so a probe or a scrape gets its answer within
 * one request timeout, not the transaction deadline.  0 or -1 with
 * ERR_STORE; with out non-NULL the list is left there as store_read()
 * leaves it. */
int	store_check(struct store *s, struct cluster_list *out, struct err *e);

/* The backends.  store_file: a ConfigMap manifest on disk.  path is
 * copied. */
int	store_file_open(struct store *s, const char *path, struct err *e);
/* store_k8s: one ConfigMap on the Kubernetes API server, configured by
 * store.configmap.* of c (nothing is sent before the first load). */
int	store_k8s_open(struct store *s, const struct cfg *c, struct err *e);
/* Tests only: the clock (seconds, monotonic) the token's age is measured
 * on.  NULL restores the real one. */
void	store_k8s_set_clock(struct store *s, long (*now_s)(void));

/* Helpers shared by backends (store.c). */
/* A new empty ConfigMap object named name in ns with the given version. */
struct json_object *store_doc_new(const char *ns, const char *name,
		    const char *version);
/* Borrowed metadata.resourceVersion of doc, or "" when absent. */
const char *store_doc_version(struct json_object *doc);
/* Milliseconds on the monotonic clock, the unit of s->deadline. */
long	store_mono_ms(void);

#endif
