/*
 * store: opens the configured backend and runs transactions on it: load,
 * decode data.clusters, apply a pure transition, encode, compare-and-swap,
 * retried on CONFLICT and UNAVAILABLE with full-jitter backoff under a
 * deadline, under a host-local flock for the configmap backend.  Backends
 * own the bytes; this file owns the lists it decodes until handed out.
 */
#include "config.h"

#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cfg.h"
#include "cluster.h"
#include "codec.h"
#include "errors.h"
#include "metrics.h"
#include "store.h"
#include "util.h"

/* The original service's policy, kept for operators who relied on it:
 * three attempts with a 50-200 ms pause between them. */
#define STORE_SEED_ATTEMPTS	3
#define STORE_SEED_MIN_MS	50
#define STORE_SEED_MAX_MS	200

/* The host lock is polled (flock cannot wait with a timeout) with a
 * short jittered pause: it is held for one GET and one PUT. */
#define STORE_LOCK_POLL_MIN_MS	1
#define STORE_LOCK_POLL_MAX_MS	4
/* Created group-writable, like the file backend's lock, so that an
 * operator's tools in the service's group can take it too. */
#define STORE_LOCK_MODE		0660

/* What one load/transition/replace round came to. */
enum store_attempt {
	ATTEMPT_DONE,		/* written, or nothing to write */
	ATTEMPT_CONFLICT,	/* someone wrote first: try again */
	ATTEMPT_UNAVAILABLE,	/* transient failure: try again; e says why */
	ATTEMPT_FAILED,		/* e says why */
	ATTEMPT__MAX
};

/* Checks that the host lock file can be opened (created), so that a
 * missing directory is a start-up error rather than one per request. */
static int
store_lock_open(struct store *s, const char *path, struct err *e)
{
	int	fd;

	if (util_strlcpy_checked(s->lock_path, path,
	    sizeof(s->lock_path)) == -1)
		return errors_set(e, ERR_STORE, "store.lock_file is too long");
	if ((fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC,
	    STORE_LOCK_MODE)) == -1)
		return errors_set(e, ERR_STORE, "store.lock_file %s: %s",
		    s->lock_path, strerror(errno));
	(void)close(fd);
	return 0;
}

int
store_open(struct store *s, const struct cfg *c, struct err *e)
{
	memset(s, 0, sizeof(*s));
	s->retry_after_ms = -1;
	if (c->retry_policy == CFG_RETRY_SEED) {
		s->retry.attempts = STORE_SEED_ATTEMPTS;
		s->retry.min_ms = STORE_SEED_MIN_MS;
		s->retry.base_ms = STORE_SEED_MAX_MS;
		s->retry.cap_ms = STORE_SEED_MAX_MS;
	} else {
		s->retry.attempts = c->retry_attempts > INT_MAX ? 0 :
		    (int)c->retry_attempts;
		s->retry.min_ms = 0;
		s->retry.base_ms = c->retry_base_ms;
		s->retry.cap_ms = c->retry_cap_ms;
	}
	s->retry.deadline_ms = c->retry_deadline_ms;

	switch (c->backend) {
	case CFG_BACKEND_FILE:
		return store_file_open(s, c->file_path, e);
	case CFG_BACKEND_CONFIGMAP:
		/* The workers of one host queue on this lock, so that
		 * optimistic conflicts only arise between hosts. */
		if (store_lock_open(s, c->lock_file, e) == -1)
			return -1;
		return store_k8s_open(s, c, e);
	default:
		return errors_set(e, ERR_STORE, "unknown store backend %d",
		    (int)c->backend);
	}
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->ops != NULL && s->ops->close != NULL)
		s->ops->close(s);
	s->ops = NULL;
	s->impl = NULL;
}

