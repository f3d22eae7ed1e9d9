/*
 * store_k8s: the "configmap" store backend, one ConfigMap on the
 * Kubernetes API server, spoken to through httpc_do() only.  Answers are
 * told apart by the Status reason, not by the HTTP status alone; 429, 5xx
 * and transport failures are STORE_UNAVAILABLE for store.c to retry.  The
 * bearer token is re-read on an interval and after a 401; never logged.
 */
#include "config.h"

#include <ctype.h>
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
#include "codec.h"
#include "errors.h"
#include "httpc.h"
#include "store.h"
#include "util.h"

/*
 * Where a pod finds its service account.  CIMASTER_SA_DIR replaces the
 * directory: a test hook, so that tests can play a pod without root; a
 * deployment never sets it.
 */
#define K8S_SA_DIR		"/var/run/secrets/kubernetes.io/serviceaccount"
#define K8S_SA_DIR_ENV		"CIMASTER_SA_DIR"
/* The API server refuses a ConfigMap whose data is over 1 MiB. */
#define K8S_DATA_MAX		1048576L
/* Bound service-account tokens are JWTs of one or two KiB. */
#define K8S_TOKEN_MAX		16384
/* A namespace file holds one DNS label and perhaps a newline. */
#define K8S_NS_FILE_MAX		256
/* No request gets less time than this, however close the deadline. */
#define K8S_TIMEOUT_MIN_MS	100
/* How much of a Status (or a plain-text body) an error message quotes. */
#define K8S_REASON_MAX		64
#define K8S_TEXT_MAX		320
#define K8S_URL_MAX		(CFG_STR_MAX + 256)
#define K8S_JSON		"application/json"
#define K8S_JSON_FLAGS		(JSON_C_TO_STRING_PLAIN | \
				 JSON_C_TO_STRING_NOSLASHESCAPE)

/* The requests made: the HTTP method, and the RBAC verb a 403 names. */
enum k8s_op {
	K8S_GET,
	K8S_PUT,
	K8S_POST,
	K8S_OP__MAX
};

static const struct {
	const char	*method;
	const char	*verb;
} k8s_ops_names[K8S_OP__MAX] = {
	[K8S_GET] = { "GET", "get" },
	[K8S_PUT] = { "PUT", "update" },
	[K8S_POST] = { "POST", "create" },
};

/* What an answer means, before it becomes a store_result. */
enum k8s_answer {
	ANS_OK,			/* 2xx */
	ANS_CONFLICT,		/* 409 Conflict: the version moved on */
	ANS_EXISTS,		/* 409 AlreadyExists: someone created it */
	ANS_NOT_FOUND,		/* 404 NotFound */
	ANS_UNAVAILABLE,	/* 429, 5xx, transport: worth a retry */
	ANS_ERROR,		/* e says why */
	ANS__MAX
};

/* The parts of a Status body that reach an error message. */
struct k8s_status {
	char	reason[K8S_REASON_MAX];
	char	text[K8S_TEXT_MAX];	/* message, or the plain-text body */
	char	causes[K8S_TEXT_MAX];	/* "field: message; ..." */
};

struct k8s {
	char	url[K8S_URL_MAX];	/* the ConfigMap */
	char	coll[K8S_URL_MAX];	/* the namespace's configmaps */
	char	ns[CLUSTER_LABEL_MAX + 1];
	char	name[CLUSTER_LABEL_MAX + 1];
	char	ca_file[PATH_MAX];	/* "": the system's CAs */
	char	token_file[PATH_MAX];	/* "": no Authorization header */
	char	token[K8S_TOKEN_MAX + 1];
	long	token_read_at;		/* clock() seconds; -1: never */
	long	token_reread_s;
	int	create_if_missing;
	long	connect_timeout_ms;
	long	timeout_ms;
	size_t	max_response;
	long	(*clock)(void);		/* seconds, monotonic */
	struct httpc_conn *conn;	/* this worker's kept connection */
};

static long
k8s_mono_s(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (long)ts.tv_sec;
}

/* Copies [p, p + n) into dst as one printable line: a server's words
 * end up in logs and in answers to CI jobs. */
