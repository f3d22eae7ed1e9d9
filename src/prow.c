/*
 * prow: builds the request for the configured dialect from the job's
 * allow-list entry, sends it through httpc_do() with the bearer token
 * from prow.token_file (re-read once after a 401) and turns the answer
 * into a job id or an ERR_PROW message quoting Prow.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cfg.h"
#include "codec.h"
#include "errors.h"
#include "httpc.h"
#include "prow.h"
#include "util.h"

/* A service-account token is about 1 KiB; anything this big is wrong. */
#define PROW_TOKEN_MAX	16384
/* How much of Prow's error message is quoted back to the caller. */
#define PROW_QUOTE_MAX	200
/* Room for codec_parse()'s reason, which we do not quote. */
#define PROW_WHY_MAX	128

static const char *const gangway_types[][2] = {
	{ "periodic", "PERIODIC" },
	{ "postsubmit", "POSTSUBMIT" },
	{ "presubmit", "PRESUBMIT" },
};

/*
 * The body for either dialect; periodic jobs get no refs at all.  A
 * child object is handed to codec_json_add() first and filled after:
 * once added it belongs to its parent, and a failed add has put it.
 */
static int
build_body(const struct cfg *c, const struct cfg_prow_job *j,
    const char *user, const char *branch, struct buf *b)
{
	struct json_object	*root, *parent, *refs, *envs;
	const char		*type = j->type, *s;
	size_t			 i;
	int			 ret = -1;

	if ((root = json_object_new_object()) == NULL)
		return -1;
	if (c->prow_dialect == CFG_PROW_GANGWAY) {
		for (i = 0; i < sizeof(gangway_types) /
		    sizeof(gangway_types[0]); i++)
			if (strcmp(gangway_types[i][0], j->type) == 0)
				type = gangway_types[i][1];
		if (codec_json_add(root, "job_name",
		    json_object_new_string(j->name)) == -1 ||
		    codec_json_add(root, "job_execution_type",
		    json_object_new_string(type)) == -1)
			goto out;
	} else if (codec_json_add(root, "job",
	    json_object_new_string(j->name)) == -1 ||
	    codec_json_add(root, "type", json_object_new_string(type)) == -1)
		goto out;
	if (strcmp(j->type, "periodic") != 0) {
		refs = json_object_new_object();
		if (codec_json_add(root, "refs", refs) == -1 ||
		    codec_json_add(refs, "org",
		    json_object_new_string(j->org)) == -1 ||
		    codec_json_add(refs, "repo",
		    json_object_new_string(j->repo)) == -1 ||
		    codec_json_add(refs, "base_ref",
		    json_object_new_string(j->base_ref)) == -1 ||
		    codec_json_add(refs, "base_sha",
		    json_object_new_string(j->base_sha)) == -1)
			goto out;
	}
	/* gangway nests the environment under pod_spec_options. */
	parent = root;
	if (c->prow_dialect == CFG_PROW_GANGWAY) {
		parent = json_object_new_object();
		if (codec_json_add(root, "pod_spec_options", parent) == -1)
			goto out;
	}
	envs = json_object_new_object();
	if (codec_json_add(parent, "envs", envs) == -1 ||
	    codec_json_add(envs, "AUTHOR",
	    json_object_new_string(user)) == -1 ||
	    codec_json_add(envs, "BRANCH",
	    json_object_new_string(branch)) == -1)
		goto out;
	/* Job names hold slashes; "\/" would only confuse a reader. */
	if ((s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL || buf_puts(b, s) == -1)
		goto out;
	ret = 0;
out:
	json_object_put(root);
	return ret;
}

/* %-escapes all but RFC 3986's unreserved characters. */
static int
put_escaped(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (isalnum((unsigned char)*s) || strchr("-._~", *s) != NULL) {
			if (buf_append(b, s, 1) == -1)
				return -1;
		} else if (buf_printf(b, "%%%02X", (unsigned char)*s) == -1)
			return -1;
	}
	return 0;
}

/* gangway: url + path with "{job}" replaced; manual-trigger: url. */
static int
build_url(const struct cfg *c, const struct cfg_prow_job *j, struct buf *b)
{
	const char	*p, *ph;
	size_t		 blen;

	blen = strlen(c->prow_url);
	if (c->prow_dialect == CFG_PROW_GANGWAY)
		while (blen > 0 && c->prow_url[blen - 1] == '/')
			blen--;	/* the path brings its own */
	if (buf_append(b, c->prow_url, blen) == -1)
		return -1;
	if (c->prow_dialect != CFG_PROW_GANGWAY)
		return buf_append(b, "", 0);
	for (p = c->prow_gangway_path; (ph = strstr(p, "{job}")) != NULL;
	    p = ph + 5)
		if (buf_append(b, p, (size_t)(ph - p)) == -1 ||
		    put_escaped(b, j->name) == -1)
			return -1;
	return buf_puts(b, p);
}

