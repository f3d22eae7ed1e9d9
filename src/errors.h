/*
 * errors: the caller-owned error record every module fills in.  The code
 * enum mirrors the stable error codes of the HTTP API; errors_code_str()
 * and errors_http_status() are the parallel tables for the wire string and
 * the status.  Nothing here allocates.
 */
#ifndef CIMASTER_ERRORS_H
#define CIMASTER_ERRORS_H

#include <stddef.h>

enum err_code {
	ERR_NONE = 0,
	ERR_BAD_PARAM,		/* 400 */
	ERR_NOT_ADMIN,		/* 403 */
	ERR_NOT_HOLDER,		/* 403 */
	ERR_NOT_FOUND,		/* 404: no such endpoint */
	ERR_NO_SUCH_CLUSTER,	/* 404 */
	ERR_NO_SUCH_PURPOSE,	/* 404 */
	ERR_METHOD_NOT_ALLOWED,	/* 405 */
	ERR_NOT_OWNER,		/* 409 */
	ERR_HELD_BY_OTHER,	/* 409 */
	ERR_DISABLED,		/* 409 */
	ERR_NOT_HELD,		/* 409 */
	ERR_EXISTS,		/* 409 */
	ERR_IN_USE,		/* 409 */
	ERR_TOO_LARGE,		/* 413: request body over the limit */
	ERR_INTERNAL,		/* 500 */
	ERR_STORE,		/* 500 store_error: store unreadable/unwritable */
	ERR_PROW,		/* 502 */
	ERR_NO_VACANT,		/* 503, with Retry-After */
	ERR_STORE_BUSY,		/* 503: transaction deadline passed on conflicts */
	ERR_TOO_MANY_CREATIONS,	/* 503: prow.max_pending creations pending */
	ERR__MAX
};

#define ERR_MSG_MAX	512

struct err {
	enum err_code	code;
	char		msg[ERR_MSG_MAX];
};

/* Sets code and a printf-style message (truncated to fit); returns -1 so
 * callers can write "return errors_set(e, ...);". e may be NULL. */
int		 errors_set(struct err *e, enum err_code code, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* Clears e to ERR_NONE with an empty message. */
void		 errors_clear(struct err *e);
/* The stable wire code ("bad_param"); static storage. */
const char	*errors_code_str(enum err_code code);
/* The HTTP status for code (200 for ERR_NONE). */
int		 errors_http_status(enum err_code code);

#endif
