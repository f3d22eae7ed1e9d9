/*
 * cfg: loads the libconfig file into struct cfg through one schema table
 * (key path, type, limits, default, where it goes).  Every setting of the
 * parsed tree is looked up in that table, so unknown keys cannot slip by.
 * Strings are copied into the caller's struct before config_destroy().
 */
#include "config.h"

#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "cfg.h"
#include "cluster.h"
#include "errors.h"
#include "log.h"
#include "util.h"

/* A configuration is a few kilobytes; anything near this is a mistake. */
#define CFG_FILE_MAX	(1024 * 1024)
/* Longest dotted key path we build, "prow.jobs[63].name" and the like. */
#define CFG_KEY_MAX	128
/* bind(2) needs the socket path to fit sun_path with its NUL. */
#define CFG_SOCKET_MAX	(sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
/* useradd(8)'s limit on Debian, for user and group names. */
#define CFG_USER_MAX	32
/* Longest integer literal quoted back in a message. */
#define CFG_LIT_MAX	32

/* Enums are stored through memcpy of an int: they must be int-sized. */
_Static_assert(sizeof(enum cfg_backend) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_retry_policy) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cfg_prow_dialect) == sizeof(int), "enum size");

enum kind {
	K_GROUP,	/* { ... }: members have their own entries */
	K_LIST,		/* ( ... ): elements are the "[]" entry */
	K_ARRAY,	/* [ ... ]: elements are the "[]" entry */
	K_NUM,		/* int or int64, stored as int or long by size */
	K_BOOL,		/* stored as int 0/1 */
	K_STR,		/* copied into a char[size] */
	K_ENUM,		/* a string from names, stored as its index (int) */
	K__MAX
};

#define F_REQUIRED	0x01	/* in a list element: must be present */

struct key {
	const char		*path;	/* dotted; "[]" is any element */
	enum kind		 kind;
	long			 min;	/* value, string length, entries */
	long			 max;
	size_t			 off;	/* in struct cfg or in the element */
	size_t			 size;	/* field size; element stride */
	size_t			 count_off; /* lists: the int counting them */
	long			 def;	/* K_NUM, K_BOOL, K_ENUM default */
	const char		*def_str; /* K_STR default */
	const char *const	*names;	/* K_ENUM; K_STR limited to these */
	int			(*check)(const char *); /* K_STR: 0 if ok */
	const char		*want;	/* what check wants, for messages */
	int			 flags;
};

static const char *const backend_names[] = {
	[CFG_BACKEND_FILE] = "file",
	[CFG_BACKEND_CONFIGMAP] = "configmap",
	[CFG_BACKEND__MAX] = NULL,
};
static const char *const retry_names[] = {
	[CFG_RETRY_DEFAULT] = "default",
	[CFG_RETRY_SEED] = "seed",
	[CFG_RETRY__MAX] = NULL,
};
static const char *const dialect_names[] = {
	[CFG_PROW_GANGWAY] = "gangway",
	[CFG_PROW_MANUAL_TRIGGER] = "manual-trigger",
	[CFG_PROW__MAX] = NULL,
};
static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL__MAX] = NULL,
};
static const char *const job_type_names[] = {
	"periodic", "postsubmit", "presubmit", NULL
};

/* No control characters (a path or URL is echoed into logs and HTML). */
static int
check_clean(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return -1;
	return 0;
}

/* REMOTE_USER as nginx passes it: no blanks, no control characters. */
static int
check_word(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return -1;
	return 0;
}

/*
 * The daemon changes directory after start-up and systemd starts it in
 * "/": a relative path would silently mean something else.
 */
static int
check_abs_path(const char *s)
{
	return s[0] == '/' ? check_clean(s) : -1;
}

static int
check_abs_path_or_empty(const char *s)
{
	return s[0] == '\0' ? 0 : check_abs_path(s);
}

static int
check_url_or_empty(const char *s)
{
	if (s[0] == '\0')
		return 0;
	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		return -1;
	return check_word(s);
}

/* A login name as useradd(8) accepts it by default. */
static int
check_user(const char *s)
{
	if (!(islower((unsigned char)s[0]) || s[0] == '_'))
		return -1;
	for (; *s != '\0'; s++)
		if (!(islower((unsigned char)*s) ||
		    isdigit((unsigned char)*s) || *s == '_' || *s == '-'))
			return -1;
	return 0;
}

static int
check_user_or_empty(const char *s)
{
	return s[0] == '\0' ? 0 : check_user(s);
}

/* The alphabet of purposes in the API (the length is the table's). */
static int
check_label(const char *s)
{
	return s[0] == '\0' || util_is_label(s, strlen(s)) ? 0 : -1;
}

/* Kubernetes rejects a namespace or name that is not a DNS-1123 label. */
static int
check_dns_label(const char *s)
{
	return util_is_dns_label(s, strlen(s)) ? 0 : -1;
}

