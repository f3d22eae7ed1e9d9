/*
 * expire: cimaster-expire, run by a systemd timer.  One transaction
 * releases every hold that has ended (cluster_expire(), the workers' own
 * state machine); the webhook then hears of each release and of each hold
 * about to end, and a second transaction records only the warnings that
 * were delivered, so a failed post is tried again on the next run.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "cfg.h"
#include "cluster.h"
#include "codec.h"
#include "creation.h"
#include "errors.h"
#include "httpc.h"
#include "log.h"
#include "privs.h"
#include "store.h"
#include "util.h"

#define SECONDS_PER_MINUTE	60
/* Slack answers "ok"; anything longer than this is not a webhook. */
#define WEBHOOK_RESPONSE_MAX	(64 * 1024)
/* scheme://host:port of the webhook, the only part of it ever logged. */
#define ORIGIN_MAX		256
/* One message: two names, a user, two times and a reason. */
#define MESSAGE_MAX		4096

/* What one transaction attempt saw; reset at the start of each attempt,
 * so after store_txn() it describes the attempt that was committed. */
struct run {
	time_t			 now;
	struct cluster_list	 released;	/* as they were while held */
	struct cluster_list	 held;		/* scratch: the held records */
	size_t			*held_idx;	/* and their indices */
	size_t			 held_cap;
	struct creation_list	 forgotten;	/* creations that lapsed */
};

/* The webhook and the only part of its URL that may be logged. */
struct hook {
	const struct cfg	*conf;
	char			 origin[ORIGIN_MAX];
};

static void
usage(void)
{
	fprintf(stderr, "usage: cimaster-expire [-c file] [--dry-run]\n"
	    "  -c file    configuration (default %s)\n"
	    "  --dry-run  print what would be released and warned; write "
	    "and send nothing\n", CFG_DEFAULT_PATH);
	exit(2);
}

static void
run_free(struct run *r)
{
	cluster_list_free(&r->released);
	cluster_list_free(&r->held);
	free(r->held_idx);
	r->held_idx = NULL;
	r->held_cap = 0;
	creation_list_free(&r->forgotten);
}

static int
remember_held(struct run *r, const struct cluster *c, size_t idx)
{
	size_t	*p;

	if ((p = util_array_grow(r->held_idx, r->held.len, &r->held_cap,
	    sizeof(*p))) == NULL)
		return -1;
	r->held_idx = p;
	if (cluster_list_push(&r->held, c) == -1)
		return -1;
	r->held_idx[r->held.len - 1] = idx;
	return 0;
}

/*
 * The transition: cluster_expire() itself, plus a note of each record it
 * released as it was before (cluster_expire() clears holder and reason,
 * which the log line and the message need).  It keeps the list's order.
 */
static enum cluster_change
expire_txn(struct cluster_list *l, void *arg, time_t now, struct err *e)
{
	struct run		*r = arg;
	enum cluster_change	 ch;
	size_t			 i, n;

	r->now = now;
	r->released.len = 0;
	r->held.len = 0;
	for (i = 0; i < l->len; i++)
		if (l->items[i].status == CLUSTER_HELD &&
		    remember_held(r, &l->items[i], i) == -1) {
			errors_set(e, ERR_INTERNAL, "out of memory");
			return CLUSTER_FAILED;
		}
	/* Creations whose cluster never came (the job failed, or its /add
	 * never arrived) are forgotten, so an identical request may start
	 * the job again. */
	r->forgotten.len = 0;
	for (i = 0; i < l->creations.len; i++)
		if (l->creations.items[i].expires <= now &&
		    creation_list_push(&r->forgotten,
		    &l->creations.items[i]) == -1) {
			errors_set(e, ERR_INTERNAL, "out of memory");
			return CLUSTER_FAILED;
		}
	ch = cluster_expire(l, now, &n);
	if (creation_expire(l, now, NULL) == CLUSTER_CHANGED)
		ch = CLUSTER_CHANGED;
	for (i = 0; i < r->held.len; i++)
		if (l->items[r->held_idx[i]].status != CLUSTER_HELD &&
		    cluster_list_push(&r->released, &r->held.items[i]) == -1) {
			/* The list is changed but never written: the
			 * transaction fails as a whole. */
			errors_set(e, ERR_INTERNAL, "out of memory");
			return CLUSTER_FAILED;
		}
	return ch;
}

