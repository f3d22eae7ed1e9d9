/*
 * router: the route table and the single request path: route, method,
 * identity, parameter validation, handler, error rendering, one log line.
 * Every outcome becomes a response; nothing here touches the store.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "cfg.h"
#include "handlers.h"
#include "log.h"
#include "metrics.h"
#include "params.h"
#include "render.h"
#include "router.h"

/* HEAD only where it changes nothing: "curl -I getvacant" must not take
 * a cluster whose name nobody sees. */
#define M_GET	(1u << HTTP_GET | 1u << HTTP_HEAD)
#define M_VERB	(1u << HTTP_GET | 1u << HTTP_POST)
#define M_POST	(1u << HTTP_POST)

#define B(x)	PARAM_BIT(PARAM_##x)

static const struct route {
	const char	*path;
	handler_fn	 fn;
	unsigned	 methods;
	int		 admin;
	int		 html;		/* a page: browsers get HTML */
	unsigned	 allowed;	/* besides format */
	unsigned	 required;
} routes[] = {
	{ "/", handlers_list, M_GET, 0, 1,
	    B(PURPOSE) | B(STATUS) | B(NAME), 0 },
	{ "/clusters", handlers_list, M_GET, 0, 1,
	    B(PURPOSE) | B(STATUS) | B(NAME), 0 },
	{ "/getvacant", handlers_getvacant, M_VERB, 0, 0,
	    B(BUILD) | B(JOB) | B(PURPOSE) | B(OS), B(BUILD) | B(JOB) },
	{ "/finish", handlers_finish, M_VERB, 0, 0,
	    B(CLUSTER) | B(BUILD), B(CLUSTER) },
	{ "/hold", handlers_hold, M_VERB, 0, 0,
	    B(CLUSTER) | B(USER) | B(HOURS) | B(REASON), B(CLUSTER) },
	{ "/release", handlers_release, M_VERB, 0, 0,
	    B(CLUSTER) | B(USER), B(CLUSTER) },
	{ "/createcluster", handlers_createcluster, M_VERB, 0, 0,
	    B(JOB) | B(BRANCH) | B(USER), B(JOB) | B(BRANCH) },
	{ "/add", handlers_add, M_POST, 1, 0,
	    B(CLUSTER) | B(PURPOSE) | B(OS) | B(CREATION),
	    B(CLUSTER) | B(PURPOSE) },
	{ "/delete", handlers_delete, M_POST, 1, 0,
	    B(CLUSTER) | B(FORCE), B(CLUSTER) },
	{ "/disable", handlers_disable, M_POST, 1, 0,
	    B(CLUSTER) | B(REASON), B(CLUSTER) },
	{ "/enable", handlers_enable, M_POST, 1, 0,
	    B(CLUSTER) | B(REASON), B(CLUSTER) },
	{ "/healthz", handlers_healthz, M_GET, 0, 0, 0, 0 },
	{ "/readyz", handlers_readyz, M_GET, 0, 0, 0, 0 },
	/* Always the Prometheus text format; format= is accepted and
	 * ignored, like on every other route that has one format. */
	{ "/metrics", handlers_metrics, M_GET, 0, 0, 0, 0 },
};

/* Microseconds on the monotonic clock: request durations. */
static long
mono_usec(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

size_t
router_paths(const char **out, size_t max)
{
	size_t	i, n = sizeof(routes) / sizeof(routes[0]);

	for (i = 0; i < n && i < max; i++)
		out[i] = routes[i].path;
	return n;
}

static const struct route *
route_find(const char *path)
{
	size_t	i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(routes[i].path, path) == 0)
			return &routes[i];
	return NULL;
}

/* Runs everything up to and including the handler; -1 with e set on an
 * API error. */
static int
dispatch(const struct route *rt, struct handler_ctx *h,
    const struct http_params *in, struct params *p,
    struct http_response *resp, struct err *e)
{
	const struct http_request	*r = h->req;