/* An empty namespace means the pod's own (the service account's). */
static int
check_dns_label_or_empty(const char *s)
{
	return s[0] == '\0' ? 0 : check_dns_label(s);
}

/* A full git commit id: Prow wants all 40 hex digits in base_sha. */
static int
check_sha(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isxdigit((unsigned char)s[i]))
			return -1;
	return i == CFG_SHA_LEN ? 0 : -1;
}

/* "{job}" is the only placeholder; the rest goes into the URL as is. */
static int
check_url_path(const char *s)
{
	return s[0] == '/' ? check_word(s) : -1;
}

#define W_ABS		"an absolute path"
#define W_ABS_EMPTY	"empty or an absolute path"
#define W_URL		"empty or an http:// or https:// URL without spaces"
#define W_USER		"a user name: a-z 0-9 _ -, starting with a " \
			    "letter or _"
#define W_GROUP		"empty or a group name: a-z 0-9 _ -, starting " \
			    "with a letter or _"
#define W_LABEL		"made of A-Z a-z 0-9 . _ -"
#define W_DNS		"a DNS-1123 label: a-z 0-9 -, starting and " \
			    "ending with a letter or digit"
#define W_WORD		"free of spaces and control characters"
#define W_TEXT		"free of control characters"
#define W_SHA		"a commit id of 40 hex digits"
#define W_PATH		"a path starting with / without spaces"

#define FSIZE(t, f)	sizeof(((t *)0)->f)

#define GROUP(p)	{ .path = (p), .kind = K_GROUP }
#define NUM(p, f, lo, hi, d)						\
	{ .path = (p), .kind = K_NUM, .min = (lo), .max = (hi),		\
	  .off = offsetof(struct cfg, f), .size = FSIZE(struct cfg, f),	\
	  .def = (d) }
#define BOOL(p, f, d)							\
	{ .path = (p), .kind = K_BOOL, .min = 0, .max = 1,		\
	  .off = offsetof(struct cfg, f), .size = FSIZE(struct cfg, f),	\
	  .def = (d) }
#define STR(p, f, lo, hi, d, chk, w)					\
	{ .path = (p), .kind = K_STR, .min = (lo), .max = (hi),		\
	  .off = offsetof(struct cfg, f), .size = FSIZE(struct cfg, f),	\
	  .def_str = (d), .check = (chk), .want = (w) }
#define ENUM(p, f, n, d)						\
	{ .path = (p), .kind = K_ENUM,					\
	  .off = offsetof(struct cfg, f), .size = FSIZE(struct cfg, f),	\
	  .names = (n), .def = (d) }

#define JOBREF(p, f, hi, chk, w)					\
	{ .path = (p), .kind = K_STR, .min = 1, .max = (hi),		\
	  .off = offsetof(struct cfg_prow_job, f),			\
	  .size = FSIZE(struct cfg_prow_job, f),				\
	  .check = (chk), .want = (w), .flags = F_REQUIRED }

/*
 * The schema: every key the file may hold.  cfg_defaults() applies the
 * defaults from here and docs/configuration.md lists the same rows.
 */
