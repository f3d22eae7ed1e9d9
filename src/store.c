/*
 * store: opens the configured backend and runs transactions on it: load,
 * decode data.clusters, apply a pure transition, encode, compare-and-swap,
 * retried on CONFLICT with full-jitter backoff under a deadline.  Backends
 * own the bytes; this file owns the lists it decodes until handed out.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cfg.h"
#include "cluster.h"
#include "codec.h"
#include "errors.h"
#include "store.h"

/* The original service's policy, kept for operators who relied on it:
 * three attempts with a 50-200 ms pause between them. */
#define STORE_SEED_ATTEMPTS	3
#define STORE_SEED_MIN_MS	50
#define STORE_SEED_MAX_MS	200

/* What one load/transition/replace round came to. */
enum store_attempt {
	ATTEMPT_DONE,		/* written, or nothing to write */
	ATTEMPT_CONFLICT,	/* someone wrote first: try again */
	ATTEMPT_FAILED,		/* e says why */
	ATTEMPT__MAX
};

int
store_open(struct store *s, const struct cfg *c, struct err *e)
{
	memset(s, 0, sizeof(*s));
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
		/* XXX the Kubernetes API backend (store_k8s.c) is a later
		 * issue; refuse rather than fall back to a file. */
		return errors_set(e, ERR_STORE,
		    "store.backend \"configmap\" is not built yet");
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

/* Adds val under key, dropping val when either failed (json-c leaves the
 * reference with the caller when the add fails). */
static int
store_obj_add(struct json_object *obj, const char *key,
    struct json_object *val)
{
	if (val == NULL)
		return -1;
	if (json_object_object_add(obj, key, val) != 0) {
		json_object_put(val);
		return -1;
	}
	return 0;
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
	if (store_obj_add(doc, "apiVersion",
	    json_object_new_string("v1")) == -1 ||
	    store_obj_add(doc, "kind",
	    json_object_new_string("ConfigMap")) == -1 ||
	    store_obj_add(meta, "name", json_object_new_string(name)) == -1 ||
	    store_obj_add(meta, "namespace",
	    json_object_new_string(ns)) == -1 ||
	    store_obj_add(meta, "resourceVersion",
	    json_object_new_string(version)) == -1 ||
	    store_obj_add(data, "clusters",
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

/* Decodes data.clusters of doc into l (empty).  An absent data or key is
 * an empty list, as in a ConfigMap that was created without it. */
static int
store_doc_decode(struct json_object *doc, struct cluster_list *l,
    struct err *e)
{
	struct json_object	*data, *text;

	if (!json_object_object_get_ex(doc, "data", &data) ||
	    json_object_is_type(data, json_type_null))
		return codec_decode(NULL, l, e);
	if (!json_object_is_type(data, json_type_object))
		return errors_set(e, ERR_STORE,
		    "store document: data is not an object");
	if (!json_object_object_get_ex(data, "clusters", &text))
		return codec_decode(NULL, l, e);
	if (!json_object_is_type(text, json_type_string))
		return errors_set(e, ERR_STORE,
		    "store document: data.clusters is not a string");
	return codec_decode(json_object_get_string(text), l, e);
}

/* Sets data.clusters of doc to the encoding of l, creating data when the
 * document has none.  Every other field of doc stays as read. */
static int
store_doc_encode(struct json_object *doc, const struct cluster_list *l,
    struct err *e)
{
	struct json_object	*data;
	char			*text;
	int			 ret = -1;

	if ((text = codec_encode(l)) == NULL)
		goto out;
	if (!json_object_object_get_ex(doc, "data", &data) ||
	    !json_object_is_type(data, json_type_object)) {
		data = json_object_new_object();
		if (store_obj_add(doc, "data", data) == -1)
			goto out;
	}
	if (store_obj_add(data, "clusters",
	    json_object_new_string(text)) == -1)
		goto out;
	ret = 0;
out:
	if (ret == -1)
		errors_set(e, ERR_STORE, "store document: out of memory");
	free(text);
	return ret;
}

/* Milliseconds on a clock that settimeofday() cannot move. */
static long
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

/*
 * Sleeps before retry number n (0 for the first): "full jitter", uniform
 * in [min, min(cap, base * 2^n)], so that writers that collided spread
 * out instead of colliding again.  Never sleeps past remaining_ms.
 */
static void
store_backoff(struct store *s, int n, long remaining_ms)
{
	const struct store_retry	*r = &s->retry;
	struct timespec			 ts;
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
	if (ms > remaining_ms)
		ms = remaining_ms;
	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	/* A signal (SIGHUP, SIGTERM) must not turn the pause into a busy
	 * retry: sleep what is left. */
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

/* One load -> fn -> replace round.  On ATTEMPT_DONE l holds the final
 * list; otherwise l is left empty. */
static enum store_attempt
store_attempt(struct store *s, store_txn_fn fn, void *arg, time_t now,
    struct cluster_list *l, struct err *e)
{
	struct json_object	*doc = NULL;
	enum store_attempt	 ret = ATTEMPT_FAILED;

	if (s->ops->load(s, &doc, e) == -1)
		goto out;
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
	default:
		break;			/* the backend said why */
	}
out:
	if (ret != ATTEMPT_DONE) {
		cluster_list_free(l);
		memset(l, 0, sizeof(*l));
	}
	json_object_put(doc);
	return ret;
}

int
store_txn(struct store *s, store_txn_fn fn, void *arg,
    time_t (*clock)(void), struct cluster_list *out, struct err *e)
{
	struct cluster_list	l;
	long			start, elapsed;
	int			tries;
	time_t			now;

	memset(&l, 0, sizeof(l));
	start = store_mono_ms();
	for (tries = 1; ; tries++) {
		now = clock != NULL ? clock() : time(NULL);
		switch (store_attempt(s, fn, arg, now, &l, e)) {
		case ATTEMPT_DONE:
			if (out != NULL)
				*out = l;
			else
				cluster_list_free(&l);
			return 0;
		case ATTEMPT_CONFLICT:
			break;
		default:
			return -1;
		}
		elapsed = store_mono_ms() - start;
		if ((s->retry.attempts > 0 && tries >= s->retry.attempts) ||
		    elapsed >= s->retry.deadline_ms)
			return errors_set(e, ERR_STORE_BUSY,
			    "store busy: %d conflicts in %ld ms", tries,
			    elapsed);
		store_backoff(s, tries - 1, s->retry.deadline_ms - elapsed);
	}
}

int
store_read(struct store *s, struct cluster_list *out, struct err *e)
{
	struct json_object	*doc = NULL;
	int			 ret = -1;

	memset(out, 0, sizeof(*out));
	if (s->ops->load(s, &doc, e) == -1)
		goto out;
	if (store_doc_decode(doc, out, e) == -1)
		goto out;
	ret = 0;
out:
	json_object_put(doc);
	return ret;
}
