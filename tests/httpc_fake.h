/*
 * httpc_fake.h: the scripted peer behind -Wl,--wrap=httpc_do, shared by
 * the unit tests of httpc's users (test_store_k8s, test_prow).  A test
 * lists the answers with answer*(), runs the code, then reads what was
 * sent in seen[].  Included by exactly one file of a test program; the
 * definitions are that program's.
 */
#ifndef CIMASTER_HTTPC_FAKE_H
#define CIMASTER_HTTPC_FAKE_H

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "httpc.h"
#include "util.h"

#define SCRIPT_MAX	16
/* Not every test uses every helper. */
#define FAKE_HELPER	static __attribute__((unused)) void

struct answer {
	long		 status;
	const char	*content_type;	/* NULL: application/json */
	const char	*body;
	long		 retry_after;	/* seconds; 0 means none */
	int		 transport;	/* no answer: connection refused */
	void		(*after)(const char *);	/* run once answered */
	const char	*after_arg;
};

struct seen {
	char	method[8];
	char	url[1024];
	char	accept[64];
	char	content_type[64];
	char	token[256];	/* "" when no Authorization was sent */
	char	ca_file[PATH_MAX];
	char	*body;		/* NULL: none */
	size_t	bodylen;
	long	connect_timeout_ms;
	long	timeout_ms;
	size_t	max_response;
};

static struct answer	script[SCRIPT_MAX];
static int		nscript, nextans;
static struct seen	seen[SCRIPT_MAX];
static int		nseen;

int	__wrap_httpc_do(const struct httpc_request *, struct httpc_response *,
	    struct err *);

FAKE_HELPER
copy(char *dst, size_t dstsz, const char *src)
{
	assert_int_equal(util_strlcpy_checked(dst, src != NULL ? src : "",
	    dstsz), 0);
}

int
__wrap_httpc_do(const struct httpc_request *r, struct httpc_response *resp,
    struct err *e)
{
	struct seen		*w;
	const struct answer	*a;

	memset(resp, 0, sizeof(*resp));
	resp->retry_after = -1;
	/* A request the test did not script is one that must not be sent. */
	assert_true(nextans < nscript);
	w = &seen[nseen++];
	copy(w->method, sizeof(w->method), r->method);
	copy(w->url, sizeof(w->url), r->url);
	copy(w->accept, sizeof(w->accept), r->accept);
	copy(w->content_type, sizeof(w->content_type), r->content_type);
	copy(w->token, sizeof(w->token), r->bearer_token);
	copy(w->ca_file, sizeof(w->ca_file), r->ca_file);
	if (r->body != NULL) {
		assert_non_null(w->body = malloc(r->bodylen + 1));
		memcpy(w->body, r->body, r->bodylen);
		w->body[r->bodylen] = '\0';
		w->bodylen = r->bodylen;
	}
	w->connect_timeout_ms = r->connect_timeout_ms;
	w->timeout_ms = r->timeout_ms;
	w->max_response = r->max_response;

	a = &script[nextans++];
	if (a->after != NULL)
		a->after(a->after_arg);
	if (a->transport)
		return errors_set(e, ERR_INTERNAL, "%s %s: Failed to connect: "
		    "Connection refused", r->method, r->url);
	resp->status = a->status;
	if (a->retry_after > 0)
		resp->retry_after = a->retry_after;
	copy(resp->content_type, sizeof(resp->content_type),
	    a->content_type != NULL ? a->content_type : "application/json");
	if (a->body != NULL)
		assert_int_equal(buf_puts(&resp->body, a->body), 0);
	return 0;
}

FAKE_HELPER
answer(long status, const char *body)
{
	assert_true(nscript < SCRIPT_MAX);
	memset(&script[nscript], 0, sizeof(script[0]));
	script[nscript].status = status;
	script[nscript].body = body;
	nscript++;
}

FAKE_HELPER
answer_text(long status, const char *body, long retry_after)
{
	answer(status, body);
	script[nscript - 1].content_type = "text/plain; charset=utf-8";
	script[nscript - 1].retry_after = retry_after;
}

FAKE_HELPER
answer_transport_failure(void)
{
	answer(0, NULL);
	script[nscript - 1].transport = 1;
}

/* Frees what was recorded and empties the script. */
FAKE_HELPER
script_reset(void)
{
	int	i;

	for (i = 0; i < nseen; i++)
		free(seen[i].body);
	memset(seen, 0, sizeof(seen));
	nseen = nscript = nextans = 0;
}

#endif
