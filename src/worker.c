/*
 * worker: the FastCGI request loop.  SIGTERM is blocked while a request
 * is served, so a stop never cuts a response in half; it is let in only
 * around accept().  Each request's memory is freed before the next one.
 */
#include "config.h"

#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "http.h"
#include "log.h"
#include "prefork.h"
#include "router.h"
#include "store.h"
#include "util.h"
#include "worker.h"

static const char *
param(FCGX_Request *req, const char *name)
{
	const char	*v = FCGX_GetParam(name, req->envp);

	return v != NULL ? v : "";
}

/* nginx's $request_id is 32 hex digits; anything else is replaced, so a
 * log line can never be forged through a header. */
static void
request_id(FCGX_Request *req, char *dst, size_t dstsz)
{
	const char	*id = param(req, "REQUEST_ID");
	size_t		 i, n = strlen(id);
	unsigned long	 r;

	for (i = 0; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= 'A' && id[i] <= 'Z') || id[i] == '-'))
			break;
	if (n > 0 && i == n && n < dstsz) {
		memcpy(dst, id, n + 1);
		return;
	}
	r = (unsigned long)random();
	(void)snprintf(dst, dstsz, "cm-%08lx%08lx", r,
	    (unsigned long)random());
}

/* Reads the body when there is one and it is within the limit; a larger
 * one is left unread and answered with 413 by the router. */
static int
read_body(FCGX_Request *req, struct http_request *r)
{
	const char	*cl = param(req, "CONTENT_LENGTH");
	long		 len;
	int		 n;

	r->body = NULL;
	r->bodylen = 0;
	if (cl[0] == '\0')
		return 0;
	if (util_parse_long(cl, 0, 1L << 30, &len) == -1)
		return -1;
	if (len > HTTP_BODY_MAX) {
		r->bodylen = (size_t)len;	/* the router refuses it */
		return 0;
	}
	if (len == 0)
		return 0;
	if ((r->body = malloc((size_t)len + 1)) == NULL)
		return -1;
	n = FCGX_GetStr(r->body, (int)len, req->in);
	if (n != len) {
		free(r->body);
		r->body = NULL;
		return -1;
	}
	r->body[len] = '\0';
	r->bodylen = (size_t)len;
	return 0;
}

static void
serve(FCGX_Request *req, const struct cfg *c, struct store *s)
{
	struct http_request	r;
	struct http_response	resp;
	struct buf		head = { 0 };

	memset(&r, 0, sizeof(r));
	memset(&resp, 0, sizeof(resp));
	r.method = http_method_parse(param(req, "REQUEST_METHOD"));
	r.path = param(req, "DOCUMENT_URI");
	if (r.path[0] == '\0')
		r.path = param(req, "SCRIPT_NAME");
	r.query = param(req, "QUERY_STRING");
	r.content_type = param(req, "CONTENT_TYPE");
	r.accept = param(req, "HTTP_ACCEPT");
	r.remote_user = param(req, "REMOTE_USER");
	request_id(req, r.request_id, sizeof(r.request_id));
	if (read_body(req, &r) == -1) {
		log_warn(r.request_id, "could not read the request body");
		goto out;	/* the client went away: nothing to answer */
	}
	router_handle(c, s, &r, NULL, &resp);
	if (http_response_head(&resp, r.request_id, &head) == -1 ||
	    resp.body.failed) {
		log_error(r.request_id, "out of memory rendering a response");
		goto out;
	}
	FCGX_PutStr(head.data, (int)head.len, req->out);
	if (r.method != HTTP_HEAD && resp.body.len > 0)
		FCGX_PutStr(resp.body.data, (int)resp.body.len, req->out);
out:
	free(r.body);
	buf_free(&head);
	buf_free(&resp.body);
}

int
worker_run(int listen_fd, const struct cfg *c)
{
	FCGX_Request	req;
	struct store	s;
	struct err	e;
	sigset_t	term;
	int		rc, ret = 1;

	memset(&s, 0, sizeof(s));
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	if (FCGX_Init() != 0 ||
	    FCGX_InitRequest(&req, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_error(NULL, "FastCGI initialisation failed");
		return 1;
	}
	if (store_open(&s, c, &e) == -1) {
		log_error(NULL, "store: %s", e.msg);
		return 1;
	}
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_BLOCK, &term, NULL);
	for (;;) {
		/* A stop asked for while serving lands here, at the
		 * boundary; one asked for inside accept() ends it. */
		sigprocmask(SIG_UNBLOCK, &term, NULL);
		if (prefork_stopping())
			break;
		rc = FCGX_Accept_r(&req);
		sigprocmask(SIG_BLOCK, &term, NULL);
		if (rc < 0) {
			if (prefork_stopping() || rc == -EINTR)
				continue;
			log_error(NULL, "accept: %s", strerror(-rc));
			goto out;
		}
		serve(&req, c, &s);
		FCGX_Finish_r(&req);
	}
	ret = 0;
out:
	FCGX_Free(&req, 1);
	store_close(&s);
	return ret;
}
