/*
 * codec: the cluster list and the pending creations <-> the JSON arrays
 * of API.md records stored in the document (json-c).
 * Decoding trusts nothing: the document may have been edited by hand with
 * kubectl, so every field is checked the way params.c checks a request.
 * codec_encode's string and codec_cluster_to_json's object are the caller's.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cluster.h"
#include "codec.h"
#include "creation.h"
#include "errors.h"
#include "util.h"

/* The kinds of field a record holds, after API.md's "Names" rules. */
enum field_kind {
	KIND_NAME,		/* DNS label, required */
	KIND_LABEL,		/* purpose: 1..63 of [A-Za-z0-9._-] */
	KIND_LABEL_EMPTY,	/* osImage: the same, or "" */
	KIND_STATUS,		/* one of the four, required */
	KIND_TEXT,		/* up to CLUSTER_TEXT_MAX bytes */
	KIND_TEXT_REQUIRED,	/* the same, 1 byte at least, required */
	KIND_TIME,		/* RFC 3339 UTC or "" */
	KIND_ID,		/* a Prow job id (object name) or "" */
	KIND_TICKET,		/* CREATION_TICKET_LEN hex digits or "" */
	KIND__MAX
};

/* Where a field lives in its record; exactly one of str, t is used. */
struct field {
	const char	*key;
	enum field_kind	 kind;
	size_t		 str;	/* offsetof the char array */
	size_t		 strsz;
	size_t		 t;	/* offsetof the time_t */
};

#define STR_FIELD(type, k, kind, m) \
	{ (k), (kind), offsetof(type, m), sizeof(((type *)0)->m), 0 }
#define TIME_FIELD(type, k, m) \
	{ (k), KIND_TIME, 0, 0, offsetof(type, m) }

/* The ten keys of the cluster record, in the order API.md shows them. */
static const struct field cluster_fields[] = {
	STR_FIELD(struct cluster, "name", KIND_NAME, name),
	STR_FIELD(struct cluster, "purpose", KIND_LABEL, purpose),
	STR_FIELD(struct cluster, "osImage", KIND_LABEL_EMPTY, os_image),
	{ "status", KIND_STATUS, 0, 0, 0 },
	STR_FIELD(struct cluster, "build", KIND_TEXT, build),
	STR_FIELD(struct cluster, "job", KIND_TEXT, job),
	STR_FIELD(struct cluster, "user", KIND_TEXT, user),
	TIME_FIELD(struct cluster, "since", since),
	TIME_FIELD(struct cluster, "holdUntil", hold_until),
	STR_FIELD(struct cluster, "reason", KIND_TEXT, reason),
	/* Bookkeeping kept in the stored record but not part of the API's
	 * (the ten keys above): optional, written only when set, so a
	 * document without them reads and writes exactly as before.
	 * cimaster-expire's warnings: */
	TIME_FIELD(struct cluster, "holdWarned", hold_warned),
	/* The creation the cluster was added for (cluster_add()), likewise
	 * stored only when set. */
	STR_FIELD(struct cluster, "creation", KIND_ID, creation),
};

/* The pending creation record; the ticket is stored, never shown. */
static const struct field creation_fields[] = {
	STR_FIELD(struct creation, "id", KIND_ID, id),
	STR_FIELD(struct creation, "job", KIND_TEXT_REQUIRED, job),
	STR_FIELD(struct creation, "user", KIND_TEXT_REQUIRED, user),
	STR_FIELD(struct creation, "branch", KIND_TEXT_REQUIRED, branch),
	STR_FIELD(struct creation, "purpose", KIND_LABEL_EMPTY, purpose),
	TIME_FIELD(struct creation, "since", since),
	TIME_FIELD(struct creation, "expires", expires),
	STR_FIELD(struct creation, "ticket", KIND_TICKET, ticket),
};

/* One kind of record and the JSON array of them in the document. */
struct record_type {
	const char		*doc;	/* names the array in messages */
	const struct field	*fields;
	size_t			 nfields;
	size_t			 napi;	/* the first napi are the API's */
	size_t			 size;
	const char		*(*label)(const void *); /* for messages */
};

static const char *
cluster_label(const void *rec)
{
	const struct cluster	*c = rec;

	return c->name[0] != '\0' ? c->name : "?";
}