static const struct key keys[] = {
	GROUP("server"),
	STR("server.socket", socket, 1, CFG_SOCKET_MAX,
	    "/run/cimaster/fcgi.sock", check_abs_path, W_ABS),
	NUM("server.workers", workers, 1, 256, 4),
	STR("server.user", user, 1, CFG_USER_MAX, "cimaster",
	    check_user, W_USER),
	STR("server.socket_group", socket_group, 0, CFG_USER_MAX, "",
	    check_user_or_empty, W_GROUP),
	NUM("server.grace_seconds", grace_seconds, 0, 3600, 120),
	NUM("server.backlog", backlog, 1, 65535, 128),
	ENUM("server.log_level", log_level, level_names, LOG_LEVEL_INFO),

	{ .path = "admins", .kind = K_ARRAY, .min = 0, .max = CFG_ADMINS_MAX,
	  .off = offsetof(struct cfg, admins),
	  .size = FSIZE(struct cfg, admins[0]),
	  .count_off = offsetof(struct cfg, nadmins) },
	{ .path = "admins[]", .kind = K_STR, .min = 1,
	  .max = CLUSTER_TEXT_MAX, .off = 0,
	  .size = FSIZE(struct cfg, admins[0]),
	  .check = check_word, .want = W_WORD },

	GROUP("clusters"),
	STR("clusters.default_purpose", default_purpose, 1,
	    CLUSTER_LABEL_MAX, "tess-ci", check_label, W_LABEL),
	NUM("clusters.hold_hours", hold_hours, 1, 8760, 6),
	NUM("clusters.max_hold_hours", max_hold_hours, 1, 8760, 72),
	NUM("clusters.retry_after_seconds", retry_after_seconds, 1, 3600,
	    30),

	GROUP("store"),
	ENUM("store.backend", backend, backend_names, CFG_BACKEND_FILE),
	GROUP("store.file"),
	STR("store.file.path", file_path, 1, PATH_MAX - 1,
	    "/var/lib/cimaster/clusters.json", check_abs_path, W_ABS),
	GROUP("store.configmap"),
	STR("store.configmap.server", cm_server, 0, CFG_STR_MAX - 1, "",
	    check_url_or_empty, W_URL),
	STR("store.configmap.ca_file", cm_ca_file, 0, PATH_MAX - 1, "",
	    check_abs_path_or_empty, W_ABS_EMPTY),
	STR("store.configmap.token_file", cm_token_file, 0, PATH_MAX - 1, "",
	    check_abs_path_or_empty, W_ABS_EMPTY),
	STR("store.configmap.namespace", cm_namespace, 0, CLUSTER_LABEL_MAX,
	    "ci", check_dns_label_or_empty, W_DNS),
	STR("store.configmap.name", cm_name, 1, CLUSTER_LABEL_MAX,
	    "clusters", check_dns_label, W_DNS),
	BOOL("store.configmap.create_if_missing", cm_create_if_missing, 0),
	NUM("store.configmap.connect_timeout_ms", cm_connect_timeout_ms, 100,
	    60000, 2000),
	NUM("store.configmap.timeout_ms", cm_timeout_ms, 100, 120000, 10000),
	NUM("store.configmap.max_response_bytes", cm_max_response_bytes,
	    65536, 16777216, 4194304),
	NUM("store.configmap.token_reread_seconds", cm_token_reread_seconds,
	    1, 3600, 60),
	STR("store.lock_file", lock_file, 1, PATH_MAX - 1,
	    "/run/cimaster/store.lock", check_abs_path, W_ABS),
	GROUP("store.retry"),
	ENUM("store.retry.policy", retry_policy, retry_names,
	    CFG_RETRY_DEFAULT),
	NUM("store.retry.attempts", retry_attempts, 0, 1000, 0),
	NUM("store.retry.base_ms", retry_base_ms, 1, 10000, 10),
	NUM("store.retry.cap_ms", retry_cap_ms, 1, 60000, 500),
	NUM("store.retry.deadline_ms", retry_deadline_ms, 100, 600000,
	    10000),

	GROUP("prow"),
	ENUM("prow.dialect", prow_dialect, dialect_names, CFG_PROW_GANGWAY),
	STR("prow.url", prow_url, 0, CFG_STR_MAX - 1, "",
	    check_url_or_empty, W_URL),
	STR("prow.token_file", prow_token_file, 0, PATH_MAX - 1, "",
	    check_abs_path_or_empty, W_ABS_EMPTY),
	STR("prow.ca_file", prow_ca_file, 0, PATH_MAX - 1, "",
	    check_abs_path_or_empty, W_ABS_EMPTY),
	{ .path = "prow.jobs", .kind = K_LIST, .min = 0, .max = CFG_JOBS_MAX,
	  .off = offsetof(struct cfg, prow_jobs),
	  .size = sizeof(struct cfg_prow_job),
	  .count_off = offsetof(struct cfg, nprow_jobs) },
	{ .path = "prow.jobs[]", .kind = K_GROUP },
	{ .path = "prow.jobs[].name", .kind = K_STR, .min = 1,
	  .max = CLUSTER_TEXT_MAX, .off = offsetof(struct cfg_prow_job, name),
	  .size = FSIZE(struct cfg_prow_job, name),
	  .check = check_clean, .want = W_TEXT, .flags = F_REQUIRED },
	{ .path = "prow.jobs[].type", .kind = K_STR, .min = 1,
	  .max = FSIZE(struct cfg_prow_job, type) - 1,
	  .off = offsetof(struct cfg_prow_job, type),
	  .size = FSIZE(struct cfg_prow_job, type),
	  .names = job_type_names, .flags = F_REQUIRED },
	/* Prow needs every field of refs for a postsubmit or presubmit. */
	{ .path = "prow.jobs[].refs", .kind = K_GROUP },
	JOBREF("prow.jobs[].refs.org", org, CFG_REF_MAX, check_word, W_WORD),
	JOBREF("prow.jobs[].refs.repo", repo, CFG_REF_MAX, check_word,
	    W_WORD),
	JOBREF("prow.jobs[].refs.base_ref", base_ref, CFG_REF_MAX,
	    check_word, W_WORD),
	JOBREF("prow.jobs[].refs.base_sha", base_sha, CFG_SHA_LEN, check_sha,
	    W_SHA),
	{ .path = "prow.jobs[].purpose", .kind = K_STR, .min = 1,
	  .max = CLUSTER_LABEL_MAX, .off = offsetof(struct cfg_prow_job, purpose),
	  .size = FSIZE(struct cfg_prow_job, purpose),
	  .check = check_label, .want = W_LABEL },
	{ .path = "prow.jobs[].max_clusters", .kind = K_NUM, .min = 0,
	  .max = 10000, .off = offsetof(struct cfg_prow_job, max_clusters),
	  .size = FSIZE(struct cfg_prow_job, max_clusters) },
	{ .path = "prow.jobs[].branch", .kind = K_STR, .min = 1,
	  .max = CFG_REF_MAX, .off = offsetof(struct cfg_prow_job, branch),
	  .size = FSIZE(struct cfg_prow_job, branch),
	  .check = check_word, .want = W_WORD },
	NUM("prow.pending_minutes", prow_pending_minutes, 1, 10080, 120),
	NUM("prow.max_pending", prow_max_pending, 1, 1000, 20),
	BOOL("prow.auto_provision", prow_auto_provision, 0),
	STR("prow.gangway_path", prow_gangway_path, 1, CFG_STR_MAX - 1,
	    "/v1/executions", check_url_path, W_PATH),
	NUM("prow.connect_timeout_ms", prow_connect_timeout_ms, 100, 60000,
	    2000),
	NUM("prow.timeout_ms", prow_timeout_ms, 100, 120000, 10000),
	NUM("prow.max_response_bytes", prow_max_response_bytes, 1024,
	    16777216, 65536),

	GROUP("expire"),
	STR("expire.webhook_url", webhook_url, 0, CFG_STR_MAX - 1, "",
	    check_url_or_empty, W_URL),
	NUM("expire.warn_minutes", warn_minutes, 0, 1440, 30),
	NUM("expire.webhook_timeout_ms", webhook_timeout_ms, 100, 60000,
	    5000),
};

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

