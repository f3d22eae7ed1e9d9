/*
 * errors: the parallel tables of wire codes and HTTP statuses, and the
 * setters of the caller-owned struct err.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "errors.h"

static const struct {
	const char	*code;
	int		 status;
} errtab[ERR__MAX] = {
	[ERR_NONE] =			{ "ok",			200 },
	[ERR_BAD_PARAM] =		{ "bad_param",		400 },
	[ERR_NOT_ADMIN] =		{ "not_admin",		403 },
	[ERR_NOT_HOLDER] =		{ "not_holder",		403 },
	[ERR_NOT_FOUND] =		{ "not_found",		404 },
	[ERR_NO_SUCH_CLUSTER] =		{ "no_such_cluster",	404 },
	[ERR_NO_SUCH_PURPOSE] =		{ "no_such_purpose",	404 },
	[ERR_METHOD_NOT_ALLOWED] =	{ "method_not_allowed",	405 },
	[ERR_NOT_OWNER] =		{ "not_owner",		409 },
	[ERR_HELD_BY_OTHER] =		{ "held_by_other",	409 },
	[ERR_DISABLED] =		{ "disabled",		409 },
	[ERR_NOT_HELD] =		{ "not_held",		409 },
	[ERR_EXISTS] =			{ "exists",		409 },
	[ERR_IN_USE] =			{ "in_use",		409 },
	[ERR_TOO_LARGE] =		{ "too_large",		413 },
	[ERR_INTERNAL] =		{ "internal_error",	500 },
	[ERR_STORE] =			{ "store_error",	500 },
	[ERR_PROW] =			{ "prow_error",		502 },
	[ERR_NO_VACANT] =		{ "no_vacant_cluster",	503 },
	[ERR_STORE_BUSY] =		{ "store_busy",		503 },
	[ERR_TOO_MANY_CREATIONS] =	{ "too_many_creations",	503 },
};

int
errors_set(struct err *e, enum err_code code, const char *fmt, ...)
{
	va_list	ap;

	if (e == NULL)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	(void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void
errors_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = ERR_NONE;
	e->msg[0] = '\0';
}

const char *
errors_code_str(enum err_code code)
{
	if ((unsigned)code >= ERR__MAX)
		code = ERR_INTERNAL;
	return errtab[code].code;
}

int
errors_http_status(enum err_code code)
{
	if ((unsigned)code >= ERR__MAX)
		code = ERR_INTERNAL;
	return errtab[code].status;
}