struct json_object *
store_doc_new(const char *ns, const char *name, const char *version)
{
	struct json_object	*doc, *meta, *data, *ret = NULL;

	doc = json_object_new_object();
	meta = json_object_new_object();
	data = json_object_new_object();
	if (doc == NULL || meta == NULL || data == NULL)
		goto out;
	if (codec_json_add(doc, "apiVersion",
	    json_object_new_string("v1")) == -1 ||
	    codec_json_add(doc, "kind",
	    json_object_new_string("ConfigMap")) == -1 ||
	    codec_json_add(meta, "name", json_object_new_string(name)) == -1 ||
	    codec_json_add(meta, "namespace",
	    json_object_new_string(ns)) == -1 ||
	    codec_json_add(meta, "resourceVersion",
	    json_object_new_string(version)) == -1 ||
	    codec_json_add(data, "clusters",
	    json_object_new_string("[]")) == -1)
		goto out;
	if (json_object_object_add(doc, "metadata", meta) != 0)
		goto out;
	meta = NULL;			/* doc's now */
	if (json_object_object_add(doc, "data", data) != 0)
		goto out;
	data = NULL;
	ret = doc;
	doc = NULL;
out:
	json_object_put(meta);
	json_object_put(data);
	json_object_put(doc);
	return ret;
}