/* Pairs whose first value may not exceed the second. */
static const struct {
	const char	*lo;
	const char	*hi;
} orders[] = {
	{ "clusters.hold_hours", "clusters.max_hold_hours" },
	{ "store.retry.base_ms", "store.retry.cap_ms" },
	{ "store.configmap.connect_timeout_ms", "store.configmap.timeout_ms" },
	{ "prow.connect_timeout_ms", "prow.timeout_ms" },
};

#define NORDERS	(sizeof(orders) / sizeof(orders[0]))

/*
 * libconfig 1.5 (Debian's) stores an unsuffixed integer literal that does
 * not fit an int modulo 2^32, so "workers = 4294967300;" would read as 4.
 * The lexer below finds the integer literals of the file in order; the walk
 * pairs each integer setting with the next literal on its line and refuses
 * one whose literal does not fit an int.
 * XXX: a value on a later line than its key, or in an @include'd file, is
 * not re-checked.
 */
struct intlit {
	unsigned	line;
	int		fits;		/* the literal's value fits an int */
	char		text[CFG_LIT_MAX];
};

struct lexer {
	const char	*p;
	unsigned	 line;
	int		 have;		/* tok holds the next literal */
	struct intlit	 tok;
};

/* Classifies the number token [s, end): 1 if an integer literal. */
static int
lex_integer(const char *s, const char *end, struct intlit *t)
{
	unsigned long long	 v = 0, lim, digit;
	const char		*q = s;
	int			 neg = 0, base = 10, over = 0, ndig = 0;
	size_t			 n;

	if (*q == '-' || *q == '+')
		neg = *q++ == '-';
	if (end - q > 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) {
		base = 16;
		q += 2;
	}
	for (; q < end && isxdigit((unsigned char)*q); q++, ndig++) {
		if (isdigit((unsigned char)*q))
			digit = (unsigned long long)(*q - '0');
		else if (base == 16)
			digit = (unsigned long long)
			    (tolower((unsigned char)*q) - 'a' + 10);
		else
			break;
		if (v > (ULLONG_MAX - digit) / (unsigned)base)
			over = 1;
		else
			v = v * (unsigned)base + digit;
	}
	if (ndig == 0)
		return 0;
	if (q < end && *q == 'L') {
		/* An int64 literal: libconfig keeps it whole. */
		q++;
		if (q < end && *q == 'L')
			q++;
		over = 0;
		v = 0;
	}
	if (q != end)
		return 0;	/* a float, or junk the parser refused */
	lim = neg ? (unsigned long long)INT_MAX + 1 : INT_MAX;
	t->fits = !over && v <= lim;
	n = (size_t)(end - s);
	if (n >= sizeof(t->text))
		n = sizeof(t->text) - 1;
	memcpy(t->text, s, n);
	t->text[n] = '\0';
	return 1;
}