/* The warnings that were delivered: recorded in a transaction of its own. */
struct marks {
	const struct cluster	*sent;
	size_t			 n;
	size_t			 marked;
};

static enum cluster_change
mark_txn(struct cluster_list *l, void *arg, time_t now, struct err *e)
{
	struct marks	*m = arg;

	(void)now;
	(void)e;
	return cluster_mark_warned(l, m->sent, m->n, &m->marked);
}

/* A record's text fields may have been edited by hand: no control
 * characters reach the journal. */
static const char *
clean(const char *s, char *dst, size_t dstsz)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i + 1 < dstsz; i++)
		dst[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ?
		    '?' : s[i];
	dst[i] = '\0';
	return dst;
}

static void
log_released(const struct cluster *c)
{
	char	since[UTIL_TIME_MAX], until[UTIL_TIME_MAX];
	char	user[CLUSTER_TEXT_MAX + 1], reason[CLUSTER_TEXT_MAX + 1];

	util_time_fmt(c->since, since, sizeof(since));
	util_time_fmt(c->hold_until, until, sizeof(until));
	log_info(NULL, "released %s: held by %s since %s until %s, "
	    "reason \"%s\"", c->name, clean(c->user, user, sizeof(user)),
	    since[0] != '\0' ? since : "unknown", until,
	    clean(c->reason, reason, sizeof(reason)));
}

/*
 * scheme://host[:port] of url, without user:password@: webhook URLs (a
 * Slack one above all) carry their secret in the path, so only this part
 * may appear in a log line.
 */
/* One line per forgotten creation. */
static void
log_forgotten(const struct creation *k)
{
	char	since[UTIL_TIME_MAX], until[UTIL_TIME_MAX];
	char	job[CLUSTER_TEXT_MAX + 1], user[CLUSTER_TEXT_MAX + 1];

	util_time_fmt(k->since, since, sizeof(since));
	util_time_fmt(k->expires, until, sizeof(until));
	log_info(NULL, "%s: forgot creation %s: job %s for %s, asked %s, "
	    "no cluster added by %s", __func__,
	    k->id[0] != '\0' ? k->id : "(Prow never answered)",
	    clean(k->job, job, sizeof(job)), clean(k->user, user,
	    sizeof(user)), since, until);
}

static void
url_origin(const char *url, char *dst, size_t dstsz)
{
	const char	*sep, *host, *end, *p;

	if ((sep = strstr(url, "://")) == NULL) {
		(void)util_strlcpy_checked(dst, "(webhook)", dstsz);
		return;
	}
	host = sep + 3;
	end = host + strcspn(host, "/?#");
	for (p = host; p < end; p++)
		if (*p == '@')
			host = p + 1;
	if (snprintf(dst, dstsz, "%.*s://%.*s", (int)(sep - url), url,
	    (int)(end - host), host) >= (int)dstsz)
		(void)util_strlcpy_checked(dst, "(webhook)", dstsz);
}

/* httpc's messages quote the URL: put the origin in its place. */
static void
redact(char *msg, size_t msgsz, const char *url, const char *origin)
{
	char	 out[ERR_MSG_MAX];
	char	*p;
	size_t	 ulen = strlen(url);

	if (ulen == 0 || (p = strstr(msg, url)) == NULL)
		return;
	(void)snprintf(out, sizeof(out), "%.*s%s/...%s", (int)(p - msg), msg,
	    origin, p + ulen);
	(void)util_strlcpy_checked(msg, out, msgsz);
}

/* Slack's markup: &, < and > must be escaped, or "<!channel>" in a reason
 * would page everyone. */
static void
slack_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '&')
			buf_puts(b, "&amp;");
		else if (*s == '<')
			buf_puts(b, "&lt;");
		else if (*s == '>')
			buf_puts(b, "&gt;");
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			buf_puts(b, " ");
		else
			buf_append(b, s, 1);
	}
}

