/*
 * http: urlencoded decoding, format negotiation and the CGI response
 * header block.  Pure string work: worker.c owns the FastCGI streams.
 * Decoded pairs are owned by struct http_params.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

#define HTTP_PARAMS_MAX	64	/* more pairs than any verb needs */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes len bytes of s ('+' is a space, %XX a byte) into a new string;
 * NULL with e set on a bad escape or an encoded NUL. */
static char *
urldecode(const char *s, size_t len, struct err *e)
{
	char	*out, *p;
	size_t	 i;
	int	 hi, lo;

	/* A raw NUL would silently cut the value short. */
	if (memchr(s, '\0', len) != NULL) {
		errors_set(e, ERR_BAD_PARAM, "NUL byte in the query or body");
		return NULL;
	}
	if ((out = malloc(len + 1)) == NULL) {
		errors_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	for (i = 0, p = out; i < len; i++) {
		if (s[i] == '+') {
			*p++ = ' ';
		} else if (s[i] == '%') {
			if (i + 2 >= len)
				goto bad;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			*p++ = (char)(hi << 4 | lo);
			i += 2;
		} else
			*p++ = s[i];
	}
	*p = '\0';
	return out;
bad:
	free(out);
	errors_set(e, ERR_BAD_PARAM, "malformed %%-escape in the query or body");
	return NULL;
}

int
http_params_parse(struct http_params *p, const char *s, size_t len,
    struct err *e)
{
	const char		*pair, *end, *eq;
	struct http_param	*np;
	size_t			 ncap;
	char			*name = NULL, *value = NULL;
	int			 ret = -1;

	for (pair = s; pair < s + len; pair = end + 1) {
		if ((end = memchr(pair, '&', s + len - pair)) == NULL)
			end = s + len;
		if (end == pair)
			continue;	/* "a=1&&b=2" */
		if ((eq = memchr(pair, '=', end - pair)) == NULL)
			eq = end;
		if ((name = urldecode(pair, eq - pair, e)) == NULL)
			goto out;
		value = eq < end ? urldecode(eq + 1, end - eq - 1, e) :
		    urldecode("", 0, e);
		if (value == NULL)
			goto out;
		if (p->len == HTTP_PARAMS_MAX) {
			errors_set(e, ERR_BAD_PARAM,
			    "more than %d parameters", HTTP_PARAMS_MAX);
			goto out;
		}
		if (p->len == p->cap) {
			ncap = p->cap ? p->cap * 2 : 8;
			np = realloc(p->items, ncap * sizeof(*np));
			if (np == NULL) {
				errors_set(e, ERR_INTERNAL, "out of memory");
				goto out;
			}
			p->items = np;
			p->cap = ncap;
		}
		p->items[p->len].name = name;
		p->items[p->len].value = value;
		p->len++;
		name = value = NULL;
		if (end == s + len)
			break;
	}
	ret = 0;
out:
	free(name);
	free(value);
	return ret;
}

const char *
http_params_get(const struct http_params *p, const char *name)
{
	size_t	i;

	for (i = 0; i < p->len; i++)
		if (strcmp(p->items[i].name, name) == 0)
			return p->items[i].value;
	return NULL;
}

void
http_params_free(struct http_params *p)
{
	size_t	i;

	if (p == NULL)
		return;
	for (i = 0; i < p->len; i++) {
		free(p->items[i].name);
		free(p->items[i].value);
	}
	free(p->items);
	p->items = NULL;
	p->len = p->cap = 0;
}

int
http_request_params(const struct http_request *r, struct http_params *p,
    struct err *e)
{
	const char	*ct = r->content_type;
	size_t		 n;

	if (http_params_parse(p, r->query, strlen(r->query), e) == -1)
		return -1;
	if (r->method != HTTP_POST || r->body == NULL || r->bodylen == 0)
		return 0;
	/* Only a form body carries parameters; "; charset=" may follow. */
	n = strlen("application/x-www-form-urlencoded");
	if (strncasecmp(ct, "application/x-www-form-urlencoded", n) != 0 ||
	    (ct[n] != '\0' && ct[n] != ';' && ct[n] != ' '))
		return 0;
	return http_params_parse(p, r->body, r->bodylen, e);
}

static const char *const methods[HTTP_METHOD__MAX] = {
	[HTTP_GET] = "GET",
	[HTTP_HEAD] = "HEAD",
	[HTTP_POST] = "POST",
	[HTTP_OTHER] = "OTHER",
};

enum http_method
http_method_parse(const char *s)
{
	enum http_method	m;

	for (m = 0; m < HTTP_OTHER; m++)
		if (strcmp(s, methods[m]) == 0)
			return m;
	return HTTP_OTHER;
}

const char *
http_method_str(enum http_method m)
{
	return (unsigned)m < HTTP_METHOD__MAX ? methods[m] : "OTHER";
}

enum http_format
http_pick_format(const char *accept, const char *format)
{
	if (format != NULL) {
		if (strcmp(format, "json") == 0)
			return HTTP_FMT_JSON;
		if (strcmp(format, "html") == 0)
			return HTTP_FMT_HTML;
		if (strcmp(format, "text") == 0)
			return HTTP_FMT_TEXT;
	}
	if (accept == NULL)
		return HTTP_FMT_TEXT;
	if (strcasestr(accept, "application/json") != NULL)
		return HTTP_FMT_JSON;
	if (strcasestr(accept, "text/html") != NULL)
		return HTTP_FMT_HTML;
	return HTTP_FMT_TEXT;
}

const char *
http_content_type(enum http_format f)
{
	switch (f) {
	case HTTP_FMT_JSON:
		return "application/json; charset=utf-8";
	case HTTP_FMT_HTML:
		return "text/html; charset=utf-8";
	default:
		return "text/plain; charset=utf-8";
	}
}

const char *
http_status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

int
http_response_head(const struct http_response *resp,
    const char *request_id, struct buf *out)
{
	buf_printf(out, "Status: %d %s\r\n", resp->status,
	    http_status_reason(resp->status));
	buf_printf(out, "Content-Type: %s\r\n", resp->content_type != NULL ?
	    resp->content_type : http_content_type(resp->format));
	/* State changes every request: no cache may keep an answer. */
	buf_puts(out, "Cache-Control: no-store\r\n");
	buf_puts(out, "X-Content-Type-Options: nosniff\r\n");
	/* The page has no script, no image and no form of its own: should
	 * escaping ever fail, the browser still runs and loads nothing. */
	if (resp->format == HTTP_FMT_HTML && resp->content_type == NULL)
		buf_puts(out, "Content-Security-Policy: default-src 'none'; "
		    "style-src 'unsafe-inline'; base-uri 'none'; "
		    "form-action 'none'; frame-ancestors 'none'\r\n");
	if (request_id != NULL && request_id[0] != '\0')
		buf_printf(out, "X-Request-Id: %s\r\n", request_id);
	if (resp->allow != NULL)
		buf_printf(out, "Allow: %s\r\n", resp->allow);
	if (resp->retry_after > 0)
		buf_printf(out, "Retry-After: %d\r\n", resp->retry_after);
	buf_printf(out, "Content-Length: %zu\r\n\r\n", resp->body.len);
	return out->failed ? -1 : 0;
}