/* Advances to the next integer literal; lx->have = 0 at the end. */
static void
lex_next(struct lexer *lx)
{
	const char	*p = lx->p, *s;
	unsigned char	 c;

	lx->have = 0;
	while ((c = (unsigned char)*p) != '\0') {
		if (c == '\n') {
			lx->line++;
			p++;
		} else if (c == '#' || (c == '/' && p[1] == '/')) {
			while (*p != '\0' && *p != '\n')
				p++;
		} else if (c == '/' && p[1] == '*') {
			for (p += 2; *p != '\0' &&
			    !(p[0] == '*' && p[1] == '/'); p++)
				if (*p == '\n')
					lx->line++;
			if (*p != '\0')
				p += 2;
		} else if (c == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				if (*p == '\n')
					lx->line++;
			}
			if (*p != '\0')
				p++;
		} else if (isalpha(c) || c == '*' || c == '_' || c == '@') {
			/* Names, true/false, @include: may hold digits. */
			for (p++; isalnum((unsigned char)*p) || *p == '_' ||
			    *p == '*' || *p == '-'; p++)
				;
		} else if (isdigit(c) || c == '.' || c == '-' || c == '+') {
			s = p++;
			while (isalnum((unsigned char)*p) || *p == '.' ||
			    ((*p == '-' || *p == '+') &&
			    (p[-1] == 'e' || p[-1] == 'E') &&
			    !(s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))))
				p++;
			if (lex_integer(s, p, &lx->tok)) {
				lx->tok.line = lx->line;
				lx->have = 1;
				break;
			}
		} else
			p++;
	}
	lx->p = p;
}

/* The next literal if it is on line; NULL otherwise. */
static const struct intlit *
lex_take(struct lexer *lx, unsigned line, struct intlit *out)
{
	while (lx->have && lx->tok.line < line)
		lex_next(lx);
	if (!lx->have || lx->tok.line != line)
		return NULL;
	*out = lx->tok;
	lex_next(lx);
	return out;
}

struct walk {
	const char	*path;		/* the file, for messages */
	struct err	*e;
	struct lexer	 lx;
};

/* "PATH:LINE: KEY: what"; always -1. */
static int
fail(struct walk *w, const config_setting_t *s, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
fail(struct walk *w, const config_setting_t *s, const char *key,
    const char *fmt, ...)
{
	char		 what[ERR_MSG_MAX];
	const char	*file;
	va_list		 ap;

	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	file = config_setting_source_file(s);
	return errors_set(w->e, ERR_INTERNAL, "%s:%u: %s: %s",
	    file != NULL ? file : w->path,
	    (unsigned)config_setting_source_line(s), key, what);
}

static const struct key *
key_find(const char *path)
{
	size_t	i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].path, path) == 0)
			return &keys[i];
	return NULL;
}

static const char *
type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group { }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array [ ]";
	case CONFIG_TYPE_LIST:
		return "a list ( )";
	default:
		return "nothing";
	}
}

static const char *
kind_name(enum kind k)
{
	switch (k) {
	case K_GROUP:
		return type_name(CONFIG_TYPE_GROUP);
	case K_LIST:
		return type_name(CONFIG_TYPE_LIST);
	case K_ARRAY:
		return type_name(CONFIG_TYPE_ARRAY);
	case K_NUM:
		return "an integer";
	case K_BOOL:
		return "true or false";
	default:
		return "a string";
	}
}

static int
kind_accepts(enum kind k, int type)
{
	switch (k) {
	case K_GROUP:
		return type == CONFIG_TYPE_GROUP;
	case K_LIST:
		return type == CONFIG_TYPE_LIST;
	case K_ARRAY:
		return type == CONFIG_TYPE_ARRAY;
	case K_NUM:
		return type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64;
	case K_BOOL:
		return type == CONFIG_TYPE_BOOL;
	default:
		return type == CONFIG_TYPE_STRING;
	}
}

static void
num_put(char *p, size_t size, long v)
{
	int	iv;

	if (size == sizeof(long))
		memcpy(p, &v, sizeof(v));
	else {
		iv = (int)v;
		memcpy(p, &iv, sizeof(iv));
	}
}

static long
num_get(const char *p, size_t size)
{
	long	v;
	int	iv;

	if (size == sizeof(long)) {
		memcpy(&v, p, sizeof(v));
		return v;
	}
	memcpy(&iv, p, sizeof(iv));
	return iv;
}