/* The token file's first line; "" when none is configured. */
static int
read_token(const struct cfg *c, char *tok, size_t toksz, struct err *e)
{
	FILE	*fp;
	size_t	 n;
	int	 ret = -1;

	tok[0] = '\0';
	if (c->prow_token_file[0] == '\0')
		return 0;
	if ((fp = fopen(c->prow_token_file, "r")) == NULL)
		return errors_set(e, ERR_PROW, "prow token: %s: %s",
		    c->prow_token_file, strerror(errno));
	n = fread(tok, 1, toksz - 1, fp);
	if (ferror(fp)) {
		errors_set(e, ERR_PROW, "prow token: %s: read error",
		    c->prow_token_file);
		goto out;
	}
	tok[n] = '\0';
	tok[strcspn(tok, "\r\n")] = '\0';
	if (tok[0] == '\0') {
		errors_set(e, ERR_PROW, "prow token: %s is empty",
		    c->prow_token_file);
		goto out;
	}
	ret = 0;
out:
	fclose(fp);
	return ret;
}

/* Copies the first line of s (n bytes), unprintables as '?', capped. */
static void
quote_line(char *dst, size_t dstsz, const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n && i + 1 < dstsz && s[i] != '\n' && s[i] != '\r';
	    i++)
		dst[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	dst[i] = '\0';
}

/*
 * The string at key in o, or NULL when o is not an object with one.  A
 * string holding a NUL ("\u0000") is none: C would see only its head.
 */
static const char *
get_str(struct json_object *o, const char *key)
{
	struct json_object	*v;
	const char		*s;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return NULL;
	return s;
}