static void
k8s_clean(char *dst, size_t dstsz, const char *p, size_t n)
{
	size_t	i, j = 0;

	for (i = 0; i < n && j + 1 < dstsz && p[i] != '\0'; i++) {
		if (p[i] == '\n' || p[i] == '\r') {
			if (j > 0)
				break;
			continue;
		}
		dst[j++] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
	}
	dst[j] = '\0';
}

static const char *
k8s_str(struct json_object *obj, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * Picks reason, message and the causes' messages out of a Status body.
 * A body that is not a JSON object (429 from the API server's filters is
 * plain text) gives its first line as the text.
 */
static void
k8s_status_parse(const struct httpc_response *resp, struct k8s_status *st)
{
	struct json_tokener	*tok = NULL;
	struct json_object	*root = NULL, *details, *causes, *c;
	struct buf		 b = { 0 };
	const char		*v, *field;
	size_t			 i, n;

	memset(st, 0, sizeof(*st));
	if (resp->body.len == 0)
		return;
	if (resp->body.len < INT_MAX && (tok = json_tokener_new()) != NULL)
		root = json_tokener_parse_ex(tok, resp->body.data,
		    (int)resp->body.len);
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		k8s_clean(st->text, sizeof(st->text), resp->body.data,
		    resp->body.len);
		goto out;
	}
	if ((v = k8s_str(root, "reason")) != NULL)
		k8s_clean(st->reason, sizeof(st->reason), v, strlen(v));
	if ((v = k8s_str(root, "message")) != NULL)
		k8s_clean(st->text, sizeof(st->text), v, strlen(v));
	if (!json_object_object_get_ex(root, "details", &details) ||
	    !json_object_object_get_ex(details, "causes", &causes) ||
	    !json_object_is_type(causes, json_type_array))
		goto out;
	n = json_object_array_length(causes);
	for (i = 0; i < n; i++) {
		c = json_object_array_get_idx(causes, i);
		if ((v = k8s_str(c, "message")) == NULL)
			continue;
		field = k8s_str(c, "field");
		buf_printf(&b, "%s%s%s%s", b.len > 0 ? "; " : "",
		    field != NULL ? field : "", field != NULL ? ": " : "", v);
	}
	if (b.len > 0 && !b.failed)
		k8s_clean(st->causes, sizeof(st->causes), b.data, b.len);
out:
	buf_free(&b);
	json_object_put(root);
	if (tok != NULL)
		json_tokener_free(tok);
}

/*
 * Reads all of path into dst (size dstsz) as a string: its length, or -1
 * with e set, also when the file holds dstsz bytes or more.  what names
 * the file in messages.
 */
