/*
 * codec: the cluster list <-> the JSON array of API.md records (json-c).
 * Decoding trusts nothing: the document may have been edited by hand with
 * kubectl, so every field is checked the way params.c checks a request.
 * codec_encode's string and codec_cluster_to_json's object are the caller's.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cluster.h"
#include "codec.h"
#include "errors.h"
#include "util.h"

/* The kinds of field a record holds, after API.md's "Names" rules. */
enum field_kind {
	KIND_NAME,		/* DNS label, required */
	KIND_LABEL,		/* purpose: 1..63 of [A-Za-z0-9._-] */
	KIND_LABEL_EMPTY,	/* osImage: the same, or "" */
	KIND_STATUS,		/* one of the four, required */
	KIND_TEXT,		/* up to CLUSTER_TEXT_MAX bytes */
	KIND_TIME,		/* RFC 3339 UTC or "" */
	KIND__MAX
};

/* Where a field lives in struct cluster; exactly one of str, t is used. */
struct field {
	const char	*key;
	enum field_kind	 kind;
	size_t		 str;	/* offsetof the char array */
	size_t		 strsz;
	size_t		 t;	/* offsetof the time_t */
};

#define STR_FIELD(k, kind, m) \
	{ (k), (kind), offsetof(struct cluster, m), \
	    sizeof(((struct cluster *)0)->m), 0 }
#define TIME_FIELD(k, m) \
	{ (k), KIND_TIME, 0, 0, offsetof(struct cluster, m) }

/* The ten keys of the record, in the order API.md shows them. */
static const struct field fields[] = {
	STR_FIELD("name", KIND_NAME, name),
	STR_FIELD("purpose", KIND_LABEL, purpose),
	STR_FIELD("osImage", KIND_LABEL_EMPTY, os_image),
	{ "status", KIND_STATUS, 0, 0, 0 },
	STR_FIELD("build", KIND_TEXT, build),
	STR_FIELD("job", KIND_TEXT, job),
	STR_FIELD("user", KIND_TEXT, user),
	TIME_FIELD("since", since),
	TIME_FIELD("holdUntil", hold_until),
	STR_FIELD("reason", KIND_TEXT, reason),
};
/* Every message names the document, as the store may hold others. */
#define DOC	"clusters document: "

#define NFIELDS	(sizeof(fields) / sizeof(fields[0]))

/*
 * cimaster-expire's bookkeeping, kept in the stored record but not part
 * of the API's record: optional, written only when set, so a document
 * without warnings reads and writes exactly as before.
 */
static const struct field warned_field = TIME_FIELD("holdWarned",
    hold_warned);

static int
valid_label(const char *s, size_t len, int empty_ok)
{
	return len == 0 ? empty_ok : util_is_label(s, len);
}

/* Why a field's value is wrong, for the error message. */
static const char *const kind_rules[KIND__MAX] = {
	[KIND_NAME] =		"a DNS label of 1-63 [a-z0-9-]",
	[KIND_LABEL] =		"1-63 of [A-Za-z0-9._-]",
	[KIND_LABEL_EMPTY] =	"empty or 1-63 of [A-Za-z0-9._-]",
	[KIND_STATUS] =		"vacant, occupied, held or disabled",
	[KIND_TEXT] =		"at most 256 bytes",
	[KIND_TIME] =		"an RFC 3339 UTC time or empty",
};

/*
 * Fills one field of c from the record's value.  idx and name (the
 * record's name when already known) make the message point at the record
 * an admin has to fix.
 */
static int
decode_field(const struct field *f, struct json_object *rec, size_t idx,
    struct cluster *c, struct err *e)
{
	struct json_object	*v;
	const char		*s;
	size_t			 len;
	int			 ok;

	if (!json_object_object_get_ex(rec, f->key, &v)) {
		if (f->kind == KIND_NAME || f->kind == KIND_LABEL ||
		    f->kind == KIND_STATUS)
			return errors_set(e, ERR_STORE, DOC "record %zu (%s): "
			    "field %s is missing", idx, c->name[0] != '\0' ?
			    c->name : "?", f->key);
		return 0;	/* the zeroed record already says "" / 0 */
	}
	if (!json_object_is_type(v, json_type_string))
		return errors_set(e, ERR_STORE, DOC "record %zu (%s): field "
		    "%s is not a string", idx, c->name[0] != '\0' ? c->name :
		    "?", f->key);
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
		ok = ok && cluster_status_parse(s, &c->status) == 0;
		break;
	case KIND_TEXT:
		ok = ok && len <= CLUSTER_TEXT_MAX;
		break;
	case KIND_TIME:
		ok = ok && util_time_parse(s,
		    (time_t *)(void *)((char *)c + f->t)) == 0;
		break;
	default:
		ok = 0;
		break;
	}
	if (ok && f->strsz != 0)
		ok = util_strlcpy_checked((char *)c + f->str, s, f->strsz) == 0;
	if (!ok)
		return errors_set(e, ERR_STORE, DOC "record %zu (%s): field "
		    "%s must be %s", idx, c->name[0] != '\0' ? c->name : "?",
		    f->key, kind_rules[f->kind]);
	return 0;
}

