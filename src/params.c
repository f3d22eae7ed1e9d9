/*
 * params: the one validation table of the API's parameters.  Each row
 * names a parameter, its kind, its length limits and where its checked
 * value goes in struct params.  Nothing here allocates.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "params.h"
#include "util.h"

enum param_kind {
	PK_NAME,	/* a DNS label: cluster names */
	PK_LABEL,	/* [A-Za-z0-9._-]: purposes, OS images */
	PK_TEXT,	/* printable UTF-8 */
	PK_HOURS,	/* 1..configured maximum */
	PK_FLAG,	/* 0/1, true/false, yes/no */
	PK_STATUS,	/* vacant, occupied, held, disabled */
	PK_FORMAT,	/* json, text, html */
	PK_OBJECT,	/* a Kubernetes object name: Prow job ids */
	PK__MAX
};

static const struct param_row {
	const char	*name;
	enum param_kind	 kind;
	size_t		 minlen;
	size_t		 maxlen;
	size_t		 off;	/* of the char array in struct params */
} rows[PARAM__MAX] = {
	[PARAM_CLUSTER] = { "cluster", PK_NAME, 1, CLUSTER_NAME_MAX,
	    offsetof(struct params, cluster) },
	[PARAM_PURPOSE] = { "purpose", PK_LABEL, 1, CLUSTER_LABEL_MAX,
	    offsetof(struct params, purpose) },
	[PARAM_OS] = { "os", PK_LABEL, 1, CLUSTER_LABEL_MAX,
	    offsetof(struct params, os) },
	[PARAM_BUILD] = { "build", PK_TEXT, 1, CLUSTER_TEXT_MAX,
	    offsetof(struct params, build) },
	[PARAM_JOB] = { "job", PK_TEXT, 1, CLUSTER_TEXT_MAX,
	    offsetof(struct params, job) },
	[PARAM_USER] = { "user", PK_TEXT, 1, CLUSTER_TEXT_MAX,
	    offsetof(struct params, user) },
	[PARAM_BRANCH] = { "branch", PK_TEXT, 1, CLUSTER_TEXT_MAX,
	    offsetof(struct params, branch) },
	[PARAM_REASON] = { "reason", PK_TEXT, 0, CLUSTER_TEXT_MAX,
	    offsetof(struct params, reason) },
	[PARAM_HOURS] = { "hours", PK_HOURS, 1, 4, 0 },
	[PARAM_FORCE] = { "force", PK_FLAG, 1, 5, 0 },
	[PARAM_STATUS] = { "status", PK_STATUS, 1, 8, 0 },
	[PARAM_NAME] = { "name", PK_NAME, 1, CLUSTER_NAME_MAX,
	    offsetof(struct params, name) },
	[PARAM_FORMAT] = { "format", PK_FORMAT, 1, 4,
	    offsetof(struct params, format) },
	[PARAM_CREATION] = { "creation", PK_OBJECT, 1, CREATION_ID_MAX,
	    offsetof(struct params, creation) },
};

/* Well-formed UTF-8 without control characters (C0, DEL, C1): what a
 * log line, a text row and an HTML cell can all carry. */
static int
check_text(const char *str, size_t n)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 i, k, len;
	unsigned long		 cp;

	for (i = 0; i < n; i += len) {
		if (s[i] < 0x80) {
			if (s[i] < 0x20 || s[i] == 0x7f)
				return -1;
			len = 1;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			len = 2;
			cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			len = 3;
			cp = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			len = 4;
			cp = s[i] & 0x07;
		} else
			return -1;
		if (i + len > n)
			return -1;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return -1;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates, beyond Unicode, C1. */
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return -1;
	}
	return 0;
}

static int
parse_flag(const char *s, int *out)
{
	if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0 ||
	    strcmp(s, "yes") == 0)
		*out = 1;
	else if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0 ||
	    strcmp(s, "no") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* Checks value against row id and, when out is non-NULL, stores it. */
static int
check_one(enum param_id id, const char *value, long max_hours,
    struct params *out, struct err *e)
{
	const struct param_row	*r = &rows[id];
	size_t			 n = strlen(value);
	enum cluster_status	 st;
	long			 hours;
	int			 flag;

