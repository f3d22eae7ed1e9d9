/*
 * fuzz_request: the request decoder under libFuzzer (scripts/fuzz) or
 * tests/fuzz/replay.c.  Bytes go through http_params_parse, params_validate
 * with every parameter allowed and http_pick_format, then as a whole
 * request through router_handle on a file store reset before each run.
 */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
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
#include "http.h"
#include "log.h"
#include "params.h"
#include "router.h"
#include "store.h"
#include "util.h"

/*
 * The input: byte 0 picks the method (bits 0-1), the authenticated user
 * (bits 2-3) and the Accept header (bits 4-5); byte 1 picks the path.
 * The rest is the query string up to the first '\n', then the form body.
 * The decoder checks see all of the rest, '\n' included.
 */
#define HDR_LEN		2
#define NOW		((time_t)1796292000)	/* 2026-12-03T10:00Z */
#define HOUR		((time_t)3600)
#define ADMIN		"alice"
#define FORM		"application/x-www-form-urlencoded"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum http_method methods[] = {
	HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_OTHER
};
static const char *const users[] = { "", ADMIN, "bob", "carol" };
static const char *const accepts[] = {
	"", "application/json", "text/html,application/xhtml+xml;q=0.9",
	"*/*"
};
static const char *const paths[] = {
	"/", "/clusters", "/getvacant", "/finish", "/hold", "/release",
	"/add", "/delete", "/disable", "/enable", "/healthz", "/readyz",
	"/nope", "/createcluster", "/metrics"
};
#define NPATHS	(sizeof(paths) / sizeof(paths[0]))

/*
 * The router's world, made once per process: libFuzzer calls us millions
 * of times and a store directory per call would be most of the cost.
 * Each run rewrites the store file from seed_doc, so runs stay
 * independent and a crash replays from its input alone.
 */
static struct {
	int		 ready;
	char		 dir[64];
	char		 path[128];
	struct cfg	*cfg;
	struct store	 store;
	char		*seed_doc;
	size_t		 seed_len;
	int		 verbose;	/* FUZZ_VERBOSE: print responses */
} world;

static time_t
fake_clock(void)
{
	return NOW;
}

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_request: %s\n", what);
	abort();
}

static void
remove_in(const char *suffix)
{
	char	p[PATH_MAX];

	(void)snprintf(p, sizeof(p), "%s%s", world.path, suffix);
	(void)unlink(p);
}

static void
world_teardown(void)
{
	store_close(&world.store);
	remove_in("");
	remove_in(".lock");
	remove_in(".tmp");
	(void)rmdir(world.dir);
	free(world.cfg);
	free(world.seed_doc);
	world.ready = 0;
}

static void
seed_add(struct cluster_list *l, const char *name, const char *purpose,
    const char *os, enum cluster_status st, const char *job,
    const char *build, const char *user, time_t hold_until)
{
	struct cluster	c;

	memset(&c, 0, sizeof(c));
	if (util_strlcpy_checked(c.name, name, sizeof(c.name)) == -1 ||
	    util_strlcpy_checked(c.purpose, purpose, sizeof(c.purpose)) == -1 ||
	    util_strlcpy_checked(c.os_image, os, sizeof(c.os_image)) == -1 ||
	    util_strlcpy_checked(c.job, job, sizeof(c.job)) == -1 ||
	    util_strlcpy_checked(c.build, build, sizeof(c.build)) == -1 ||
	    util_strlcpy_checked(c.user, user, sizeof(c.user)) == -1)
		die("seed record does not fit");
	c.status = st;
	c.since = NOW - HOUR;
	c.hold_until = hold_until;
	if (cluster_list_push(l, &c) == -1)
		die("out of memory");
}