static int
decode_record(struct json_object *rec, size_t idx, struct cluster *c,
    struct err *e)
{
	size_t	i;

	memset(c, 0, sizeof(*c));
	if (!json_object_is_type(rec, json_type_object))
		return errors_set(e, ERR_STORE, DOC "record %zu is not an "
		    "object", idx);
	/* Unknown keys are ignored: later versions may add fields. */
	for (i = 0; i < NFIELDS; i++)
		if (decode_field(&fields[i], rec, idx, c, e) == -1)
			return -1;
	return decode_field(&warned_field, rec, idx, c, e);
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
		errors_set(e, ERR_STORE, DOC "out of memory checking names");
		goto out;
	}
	for (i = 0; i < l->len; i++)
		v[i] = &l->items[i];
	qsort(v, l->len, sizeof(*v), cmp_by_name);
	for (i = 1; i < l->len; i++)
		if (strcmp(v[i - 1]->name, v[i]->name) == 0) {
			errors_set(e, ERR_STORE, DOC "records %td and %td "
			    "are both named %s", v[i - 1] - l->items,
			    v[i] - l->items, v[i]->name);
			goto out;
		}
	ret = 0;
out:
	free(v);
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
	struct json_object	*root = NULL;
	struct cluster		 c;
	char			 why[128];
	size_t			 i, n, tlen;
	int			 ret = -1;

	if (l->len != 0)
		return errors_set(e, ERR_INTERNAL, "codec_decode: list is not "
		    "empty");
	if (text == NULL || text[0] == '\0')
		return 0;
	tlen = strlen(text);
	if (codec_parse(text, tlen, &root, why, sizeof(why)) == -1) {
		errors_set(e, ERR_STORE, DOC "%s", why);
		goto out;
	}
	/* A JSON null parses to NULL. */
	if (root == NULL || !json_object_is_type(root, json_type_array)) {
		errors_set(e, ERR_STORE, DOC "not a JSON array");
		goto out;
	}
	n = json_object_array_length(root);
	for (i = 0; i < n; i++) {
		if (decode_record(json_object_array_get_idx(root, i), i, &c,
		    e) == -1)
			goto out;
		if (cluster_list_push(l, &c) == -1) {
			errors_set(e, ERR_STORE, DOC "out of memory at "
			    "record %zu", i);
			goto out;
		}
	}
	if (check_unique(l, e) == -1)
		goto out;
	ret = 0;
out:
	if (ret == -1)
		cluster_list_free(l);
	json_object_put(root);
	return ret;
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

static int
add_string(struct json_object *o, const char *key, const char *val)
{
	return codec_json_add(o, key, json_object_new_string(val));
}

/* The API's record: all ten keys, strings, "" for empty and unset times. */
struct json_object *
codec_cluster_to_json(const struct cluster *c)
{
	struct json_object	*o;
	const struct field	*f;
	char			 tbuf[UTIL_TIME_MAX];
	const char		*val;
	size_t			 i;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	for (i = 0; i < NFIELDS; i++) {
		f = &fields[i];
		if (f->kind == KIND_STATUS)
			val = cluster_status_str(c->status);
		else if (f->kind == KIND_TIME) {
			util_time_fmt(*(const time_t *)(const void *)
			    ((const char *)c + f->t), tbuf, sizeof(tbuf));
			val = tbuf;
		} else
			val = (const char *)c + f->str;
		if (add_string(o, f->key, val) == -1) {
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

/*
 * The list as one compact JSON array, records in list order, each the
 * API's record plus holdWarned when set.  "/" is not
 * escaped: job names hold slashes, and "\/" only hurts people reading the
 * ConfigMap.
 */
char *
codec_encode(const struct cluster_list *l)
{
	struct json_object	*arr, *o;
	const char		*s;
	char			*ret = NULL, tbuf[UTIL_TIME_MAX];
	size_t			 i;

	if (l->len > INT_MAX)
		return NULL;
	if ((arr = json_object_new_array_ext((int)l->len)) == NULL)
		return NULL;
	for (i = 0; i < l->len; i++) {
		if ((o = codec_cluster_to_json(&l->items[i])) == NULL)
			goto out;
		if (l->items[i].hold_warned != 0) {
			util_time_fmt(l->items[i].hold_warned, tbuf,
			    sizeof(tbuf));
			if (add_string(o, warned_field.key, tbuf) == -1) {
				json_object_put(o);
				goto out;
			}
		}
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