static long
k8s_read_file(const char *what, const char *path, char *dst, size_t dstsz,
    struct err *e)
{
	size_t	len = 0;
	ssize_t	n;
	char	more;
	int	fd;
	long	ret = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		errors_set(e, ERR_STORE, "%s %s: %s", what, path,
		    strerror(errno));
		goto out;
	}
	for (;;) {
		n = len + 1 < dstsz ? read(fd, dst + len, dstsz - 1 - len) :
		    read(fd, &more, 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			errors_set(e, ERR_STORE, "%s %s: %s", what, path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (len + 1 >= dstsz) {
			errors_set(e, ERR_STORE, "%s %s: larger than %zu bytes",
			    what, path, dstsz - 1);
			goto out;
		}
		len += (size_t)n;
	}
	dst[len] = '\0';
	ret = (long)len;
out:
	if (fd != -1)
		(void)close(fd);
	return ret;
}

/* Drops trailing white space (the newline editors and kubelet leave). */
static size_t
k8s_rtrim(char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	s[len] = '\0';
	return len;
}

/* Reads the token file into k->token.  The token never reaches a message:
 * a bad one is described, not quoted. */
static int
k8s_token_load(struct k8s *k, struct err *e)
{
	char	tmp[K8S_TOKEN_MAX + 1];
	long	n;
	size_t	i, len;
	int	ret = -1;

	if ((n = k8s_read_file("token file", k->token_file, tmp,
	    sizeof(tmp), e)) == -1)
		goto out;
	if ((len = k8s_rtrim(tmp, (size_t)n)) == 0) {
		errors_set(e, ERR_STORE, "token file %s is empty",
		    k->token_file);
		goto out;
	}
	/* It goes into a header line: nothing that could end or fold it. */
	for (i = 0; i < len; i++)
		if ((unsigned char)tmp[i] <= 0x20 ||
		    (unsigned char)tmp[i] >= 0x7f) {
			errors_set(e, ERR_STORE, "token file %s holds no "
			    "bearer token (a blank or control character at "
			    "byte %zu)", k->token_file, i);
			goto out;
		}
	memcpy(k->token, tmp, len + 1);
	k->token_read_at = k->clock();
	ret = 0;
out:
	explicit_bzero(tmp, sizeof(tmp));
	return ret;
}

/* Re-reads the token when forced (after a 401) or older than the
 * interval: bound service-account tokens rotate under a running pod. */
static int
k8s_token_fresh(struct k8s *k, int force, struct err *e)
{
	if (k->token_file[0] == '\0')
		return 0;
	if (force || k->token_read_at < 0 ||
	    k->clock() - k->token_read_at >= k->token_reread_s)
		return k8s_token_load(k, e);
	return 0;
}

/* The timeouts of one request: the configured ones, cut to what is left
 * of the transaction's deadline so that a slow server cannot stretch it. */
static void
k8s_timeouts(const struct store *s, const struct k8s *k,
    struct httpc_request *r)
{
	long	t = k->timeout_ms, left;

	if (s->deadline > 0) {
		left = s->deadline - store_mono_ms();
		if (left < t)
			t = left;
	}
	if (t < K8S_TIMEOUT_MIN_MS)
		t = K8S_TIMEOUT_MIN_MS;
	r->timeout_ms = t;
	r->connect_timeout_ms = k->connect_timeout_ms < t ?
	    k->connect_timeout_ms : t;
}

/*
 * Sends one request and leaves the answer in resp (the caller frees it):
 * ANS_OK when an answer arrived, whatever its status.  A 401 re-reads the
 * token and tries once more.  A transport failure is ANS_UNAVAILABLE.
 */
static enum k8s_answer
k8s_send(struct store *s, enum k8s_op op, const char *url, const char *body,
    size_t len, struct httpc_response *resp, struct err *e)
{
	struct k8s		*k = s->impl;
	struct httpc_request	 r;
	int			 tries;

	for (tries = 0; tries < 2; tries++) {
		if (k8s_token_fresh(k, tries > 0, e) == -1)
			return ANS_ERROR;
		memset(&r, 0, sizeof(r));
		r.method = k8s_ops_names[op].method;
		r.url = url;
		r.accept = K8S_JSON;
		if (body != NULL) {
			r.content_type = K8S_JSON;
			r.body = body;
			r.bodylen = len;
		}
		r.ca_file = k->ca_file;
		r.bearer_token = k->token;
		r.max_response = k->max_response;
		r.conn = k->conn;
		k8s_timeouts(s, k, &r);
		httpc_response_free(resp);
		if (httpc_do(&r, resp, e) == -1) {
			/* Refused, reset, timed out: the server may be
			 * restarting.  httpc's message says which. */
			e->code = ERR_STORE;
			return ANS_UNAVAILABLE;
		}
		if (resp->status != 401 || k->token_file[0] == '\0')
			break;
	}
	return ANS_OK;
}

/*
 * What the answer to op on url means.  409s are told apart by reason:
 * Conflict (a stale resourceVersion) is retried on a fresh read,
 * AlreadyExists (someone created it first) is read.  Sets e for every
 * answer but ANS_OK, and s->retry_after_ms for ANS_UNAVAILABLE.
 */
static enum k8s_answer
k8s_classify(struct store *s, enum k8s_op op, const char *url,
    const struct httpc_response *resp, struct err *e)
{
	struct k8s		*k = s->impl;
	struct k8s_status	 st;
	const char		*m = k8s_ops_names[op].method;

	if (resp->status >= 200 && resp->status < 300)
		return ANS_OK;
	k8s_status_parse(resp, &st);
	switch (resp->status) {
	case 401:
		if (k->token_file[0] == '\0')
			errors_set(e, ERR_STORE, "%s %s: unauthorized (no "
			    "store.configmap.token_file is set): %s", m, url,
			    st.text);
		else
			errors_set(e, ERR_STORE, "%s %s: unauthorized: the "
			    "token from %s was refused, also after reading it "
			    "again: %s", m, url, k->token_file, st.text);
		return ANS_ERROR;
	case 403:
		errors_set(e, ERR_STORE, "%s %s: forbidden: the service "
		    "account may not %s configmaps in namespace %s; its Role "
		    "needs the \"%s\" verb (see docs/kubernetes.md): %s", m,
		    url, k8s_ops_names[op].verb, k->ns,
		    k8s_ops_names[op].verb, st.text);
		return ANS_ERROR;
	case 404:
		if (strcmp(st.reason, "NotFound") == 0) {
			errors_set(e, ERR_STORE, "%s %s: not found: %s", m,
			    url, st.text);
			return ANS_NOT_FOUND;
		}
		/* The API server answers an unknown path in plain text. */
		errors_set(e, ERR_STORE, "%s %s: 404 without a Kubernetes "
		    "Status (is store.configmap.server an API server?): %s",
		    m, url, st.text);
		return ANS_ERROR;
	case 409:
		if (strcmp(st.reason, "Conflict") == 0) {
			errors_set(e, ERR_STORE, "%s %s: conflict: %s", m, url,
			    st.text);
			return ANS_CONFLICT;
		}
		if (strcmp(st.reason, "AlreadyExists") == 0) {
			errors_set(e, ERR_STORE, "%s %s: already exists: %s",
			    m, url, st.text);
			return ANS_EXISTS;
		}
		errors_set(e, ERR_STORE, "%s %s: 409 %s: %s", m, url,
		    st.reason[0] != '\0' ? st.reason : "without a reason",
		    st.text);
		return ANS_ERROR;
	case 422:
		errors_set(e, ERR_STORE, "%s %s: the API server refused the "
		    "ConfigMap as invalid: %s", m, url,
		    st.causes[0] != '\0' ? st.causes : st.text);
		return ANS_ERROR;
	default:
		break;
	}
	if (resp->status == 429 || resp->status >= 500) {
		s->retry_after_ms = resp->retry_after >= 0 ?
		    resp->retry_after * 1000 : -1;
		errors_set(e, ERR_STORE, "%s %s: %ld%s%s: %s", m, url,
		    resp->status, st.reason[0] != '\0' ? " " : "", st.reason,
		    st.text);
		return ANS_UNAVAILABLE;
	}
	errors_set(e, ERR_STORE, "%s %s: unexpected status %ld%s%s: %s", m,
	    url, resp->status, st.reason[0] != '\0' ? " " : "", st.reason,
	    st.text);
	return ANS_ERROR;
}

/* Checks that the body of a 200 is our ConfigMap with a version. */
static int
k8s_check_doc(const struct k8s *k, struct json_object *doc, struct err *e)
{
	struct json_object	*meta, *data, *v;
	const char		*s;

	if (!json_object_is_type(doc, json_type_object))
		return errors_set(e, ERR_STORE, "GET %s: the answer is not a "
		    "JSON object", k->url);
	if ((s = k8s_str(doc, "kind")) == NULL ||
	    strcmp(s, "ConfigMap") != 0)
		return errors_set(e, ERR_STORE, "GET %s: the answer is not a "
		    "ConfigMap", k->url);
	if (!json_object_object_get_ex(doc, "metadata", &meta) ||
	    (s = k8s_str(meta, "name")) == NULL || strcmp(s, k->name) != 0)
		return errors_set(e, ERR_STORE, "GET %s: the answer is not "
		    "ConfigMap %s", k->url, k->name);
	if ((s = k8s_str(meta, "resourceVersion")) == NULL || s[0] == '\0')
		return errors_set(e, ERR_STORE, "GET %s: the ConfigMap has no "
		    "metadata.resourceVersion", k->url);
	if (!json_object_object_get_ex(doc, "data", &data) ||
	    json_object_is_type(data, json_type_null))
		return 0;
	if (!json_object_is_type(data, json_type_object))
		return errors_set(e, ERR_STORE, "GET %s: data is not an "
		    "object", k->url);
	if (json_object_object_get_ex(data, "clusters", &v) &&
	    !json_object_is_type(v, json_type_string))
		return errors_set(e, ERR_STORE, "GET %s: data.clusters is not "
		    "a string", k->url);
	return 0;
}

/* Parses the whole body as one JSON value, checked as our ConfigMap. */
static int
k8s_parse_doc(const struct k8s *k, const struct httpc_response *resp,
    struct json_object **doc, struct err *e)
{
	char	why[128];
	int	ret = -1;

	if (codec_parse(resp->body.data, resp->body.len, doc, why,
	    sizeof(why)) == -1) {
		errors_set(e, ERR_STORE, "GET %s: the answer is %s", k->url,
		    why);
		goto out;
	}
	ret = k8s_check_doc(k, *doc, e);
out:
	if (ret == -1) {
		json_object_put(*doc);
		*doc = NULL;
	}
	return ret;
}

static enum k8s_answer
k8s_get(struct store *s, struct json_object **doc, struct err *e)
{
	struct k8s		*k = s->impl;
	struct httpc_response	 resp;
	enum k8s_answer		 a;

	memset(&resp, 0, sizeof(resp));
	*doc = NULL;
	if ((a = k8s_send(s, K8S_GET, k->url, NULL, 0, &resp, e)) != ANS_OK)
		goto out;
	if ((a = k8s_classify(s, K8S_GET, k->url, &resp, e)) != ANS_OK)
		goto out;
	if (k8s_parse_doc(k, &resp, doc, e) == -1)
		a = ANS_ERROR;
out:
	httpc_response_free(&resp);
	return a;
}

/* POSTs an empty ConfigMap (data.clusters "[]", no resourceVersion). */
static enum k8s_answer
k8s_create(struct store *s, struct err *e)
{
	struct k8s		*k = s->impl;
	struct httpc_response	 resp;
	struct json_object	*doc, *meta;
	const char		*text;
	size_t			 len;
	enum k8s_answer		 a = ANS_ERROR;

	memset(&resp, 0, sizeof(resp));
	if ((doc = store_doc_new(k->ns, k->name, "")) == NULL ||
	    !json_object_object_get_ex(doc, "metadata", &meta)) {
		errors_set(e, ERR_STORE, "out of memory");
		goto out;
	}
	json_object_object_del(meta, "resourceVersion");
	if ((text = json_object_to_json_string_length(doc, K8S_JSON_FLAGS,
	    &len)) == NULL) {
		errors_set(e, ERR_STORE, "out of memory");
		goto out;
	}
	if ((a = k8s_send(s, K8S_POST, k->coll, text, len, &resp,
	    e)) != ANS_OK)
		goto out;
	a = k8s_classify(s, K8S_POST, k->coll, &resp, e);
out:
	httpc_response_free(&resp);
	json_object_put(doc);
	return a;
}

static enum store_result
k8s_load(struct store *s, struct json_object **doc, struct err *e)
{
	struct k8s	*k = s->impl;
	enum k8s_answer	 a;

	a = k8s_get(s, doc, e);
	if (a == ANS_NOT_FOUND) {
		if (!k->create_if_missing) {
			errors_set(e, ERR_STORE, "configmap %s/%s not found "
			    "(set store.configmap.create_if_missing or create "
			    "it: see docs/kubernetes.md)", k->ns, k->name);
			return STORE_ERROR;
		}
		/* AlreadyExists: another host created it between our
		 * GET and POST; theirs is as good as ours. */
		a = k8s_create(s, e);
		if (a == ANS_OK || a == ANS_EXISTS) {
			a = k8s_get(s, doc, e);
			if (a == ANS_NOT_FOUND) {
				errors_set(e, ERR_STORE, "configmap %s/%s "
				    "not found right after it was created",
				    k->ns, k->name);
				return STORE_ERROR;
			}
		}
	}
	switch (a) {
	case ANS_OK:
		return STORE_OK;
	case ANS_UNAVAILABLE:
		return STORE_UNAVAILABLE;
	default:
		return STORE_ERROR;
	}
}

/* Refuses, before sending, what the API server would refuse for size:
 * it counts the values of data, of which data.clusters is nearly all. */
static int
k8s_check_size(const struct k8s *k, struct json_object *doc, struct err *e)
{
	struct json_object	*data, *v;
	struct json_object_iter	 it;
	size_t			 total = 0, clusters = 0;

	if (!json_object_object_get_ex(doc, "data", &data) ||
	    !json_object_is_type(data, json_type_object))
		return 0;
	json_object_object_foreachC(data, it)
		if (json_object_is_type(it.val, json_type_string))
			total += (size_t)json_object_get_string_len(it.val);
	if (json_object_object_get_ex(data, "clusters", &v) &&
	    json_object_is_type(v, json_type_string))
		clusters = (size_t)json_object_get_string_len(v);
	if (total > (size_t)K8S_DATA_MAX)
		return errors_set(e, ERR_STORE, "configmap %s/%s: data would "
		    "be %zu bytes (data.clusters %zu), over the ConfigMap "
		    "limit of %ld bytes (1 MiB); nothing was sent: delete "
		    "clusters or shorten their fields", k->ns, k->name, total,
		    clusters, K8S_DATA_MAX);
	return 0;
}

/*
 * PUTs doc, the object load() gave with only data.clusters (and
 * data.creations) changed, its
 * resourceVersion as read: the API server's compare-and-swap.
 */
static enum store_result
k8s_replace(struct store *s, struct json_object *doc, struct err *e)
{
	struct k8s		*k = s->impl;
	struct httpc_response	 resp;
	const char		*text;
	size_t			 len;
	enum store_result	 ret = STORE_ERROR;
	enum k8s_answer		 a;

	memset(&resp, 0, sizeof(resp));
	/* Without a version the PUT would overwrite whatever is there:
	 * never send it.  store.c always passes what load() gave, so this
	 * is a bug, not a condition of the server. */
	if (store_doc_version(doc)[0] == '\0') {
		errors_set(e, ERR_INTERNAL, "refusing to PUT configmap %s/%s "
		    "without metadata.resourceVersion", k->ns, k->name);
		goto out;
	}
	if (k8s_check_size(k, doc, e) == -1)
		goto out;
	if ((text = json_object_to_json_string_length(doc, K8S_JSON_FLAGS,
	    &len)) == NULL) {
		errors_set(e, ERR_STORE, "out of memory");
		goto out;
	}
	if ((a = k8s_send(s, K8S_PUT, k->url, text, len, &resp,
	    e)) == ANS_OK)
		a = k8s_classify(s, K8S_PUT, k->url, &resp, e);
	switch (a) {
	case ANS_OK:
		ret = STORE_OK;
		break;
	case ANS_CONFLICT:
	case ANS_NOT_FOUND:
		/* Deleted since we read it: the next load finds out
		 * whether to create it again or to fail. */
		ret = STORE_CONFLICT;
		break;
	case ANS_UNAVAILABLE:
		/* Perhaps applied all the same: see store_txn(). */
		ret = STORE_UNAVAILABLE;
		break;
	default:
		break;
	}
out:
	httpc_response_free(&resp);
	return ret;
}

static void
k8s_close(struct store *s)
{
	struct k8s	*k = s->impl;

	if (k != NULL) {
		explicit_bzero(k->token, sizeof(k->token));
		httpc_conn_free(k->conn);
		free(k);
	}
	s->impl = NULL;
}

static const struct store_ops k8s_ops = {
	.load = k8s_load,
	.replace = k8s_replace,
	.close = k8s_close,
};

/* Joins dir and file into dst: 0, or -1 with e set. */
static int
k8s_path(char *dst, size_t dstsz, const char *dir, const char *file,
    struct err *e)
{
	if ((size_t)snprintf(dst, dstsz, "%s/%s", dir, file) >= dstsz)
		return errors_set(e, ERR_STORE, "%s/%s: path too long", dir,
		    file);
	return 0;
}

/*
 * In a pod (store.configmap.server ""): the API server from the service
 * environment, the service account's token, CA and, when the namespace
 * is "", its namespace.  Configured ca_file and token_file still win.
 */
static int
k8s_in_pod(struct k8s *k, const struct cfg *c, char *base, size_t basesz,
    struct err *e)
{
	const char	*host, *port, *sa, *p;
	char		 nsbuf[K8S_NS_FILE_MAX], nsfile[PATH_MAX];
	long		 n, portno;
	int		 v6;

	host = getenv("KUBERNETES_SERVICE_HOST");
	port = getenv("KUBERNETES_SERVICE_PORT");
	if (host == NULL || host[0] == '\0' || port == NULL ||
	    port[0] == '\0')
		return errors_set(e, ERR_STORE, "store.configmap.server is "
		    "empty and KUBERNETES_SERVICE_HOST or _PORT is not set: "
		    "outside a pod, set store.configmap.server (see "
		    "docs/kubernetes.md)");
	for (p = host; *p != '\0'; p++)
		if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-' ||
		    *p == ':'))
			return errors_set(e, ERR_STORE,
			    "KUBERNETES_SERVICE_HOST \"%.64s\" is not a host "
			    "name or an address", host);
	if (util_parse_long(port, 1, 65535, &portno) == -1)
		return errors_set(e, ERR_STORE, "KUBERNETES_SERVICE_PORT "
		    "\"%.16s\" is not a port number", port);
	v6 = strchr(host, ':') != NULL;
	if ((size_t)snprintf(base, basesz, "https://%s%s%s:%ld",
	    v6 ? "[" : "", host, v6 ? "]" : "", portno) >= basesz)
		return errors_set(e, ERR_STORE,
		    "KUBERNETES_SERVICE_HOST is too long");

	if ((sa = getenv(K8S_SA_DIR_ENV)) == NULL || sa[0] == '\0')
		sa = K8S_SA_DIR;
	if (c->cm_ca_file[0] != '\0') {
		if (util_strlcpy_checked(k->ca_file, c->cm_ca_file,
		    sizeof(k->ca_file)) == -1)
			return errors_set(e, ERR_STORE, "ca_file too long");
	} else if (k8s_path(k->ca_file, sizeof(k->ca_file), sa, "ca.crt",
	    e) == -1)
		return -1;
	if (c->cm_token_file[0] != '\0') {
		if (util_strlcpy_checked(k->token_file, c->cm_token_file,
		    sizeof(k->token_file)) == -1)
			return errors_set(e, ERR_STORE, "token_file too long");
	} else if (k8s_path(k->token_file, sizeof(k->token_file), sa, "token",
	    e) == -1)
		return -1;
	if (c->cm_namespace[0] != '\0')
		return util_strlcpy_checked(k->ns, c->cm_namespace,
		    sizeof(k->ns)) == 0 ? 0 :
		    errors_set(e, ERR_STORE, "namespace too long");
	if (k8s_path(nsfile, sizeof(nsfile), sa, "namespace", e) == -1 ||
	    (n = k8s_read_file("namespace file", nsfile, nsbuf,
	    sizeof(nsbuf), e)) == -1)
		return -1;
	(void)k8s_rtrim(nsbuf, (size_t)n);
	if (!util_is_dns_label(nsbuf, strlen(nsbuf)))
		return errors_set(e, ERR_STORE, "namespace file %s: \"%.64s\" "
		    "is not a namespace", nsfile, nsbuf);
	(void)util_strlcpy_checked(k->ns, nsbuf, sizeof(k->ns));
	return 0;
}

