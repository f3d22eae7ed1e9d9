/*
 * httpc: libcurl's easy interface behind httpc_do().  A call gets a
 * fresh handle, or the caller's kept one (struct httpc_conn), reset to no
 * options before and after each call so nothing but the connection
 * carries over from one request to the next.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "httpc.h"
#include "util.h"

struct sink {
	struct httpc_response	*resp;
	size_t			 max;
	int			 too_large;
};

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct sink	*s = arg;
	size_t		 len = size * n;

	if (s->resp->body.len + len > s->max) {
		s->too_large = 1;
		return 0;	/* aborts the transfer */
	}
	if (buf_append(&s->resp->body, data, len) == -1)
		return 0;
	return len;
}

/* Picks Content-Type and Retry-After (delta-seconds only: the API server
 * and Prow send those; an HTTP-date falls back to the caller's backoff). */
static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct sink	*s = arg;
	size_t		 len = size * n, vlen;
	const char	*v;
	long		 secs;
	char		 tmp[32];

	if (len > 13 && strncasecmp(data, "Content-Type:", 13) == 0) {
		for (v = data + 13; v < data + len && *v == ' '; v++)
			;
		vlen = data + len - v;
		while (vlen > 0 && isspace((unsigned char)v[vlen - 1]))
			vlen--;
		if (vlen < sizeof(s->resp->content_type)) {
			memcpy(s->resp->content_type, v, vlen);
			s->resp->content_type[vlen] = '\0';
		}
	} else if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		for (v = data + 12; v < data + len && *v == ' '; v++)
			;
		vlen = data + len - v;
		while (vlen > 0 && isspace((unsigned char)v[vlen - 1]))
			vlen--;
		if (vlen > 0 && vlen < sizeof(tmp)) {
			memcpy(tmp, v, vlen);
			tmp[vlen] = '\0';
			if (util_parse_long(tmp, 0, 86400, &secs) == 0)
				s->resp->retry_after = secs;
		}
	}
	return len;
}

struct httpc_conn {
	CURL	*c;
};

struct httpc_conn *
httpc_conn_new(void)
{
	struct httpc_conn	*hc;

	if ((hc = calloc(1, sizeof(*hc))) == NULL)
		return NULL;
	if ((hc->c = curl_easy_init()) == NULL) {
		free(hc);
		return NULL;
	}
	return hc;
}

void
httpc_conn_free(struct httpc_conn *hc)
{
	if (hc == NULL)
		return;
	curl_easy_cleanup(hc->c);
	free(hc);
}

int
httpc_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int
httpc_do(const struct httpc_request *r, struct httpc_response *resp,
    struct err *e)
{
	CURL			*c = NULL;
	struct curl_slist	*hdrs = NULL, *nh;
	struct sink		 s;
	struct buf		 line = { 0 };
	char			 cerr[CURL_ERROR_SIZE];
	CURLcode		 rc;
	int			 ret = -1;

	memset(resp, 0, sizeof(*resp));
	resp->retry_after = -1;
	memset(&s, 0, sizeof(s));
	s.resp = resp;
	s.max = r->max_response;
	cerr[0] = '\0';
	if (r->conn != NULL) {
		c = r->conn->c;
		curl_easy_reset(c);	/* keeps the connection cache */
	} else if ((c = curl_easy_init()) == NULL) {
		errors_set(e, ERR_INTERNAL, "curl_easy_init failed");
		goto out;
	}
	if (r->content_type != NULL) {
		buf_printf(&line, "Content-Type: %s", r->content_type);
		if (line.failed || (nh = curl_slist_append(hdrs,
		    line.data)) == NULL)
			goto oom;
		hdrs = nh;
		buf_reset(&line);
	}
	if (r->accept != NULL) {
		buf_printf(&line, "Accept: %s", r->accept);
		if (line.failed || (nh = curl_slist_append(hdrs,
		    line.data)) == NULL)
			goto oom;
		hdrs = nh;
		buf_reset(&line);
	}
	if (r->bearer_token != NULL && r->bearer_token[0] != '\0') {
		buf_printf(&line, "Authorization: Bearer %s", r->bearer_token);
		if (line.failed || (nh = curl_slist_append(hdrs,
		    line.data)) == NULL)
			goto oom;
		hdrs = nh;
	}
	/* No "Expect: 100-continue" round trip on PUT/POST. */
	if ((nh = curl_slist_append(hdrs, "Expect:")) == NULL)
		goto oom;
	hdrs = nh;

	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (r->ca_file != NULL && r->ca_file[0] != '\0')
		curl_easy_setopt(c, CURLOPT_CAINFO, r->ca_file);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, r->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
	if (r->body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)r->bodylen);
	}
	rc = curl_easy_perform(c);
	if (s.too_large) {
		errors_set(e, ERR_INTERNAL, "%s %s: response over %zu bytes",
		    r->method, r->url, r->max_response);
		goto out;
	}
	if (rc != CURLE_OK) {
		/* The URL is configuration, never a secret; the token is
		 * in a header curl does not echo into cerr. */
		errors_set(e, ERR_INTERNAL, "%s %s: %s", r->method, r->url,
		    cerr[0] != '\0' ? cerr : curl_easy_strerror(rc));
		goto out;
	}
	if (resp->body.failed) {
		errors_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	ret = 0;
	goto out;
oom:
	errors_set(e, ERR_INTERNAL, "out of memory");
out:
	/* The Authorization lines held the token: wipe before freeing. */
	if (line.data != NULL)
		memset(line.data, 0, line.cap);
	buf_free(&line);
	for (nh = hdrs; nh != NULL; nh = nh->next)
		memset(nh->data, 0, strlen(nh->data));
	/* A kept handle must not point at this call's headers, body or
	 * error buffer once they are gone. */
	if (c != NULL && r->conn != NULL)
		curl_easy_reset(c);
	else if (c != NULL)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	return ret;
}

void
httpc_response_free(struct httpc_response *resp)
{
	if (resp == NULL)
		return;
	buf_free(&resp->body);
}