static const char *
creation_label(const void *rec)
{
	const struct creation	*c = rec;

	return c->id[0] != '\0' ? c->id : c->job[0] != '\0' ? c->job : "?";
}

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The API's cluster record is the first ten keys. */
#define CLUSTER_API_FIELDS	10

static const struct record_type cluster_type = {
	"clusters document", cluster_fields, NELEM(cluster_fields),
	CLUSTER_API_FIELDS, sizeof(struct cluster), cluster_label
};
static const struct record_type creation_type = {
	"creations document", creation_fields, NELEM(creation_fields),
	NELEM(creation_fields) - 1, sizeof(struct creation), creation_label
};

static int
valid_label(const char *s, size_t len, int empty_ok)
{
	return len == 0 ? empty_ok : util_is_label(s, len);
}

static int
valid_ticket(const char *s, size_t len)
{
	size_t	i;

	if (len != 0 && len != CREATION_TICKET_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Why a field's value is wrong, for the error message. */
static const char *const kind_rules[KIND__MAX] = {
	[KIND_NAME] =		"a DNS label of 1-63 [a-z0-9-]",
	[KIND_LABEL] =		"1-63 of [A-Za-z0-9._-]",
	[KIND_LABEL_EMPTY] =	"empty or 1-63 of [A-Za-z0-9._-]",
	[KIND_STATUS] =		"vacant, occupied, held or disabled",
	[KIND_TEXT] =		"at most 256 bytes",
	[KIND_TEXT_REQUIRED] =	"1-256 bytes",
	[KIND_TIME] =		"an RFC 3339 UTC time or empty",
	[KIND_ID] =		"empty or a Kubernetes object name",
	[KIND_TICKET] =		"empty or 16 hex digits",
};

/*
 * Fills one field of rec from the JSON record's value.  idx and the
 * record's label (when already known) make the message point at the
 * record an admin has to fix.
 */
static int
decode_field(const struct record_type *rt, const struct field *f,
    struct json_object *obj, size_t idx, void *rec, struct err *e)
{
	struct json_object	*v;
	const char		*s;
	size_t			 len;
	int			 ok;

	if (!json_object_object_get_ex(obj, f->key, &v)) {
		if (f->kind == KIND_NAME || f->kind == KIND_LABEL ||
		    f->kind == KIND_STATUS || f->kind == KIND_TEXT_REQUIRED)
			return errors_set(e, ERR_STORE, "%s: record %zu (%s): "
			    "field %s is missing", rt->doc, idx,
			    rt->label(rec), f->key);
		return 0;	/* the zeroed record already says "" / 0 */
	}
	if (!json_object_is_type(v, json_type_string))
		return errors_set(e, ERR_STORE, "%s: record %zu (%s): field "
		    "%s is not a string", rt->doc, idx, rt->label(rec), f->key);
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	/* An embedded NUL would make the C string differ from the JSON. */
	ok = strlen(s) == len;
	switch (f->kind) {
	case KIND_NAME:
		ok = ok && util_is_dns_label(s, len);
		break;
	case KIND_LABEL:
	case KIND_LABEL_EMPTY:
		ok = ok && valid_label(s, len, f->kind == KIND_LABEL_EMPTY);
		break;
	case KIND_STATUS:
		ok = ok && cluster_status_parse(s,
		    &((struct cluster *)rec)->status) == 0;
		break;
	case KIND_TEXT:
		ok = ok && len <= CLUSTER_TEXT_MAX;
		break;
	case KIND_TEXT_REQUIRED:
		ok = ok && len >= 1 && len <= CLUSTER_TEXT_MAX;
		break;
	case KIND_TIME:
		ok = ok && util_time_parse(s,
		    (time_t *)(void *)((char *)rec + f->t)) == 0;
		break;
	case KIND_ID:
		ok = ok && (len == 0 || util_is_object_name(s, len));
		break;
	case KIND_TICKET:
		ok = ok && valid_ticket(s, len);
		break;
	default:
		ok = 0;
		break;
	}
	if (ok && f->strsz != 0)
		ok = util_strlcpy_checked((char *)rec + f->str, s,
		    f->strsz) == 0;
	if (!ok)
		return errors_set(e, ERR_STORE, "%s: record %zu (%s): field "
		    "%s must be %s", rt->doc, idx, rt->label(rec), f->key,
		    kind_rules[f->kind]);
	return 0;
}

static int
decode_record(const struct record_type *rt, struct json_object *obj,
    size_t idx, void *rec, struct err *e)
{
	size_t	i;

	memset(rec, 0, rt->size);
	if (!json_object_is_type(obj, json_type_object))
		return errors_set(e, ERR_STORE, "%s: record %zu is not an "
		    "object", rt->doc, idx);
	/* Unknown keys are ignored: later versions may add fields. */
	for (i = 0; i < rt->nfields; i++)
		if (decode_field(rt, &rt->fields[i], obj, idx, rec, e) == -1)
			return -1;
	return 0;
}

static int
cmp_by_name(const void *a, const void *b)
{
	const struct cluster *const	*ca = a, *const *cb = b;

	return strcmp((*ca)->name, (*cb)->name);
}

/* Two records of one name would make every verb on it ambiguous. */
static int
check_unique(const struct cluster_list *l, struct err *e)
{
	const struct cluster	**v = NULL;
	size_t			  i;
	int			  ret = -1;

	if (l->len < 2)
		return 0;
	if ((v = calloc(l->len, sizeof(*v))) == NULL) {
		errors_set(e, ERR_STORE, "clusters document: out of memory checking names");
		goto out;
	}
	for (i = 0; i < l->len; i++)
		v[i] = &l->items[i];
	qsort(v, l->len, sizeof(*v), cmp_by_name);
	for (i = 1; i < l->len; i++)
		if (strcmp(v[i - 1]->name, v[i]->name) == 0) {
			errors_set(e, ERR_STORE, "clusters document: records %td and %td "
			    "are both named %s", v[i - 1] - l->items,
			    v[i] - l->items, v[i]->name);
			goto out;
		}
	ret = 0;
out:
	free(v);
	return ret;
}

static int
push_cluster(void *list, const void *rec)
{
	return cluster_list_push(list, rec);
}

static int
push_creation(void *list, const void *rec)
{
	return creation_list_push(list, rec);
}

/*
 * Decodes the JSON array text into list, one record of type rt at a time
 * through push.  NULL or "" is no records.  0, or -1 with ERR_STORE.
 */
static int
decode_array(const struct record_type *rt, const char *text, void *list,
    int (*push)(void *, const void *), struct err *e)
{
	struct json_object	*root = NULL;
	union {
		struct cluster	c;
		struct creation	k;
	}			 rec;
	char			 why[128];
	size_t			 i, n;
	int			 ret = -1;

	if (text == NULL || text[0] == '\0')
		return 0;
	if (codec_parse(text, strlen(text), &root, why, sizeof(why)) == -1) {
		errors_set(e, ERR_STORE, "%s: %s", rt->doc, why);
		goto out;
	}
	/* A JSON null parses to NULL. */
	if (root == NULL || !json_object_is_type(root, json_type_array)) {
		errors_set(e, ERR_STORE, "%s: not a JSON array", rt->doc);
		goto out;
	}
	n = json_object_array_length(root);
	for (i = 0; i < n; i++) {
		if (decode_record(rt, json_object_array_get_idx(root, i), i,
		    &rec, e) == -1)
			goto out;
		if (push(list, &rec) == -1) {
			errors_set(e, ERR_STORE, "%s: out of memory at record "
			    "%zu", rt->doc, i);
			goto out;
		}
	}
	ret = 0;
out:
	json_object_put(root);
	return ret;
}

/*
 * Decodes text into the empty list l.  NULL or "" is an empty store.  On
 * -1, e holds ERR_STORE with the record index, name and field, and l is
 * empty again.  A non-empty l is a caller bug: ERR_INTERNAL, l untouched.
 */
int
codec_decode(const char *text, struct cluster_list *l, struct err *e)
{
	if (l->len != 0)
		return errors_set(e, ERR_INTERNAL, "codec_decode: list is not "
		    "empty");
	if (decode_array(&cluster_type, text, l, push_cluster, e) == -1 ||
	    check_unique(l, e) == -1) {
		cluster_list_free(l);
		return -1;
	}
	return 0;
}

int
codec_decode_creations(const char *text, struct creation_list *l,
    struct err *e)
{
	if (l->len != 0)
		return errors_set(e, ERR_INTERNAL, "codec_decode_creations: "
		    "list is not empty");
	if (decode_array(&creation_type, text, l, push_creation, e) == -1) {
		creation_list_free(l);
		return -1;
	}
	return 0;
}

int
codec_parse(const char *data, size_t len, struct json_object **out,
    char *why, size_t whysz)
{
	struct json_tokener	*tok;
	enum json_tokener_error	 jerr;
	size_t			 end;
	int			 ret = -1;

	*out = NULL;
	if (len == 0 || len >= INT_MAX) {
		(void)snprintf(why, whysz, "not JSON: %zu bytes", len);
		return -1;
	}
	if ((tok = json_tokener_new()) == NULL) {
		(void)snprintf(why, whysz, "not JSON: out of memory");
		return -1;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	*out = json_tokener_parse_ex(tok, data, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	/* A bare literal or number at the very end ("null", "12") waits for
	 * a delimiter: the NUL that ends the input is one. */
	if (jerr == json_tokener_continue) {
		*out = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	}
	if (jerr == json_tokener_continue) {
		(void)snprintf(why, whysz, "not JSON: unexpected end");
		goto out;
	}
	if (jerr != json_tokener_success) {
		(void)snprintf(why, whysz, "not JSON: %s at byte %zu",
		    json_tokener_error_desc(jerr), end);
		goto out;
	}
	for (; end < len; end++)
		if (data[end] != ' ' && data[end] != '\t' &&
		    data[end] != '\r' && data[end] != '\n') {
			(void)snprintf(why, whysz, "not JSON: garbage after "
			    "the value at byte %zu", end);
			goto out;
		}
	ret = 0;
out:
	if (ret == -1) {
		json_object_put(*out);
		*out = NULL;
	}
	json_tokener_free(tok);
	return ret;
}

int
codec_json_add(struct json_object *o, const char *key, struct json_object *v)
{
	if (v == NULL)
		return -1;
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

/*
 * One record as a JSON object of strings, "" for empty and unset times:
 * the API's fields, and with stored also the bookkeeping fields that are
 * set.
 */
static struct json_object *
record_to_json(const struct record_type *rt, const void *rec, int stored)
{
	struct json_object	*o;
	const struct field	*f;
	char			 tbuf[UTIL_TIME_MAX];
	const char		*val;
	size_t			 i;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	for (i = 0; i < (stored ? rt->nfields : rt->napi); i++) {
		f = &rt->fields[i];
		if (f->kind == KIND_STATUS)
			val = cluster_status_str(((const struct cluster *)
			    rec)->status);
		else if (f->kind == KIND_TIME) {
			util_time_fmt(*(const time_t *)(const void *)
			    ((const char *)rec + f->t), tbuf, sizeof(tbuf));
			val = tbuf;
		} else
			val = (const char *)rec + f->str;
		if (i >= rt->napi && val[0] == '\0')
			continue;
		if (codec_json_add(o, f->key, json_object_new_string(val)) ==
		    -1) {
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

struct json_object *
codec_cluster_to_json(const struct cluster *c)
{
	return record_to_json(&cluster_type, c, 0);
}

struct json_object *
codec_creation_to_json(const struct creation *c)
{
	return record_to_json(&creation_type, c, 0);
}

/*
 * n records of type rt from items as one compact JSON array, in order,
 * bookkeeping fields included.  "/" is not escaped: job names hold
 * slashes, and "\/" only hurts people reading the ConfigMap.
 */
static char *
encode_array(const struct record_type *rt, const void *items, size_t n)
{
	struct json_object	*arr, *o;
	const char		*s;
	char			*ret = NULL;
	size_t			 i;

	if (n > INT_MAX)
		return NULL;
	if ((arr = json_object_new_array_ext((int)n)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((o = record_to_json(rt, (const char *)items + i * rt->size,
		    1)) == NULL)
			goto out;
		if (json_object_array_add(arr, o) != 0) {
			json_object_put(o);
			goto out;
		}
	}
	s = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s != NULL)
		ret = strdup(s);
out:
	json_object_put(arr);
	return ret;
}

char *
codec_encode(const struct cluster_list *l)
{
	return encode_array(&cluster_type, l->items, l->len);
}

char *
codec_encode_creations(const struct creation_list *l)
{
	return encode_array(&creation_type, l->items, l->len);
}
