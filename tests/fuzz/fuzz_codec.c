/*
 * fuzz_codec: the document decoders under libFuzzer (scripts/fuzz) or
 * tests/fuzz/replay.c.  Whatever codec_decode (data.clusters) or
 * codec_decode_creations (data.creations) accepts, the matching encoder
 * must turn into text that decodes to equal records and encodes to the
 * same text again; anything else aborts.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "codec.h"
#include "creation.h"
#include "errors.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_codec: %s%s%s\n", what, detail ? ": " : "",
	    detail ? detail : "");
	abort();
}

/* Field by field: the padding and the bytes after each NUL say nothing. */
static int
cluster_equal(const struct cluster *a, const struct cluster *b)
{
	return strcmp(a->name, b->name) == 0 &&
	    strcmp(a->purpose, b->purpose) == 0 &&
	    strcmp(a->os_image, b->os_image) == 0 &&
	    a->status == b->status &&
	    strcmp(a->build, b->build) == 0 &&
	    strcmp(a->job, b->job) == 0 &&
	    strcmp(a->user, b->user) == 0 &&
	    a->since == b->since &&
	    a->hold_until == b->hold_until &&
	    strcmp(a->reason, b->reason) == 0 &&
	    a->hold_warned == b->hold_warned &&
	    strcmp(a->creation, b->creation) == 0;
}

static int
creation_equal(const struct creation *a, const struct creation *b)
{
	return strcmp(a->id, b->id) == 0 && strcmp(a->job, b->job) == 0 &&
	    strcmp(a->user, b->user) == 0 &&
	    strcmp(a->branch, b->branch) == 0 &&
	    strcmp(a->purpose, b->purpose) == 0 && a->since == b->since &&
	    a->expires == b->expires && strcmp(a->ticket, b->ticket) == 0;
}

/* The same promise for data.creations. */
static void
creations_round_trip(const char *text)
{
	struct creation_list	 l1 = { 0 }, l2 = { 0 };
	struct err		 e;
	char			*t1 = NULL, *t2 = NULL;
	size_t			 i;

	errors_clear(&e);
	if (codec_decode_creations(text, &l1, &e) == -1) {
		if (e.code != ERR_STORE || e.msg[0] == '\0')
			die("a failed decode without a store error", e.msg);
		if (l1.len != 0)
			die("a failed decode left records", NULL);
		goto out;
	}
	if ((t1 = codec_encode_creations(&l1)) == NULL)
		die("codec_encode_creations failed", NULL);
	errors_clear(&e);
	if (codec_decode_creations(t1, &l2, &e) == -1)
		die("what codec_encode_creations wrote does not decode",
		    e.msg);
	if (l2.len != l1.len)
		die("the round trip changed the creation count", t1);
	for (i = 0; i < l1.len; i++)
		if (!creation_equal(&l1.items[i], &l2.items[i]))
			die("the round trip changed a creation", t1);
	if ((t2 = codec_encode_creations(&l2)) == NULL)
		die("codec_encode_creations failed", NULL);
	if (strcmp(t1, t2) != 0)
		die("creation encoding is not stable", t2);
out:
	creation_list_free(&l1);
	creation_list_free(&l2);
	free(t1);
	free(t2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cluster_list	 l1 = { 0 }, l2 = { 0 };
	struct err		 e;
	char			*text, *t1 = NULL, *t2 = NULL;
	size_t			 i;

	/* The store hands the codec a C string: a NUL in the input ends it
	 * as it would there. */
	if ((text = malloc(size + 1)) == NULL)
		die("out of memory", NULL);
	memcpy(text, data, size);
	text[size] = '\0';

	creations_round_trip(text);
	errors_clear(&e);
	if (codec_decode(text, &l1, &e) == -1) {
		if (e.code != ERR_STORE || e.msg[0] == '\0')
			die("a failed decode without a store error", e.msg);
		if (l1.len != 0)
			die("a failed decode left records", NULL);
		goto out;
	}
	if ((t1 = codec_encode(&l1)) == NULL)
		die("codec_encode failed", NULL);
	errors_clear(&e);
	if (codec_decode(t1, &l2, &e) == -1) {
		fprintf(stderr, "encoded: %s\n", t1);
		die("what codec_encode wrote does not decode", e.msg);
	}
	if (l2.len != l1.len)
		die("the round trip changed the record count", t1);
	for (i = 0; i < l1.len; i++)
		if (!cluster_equal(&l1.items[i], &l2.items[i])) {
			fprintf(stderr, "record %zu (%s)\n", i,
			    l1.items[i].name);
			die("the round trip changed a record", t1);
		}
	if ((t2 = codec_encode(&l2)) == NULL)
		die("codec_encode failed", NULL);
	if (strcmp(t1, t2) != 0)
		die("encoding is not stable", t2);
out:
	cluster_list_free(&l1);
	cluster_list_free(&l2);
	free(t1);
	free(t2);
	free(text);
	return 0;
}
