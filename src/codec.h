/*
 * codec: the cluster list <-> the JSON text stored in the ConfigMap's
 * data.clusters key, the pending creations <-> data.creations (json-c).  Decoding is strict: a record with a bad
 * name, status or time is an error naming the record.  Returned strings
 * are malloc'd: the caller frees them.
 */
#ifndef CIMASTER_CODEC_H
#define CIMASTER_CODEC_H

#include "cluster.h"
#include "errors.h"

struct json_object;

/* Decodes the JSON array text into l (which must be empty).  NULL or ""
 * is an empty list.  0, or -1 with ERR_STORE in e and l emptied. */
int	 codec_decode(const char *text, struct cluster_list *l, struct err *e);
/* Encodes l as a compact JSON array; NULL on allocation failure.  Caller
 * frees. */
char	*codec_encode(const struct cluster_list *l);
/* The same for the pending creations (data.creations): records with a
 * bad id, ticket or time are errors.  l must be empty. */
int	 codec_decode_creations(const char *text, struct creation_list *l,
	    struct err *e);
/* Encodes l as a compact JSON array, tickets included; NULL on
 * allocation failure.  Caller frees. */
char	*codec_encode_creations(const struct creation_list *l);
/* Parses exactly one JSON value from data[0, len) the strict way every
 * stored or received document is read: valid UTF-8, no single quotes, only
 * whitespace after the value.  0 with *out new (NULL for a JSON null), or
 * -1 with why ("not JSON: ...") for a message. */
int	 codec_parse(const char *data, size_t len, struct json_object **out,
	    char *why, size_t whysz);
/* Adds key -> v to o, taking v in every case: a NULL v (a failed
 * json_object_new_*) or a failed add is -1 and v is put.  json-c leaves v
 * with the caller when the add fails; this is the one place that knows. */
int	 codec_json_add(struct json_object *o, const char *key,
	    struct json_object *v);
/* One record as a new JSON object (the API's cluster record); caller
 * puts it with json_object_put().  Used by render.c too. */
struct json_object *codec_cluster_to_json(const struct cluster *c);
/* One pending creation as the API shows it (no ticket); the same
 * ownership. */
struct json_object *codec_creation_to_json(const struct creation *c);

#endif
