/*
 * util: struct buf, the one number parser, RFC 3339 times and checked
 * copies.  Nothing here logs; failures are returned.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

static int
buf_grow(struct buf *b, size_t need)
{
	size_t	 ncap;
	char	*p;

	if (b->failed)
		return -1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need) {
		if (ncap > (size_t)-1 / 2)
			goto fail;
		ncap *= 2;
	}
	if ((p = realloc(b->data, ncap)) == NULL)
		goto fail;
	b->data = p;
	b->cap = ncap;
	return 0;
fail:
	b->failed = 1;
	return -1;
}

int
buf_append(struct buf *b, const char *data, size_t len)
{
	if (len > (size_t)-1 - b->len - 1)
		return (b->failed = 1), -1;
	if (buf_grow(b, b->len + len + 1) == -1)
		return -1;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return (b->failed = 1), -1;
	if (buf_grow(b, b->len + (size_t)n + 1) == -1)
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

int
util_parse_long(const char *s, long min, long max, long *out)
{
	char	*end;
	long	 v;

	if (s == NULL || *s == '\0')
		return -1;
	/* strtol accepts leading space and '+': the API does not. */
	if (!(*s == '-' || (*s >= '0' && *s <= '9')))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

void
util_time_fmt(time_t t, char *dst, size_t dstsz)
{
	struct tm	tm;

	if (dstsz == 0)
		return;
	dst[0] = '\0';
	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		return;
	if (strftime(dst, dstsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		dst[0] = '\0';
}

int
util_time_parse(const char *s, time_t *out)
{
	static const char	 shape[] = "dddd-dd-ddTdd:dd:ddZ";
	struct tm		 tm, back;
	time_t			 t;
	size_t			 i;

	if (s[0] == '\0') {
		*out = 0;
		return 0;
	}
	/* strptime() skips blanks and timegm() rolls Feb 30 into March:
	 * check the shape by hand and the date by converting back. */
	if (strlen(s) != sizeof(shape) - 1)
		return -1;
	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') :
		    s[i] != shape[i])
			return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 +
	    (s[2] - '0') * 10 + (s[3] - '0') - 1900;
	tm.tm_mon = (s[5] - '0') * 10 + (s[6] - '0') - 1;
	tm.tm_mday = (s[8] - '0') * 10 + (s[9] - '0');
	tm.tm_hour = (s[11] - '0') * 10 + (s[12] - '0');
	tm.tm_min = (s[14] - '0') * 10 + (s[15] - '0');
	tm.tm_sec = (s[17] - '0') * 10 + (s[18] - '0');
	/* Before 1970 is no time this service wrote, and strftime's %Y
	 * would not write a year below 1000 back in four digits. */
	if (tm.tm_year < 70)
		return -1;
	back = tm;
	if ((t = timegm(&tm)) == (time_t)-1 || tm.tm_year != back.tm_year ||
	    tm.tm_mon != back.tm_mon || tm.tm_mday != back.tm_mday ||
	    tm.tm_hour != back.tm_hour || tm.tm_min != back.tm_min ||
	    tm.tm_sec != back.tm_sec)
		return -1;
	*out = t;
	return 0;
}

static int
lower_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int
util_is_dns_label(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || n > 63 || !lower_alnum((unsigned char)s[0]) ||
	    !lower_alnum((unsigned char)s[n - 1]))
		return 0;
	for (i = 0; i < n; i++)
		if (!lower_alnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

int
util_is_label(const char *s, size_t n)
{
	size_t	i;
	int	c;

	if (n == 0 || n > 63)
		return 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (!lower_alnum(c) && !(c >= 'A' && c <= 'Z') && c != '.' &&
		    c != '_' && c != '-')
			return 0;
	}
	return 1;
}

void *
util_array_grow(void *items, size_t len, size_t *cap, size_t size)
{
	void	*p;
	size_t	 ncap;

	if (len < *cap)
		return items;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap < *cap || ncap > SIZE_MAX / size)
		return NULL;
	if ((p = realloc(items, ncap * size)) == NULL)
		return NULL;
	*cap = ncap;
	return p;
}

int
util_is_object_name(const char *s, size_t n)
{
	size_t	i, start;

	if (n == 0 || n > 253)
		return 0;
	for (start = i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		/* Each part is a DNS label but for its length. */
		if (i == start || !lower_alnum((unsigned char)s[start]) ||
		    !lower_alnum((unsigned char)s[i - 1]))
			return 0;
		for (; start < i; start++)
			if (!lower_alnum((unsigned char)s[start]) &&
			    s[start] != '-')
				return 0;
		start = i + 1;
	}
	return 1;
}

int
util_strlcpy_checked(char *dst, const char *src, size_t dstsz)
{
	size_t	n;

	n = strlen(src);
	if (n >= dstsz)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}