/* Outside a pod: everything from the configuration. */
static int
k8s_outside(struct k8s *k, const struct cfg *c, char *base, size_t basesz,
    struct err *e)
{
	size_t	len;

	if (util_strlcpy_checked(base, c->cm_server, basesz) == -1 ||
	    util_strlcpy_checked(k->ca_file, c->cm_ca_file,
	    sizeof(k->ca_file)) == -1 ||
	    util_strlcpy_checked(k->token_file, c->cm_token_file,
	    sizeof(k->token_file)) == -1)
		return errors_set(e, ERR_STORE, "store.configmap: a value is "
		    "too long");
	for (len = strlen(base); len > 0 && base[len - 1] == '/'; len--)
		base[len - 1] = '\0';
	if (strncmp(base, "http://", 7) == 0 && k->token_file[0] != '\0')
		return errors_set(e, ERR_STORE, "store.configmap.server %s is "
		    "plain http://: the token of store.configmap.token_file "
		    "would travel unencrypted; use https://", base);
	if (c->cm_namespace[0] == '\0')
		return errors_set(e, ERR_STORE, "store.configmap.namespace is "
		    "empty: only in a pod (store.configmap.server \"\") is it "
		    "read from the service account");
	if (util_strlcpy_checked(k->ns, c->cm_namespace, sizeof(k->ns)) == -1)
		return errors_set(e, ERR_STORE, "namespace too long");
	return 0;
}

