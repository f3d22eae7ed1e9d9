/*
 * http: the request as the worker decoded it from the FastCGI parameters,
 * the response a handler fills in, urlencoded decoding and format
 * negotiation.  No libfcgi here: worker.c does the I/O, so this module is
 * testable on plain strings.
 */
#ifndef CIMASTER_HTTP_H
#define CIMASTER_HTTP_H

#include <stddef.h>

#include "errors.h"
#include "util.h"

#define HTTP_BODY_MAX		(64 * 1024)	/* nginx limits it too */
#define HTTP_REQUEST_ID_MAX	64
#define HTTP_PATH_MAX		256

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_OTHER,
	HTTP_METHOD__MAX
};

enum http_format {
	HTTP_FMT_TEXT,
	HTTP_FMT_JSON,
	HTTP_FMT_HTML,
	HTTP_FMT__MAX
};

struct http_param {
	char	*name;		/* decoded, NUL-terminated, owned */
	char	*value;
};

struct http_params {
	struct http_param	*items;
	size_t			 len;
	size_t			 cap;
};

/* All strings borrowed from the FastCGI environment except body. */
struct http_request {
	enum http_method	 method;
	const char		*path;		/* DOCUMENT_URI */
	const char		*query;		/* QUERY_STRING, "" if none */
	const char		*content_type;	/* "" if none */
	const char		*accept;	/* HTTP_ACCEPT, "" if none */
	const char		*remote_user;	/* "" unless nginx authenticated */
	char			 request_id[HTTP_REQUEST_ID_MAX + 1];
	char			*body;		/* owned; NULL when none */
	size_t			 bodylen;
};

struct http_response {
	int			 status;
	enum http_format	 format;
	/* Content-Type when the body is none of the API's formats (the
	 * metrics page), NULL for format's; static storage. */
	const char		*content_type;
	const char		*allow;		/* Allow header, or NULL */
	int			 retry_after;	/* seconds; 0: no header */
	struct buf		 body;		/* owned */
};

/* Decodes "a=1&b=%20x" (len bytes of s) and appends the pairs to p.  A
 * malformed %-escape or a NUL byte is ERR_BAD_PARAM. */
int	http_params_parse(struct http_params *p, const char *s, size_t len,
	    struct err *e);
/* The value of the first pair named name, or NULL; borrowed from p. */
const char *http_params_get(const struct http_params *p, const char *name);
void	http_params_free(struct http_params *p);	/* accepts NULL */

/* The query string plus, for a urlencoded POST, the body: 0 or -1. */
int	http_request_params(const struct http_request *r,
	    struct http_params *p, struct err *e);

/* "GET" etc. to the enum (HTTP_OTHER for the rest). */
enum http_method http_method_parse(const char *s);
const char	*http_method_str(enum http_method m);

/* The API's format rule: format=json (or text, html) wins, then Accept
 * containing application/json, then text/html, else text. */
enum http_format http_pick_format(const char *accept, const char *format);
/* "text/plain; charset=utf-8" etc. */
const char	*http_content_type(enum http_format f);
/* "Not Found" etc. for the status line. */
const char	*http_status_reason(int status);

/* Writes the CGI response header block for r into out ("Status: ...",
 * Content-Type (resp->content_type, else the format's), X-Request-Id,
 * Allow, Retry-After, Cache-Control, blank line). */
int	http_response_head(const struct http_response *resp,
	    const char *request_id, struct buf *out);

#endif