/* One cluster of each status, so every verb has something to act on. */
static void
seed_make(void)
{
	struct cluster_list	 l = { 0 };
	struct json_object	*doc, *data;
	const char		*purpose = world.cfg->default_purpose;
	char			*text;

	seed_add(&l, "c1", purpose, "", CLUSTER_VACANT, "", "", "", 0);
	seed_add(&l, "c2", purpose, "ubuntu", CLUSTER_OCCUPIED, "ci/job",
	    "b1", "", 0);
	seed_add(&l, "c3", purpose, "", CLUSTER_HELD, "", "", "bob",
	    NOW + HOUR);
	seed_add(&l, "c4", "gpu", "rhel", CLUSTER_DISABLED, "", "", ADMIN, 0);
	if ((text = codec_encode(&l)) == NULL)
		die("codec_encode failed on the seed");
	cluster_list_free(&l);
	if ((doc = store_doc_new("ci", "clusters", "1")) == NULL ||
	    !json_object_object_get_ex(doc, "data", &data) ||
	    json_object_object_add(data, "clusters",
	    json_object_new_string(text)) != 0)
		die("cannot build the seed document");
	free(text);
	if ((world.seed_doc = strdup(json_object_to_json_string_ext(doc,
	    JSON_C_TO_STRING_PLAIN))) == NULL)
		die("out of memory");
	world.seed_len = strlen(world.seed_doc);
	json_object_put(doc);
}

static void
world_setup(void)
{
	const char	*base;
	struct err	 e;

	/* tmpfs when there is one: the store fsyncs every write. */
	base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	(void)snprintf(world.dir, sizeof(world.dir), "%s/fuzz_request.XXXXXX",
	    base);
	if (mkdtemp(world.dir) == NULL)
		die("mkdtemp failed");
	(void)snprintf(world.path, sizeof(world.path), "%s/clusters.json",
	    world.dir);
	if ((world.cfg = calloc(1, sizeof(*world.cfg))) == NULL)
		die("out of memory");
	cfg_defaults(world.cfg);
	if (util_strlcpy_checked(world.cfg->file_path, world.path,
	    sizeof(world.cfg->file_path)) == -1 ||
	    util_strlcpy_checked(world.cfg->admins[0], ADMIN,
	    sizeof(world.cfg->admins[0])) == -1)
		die("path too long");
	world.cfg->nadmins = 1;
	/* An allow-listed job and no Prow: createcluster gets through every
	 * check of its parameters and stops before anything is sent. */
	if (util_strlcpy_checked(world.cfg->prow_jobs[0].name, "e2e-k8s-1.32",
	    sizeof(world.cfg->prow_jobs[0].name)) == -1 ||
	    util_strlcpy_checked(world.cfg->prow_jobs[0].type, "periodic",
	    sizeof(world.cfg->prow_jobs[0].type)) == -1)
		die("job name too long");
	world.cfg->nprow_jobs = 1;
	/* One request per run: a conflict cannot happen, so a short
	 * deadline only bounds a bug. */
	world.cfg->retry_deadline_ms = 1000;
	errors_clear(&e);
	if (store_open(&world.store, world.cfg, &e) == -1) {
		fprintf(stderr, "fuzz_request: store_open: %s\n", e.msg);
		abort();
	}
	seed_make();
	/* Only errors: an info line per request would dwarf the run. */
	log_init("fuzz_request", LOG_LEVEL_ERROR);
	world.verbose = getenv("FUZZ_VERBOSE") != NULL;
	world.ready = 1;
	if (atexit(world_teardown) != 0)
		die("atexit failed");
}

static void
world_reset(void)
{
	int	fd;

	fd = open(world.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, world.seed_doc, world.seed_len) !=
	    (ssize_t)world.seed_len)
		die("cannot reset the store file");
	(void)close(fd);
}

/* Every byte but the unreserved ones as %XX, so decoding gives s back. */
static int
urlencode(struct buf *b, const char *s)
{
	static const char	hex[] = "0123456789ABCDEF";
	unsigned char		c;
	char			esc[3];

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			if (buf_append(b, (const char *)&c, 1) == -1)
				return -1;
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 0xf];
		if (buf_append(b, esc, sizeof(esc)) == -1)
			return -1;
	}
	return 0;
}