int
store_k8s_open(struct store *s, const struct cfg *c, struct err *e)
{
	struct k8s	*k = NULL;
	char		 base[CFG_STR_MAX + 64], tmp[1];
	int		 fd, ret = -1;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		errors_set(e, ERR_STORE, "out of memory");
		goto out;
	}
	k->clock = k8s_mono_s;
	k->token_read_at = -1;
	k->token_reread_s = c->cm_token_reread_seconds;
	k->create_if_missing = c->cm_create_if_missing;
	k->connect_timeout_ms = c->cm_connect_timeout_ms;
	k->timeout_ms = c->cm_timeout_ms;
	k->max_response = (size_t)c->cm_max_response_bytes;
	if (util_strlcpy_checked(k->name, c->cm_name, sizeof(k->name)) ==
	    -1) {
		errors_set(e, ERR_STORE, "store.configmap.name too long");
		goto out;
	}
	if ((c->cm_server[0] == '\0' ? k8s_in_pod(k, c, base, sizeof(base),
	    e) : k8s_outside(k, c, base, sizeof(base), e)) == -1)
		goto out;
	if ((size_t)snprintf(k->coll, sizeof(k->coll),
	    "%s/api/v1/namespaces/%s/configmaps", base, k->ns) >=
	    sizeof(k->coll) || (size_t)snprintf(k->url, sizeof(k->url),
	    "%s/%s", k->coll, k->name) >= sizeof(k->url)) {
		errors_set(e, ERR_STORE, "store.configmap.server is too long");
		goto out;
	}
	/* What cannot be read now will not be readable per request:
	 * say so at start-up. */
	if (k->ca_file[0] != '\0') {
		if ((fd = open(k->ca_file, O_RDONLY | O_CLOEXEC)) == -1 ||
		    read(fd, tmp, sizeof(tmp)) == -1) {
			errors_set(e, ERR_STORE, "CA file %s: %s", k->ca_file,
			    strerror(errno));
			if (fd != -1)
				(void)close(fd);
			goto out;
		}
		(void)close(fd);
	}
	if (k8s_token_fresh(k, 1, e) == -1)
		goto out;
	if ((k->conn = httpc_conn_new()) == NULL) {
		errors_set(e, ERR_STORE, "out of memory");
		goto out;
	}
	s->ops = &k8s_ops;
	s->impl = k;
	k = NULL;
	ret = 0;
out:
	if (k != NULL) {
		explicit_bzero(k->token, sizeof(k->token));
		httpc_conn_free(k->conn);
	}
	free(k);
	return ret;
}

void
store_k8s_set_clock(struct store *s, long (*now_s)(void))
{
	struct k8s	*k;

	if (s->ops != &k8s_ops || (k = s->impl) == NULL)
		return;
	k->clock = now_s != NULL ? now_s : k8s_mono_s;
	/* The token was read just now, whatever the new clock says. */
	if (k->token_read_at != -1)
		k->token_read_at = k->clock();
}