/* Index of s in the NULL-terminated names, or -1. */
static int
name_index(const char *const *names, const char *s)
{
	int	i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* "must be one of "a", "b"" for a message. */
static int
fail_names(struct walk *w, const config_setting_t *s, const char *key,
    const char *const *names)
{
	char	list[ERR_MSG_MAX];
	size_t	len = 0;
	int	i, n;

	list[0] = '\0';
	for (i = 0; names[i] != NULL; i++) {
		n = snprintf(list + len, sizeof(list) - len, "%s\"%s\"",
		    i > 0 ? ", " : "", names[i]);
		if (n < 0 || (size_t)n >= sizeof(list) - len)
			break;
		len += (size_t)n;
	}
	return fail(w, s, key, "must be one of %s", list);
}

static int	walk_setting(struct walk *, const config_setting_t *,
		    const struct key *, const char *, char *);

/* Appends "." name or "[i]" to a key path: 0, or -1 if it overflows. */
static int
key_join(char *dst, size_t dstsz, const char *parent, const char *name,
    int idx)
{
	int	n;

	if (name == NULL)
		n = idx < 0 ? snprintf(dst, dstsz, "%s[]", parent) :
		    snprintf(dst, dstsz, "%s[%d]", parent, idx);
	else if (parent[0] == '\0')
		n = snprintf(dst, dstsz, "%s", name);
	else
		n = snprintf(dst, dstsz, "%s.%s", parent, name);
	return (n < 0 || (size_t)n >= dstsz) ? -1 : 0;
}

/*
 * The members of a group: each must be in the table.  path is the table
 * path ("prow.jobs[]"), shown the one for messages ("prow.jobs[2]").
 */
static int
walk_group(struct walk *w, const config_setting_t *s, const char *path,
    const char *shown, char *base)
{
	const config_setting_t	*m;
	const struct key	*k;
	char			 mpath[CFG_KEY_MAX], mshown[CFG_KEY_MAX];
	const char		*name, *leaf;
	size_t			 plen, i;
	int			 n;

	n = config_setting_length(s);
	for (i = 0; i < (size_t)n; i++) {
		m = config_setting_get_elem(s, (unsigned)i);
		name = config_setting_name(m);
		if (key_join(mshown, sizeof(mshown), shown, name, 0) == -1 ||
		    key_join(mpath, sizeof(mpath), path, name, 0) == -1 ||
		    (k = key_find(mpath)) == NULL)
			return fail(w, m, mshown[0] != '\0' ? mshown : name,
			    "unknown key");
		if (walk_setting(w, m, k, mshown, base) == -1)
			return -1;
	}

	/* Only list elements have required members; groups have defaults. */
	plen = strlen(path);
	for (i = 0; i < NKEYS; i++) {
		if (!(keys[i].flags & F_REQUIRED) ||
		    strncmp(keys[i].path, path, plen) != 0 ||
		    keys[i].path[plen] != '.')
			continue;
		leaf = keys[i].path + plen + 1;
		if (strpbrk(leaf, ".[") != NULL)
			continue;	/* a grandchild */
		if (config_setting_get_member(s, leaf) == NULL)
			return fail(w, s, shown, "%s is missing", leaf);
	}
	return 0;
}

static int
walk_list(struct walk *w, const config_setting_t *s, const struct key *k,
    const char *shown, char *base)
{
	const config_setting_t	*el;
	const struct key	*ek;
	char			 epath[CFG_KEY_MAX], eshown[CFG_KEY_MAX];
	int			 i, n;

	n = config_setting_length(s);
	if (n > k->max)
		return fail(w, s, shown, "%d entries, at most %ld", n, k->max);
	if (key_join(epath, sizeof(epath), k->path, NULL, -1) == -1 ||
	    (ek = key_find(epath)) == NULL)
		return errors_set(w->e, ERR_INTERNAL, "%s: no schema for %s",
		    w->path, epath);
	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(s, (unsigned)i);
		if (key_join(eshown, sizeof(eshown), shown, NULL, i) == -1)
			return fail(w, el, shown, "key path too long");
		if (walk_setting(w, el, ek, eshown,
		    base + k->off + (size_t)i * k->size) == -1)
			return -1;
	}
	num_put(base + k->count_off, sizeof(int), n);
	return 0;
}

static int
walk_num(struct walk *w, const config_setting_t *s, const struct key *k,
    const char *shown, char *base)
{
	struct intlit	 lit;
	long long	 v;

	v = config_setting_get_int64(s);
	if (config_setting_source_file(s) == NULL &&
	    lex_take(&w->lx, config_setting_source_line(s), &lit) != NULL &&
	    config_setting_type(s) == CONFIG_TYPE_INT && !lit.fits)
		return fail(w, s, shown, "%s is out of range (%ld..%ld)",
		    lit.text, k->min, k->max);
	if (v < k->min || v > k->max)
		return fail(w, s, shown, "%lld is out of range (%ld..%ld)",
		    v, k->min, k->max);
	num_put(base + k->off, k->size, (long)v);
	return 0;
}

static int
walk_str(struct walk *w, const config_setting_t *s, const struct key *k,
    const char *shown, char *base)
{
	const char	*v;
	size_t		 len;
	int		 i;

	v = config_setting_get_string(s);
	len = strlen(v);
	if (k->kind == K_ENUM || k->names != NULL) {
		if ((i = name_index(k->names, v)) == -1)
			return fail_names(w, s, shown, k->names);
		if (k->kind == K_ENUM) {
			num_put(base + k->off, k->size, i);
			return 0;
		}
	}
	if (len < (size_t)k->min)
		return fail(w, s, shown, "must not be empty");
	if (len > (size_t)k->max)
		return fail(w, s, shown, "too long (%zu characters, at most "
		    "%ld)", len, k->max);
	if (k->check != NULL && k->check(v) == -1)
		return fail(w, s, shown, "must be %s", k->want);
	if (util_strlcpy_checked(base + k->off, v, k->size) == -1)
		return fail(w, s, shown, "too long (%zu characters)", len);
	return 0;
}

