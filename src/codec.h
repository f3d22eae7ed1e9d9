/*
 * codec: the cluster list <-> the JSON text stored in the ConfigMap's
 * data.clusters key (json-c).  Decoding is strict: a record with a bad
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
/* One record as a new JSON object (the API's cluster record); caller
 * puts it with json_object_put().  Used by render.c too. */
struct json_object *codec_cluster_to_json(const struct cluster *c);

#endif