/* Decoding, re-encoding and decoding again must give the same pairs. */
static void
check_params_roundtrip(const struct http_params *in)
{
	struct http_params	 again = { 0 };
	struct buf		 b = { 0 };
	struct err		 e;
	size_t			 i;

	for (i = 0; i < in->len; i++) {
		if ((i > 0 && buf_append(&b, "&", 1) == -1) ||
		    urlencode(&b, in->items[i].name) == -1 ||
		    buf_append(&b, "=", 1) == -1 ||
		    urlencode(&b, in->items[i].value) == -1)
			die("out of memory");
	}
	errors_clear(&e);
	if (http_params_parse(&again, b.len > 0 ? b.data : "", b.len,
	    &e) == -1) {
		fprintf(stderr, "re-encoded pairs do not parse: %s\n", e.msg);
		abort();
	}
	if (again.len != in->len)
		die("re-encoded pairs parse to another count");
	for (i = 0; i < in->len; i++)
		if (strcmp(again.items[i].name, in->items[i].name) != 0 ||
		    strcmp(again.items[i].value, in->items[i].value) != 0)
			die("re-encoded pair differs");
	http_params_free(&again);
	buf_free(&b);
}

/* What params_validate accepted must pass params_check one by one and
 * be stored unchanged. */
static void
check_validated(const struct http_params *in, const struct params *p,
    long max_hours)
{
	static const struct {
		enum param_id	 id;
		size_t		 off;
	} strs[] = {
		{ PARAM_CLUSTER, offsetof(struct params, cluster) },
		{ PARAM_PURPOSE, offsetof(struct params, purpose) },
		{ PARAM_OS, offsetof(struct params, os) },
		{ PARAM_BUILD, offsetof(struct params, build) },
		{ PARAM_JOB, offsetof(struct params, job) },
		{ PARAM_USER, offsetof(struct params, user) },
		{ PARAM_BRANCH, offsetof(struct params, branch) },
		{ PARAM_REASON, offsetof(struct params, reason) },
		{ PARAM_NAME, offsetof(struct params, name) },
		{ PARAM_FORMAT, offsetof(struct params, format) },
	};
	const char		*raw;
	struct err		 e;
	enum param_id		 id;
	size_t			 i;

	for (id = 0; id < PARAM__MAX; id++) {
		raw = http_params_get(in, params_name(id));
		if (!(p->present & PARAM_BIT(id)))
			continue;
		if (raw == NULL)
			die("a parameter is present that was not given");
		errors_clear(&e);
		if (params_check(id, raw, max_hours, &e) == -1)
			die("params_check rejects what params_validate took");
	}
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		raw = (const char *)p + strs[i].off;
		if (!(p->present & PARAM_BIT(strs[i].id))) {
			if (raw[0] != '\0')
				die("an absent parameter has a value");
			continue;
		}
		if (strcmp(raw, http_params_get(in,
		    params_name(strs[i].id))) != 0)
			die("a validated value differs from the one given");
	}
	if ((p->present & PARAM_BIT(PARAM_HOURS)) &&
	    (p->hours < 1 || p->hours > max_hours))
		die("hours out of range");
	if ((p->present & PARAM_BIT(PARAM_FORCE)) &&
	    p->force != 0 && p->force != 1)
		die("force is not 0 or 1");
	if ((p->present & PARAM_BIT(PARAM_STATUS)) &&
	    (unsigned)p->status >= CLUSTER_STATUS__MAX)
		die("status out of range");
}

static void
fuzz_decoder(const char *s, size_t len, const char *accept)
{
	struct http_params	 in = { 0 };
	struct params		 p;
	struct err		 e;
	enum http_format	 f;
	unsigned		 all = PARAM_BIT(PARAM__MAX) - 1;
	long			 max_hours = world.cfg->max_hold_hours;

	errors_clear(&e);
	if (http_params_parse(&in, s, len, &e) == -1) {
		if (e.code != ERR_BAD_PARAM)
			die("http_params_parse failed with a code other "
			    "than bad_param");
		goto out;
	}
	check_params_roundtrip(&in);
	f = http_pick_format(accept, http_params_get(&in, "format"));
	if ((unsigned)f >= HTTP_FMT__MAX)
		die("http_pick_format out of range");
	errors_clear(&e);
	if (params_validate(&in, all, 0, max_hours, &p, &e) == -1) {
		if (e.code != ERR_BAD_PARAM)
			die("params_validate failed with a code other than "
			    "bad_param");
		goto out;
	}
	check_validated(&in, &p, max_hours);
	/* The API: a valid format= wins over Accept. */
	if ((p.present & PARAM_BIT(PARAM_FORMAT)) &&
	    f != http_pick_format("", p.format))
		die("format= did not win over Accept");
out:
	http_params_free(&in);
}