/* Posts {"text": text} with text in Slack's markup: 0 when the webhook
 * answered 2xx, -1 (logged) otherwise. */
static int
post(const struct hook *h, const char *what, const char *text)
{
	struct httpc_request	 rq;
	struct httpc_response	 rs;
	struct json_object	*o = NULL;
	struct buf		 esc = { 0 };
	struct err		 e = { 0 };
	const char		*body;
	int			 ret = -1;

	slack_escape(&esc, text);
	if (esc.failed || esc.len == 0 ||
	    (o = json_object_new_object()) == NULL ||
	    codec_json_add(o, "text", json_object_new_string(esc.data)) == -1) {
		log_error(NULL, "%s: out of memory", what);
		goto out;
	}
	body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.url = h->conf->webhook_url;
	rq.content_type = "application/json";
	rq.body = body;
	rq.bodylen = strlen(body);
	rq.connect_timeout_ms = h->conf->webhook_timeout_ms;
	rq.timeout_ms = h->conf->webhook_timeout_ms;
	rq.max_response = WEBHOOK_RESPONSE_MAX;
	if (httpc_do(&rq, &rs, &e) == -1) {
		redact(e.msg, sizeof(e.msg), h->conf->webhook_url, h->origin);
		log_warn(NULL, "%s: webhook: %s", what, e.msg);
	} else if (rs.status < 200 || rs.status > 299)
		log_warn(NULL, "%s: webhook %s answered %ld", what,
		    h->origin, rs.status);
	else
		ret = 0;
	httpc_response_free(&rs);
out:
	json_object_put(o);
	buf_free(&esc);
	return ret;
}

static void
expired_text(struct buf *b, const struct cluster *c)
{
	char	since[UTIL_TIME_MAX], until[UTIL_TIME_MAX];

	util_time_fmt(c->since, since, sizeof(since));
	util_time_fmt(c->hold_until, until, sizeof(until));
	buf_printf(b, "CIMaster: the hold of cluster %s by %s", c->name,
	    c->user);
	if (since[0] != '\0' && c->reason[0] != '\0')
		buf_printf(b, " (since %s, reason: %s)", since, c->reason);
	else if (since[0] != '\0')
		buf_printf(b, " (since %s)", since);
	else if (c->reason[0] != '\0')
		buf_printf(b, " (reason: %s)", c->reason);
	buf_printf(b, " ended at %s; the cluster is vacant again.", until);
}

static void
warning_text(struct buf *b, const struct cluster *c, time_t now)
{
	char	until[UTIL_TIME_MAX];
	long	mins;

	util_time_fmt(c->hold_until, until, sizeof(until));
	/* Rounded up: "in 0 minutes" would read as "already over". */
	mins = (long)((c->hold_until - now + SECONDS_PER_MINUTE - 1) /
	    SECONDS_PER_MINUTE);
	buf_printf(b, "CIMaster: the hold of cluster %s by %s ends at %s "
	    "(in %ld minute%s), then the cluster is released. To keep it, "
	    "hold it again: hold?cluster=%s&hours=N", c->name, c->user, until,
	    mins, mins == 1 ? "" : "s", c->name);
}

/* The text of one message, or NULL (logged) when it cannot be built. */
static const char *
message(struct buf *b, const struct cluster *c, int warning, time_t now)
{
	buf_reset(b);
	if (warning)
		warning_text(b, c, now);
	else
		expired_text(b, c);
	if (b->failed || b->len == 0 || b->len > MESSAGE_MAX) {
		log_error(NULL, "%s: cannot build the message", c->name);
		return NULL;
	}
	return b->data;
}

/* The holds due a warning in l, in list order: 0, or -1 (allocation). */
static int
due_warnings(const struct cluster_list *l, time_t now, long warn_seconds,
    struct cluster_list *due)
{
	size_t	i;