	if (!(rt->methods & (1u << r->method))) {
		resp->allow = rt->methods == M_VERB ? "GET, POST" :
		    rt->methods == M_POST ? "POST" : "GET, HEAD";
		return errors_set(e, ERR_METHOD_NOT_ALLOWED,
		    "%s takes %s", rt->path, resp->allow);
	}
	if (params_validate(in, rt->allowed | B(FORMAT), rt->required,
	    h->cfg->max_hold_hours, p, e) == -1)
		return -1;
	/* nginx vouches for REMOTE_USER; it still has to be a sane name. */
	if (r->remote_user[0] != '\0' &&
	    params_check(PARAM_USER, r->remote_user, 0, e) == -1)
		return -1;
	/* Admin rights come only from nginx's authentication, never from
	 * a user= anyone can type. */
	h->is_admin = r->remote_user[0] != '\0' &&
	    cfg_is_admin(h->cfg, r->remote_user);
	h->user = r->remote_user[0] != '\0' ? r->remote_user : p->user;
	if (rt->admin && !h->is_admin)
		return errors_set(e, ERR_NOT_ADMIN, "%s needs an admin; %s%s",
		    rt->path, r->remote_user[0] ? r->remote_user :
		    "no authenticated user", r->remote_user[0] ?
		    " is not in the admin list" : "");
	return rt->fn(h, resp, e);
}

void
router_handle(const struct cfg *c, struct store *s,
    const struct http_request *r, time_t (*clock)(void),
    struct http_response *resp)
{
	const struct route	*rt;
	struct http_params	 in = { 0 };
	struct params		 p;
	struct handler_ctx	 h;
	struct err		 e;
	long			 start;
	int			 rc;

	start = mono_usec();
	errors_clear(&e);
	memset(&h, 0, sizeof(h));
	h.cfg = c;
	h.store = s;
	h.req = r;
	h.p = &p;
	h.user = "";
	h.clock = clock;
	resp->status = 0;
	resp->format = HTTP_FMT_TEXT;
	resp->content_type = NULL;

	/* The format is needed even to render a bad request. */
	rc = http_request_params(r, &in, &e);
	resp->format = http_pick_format(r->accept,
	    http_params_get(&in, "format"));
	if (rc == 0 && r->bodylen > HTTP_BODY_MAX)
		rc = errors_set(&e, ERR_TOO_LARGE, "request body over %d bytes",
		    HTTP_BODY_MAX);
	rt = route_find(r->path);
	/* Only pages are HTML; verbs answer text even to browsers. */
	if (resp->format == HTTP_FMT_HTML && (rt == NULL || !rt->html))
		resp->format = HTTP_FMT_TEXT;
	if (rc == 0) {
		if (rt == NULL)
			rc = errors_set(&e, ERR_NOT_FOUND, "no endpoint %s",
			    r->path);
		else
			rc = dispatch(rt, &h, &in, &p, resp, &e);
	}
	if (rc == -1) {
		buf_reset(&resp->body);
		resp->content_type = NULL;	/* errors are in the format */
		/* A handler may have chosen the status (readyz: 503). */
		if (resp->status < 400)
			resp->status = errors_http_status(e.code);
		if (e.code == ERR_NO_VACANT ||
		    e.code == ERR_TOO_MANY_CREATIONS)
			resp->retry_after = c->retry_after_seconds;
		else if (e.code == ERR_STORE_BUSY)
			resp->retry_after = 1;
		(void)render_error(&resp->body, resp->format, &e);
	}
	metrics_count_request(rt != NULL ? rt->path : NULL, resp->status,
	    mono_usec() - start);
	log_info(r->request_id, "%s %s %d %s user=%s cluster=%s%s%s%s%s",
	    http_method_str(r->method), r->path, resp->status,
	    rc == -1 ? errors_code_str(e.code) : "ok",
	    h.user[0] ? h.user : "-", h.cluster[0] ? h.cluster : "-",
	    h.creation[0] ? " creation=" : "", h.creation,
	    rc == -1 ? ": " : "", rc == -1 ? e.msg : "");
	http_params_free(&in);
}