static void
check_response(const struct http_response *resp)
{
	struct json_object	*o;
	char			 why[128];

	if (strcmp(http_status_reason(resp->status), "Unknown") == 0) {
		fprintf(stderr, "status %d\n", resp->status);
		die("router_handle gave a status the API does not have");
	}
	if ((unsigned)resp->format >= HTTP_FMT__MAX)
		die("response format out of range");
	if (resp->body.failed)
		die("response body incomplete");
	if (resp->status >= 400 && resp->body.len == 0)
		die("an error without a body");
	/* A page with a type of its own (/metrics) is not in the asked
	 * format. */
	if (resp->format != HTTP_FMT_JSON || resp->body.len == 0 ||
	    resp->content_type != NULL)
		return;
	/* A JSON answer must be one strict JSON value in valid UTF-8. */
	if (codec_parse(resp->body.data, resp->body.len, &o, why,
	    sizeof(why)) == -1) {
		fprintf(stderr, "body: %s\n%s\n", resp->body.data, why);
		die("a JSON response is not JSON");
	}
	json_object_put(o);
}

static void
fuzz_router(uint8_t sel, uint8_t pathsel, const char *rest, size_t len)
{
	struct http_request	 r;
	struct http_response	 resp;
	const char		*nl;
	char			*query = NULL, *body = NULL;
	size_t			 qlen;

	nl = memchr(rest, '\n', len);
	qlen = nl != NULL ? (size_t)(nl - rest) : len;
	/* QUERY_STRING is a C string: a NUL ends it as it would in nginx. */
	if ((query = strndup(rest, qlen)) == NULL)
		die("out of memory");
	memset(&r, 0, sizeof(r));
	r.method = methods[sel & 3];
	r.remote_user = users[(sel >> 2) & 3];
	r.accept = accepts[(sel >> 4) & 3];
	r.path = paths[pathsel % NPATHS];
	r.query = query;
	r.content_type = "";
	(void)snprintf(r.request_id, sizeof(r.request_id), "fuzz");
	if (nl != NULL) {
		/* Exactly bodylen bytes, no NUL after them: the worker hands
		 * the body over that way, and ASan sees any read past it. */
		r.bodylen = len - qlen - 1;
		if ((body = malloc(r.bodylen > 0 ? r.bodylen : 1)) == NULL)
			die("out of memory");
		memcpy(body, nl + 1, r.bodylen);
		r.body = body;
		r.content_type = FORM;
	}
	memset(&resp, 0, sizeof(resp));
	world_reset();
	router_handle(world.cfg, &world.store, &r, fake_clock, &resp);
	if (world.verbose)
		fprintf(stderr, "%s %s?%s user=%s accept=%s -> %d %.*s\n",
		    http_method_str(r.method), r.path, r.query,
		    r.remote_user, r.accept, resp.status,
		    (int)(resp.body.len > 200 ? 200 : resp.body.len),
		    resp.body.len > 0 ? resp.body.data : "");
	check_response(&resp);
	buf_free(&resp.body);
	free(body);
	free(query);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*rest;
	size_t	 len;

	if (size < HDR_LEN)
		return 0;
	if (!world.ready)
		world_setup();
	len = size - HDR_LEN;
	/* A copy of exactly len bytes: the decoder gets a length, not a C
	 * string, and must not read past it. */
	if ((rest = malloc(len > 0 ? len : 1)) == NULL)
		die("out of memory");
	memcpy(rest, data + HDR_LEN, len);
	fuzz_decoder(rest, len, accepts[(data[0] >> 4) & 3]);
	fuzz_router(data[0], data[1], rest, len);
	free(rest);
	return 0;
}