	for (i = 0; i < l->len; i++)
		if (cluster_warn_due(&l->items[i], now, warn_seconds) &&
		    cluster_list_push(due, &l->items[i]) == -1)
			return -1;
	return 0;
}

static int
dry_run(struct store *s, const struct cfg *conf)
{
	struct cluster_list	 l = { 0 }, due = { 0 };
	struct run		 r;
	struct err		 e = { 0 };
	char			 since[UTIL_TIME_MAX], until[UTIL_TIME_MAX];
	char			 user[CLUSTER_TEXT_MAX + 1];
	char			 reason[CLUSTER_TEXT_MAX + 1];
	const struct cluster	*c;
	const struct creation	*k;
	size_t			 i;
	int			 ret = 1;

	memset(&r, 0, sizeof(r));
	if (store_read(s, &l, &e) == -1) {
		fprintf(stderr, "cimaster-expire: cannot read the store: %s\n",
		    e.msg);
		goto out;
	}
	/* The real transition on a copy that is never written back. */
	if (expire_txn(&l, &r, time(NULL), &e) == CLUSTER_FAILED) {
		fprintf(stderr, "cimaster-expire: %s\n", e.msg);
		goto out;
	}
	for (i = 0; i < r.released.len; i++) {
		c = &r.released.items[i];
		util_time_fmt(c->since, since, sizeof(since));
		util_time_fmt(c->hold_until, until, sizeof(until));
		printf("would release %s: held by %s since %s until %s, "
		    "reason \"%s\"\n", c->name,
		    clean(c->user, user, sizeof(user)),
		    since[0] != '\0' ? since : "unknown", until,
		    clean(c->reason, reason, sizeof(reason)));
	}
	if (conf->webhook_url[0] != '\0' && due_warnings(&l, r.now,
	    (long)conf->warn_minutes * SECONDS_PER_MINUTE, &due) == -1) {
		fprintf(stderr, "cimaster-expire: out of memory\n");
		goto out;
	}
	for (i = 0; i < due.len; i++) {
		c = &due.items[i];
		util_time_fmt(c->hold_until, until, sizeof(until));
		printf("would warn %s: the hold of %s ends at %s\n",
		    clean(c->user, user, sizeof(user)), c->name, until);
	}
	for (i = 0; i < r.forgotten.len; i++) {
		k = &r.forgotten.items[i];
		util_time_fmt(k->expires, until, sizeof(until));
		printf("would forget creation %s: job %s for %s, expired %s\n",
		    k->id[0] != '\0' ? k->id : "(never answered)",
		    clean(k->job, reason, sizeof(reason)),
		    clean(k->user, user, sizeof(user)), until);
	}
	printf("dry run: %zu to release, %zu to warn, %zu creations to "
	    "forget; nothing written, nothing sent\n", r.released.len,
	    due.len, r.forgotten.len);
	ret = 0;
out:
	cluster_list_free(&due);
	cluster_list_free(&l);
	run_free(&r);
	return ret;
}

/* What the webhook part of a run did, for the closing log line. */
struct tally {
	size_t	sent;		/* warnings delivered */
	size_t	failed;		/* posts that failed */
};

/*
 * The webhook part of a run, after the release was committed: a message
 * per released hold (best-effort: the cluster is vacant whatever the
 * webhook says, so it is not tried again), then a warning per hold due
 * one, and a transaction that records only the warnings delivered.  0, or
 * -1 when the store could not record them.
 */