/* One setting known to be the table's k. */
static int
walk_setting(struct walk *w, const config_setting_t *s, const struct key *k,
    const char *shown, char *base)
{
	int	type;

	type = config_setting_type(s);
	if (!kind_accepts(k->kind, type))
		return fail(w, s, shown, "expected %s, got %s",
		    kind_name(k->kind), type_name(type));
	switch (k->kind) {
	case K_GROUP:
		return walk_group(w, s, k->path, shown, base);
	case K_LIST:
	case K_ARRAY:
		return walk_list(w, s, k, shown, base);
	case K_NUM:
		return walk_num(w, s, k, shown, base);
	case K_BOOL:
		num_put(base + k->off, k->size, config_setting_get_bool(s));
		return 0;
	default:
		return walk_str(w, s, k, shown, base);
	}
}

/* Cross-key rules: blamed on the setting the file has, lo first. */
static int
check_orders(struct walk *w, const config_t *lc, const struct cfg *c)
{
	const struct key	*lo, *hi;
	const config_setting_t	*s;
	long			 lv, hv;
	size_t			 i;

	for (i = 0; i < NORDERS; i++) {
		lo = key_find(orders[i].lo);
		hi = key_find(orders[i].hi);
		if (lo == NULL || hi == NULL)
			return errors_set(w->e, ERR_INTERNAL,
			    "%s: no schema for %s", w->path, orders[i].lo);
		lv = num_get((const char *)c + lo->off, lo->size);
		hv = num_get((const char *)c + hi->off, hi->size);
		if (lv <= hv)
			continue;
		if ((s = config_lookup(lc, lo->path)) != NULL)
			return fail(w, s, lo->path,
			    "%ld is greater than %s (%ld)", lv, hi->path, hv);
		if ((s = config_lookup(lc, hi->path)) != NULL)
			return fail(w, s, hi->path,
			    "%ld is less than %s (%ld)", hv, lo->path, lv);
	}
	return 0;
}

/*
 * Prow starts a periodic job without refs and refuses one with them; a
 * postsubmit or presubmit cannot run without (the schema makes refs
 * complete when present) and builds only its base_ref.  A name or a
 * purpose listed twice would make the allow-list or auto-provisioning
 * pick one at random.  Blamed on the job's entry.
 */
static int
check_jobs(struct walk *w, const config_t *lc, const struct cfg *c)
{
	const config_setting_t		*list, *el;
	const struct cfg_prow_job	*j;
	char				 shown[CFG_KEY_MAX];
	int				 i, k, periodic, has_refs;

	if ((list = config_lookup(lc, "prow.jobs")) == NULL)
		return 0;
	for (i = 0; i < c->nprow_jobs; i++) {
		j = &c->prow_jobs[i];
		if ((el = config_setting_get_elem(list, (unsigned)i)) == NULL ||
		    key_join(shown, sizeof(shown), "prow.jobs", NULL, i) == -1)
			return errors_set(w->e, ERR_INTERNAL,
			    "%s: prow.jobs[%d] vanished", w->path, i);
		periodic = strcmp(j->type, "periodic") == 0;
		has_refs = j->org[0] != '\0';
		if (periodic && has_refs)
			return fail(w, el, shown, "a periodic job takes no "
			    "refs (Prow refuses them)");
		if (!periodic && !has_refs)
			return fail(w, el, shown, "a %s job needs refs { org, "
			    "repo, base_ref, base_sha }", j->type);
		if (!periodic && j->branch[0] != '\0' &&
		    strcmp(j->branch, j->base_ref) != 0)
			return fail(w, el, shown, "branch %s: a %s job builds "
			    "its base_ref %s", j->branch, j->type, j->base_ref);
		if (j->max_clusters > 0 && j->purpose[0] == '\0')
			return fail(w, el, shown, "max_clusters needs the "
			    "purpose of the clusters the job builds");
		for (k = 0; k < i; k++) {
			if (strcmp(c->prow_jobs[k].name, j->name) == 0)
				return fail(w, el, shown, "job %s is listed "
				    "already (prow.jobs[%d])", j->name, k);
			if (j->purpose[0] != '\0' && strcmp(j->purpose,
			    c->prow_jobs[k].purpose) == 0)
				return fail(w, el, shown, "purpose %s has a "
				    "creation job already (prow.jobs[%d])",
				    j->purpose, k);
		}
	}
	return 0;
}