const char *
store_doc_version(struct json_object *doc)
{
	struct json_object	*meta, *v;

	if (!json_object_object_get_ex(doc, "metadata", &meta) ||
	    !json_object_object_get_ex(meta, "resourceVersion", &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

/* The string data.key of doc in *text, NULL when absent (an empty list,
 * as in a ConfigMap created without it). */
static int
store_doc_key(struct json_object *doc, const char *key, const char **text,
    struct err *e)
{
	struct json_object	*data, *v;

	*text = NULL;
	if (!json_object_object_get_ex(doc, "data", &data) ||
	    json_object_is_type(data, json_type_null))
		return 0;
	if (!json_object_is_type(data, json_type_object))
		return errors_set(e, ERR_STORE,
		    "store document: data is not an object");
	if (!json_object_object_get_ex(data, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return errors_set(e, ERR_STORE,
		    "store document: data.%s is not a string", key);
	*text = json_object_get_string(v);
	return 0;
}

/* Decodes data.clusters and data.creations of doc into l (empty). */
static int
store_doc_decode(struct json_object *doc, struct cluster_list *l,
    struct err *e)
{
	const char	*clusters, *creations;

	if (store_doc_key(doc, "clusters", &clusters, e) == -1 ||
	    store_doc_key(doc, "creations", &creations, e) == -1)
		return -1;
	if (codec_decode(clusters, l, e) == -1)
		return -1;
	if (codec_decode_creations(creations, &l->creations, e) == -1) {
		cluster_list_free(l);
		return -1;
	}
	return 0;
}

/*
 * Sets data.clusters of doc to the encoding of l and data.creations to
 * its creations, creating data when the document has none.  With no
 * creations the key goes, so a store that never saw createcluster keeps
 * the one key it always had.  Every other field of doc stays as read.
 */
static int
store_doc_encode(struct json_object *doc, const struct cluster_list *l,
    struct err *e)
{
	struct json_object	*data;
	char			*text = NULL, *ctext = NULL;
	int			 ret = -1;

	if ((text = codec_encode(l)) == NULL)
		goto out;
	if (l->creations.len > 0 &&
	    (ctext = codec_encode_creations(&l->creations)) == NULL)
		goto out;
	if (!json_object_object_get_ex(doc, "data", &data) ||
	    !json_object_is_type(data, json_type_object)) {
		data = json_object_new_object();
		if (codec_json_add(doc, "data", data) == -1)
			goto out;
	}
	if (codec_json_add(data, "clusters",
	    json_object_new_string(text)) == -1)
		goto out;
	if (ctext == NULL)
		json_object_object_del(data, "creations");
	else if (codec_json_add(data, "creations",
	    json_object_new_string(ctext)) == -1)
		goto out;
	ret = 0;
out:
	if (ret == -1)
		errors_set(e, ERR_STORE, "store document: out of memory");
	free(text);
	free(ctext);
	return ret;
}

/* Milliseconds on a clock that settimeofday() cannot move. */
long
store_mono_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift32: jitter needs spread, not secrecy. */
static unsigned long
store_random(struct store *s)
{
	unsigned long	x;
	struct timespec	ts;

	if (s->rng == 0 || s->rng_pid != (long)getpid()) {
		(void)clock_gettime(CLOCK_MONOTONIC, &ts);
		s->rng_pid = (long)getpid();
		s->rng = ((unsigned long)s->rng_pid ^
		    (unsigned long)time(NULL) ^
		    (unsigned long)ts.tv_nsec) & 0xffffffffUL;
		if (s->rng == 0)
			s->rng = 0x9e3779b9UL;
	}
	x = s->rng;
	x ^= (x << 13) & 0xffffffffUL;
	x ^= x >> 17;
	x ^= (x << 5) & 0xffffffffUL;
	s->rng = x;
	return x;
}

/* Sleeps ms, the rest of it when a signal (SIGHUP, SIGTERM) interrupts:
 * a pause must not turn into a busy retry. */
static void
store_sleep_ms(long ms)
{
	struct timespec	ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

/*
 * Sleeps before retry number n (0 for the first): "full jitter", uniform
 * in [min, min(cap, base * 2^n)], so that writers that collided spread
 * out instead of colliding again; at least floor_ms (a server's
 * Retry-After).  Never sleeps past remaining_ms.
 */
static void
store_backoff(struct store *s, int n, long floor_ms, long remaining_ms)
{
	const struct store_retry	*r = &s->retry;
	long				 top, ms;

	top = r->base_ms > 0 ? r->base_ms : 0;
	while (n-- > 0 && top > 0 && top < r->cap_ms)
		top = top > r->cap_ms / 2 ? r->cap_ms : top * 2;
	if (top > r->cap_ms)
		top = r->cap_ms;
	if (top < r->min_ms)
		top = r->min_ms;
	ms = r->min_ms + (long)(store_random(s) %
	    (unsigned long)(top - r->min_ms + 1));
	if (ms < floor_ms)
		ms = floor_ms;
	if (ms > remaining_ms)
		ms = remaining_ms;
	store_sleep_ms(ms);
}

/*
 * Takes the host lock: an open fd holding flock(LOCK_EX), or -1 with e
 * set, ERR_STORE_BUSY when it was not free before s->deadline.  Closing
 * the fd drops the lock, also when the process dies.  Opened per attempt
 * so that a descriptor shared across fork() never makes two workers
 * holders of one lock.
 */
static int
store_lock(struct store *s, struct err *e)
{
	long	start, left, pause;
	int	fd;

	if ((fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC,
	    STORE_LOCK_MODE)) == -1)
		return errors_set(e, ERR_STORE, "store.lock_file %s: %s",
		    s->lock_path, strerror(errno));
	start = store_mono_ms();
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			errors_set(e, ERR_STORE, "store.lock_file %s: flock: "
			    "%s", s->lock_path, strerror(errno));
			(void)close(fd);
			return -1;
		}
		left = s->deadline - store_mono_ms();
		if (left <= 0) {
			errors_set(e, ERR_STORE_BUSY, "store busy: the host "
			    "lock %s was not free within %ld ms",
			    s->lock_path, store_mono_ms() - start);
			(void)close(fd);
			return -1;
		}
		pause = STORE_LOCK_POLL_MIN_MS + (long)(store_random(s) %
		    (STORE_LOCK_POLL_MAX_MS - STORE_LOCK_POLL_MIN_MS + 1));
		store_sleep_ms(pause < left ? pause : left);
	}
	return fd;
}

/* One load -> fn -> replace round, under the host lock when there is
 * one.  On ATTEMPT_DONE l holds the final list; otherwise l is left
 * empty. */
static enum store_attempt
store_attempt(struct store *s, store_txn_fn fn, void *arg, time_t now,
    struct cluster_list *l, struct err *e)
{
	struct json_object	*doc = NULL;
	enum store_attempt	 ret = ATTEMPT_FAILED;
	int			 lockfd = -1;

	if (s->lock_path[0] != '\0' && (lockfd = store_lock(s, e)) == -1)
		goto out;
	switch (s->ops->load(s, &doc, e)) {
	case STORE_OK:
		break;
	case STORE_UNAVAILABLE:
		ret = ATTEMPT_UNAVAILABLE;
		goto out;
	default:
		goto out;		/* the backend said why */
	}
	if (store_doc_decode(doc, l, e) == -1)
		goto out;
	switch (fn(l, arg, now, e)) {
	case CLUSTER_UNCHANGED:
		ret = ATTEMPT_DONE;
		goto out;
	case CLUSTER_CHANGED:
		break;
	case CLUSTER_FAILED:
		goto out;
	default:
		errors_set(e, ERR_INTERNAL, "transition: unknown result");
		goto out;
	}
	if (store_doc_encode(doc, l, e) == -1)
		goto out;
	switch (s->ops->replace(s, doc, e)) {
	case STORE_OK:
		ret = ATTEMPT_DONE;
		break;
	case STORE_CONFLICT:
		ret = ATTEMPT_CONFLICT;
		break;
	case STORE_UNAVAILABLE:
		ret = ATTEMPT_UNAVAILABLE;
		break;
	default:
		break;			/* the backend said why */
	}
out:
	if (lockfd != -1)
		(void)close(lockfd);	/* drops the flock */
	if (ret != ATTEMPT_DONE) {
		cluster_list_free(l);
		memset(l, 0, sizeof(*l));
	}
	json_object_put(doc);
	return ret;
}

/*
 * After failed attempt number tries of an operation that began at start
 * (store_mono_ms()): sleeps and returns 0 when the policy allows another
 * attempt, else returns -1.  floor_ms is the server's Retry-After; one
 * that reaches past the deadline gives up now rather than after a useless
 * sleep.  *elapsed is the time spent so far.
 */
static int
store_pause(struct store *s, int tries, long start, long floor_ms,
    long *elapsed)
{
	long	remaining;

	*elapsed = store_mono_ms() - start;
	remaining = s->retry.deadline_ms - *elapsed;
	if ((s->retry.attempts > 0 && tries >= s->retry.attempts) ||
	    remaining <= 0 || floor_ms > remaining)
		return -1;
	store_backoff(s, tries - 1, floor_ms, remaining);
	return 0;
}

/* The error of an operation that was still unavailable at the end: the
 * backend's last message says what failed. */
static int
store_unavailable(struct err *e, int tries, long elapsed)
{
	char	last[ERR_MSG_MAX];

	(void)util_strlcpy_checked(last, e->msg, sizeof(last));
	return errors_set(e, ERR_STORE, "store unavailable (%d attempts in "
	    "%ld ms): %s", tries, elapsed, last);
}

/* The Retry-After a backend left with STORE_UNAVAILABLE, as a floor. */
static long
store_floor(const struct store *s)
{
	return s->retry_after_ms > 0 ? s->retry_after_ms : 0;
}

/*
 * XXX A replace that failed in transport (a timeout, a reset connection)
 * or with a 5xx may still have been applied: the answer was lost, not
 * necessarily the write.  Retrying is still right because the retry is
 * never a blind re-send: it loads the document afresh and runs the
 * transition on it again, and the transitions answer a repeat of what
 * they already did without a second change:
 *  - getvacant finds the cluster already occupied by this job and build
 *    and hands it back unchanged (idempotent per job+build), so a lost
 *    answer never leaks a second cluster;
 *  - finish of a cluster already vacant is unchanged (still 200);
 *  - hold by the same holder extends the hold again from the new now;
 *  - disable, enable and expire reach the same state again;
 *  - release of a cluster already released answers 409 not_held, and
 *    delete of one already deleted 404 no_such_cluster: the change is
 *    made, but the caller is told otherwise;
 *  - createcluster's reservation finds its own ticket and stays this
 *    request's; recording the id writes the same id again; giving the
 *    reservation back finds nothing left to remove;
 *  - add with creation=ID finds the cluster it added for that creation
 *    and answers it unchanged; an add without one answers 409 exists
 *    after a lost answer although it was this very request that added
 *    the cluster.
 * release, delete and a plain add are the price of not keeping request
 * ids in the store.
 */
int
store_txn(struct store *s, store_txn_fn fn, void *arg,
    time_t (*clock)(void), struct cluster_list *out, struct err *e)
{
	struct cluster_list	l;
	long			start, elapsed, floor_ms;
	int			tries, conflicts = 0, transient = 0, ret = -1;
	time_t			now;

	memset(&l, 0, sizeof(l));
	start = store_mono_ms();
	s->deadline = start + s->retry.deadline_ms;
	for (tries = 1; ; tries++) {
		now = clock != NULL ? clock() : time(NULL);
		s->retry_after_ms = -1;
		metrics_count_store(METRICS_STORE_ATTEMPT);
		switch (store_attempt(s, fn, arg, now, &l, e)) {
		case ATTEMPT_DONE:
			if (out != NULL)
				*out = l;
			else
				cluster_list_free(&l);
			ret = 0;
			goto out;
		case ATTEMPT_CONFLICT:
			metrics_count_store(METRICS_STORE_CONFLICT);
			conflicts++;
			transient = 0;
			floor_ms = 0;
			break;
		case ATTEMPT_UNAVAILABLE:
			metrics_count_store(METRICS_STORE_UNAVAILABLE);
			transient = 1;
			floor_ms = store_floor(s);
			break;
		default:
			goto out;
		}
		if (store_pause(s, tries, start, floor_ms, &elapsed) == 0)
			continue;
		if (transient)
			store_unavailable(e, tries, elapsed);
		else
			errors_set(e, ERR_STORE_BUSY, "store busy: %d "
			    "conflicts in %ld ms", conflicts, elapsed);
		goto out;
	}
out:
	/* A transition's API error (no_vacant_cluster...) is the store
	 * working, not failing: it gets an outcome of its own. */
	metrics_count_store(ret == 0 ? METRICS_STORE_OK :
	    e->code == ERR_STORE_BUSY ? METRICS_STORE_BUSY :
	    e->code == ERR_STORE || e->code == ERR_INTERNAL ?
	    METRICS_STORE_FAILED : METRICS_STORE_REFUSED);
	s->deadline = 0;
	return ret;
}

/* One load plus decoding; with retry, a transient failure of the load is
 * retried as store_txn() retries it, so a list survives a passing 503. */
static int
store_read_tries(struct store *s, struct cluster_list *out, int retry,
    struct err *e)
{
	struct json_object	*doc = NULL;
	enum store_result	 r;
	long			 start, elapsed;
	int			 tries, ret = -1;

	memset(out, 0, sizeof(*out));
	start = store_mono_ms();
	s->deadline = start + s->retry.deadline_ms;
	for (tries = 1; ; tries++) {
		s->retry_after_ms = -1;
		if ((r = s->ops->load(s, &doc, e)) == STORE_OK)
			break;
		if (r != STORE_UNAVAILABLE || !retry)
			goto out;
		if (store_pause(s, tries, start, store_floor(s),
		    &elapsed) == -1) {
			store_unavailable(e, tries, elapsed);
			goto out;
		}
	}
	if (store_doc_decode(doc, out, e) == -1)
		goto out;
	ret = 0;
out:
	s->deadline = 0;
	json_object_put(doc);
	return ret;
}

int
store_read(struct store *s, struct cluster_list *out, struct err *e)
{
	return store_read_tries(s, out, 1, e);
}

int
store_check(struct store *s, struct cluster_list *out, struct err *e)
{
	struct cluster_list	l;
	int			ret;

	if (out != NULL)
		return store_read_tries(s, out, 0, e);
	ret = store_read_tries(s, &l, 0, e);
	cluster_list_free(&l);
	return ret;
}