	if (n < r->minlen)
		return errors_set(e, ERR_BAD_PARAM, "%s: must not be empty",
		    r->name);
	if (n > r->maxlen && r->kind != PK_HOURS)
		return errors_set(e, ERR_BAD_PARAM,
		    "%s: longer than %zu bytes", r->name, r->maxlen);
	switch (r->kind) {
	case PK_NAME:
		if (!util_is_dns_label(value, n))
			return errors_set(e, ERR_BAD_PARAM, "%s: not a cluster "
			    "name (1-63 of a-z, 0-9 and '-', starting and "
			    "ending with a letter or digit)", r->name);
		break;
	case PK_LABEL:
		if (!util_is_label(value, n))
			return errors_set(e, ERR_BAD_PARAM, "%s: only letters, "
			    "digits, '.', '_' and '-' are allowed", r->name);
		break;
	case PK_TEXT:
		if (check_text(value, n) == -1)
			return errors_set(e, ERR_BAD_PARAM, "%s: not printable "
			    "UTF-8", r->name);
		break;
	case PK_HOURS:
		if (util_parse_long(value, 1, max_hours, &hours) == -1)
			return errors_set(e, ERR_BAD_PARAM, "%s: a whole number "
			    "from 1 to %ld", r->name, max_hours);
		if (out != NULL)
			out->hours = hours;
		return 0;
	case PK_FLAG:
		if (parse_flag(value, &flag) == -1)
			return errors_set(e, ERR_BAD_PARAM,
			    "%s: 1 or 0 (true/false, yes/no)", r->name);
		if (out != NULL)
			out->force = flag;
		return 0;
	case PK_STATUS:
		if (cluster_status_parse(value, &st) == -1)
			return errors_set(e, ERR_BAD_PARAM, "%s: one of vacant, "
			    "occupied, held, disabled", r->name);
		if (out != NULL)
			out->status = st;
		return 0;
	case PK_FORMAT:
		if (strcmp(value, "json") != 0 && strcmp(value, "text") != 0 &&
		    strcmp(value, "html") != 0)
			return errors_set(e, ERR_BAD_PARAM,
			    "%s: one of json, text, html", r->name);
		break;
	case PK_OBJECT:
		if (!util_is_object_name(value, n))
			return errors_set(e, ERR_BAD_PARAM, "%s: not a Prow job "
			    "id (a-z, 0-9, '-' and '.', starting and ending "
			    "with a letter or digit)", r->name);
		break;
	default:
		return errors_set(e, ERR_INTERNAL, "%s: no kind", r->name);
	}
	if (out != NULL)
		memcpy((char *)out + r->off, value, n + 1);
	return 0;
}

int
params_check(enum param_id id, const char *value, long max_hours,
    struct err *e)
{
	if ((unsigned)id >= PARAM__MAX)
		return errors_set(e, ERR_INTERNAL, "unknown parameter id");
	return check_one(id, value, max_hours, NULL, e);
}

const char *
params_name(enum param_id id)
{
	return (unsigned)id < PARAM__MAX ? rows[id].name : "?";
}

int
params_validate(const struct http_params *in, unsigned allowed,
    unsigned required, long max_hours, struct params *out, struct err *e)
{
	enum param_id	id;
	size_t		i;

	memset(out, 0, sizeof(*out));
	out->status = CLUSTER_STATUS__MAX;
	for (i = 0; i < in->len; i++) {
		for (id = 0; id < PARAM__MAX; id++)
			if (strcmp(in->items[i].name, rows[id].name) == 0)
				break;
		if (id == PARAM__MAX || !(allowed & PARAM_BIT(id)))
			continue;	/* the API ignores unknown ones */
		/* Two values for one parameter: which did the caller mean? */
		if (out->present & PARAM_BIT(id))
			return errors_set(e, ERR_BAD_PARAM,
			    "%s: given more than once", rows[id].name);
		if (check_one(id, in->items[i].value, max_hours, out, e) == -1)
			return -1;
		out->present |= PARAM_BIT(id);
	}
	for (id = 0; id < PARAM__MAX; id++)
		if ((required & PARAM_BIT(id)) && !(out->present & PARAM_BIT(id)))
			return errors_set(e, ERR_BAD_PARAM, "%s: missing",
			    rows[id].name);
	return 0;
}