/* The whole file as one string; the parser and the lexer both read it. */
static int
read_file(const char *path, struct buf *b, struct err *e)
{
	FILE		*fp = NULL;
	char		 chunk[BUFSIZ];
	size_t		 n, nul;
	unsigned	 line;
	int		 ret = -1;

	if ((fp = fopen(path, "r")) == NULL) {
		errors_set(e, ERR_INTERNAL, "%s: %s", path, strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (b->len + n > CFG_FILE_MAX) {
			errors_set(e, ERR_INTERNAL, "%s: larger than %d bytes",
			    path, CFG_FILE_MAX);
			goto out;
		}
		if (buf_append(b, chunk, n) == -1) {
			errors_set(e, ERR_INTERNAL, "%s: out of memory", path);
			goto out;
		}
	}
	if (ferror(fp)) {
		errors_set(e, ERR_INTERNAL, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (buf_append(b, "", 0) == -1) {
		errors_set(e, ERR_INTERNAL, "%s: out of memory", path);
		goto out;
	}
	/* The parser would stop at a NUL and ignore what follows. */
	if ((nul = strlen(b->data)) != b->len) {
		for (line = 1, n = 0; n < nul; n++)
			if (b->data[n] == '\n')
				line++;
		errors_set(e, ERR_INTERNAL, "%s:%u: syntax error: NUL byte",
		    path, line);
		goto out;
	}
	ret = 0;
out:
	if (fp != NULL)
		fclose(fp);
	return ret;
}

/*
 * Fills c with the default of every key in the table; lists are empty.
 */
void
cfg_defaults(struct cfg *c)
{
	const struct key	*k;
	size_t			 i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NKEYS; i++) {
		k = &keys[i];
		if (strstr(k->path, "[]") != NULL)
			continue;
		if (k->kind == K_NUM || k->kind == K_BOOL ||
		    k->kind == K_ENUM)
			num_put((char *)c + k->off, k->size, k->def);
		else if (k->kind == K_STR && k->def_str != NULL)
			(void)util_strlcpy_checked((char *)c + k->off,
			    k->def_str, k->size);
	}
}

/*
 * Reads path over the defaults into c.  0 on success; -1 with e->msg
 * "PATH: reason" (unreadable), "PATH:LINE: syntax error: ..." or
 * "PATH:LINE: KEY: what is wrong", and c left as it was, so a reload can
 * keep the old configuration.
 */
int
cfg_load(struct cfg *c, const char *path, struct err *e)
{
	struct cfg	*n = NULL;
	struct buf	 b = { 0 };
	struct walk	 w;
	config_t	 lc;
	const char	*file;
	int		 inited = 0, ret = -1;

	if ((n = malloc(sizeof(*n))) == NULL) {
		errors_set(e, ERR_INTERNAL, "%s: out of memory", path);
		goto out;
	}
	cfg_defaults(n);
	if (util_strlcpy_checked(n->path, path, sizeof(n->path)) == -1) {
		errors_set(e, ERR_INTERNAL, "%s: path too long", path);
		goto out;
	}
	if (read_file(path, &b, e) == -1)
		goto out;

	config_init(&lc);
	inited = 1;
	if (config_read_string(&lc, b.data) != CONFIG_TRUE) {
		file = config_error_file(&lc);
		errors_set(e, ERR_INTERNAL, "%s:%d: %s%s",
		    file != NULL ? file : path, config_error_line(&lc),
		    config_error_type(&lc) == CONFIG_ERR_PARSE ?
		    "syntax error: " : "", config_error_text(&lc));
		goto out;
	}

	memset(&w, 0, sizeof(w));
	w.path = path;
	w.e = e;
	w.lx.p = b.data;
	w.lx.line = 1;
	lex_next(&w.lx);
	if (walk_group(&w, config_root_setting(&lc), "", "", (char *)n) == -1)
		goto out;
	if (check_orders(&w, &lc, n) == -1)
		goto out;
	if (check_jobs(&w, &lc, n) == -1)
		goto out;

	memcpy(c, n, sizeof(*c));
	ret = 0;
out:
	if (inited)
		config_destroy(&lc);
	buf_free(&b);
	free(n);
	return ret;
}

/*
 * 1 when name is exactly one of the configured admins, 0 otherwise
 * (including NULL or "": nginx sent no REMOTE_USER).
 */
int
cfg_is_admin(const struct cfg *c, const char *name)
{
	int	i;

	if (name == NULL || name[0] == '\0')
		return 0;
	for (i = 0; i < c->nadmins; i++)
		if (strcmp(c->admins[i], name) == 0)
			return 1;
	return 0;
}

/* The allow-list entry of job name, or NULL. */
const struct cfg_prow_job *
cfg_prow_job(const struct cfg *c, const char *name)
{
	int	i;

	for (i = 0; name != NULL && i < c->nprow_jobs; i++)
		if (strcmp(c->prow_jobs[i].name, name) == 0)
			return &c->prow_jobs[i];
	return NULL;
}

/* The job that builds clusters of purpose (at most one: check_jobs), or
 * NULL. */
const struct cfg_prow_job *
cfg_prow_job_for(const struct cfg *c, const char *purpose)
{
	int	i;

	for (i = 0; purpose != NULL && purpose[0] != '\0' &&
	    i < c->nprow_jobs; i++)
		if (strcmp(c->prow_jobs[i].purpose, purpose) == 0)
			return &c->prow_jobs[i];
	return NULL;
}
