/*
 * util: the small shared tools: a growable byte buffer, the one
 * range-checked number parser, RFC 3339 time formatting and parsing, and
 * checked string copies.  Buffers own their memory: buf_free() releases it.
 */
#ifndef CIMASTER_UTIL_H
#define CIMASTER_UTIL_H

#include <stddef.h>
#include <time.h>

struct buf {
	char	*data;		/* always NUL-terminated when len > 0 */
	size_t	 len;
	size_t	 cap;
	int	 failed;	/* an allocation failed: contents incomplete */
};

/* Appends; on allocation failure sets b->failed and returns -1. */
int	 buf_append(struct buf *b, const char *data, size_t len);
int	 buf_puts(struct buf *b, const char *s);
int	 buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_reset(struct buf *b);		/* len = 0, keeps memory */
void	 buf_free(struct buf *b);		/* accepts NULL */

/* Parses all of s as a base-10 integer in [min, max]: 0 or -1. */
int	 util_parse_long(const char *s, long min, long max, long *out);

/* RFC 3339 UTC ("2026-12-03T10:00:00Z") into dst (>= UTIL_TIME_MAX
 * bytes); t == 0 gives "". */
#define UTIL_TIME_MAX	21
void	 util_time_fmt(time_t t, char *dst, size_t dstsz);
/* Parses "" (-> 0) or "YYYY-MM-DDTHH:MM:SSZ": 0 or -1. */
int	 util_time_parse(const char *s, time_t *out);

/* The API's and Kubernetes' name rules, one place for all callers:
 * util_is_dns_label: 1-63 of [a-z0-9-], a letter or digit at both ends
 * (cluster names, namespaces, ConfigMap names); util_is_label: 1-63 of
 * [A-Za-z0-9._-] (purposes, OS images).  1 or 0. */
int	 util_is_dns_label(const char *s, size_t n);
int	 util_is_label(const char *s, size_t n);
/* A Kubernetes object name (DNS-1123 subdomain: dot-separated DNS-label
 * like parts, 1-253 bytes in all): ProwJob names and gangway's ids.  1 or
 * 0. */
int	 util_is_object_name(const char *s, size_t n);

/* Makes room for one more element in the array items of len elements of
 * size bytes (capacity *cap), doubling it when full: the array to use from
 * now on (items itself when there was room), or NULL on allocation
 * failure or overflow with items unchanged and still the caller's. */
void	*util_array_grow(void *items, size_t len, size_t *cap, size_t size);

/* Copies src into dst (size dstsz) only if it fits: 0, or -1 leaving dst
 * untouched. */
int	 util_strlcpy_checked(char *dst, const char *src, size_t dstsz);

#endif