/* The object at key in o, or NULL. */
static struct json_object *
get_obj(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

/*
 * The message of an error answer.  What sits in front of Prow decides
 * its shape: grpc-gateway (gangway) sends {"code", "message", "details"},
 * the Kubernetes API a Status with "message", ESPv2 and Google's API
 * front ends {"error": {"message"}}, simpler proxies {"error": "..."}.
 * Anything else, the first line of the body.
 */
static void
error_message(const struct httpc_response *r, char *dst, size_t dstsz)
{
	struct json_object	*root = NULL;
	const char		*s = NULL;
	char			 why[PROW_WHY_MAX];

	dst[0] = '\0';
	if (r->body.len > 0 && codec_parse(r->body.data, r->body.len, &root,
	    why, sizeof(why)) == 0) {
		if ((s = get_str(root, "message")) == NULL &&
		    (s = get_str(get_obj(root, "error"), "message")) == NULL)
			s = get_str(root, "error");
		if (s != NULL)
			quote_line(dst, dstsz, s, strlen(s));
	}
	json_object_put(root);
	if (dst[0] == '\0' && r->body.len > 0)
		quote_line(dst, dstsz, r->body.data, r->body.len);
	if (dst[0] == '\0')
		(void)util_strlcpy_checked(dst, "(no message)", dstsz);
}

int
prow_id_valid(const char *s)
{
	return s != NULL && util_is_object_name(s,
	    strnlen(s, PROW_ID_MAX + 1));
}

/*
 * Finds the id in a 2xx answer.  gangway: {"id": ...}; "id" is the same
 * under grpc-gateway's lowerCamelCase default and UseProtoNames, and the
 * other fields (jobName/job_name...) are not read.  manual-trigger:
 * {"name": ...}; or the created ProwJob itself, whose name is in
 * metadata.name, since a trigger endpoint that creates the ProwJob
 * through the API server may hand back the object the server returned;
 * or a text body whose first line is the name.  The id is stored and
 * echoed to API callers, so it must pass prow_id_valid().  0 with
 * out->id, or -1.
 */
static int
parse_answer(const struct cfg *c, const struct httpc_response *r,
    struct prow_result *out)
{
	struct json_object	*root = NULL;
	const char		*id = NULL;
	char			 why[PROW_WHY_MAX];
	size_t			 n = 0;
	int			 gangway, ret = -1;

	if (r->body.len == 0 || strlen(r->body.data) != r->body.len)
		return -1;
	gangway = c->prow_dialect == CFG_PROW_GANGWAY;
	/* A text name ("6c4d-...") is not JSON; only an object is. */
	if (r->body.data[strspn(r->body.data, " \t\r\n")] == '{') {
		if (codec_parse(r->body.data, r->body.len, &root, why,
		    sizeof(why)) == -1)
			goto out;
		if (gangway)
			id = get_str(root, "id");
		else if ((id = get_str(root, "name")) == NULL)
			id = get_str(get_obj(root, "metadata"), "name");
		if (id != NULL)
			n = strlen(id);
	} else if (!gangway) {
		id = r->body.data;
		n = strcspn(id, "\r\n");
	}
	if (id == NULL || !util_is_object_name(id, n))
		goto out;
	memcpy(out->id, id, n);
	out->id[n] = '\0';
	ret = 0;
out:
	json_object_put(root);
	return ret;
}

const struct cfg_prow_job *
prow_job_check(const struct cfg *c, const char *job, const char *user,
    const char *branch, struct err *e)
{
	const struct cfg_prow_job	*j;

	if ((j = cfg_prow_job(c, job)) == NULL) {
		errors_set(e, ERR_BAD_PARAM, "job: %s is not on the allow-list",
		    job != NULL ? job : "");
		return NULL;
	}
	/* gangway refuses an empty env value; so do we, before sending. */
	if (user == NULL || user[0] == '\0') {
		errors_set(e, ERR_BAD_PARAM, "user: must not be empty");
		return NULL;
	}
	if (branch == NULL || branch[0] == '\0') {
		errors_set(e, ERR_BAD_PARAM, "branch: must not be empty");
		return NULL;
	}
	if (strcmp(j->type, "periodic") != 0 &&
	    strcmp(branch, j->base_ref) != 0) {
		errors_set(e, ERR_BAD_PARAM, "branch: job %s builds %s; a "
		    "branch alone is only valid for periodic jobs", j->name,
		    j->base_ref);
		return NULL;
	}
	if (c->prow_url[0] == '\0') {
		errors_set(e, ERR_PROW, "prow is not configured (prow.url "
		    "is empty)");
		return NULL;
	}
	return j;
}

/*
 * Checks the request against the allow-list, sends it (again once after
 * a 401, with the token re-read) and classifies the answer.  5xx is not
 * retried: gangway answers 500 for a job it does not know.
 */
int
prow_create(const struct cfg *c, const char *job, const char *user,
    const char *branch, struct prow_result *out, struct err *e)
{
	const struct cfg_prow_job	*j;
	struct httpc_request		 req;
	struct httpc_response		 resp;
	struct buf			 body = { 0 }, url = { 0 };
	struct err			 he;
	char				 tok[PROW_TOKEN_MAX];
	char				 msg[PROW_QUOTE_MAX + 1];
	int				 attempt, ret = -1;

	memset(&resp, 0, sizeof(resp));
	out->id[0] = '\0';
	if ((j = prow_job_check(c, job, user, branch, e)) == NULL)
		goto out;
	if (build_body(c, j, user, branch, &body) == -1 ||
	    build_url(c, j, &url) == -1) {
		errors_set(e, ERR_INTERNAL, "prow: out of memory");
		goto out;
	}

	for (attempt = 0; attempt < 2; attempt++) {
		httpc_response_free(&resp);
		if (read_token(c, tok, sizeof(tok), e) == -1)
			goto out;
		memset(&req, 0, sizeof(req));
		req.method = "POST";
		req.url = url.data;
		req.content_type = "application/json";
		req.accept = "application/json, text/plain";
		req.body = body.data;
		req.bodylen = body.len;
		req.bearer_token = tok;
		req.ca_file = c->prow_ca_file;
		req.connect_timeout_ms = c->prow_connect_timeout_ms;
		req.timeout_ms = c->prow_timeout_ms;
		req.max_response = (size_t)c->prow_max_response_bytes;
		errors_clear(&he);
		if (httpc_do(&req, &resp, &he) == -1) {
			errors_set(e, ERR_PROW, "prow unreachable: %s", he.msg);
			goto out;
		}
		if (resp.status != 401)
			break;
	}
	if (resp.status < 200 || resp.status > 299) {
		error_message(&resp, msg, sizeof(msg));
		errors_set(e, ERR_PROW, "prow answered %ld: %s", resp.status,
		    msg);
		goto out;
	}
	if (resp.body.len > (size_t)c->prow_max_response_bytes ||
	    parse_answer(c, &resp, out) == -1) {
		errors_set(e, ERR_PROW, "prow answered %ld without a job %s",
		    resp.status, c->prow_dialect == CFG_PROW_GANGWAY ?
		    "id" : "name");
		goto out;
	}
	ret = 0;
out:
	explicit_bzero(tok, sizeof(tok));
	httpc_response_free(&resp);
	buf_free(&body);
	buf_free(&url);
	return ret;
}