static int
notify(struct store *s, const struct cfg *conf, const struct run *r,
    const struct cluster_list *after, struct tally *t)
{
	struct cluster_list	 due = { 0 }, sent = { 0 };
	struct marks		 m;
	struct hook		 h;
	struct buf		 b = { 0 };
	struct err		 e = { 0 };
	const struct cluster	*c;
	const char		*text;
	size_t			 i;
	int			 ret = -1;

	memset(&h, 0, sizeof(h));
	h.conf = conf;
	url_origin(conf->webhook_url, h.origin, sizeof(h.origin));
	for (i = 0; i < r->released.len; i++) {
		c = &r->released.items[i];
		if ((text = message(&b, c, 0, r->now)) == NULL ||
		    post(&h, c->name, text) == -1) {
			log_warn(NULL, "%s: the message about its release "
			    "is not sent", c->name);
			t->failed++;
		}
	}
	if (due_warnings(after, r->now,
	    (long)conf->warn_minutes * SECONDS_PER_MINUTE, &due) == -1) {
		log_error(NULL, "out of memory");
		goto out;
	}
	for (i = 0; i < due.len; i++) {
		c = &due.items[i];
		if ((text = message(&b, c, 1, r->now)) == NULL ||
		    post(&h, c->name, text) == -1) {
			log_warn(NULL, "%s: the warning to %s is tried again "
			    "on the next run", c->name, c->user);
			t->failed++;
			continue;
		}
		log_info(NULL, "warned %s: the hold of %s ends soon", c->user,
		    c->name);
		if (cluster_list_push(&sent, c) == -1) {
			log_error(NULL, "out of memory");
			goto out;
		}
	}
	if (sent.len > 0) {
		m.sent = sent.items;
		m.n = sent.len;
		m.marked = 0;
		if (store_txn(s, mark_txn, &m, NULL, NULL, &e) == -1) {
			log_error(NULL, "recording %zu sent warning%s: %s "
			    "(the next run sends them again)", sent.len,
			    sent.len == 1 ? "" : "s", e.msg);
			goto out;
		}
	}
	t->sent = sent.len;
	ret = 0;
out:
	buf_free(&b);
	cluster_list_free(&sent);
	cluster_list_free(&due);
	return ret;
}

/*
 * The real run: one transaction releases, then the webhook hears of it.
 * Runs that overlap may both warn about the same hold (the post sits
 * between the two transactions); never both release it.
 */
static int
expire(struct store *s, const struct cfg *conf)
{
	struct cluster_list	 after = { 0 };
	struct run		 r;
	struct tally		 t = { 0, 0 };
	struct err		 e = { 0 };
	size_t			 i;
	int			 ret = 1;

	memset(&r, 0, sizeof(r));
	if (store_txn(s, expire_txn, &r, NULL, &after, &e) == -1) {
		log_error(NULL, "releasing expired holds: %s", e.msg);
		goto out;
	}
	for (i = 0; i < r.released.len; i++)
		log_released(&r.released.items[i]);
	for (i = 0; i < r.forgotten.len; i++)
		log_forgotten(&r.forgotten.items[i]);
	if (conf->webhook_url[0] != '\0' &&
	    notify(s, conf, &r, &after, &t) == -1)
		goto out;
	log_info(NULL, "%zu hold%s released, %zu warning%s sent%s",
	    r.released.len, r.released.len == 1 ? "" : "s", t.sent,
	    t.sent == 1 ? "" : "s", t.failed > 0 ?
	    ", some webhook posts failed" : "");
	ret = 0;
out:
	cluster_list_free(&after);
	run_free(&r);
	return ret;
}

int
main(int argc, char *argv[])
{
	static const struct option	longopts[] = {
		{ "dry-run", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct cfg		conf;
	struct privs			pv;
	struct store			s;
	struct err			e = { 0 };
	const char			*path = CFG_DEFAULT_PATH;
	int				ch, dry = 0, rc;

	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			dry = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("cimaster-expire", LOG_LEVEL_INFO);
	cfg_defaults(&conf);
	if (cfg_load(&conf, path, &e) == -1) {
		fprintf(stderr, "cimaster-expire: %s\n", e.msg);
		return 1;
	}
	log_init("cimaster-expire", (enum log_level)conf.log_level);
	if (privs_lookup(&conf, &pv, &e) == -1 ||
	    privs_drop(&conf, &pv, &e) == -1)
		fatal("%s", e.msg);
	if (httpc_global_init() == -1)
		fatal("libcurl initialisation failed");
	if (store_open(&s, &conf, &e) == -1)
		fatal("store: %s", e.msg);
	rc = dry ? dry_run(&s, &conf) : expire(&s, &conf);
	store_close(&s);
	return rc;
}
