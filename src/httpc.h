/*
 * httpc: the one HTTP client, the only file that includes <curl/curl.h>.
 * The Kubernetes store, the Prow client and the expiry webhook all go
 * through httpc_do(), which is also the seam unit tests replace with
 * -Wl,--wrap=httpc_do.  TLS is always verified.
 */
#ifndef CIMASTER_HTTPC_H
#define CIMASTER_HTTPC_H

#include <stddef.h>

#include "errors.h"
#include "util.h"

#define HTTPC_HEADERS_MAX	8

/* A kept connection: requests that name it reuse its TCP and TLS session
 * (the API server is asked twice per transaction; a handshake each time
 * was most of the latency).  One per process, never shared after fork. */
struct httpc_conn;

struct httpc_request {
	const char	*method;	/* "GET", "PUT", "POST" */
	const char	*url;
	const char	*content_type;	/* of body; NULL: none */
	const char	*accept;	/* NULL: none */
	const char	*body;		/* NULL: no body */
	size_t		 bodylen;
	const char	*ca_file;	/* NULL or "": the system's CAs */
	const char	*bearer_token;	/* NULL or "": none.  Never logged. */
	long		 connect_timeout_ms;
	long		 timeout_ms;	/* the whole exchange */
	size_t		 max_response;	/* a longer body is an error */
	struct httpc_conn *conn;	/* NULL: a connection for this call */
};

struct httpc_response {
	long		status;		/* HTTP status */
	long		retry_after;	/* seconds from Retry-After, or -1 */
	char		content_type[128];
	struct buf	body;		/* owned: httpc_response_free() */
};

/* Once per process, before any fork: 0 or -1. */
int	httpc_global_init(void);

/* A new kept connection (opened on first use): NULL on allocation
 * failure.  httpc_conn_free() closes it; accepts NULL. */
struct httpc_conn *httpc_conn_new(void);
void	httpc_conn_free(struct httpc_conn *hc);

/*
 * Sends r and waits for the answer.  Returns 0 when an HTTP response
 * arrived, whatever its status (the caller classifies it), and -1 with
 * ERR_INTERNAL and a message for people on a transport failure: connect
 * refused or timed out, TLS verification, the total timeout, a response
 * over max_response.  resp is cleared first; the caller frees it with
 * httpc_response_free() in both cases.
 */
int	httpc_do(const struct httpc_request *r, struct httpc_response *resp,
	    struct err *e);
void	httpc_response_free(struct httpc_response *resp);	/* accepts NULL */

#endif
