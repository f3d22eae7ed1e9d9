/*
 * metrics: one struct of counters in a MAP_SHARED mapping the parent makes
 * before it forks, so every worker (and every respawned one) adds to the
 * same page; relaxed atomic adds, no locks.  The page is rendered into the
 * caller's struct buf with gauges from the cluster list it is given.
 */
#include "config.h"

#include <sys/mman.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "errors.h"
#include "metrics.h"
#include "util.h"

#define METRICS_NPATHS	METRICS_PATHS_MAX

/* The statuses cimaster and its errors table answer; anything else is
 * "other", so the label set stays fixed. */
static const int metrics_codes[] = {
	200, 202, 400, 403, 404, 405, 409, 413, 500, 502, 503,
};
#define METRICS_NCODES	(sizeof(metrics_codes) / sizeof(metrics_codes[0]))
#define METRICS_OTHER	"other"

/* Upper bounds of the latency buckets, in microseconds and as the le
 * label; a request above the last one is in +Inf only. */
static const struct {
	long		 usec;
	const char	*le;
} metrics_buckets[] = {
	{ 5000, "0.005" }, { 10000, "0.01" }, { 25000, "0.025" },
	{ 50000, "0.05" }, { 100000, "0.1" }, { 250000, "0.25" },
	{ 500000, "0.5" }, { 1000000, "1" }, { 2500000, "2.5" },
	{ 5000000, "5" }, { 10000000, "10" },
};
#define METRICS_NBUCKETS (sizeof(metrics_buckets) / sizeof(metrics_buckets[0]))

static const char *const metrics_store_outcomes[METRICS_STORE__MAX] = {
	[METRICS_STORE_OK] = "ok",
	[METRICS_STORE_REFUSED] = "refused",
	[METRICS_STORE_FAILED] = "failed",
	[METRICS_STORE_BUSY] = "busy",
};

static const char *const metrics_prow_outcomes[METRICS_PROW__MAX] = {
	[METRICS_PROW_STARTED] = "started",
	[METRICS_PROW_REFUSED] = "refused",
	[METRICS_PROW_PENDING] = "pending",
};

/* Everything in the shared page.  Index METRICS_NPATHS / METRICS_NCODES
 * is "other"; duration[] holds per-bucket counts (made cumulative when
 * rendered) with +Inf last, so +Inf always equals _count. */
struct metrics {
	unsigned long	requests[METRICS_NPATHS + 1][METRICS_NCODES + 1];
	unsigned long	duration[METRICS_NBUCKETS + 1];
	unsigned long	duration_usec;
	unsigned long	store[METRICS_STORE__MAX];
	unsigned long	prow[METRICS_PROW__MAX];
};

/* The shared page (STYLE 6); NULL when none was mapped. */
static struct metrics	*metrics_page;
/* The route table's paths (borrowed, static storage), set before the
 * fork like the page. */
static const char	*metrics_paths[METRICS_NPATHS];
static size_t		 metrics_npaths;
/* What the page shows without one. */
static const struct metrics	metrics_zero;

int
metrics_open(const char *const *paths, size_t npaths, struct err *e)
{
	void	*p;
	size_t	 i;

	if (metrics_page != NULL)
		return 0;
	if (npaths > METRICS_NPATHS)
		return errors_set(e, ERR_INTERNAL, "metrics: %zu paths, room "
		    "for %d", npaths, METRICS_PATHS_MAX);
	for (i = 0; i < npaths; i++)
		metrics_paths[i] = paths[i];
	metrics_npaths = npaths;
	p = mmap(NULL, sizeof(*metrics_page), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return errors_set(e, ERR_INTERNAL, "metrics: mmap: %s",
		    strerror(errno));
	metrics_page = p;		/* the kernel zeroed it */
	return 0;
}

void
metrics_close(void)
{
	if (metrics_page == NULL)
		return;
	(void)munmap(metrics_page, sizeof(*metrics_page));
	metrics_page = NULL;
	metrics_npaths = 0;
}

static void
metrics_add(unsigned long *c, unsigned long n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* A torn read across counters is fine for a scrape; a torn counter is
 * not, hence the atomic load. */
static unsigned long
metrics_get(const unsigned long *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

void
metrics_count_request(const char *path, int status, long usec)
{
	size_t	p, c, b;

	if (metrics_page == NULL)
		return;
	if (usec < 0)
		usec = 0;	/* the monotonic clock cannot, but be sure */
	for (p = 0; path != NULL && p < metrics_npaths; p++)
		if (strcmp(metrics_paths[p], path) == 0)
			break;
	if (path == NULL || p == metrics_npaths)
		p = METRICS_NPATHS;
	for (c = 0; c < METRICS_NCODES; c++)
		if (metrics_codes[c] == status)
			break;
	for (b = 0; b < METRICS_NBUCKETS; b++)
		if (usec <= metrics_buckets[b].usec)
			break;
	metrics_add(&metrics_page->requests[p][c], 1);
	metrics_add(&metrics_page->duration[b], 1);
	metrics_add(&metrics_page->duration_usec, (unsigned long)usec);
}

void
metrics_count_store(enum metrics_store ev)
{
	if (metrics_page != NULL && (unsigned)ev < METRICS_STORE__MAX)
		metrics_add(&metrics_page->store[ev], 1);
}

void
metrics_count_prow(enum metrics_prow ev)
{
	if (metrics_page != NULL && (unsigned)ev < METRICS_PROW__MAX)
		metrics_add(&metrics_page->prow[ev], 1);
}

int
metrics_escape_label(struct buf *out, const char *s)
{
	const char	*p, *run;
	const char	*esc;

	for (p = run = s; *p != '\0'; p++) {
		switch (*p) {
		case '\\':
			esc = "\\\\";
			break;
		case '"':
			esc = "\\\"";
			break;
		case '\n':
			esc = "\\n";
			break;
		default:
			continue;
		}
		if (p > run && buf_append(out, run, (size_t)(p - run)) == -1)
			return -1;
		if (buf_puts(out, esc) == -1)
			return -1;
		run = p + 1;
	}
	if (p > run && buf_append(out, run, (size_t)(p - run)) == -1)
		return -1;
	return 0;
}

/* The # HELP and # TYPE lines every family starts with. */
static void
metrics_family(struct buf *out, const char *name, const char *type,
    const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

static void
metrics_render_requests(struct buf *out, const struct metrics *m)
{
	unsigned long	n, cum = 0;
	size_t		p, c, b;

	metrics_family(out, "cimaster_requests_total", "counter",
	    "Requests answered, by route path and HTTP status (\"other\": "
	    "no such route, or a status not listed).");
	/* Only the pairs seen: 15 paths by 12 codes of zeros would drown
	 * the page. */
	for (p = 0; p <= METRICS_NPATHS; p++)
		for (c = 0; c <= METRICS_NCODES; c++) {
			if ((n = metrics_get(&m->requests[p][c])) == 0)
				continue;
			buf_puts(out, "cimaster_requests_total{path=\"");
			(void)metrics_escape_label(out, p < metrics_npaths ?
			    metrics_paths[p] : METRICS_OTHER);
			if (c < METRICS_NCODES)
				buf_printf(out, "\",code=\"%d\"} %lu\n",
				    metrics_codes[c], n);
			else
				buf_printf(out, "\",code=\"%s\"} %lu\n",
				    METRICS_OTHER, n);
		}

	metrics_family(out, "cimaster_request_duration_seconds", "histogram",
	    "Time from routing a request to its response being ready.");
	for (b = 0; b < METRICS_NBUCKETS; b++) {
		cum += metrics_get(&m->duration[b]);
		buf_printf(out, "cimaster_request_duration_seconds_bucket"
		    "{le=\"%s\"} %lu\n", metrics_buckets[b].le, cum);
	}
	cum += metrics_get(&m->duration[METRICS_NBUCKETS]);
	n = metrics_get(&m->duration_usec);
	buf_printf(out, "cimaster_request_duration_seconds_bucket"
	    "{le=\"+Inf\"} %lu\n", cum);
	buf_printf(out, "cimaster_request_duration_seconds_sum %lu.%06lu\n",
	    n / 1000000, n % 1000000);
	buf_printf(out, "cimaster_request_duration_seconds_count %lu\n", cum);
}

static void
metrics_render_store(struct buf *out, const struct metrics *m)
{
	size_t	i;

	metrics_family(out, "cimaster_store_transactions_total", "counter",
	    "Store transactions by how they ended (refused: the transition "
	    "answered an API error such as no_vacant_cluster).");
	for (i = METRICS_STORE_OK; i < METRICS_STORE__MAX; i++)
		buf_printf(out, "cimaster_store_transactions_total"
		    "{outcome=\"%s\"} %lu\n", metrics_store_outcomes[i],
		    metrics_get(&m->store[i]));
	metrics_family(out, "cimaster_store_attempts_total", "counter",
	    "Load, transition and replace rounds of store transactions.");
	buf_printf(out, "cimaster_store_attempts_total %lu\n",
	    metrics_get(&m->store[METRICS_STORE_ATTEMPT]));
	metrics_family(out, "cimaster_store_conflicts_total", "counter",
	    "Transaction attempts that another writer beat to the store.");
	buf_printf(out, "cimaster_store_conflicts_total %lu\n",
	    metrics_get(&m->store[METRICS_STORE_CONFLICT]));
	metrics_family(out, "cimaster_store_unavailable_total", "counter",
	    "Transaction attempts that met a transient store failure.");
	buf_printf(out, "cimaster_store_unavailable_total %lu\n",
	    metrics_get(&m->store[METRICS_STORE_UNAVAILABLE]));

	metrics_family(out, "cimaster_prow_requests_total", "counter",
	    "Requests for a new cluster (createcluster, auto-provisioning) "
	    "by what Prow did: started, refused (or unreachable), or pending "
	    "(an identical creation answered).");
	for (i = 0; i < METRICS_PROW__MAX; i++)
		buf_printf(out, "cimaster_prow_requests_total"
		    "{outcome=\"%s\"} %lu\n", metrics_prow_outcomes[i],
		    metrics_get(&m->prow[i]));
}

/* One purpose's clusters by status. */
struct metrics_purpose {
	const char	*purpose;	/* borrowed from the list */
	unsigned long	 n[CLUSTER_STATUS__MAX];
};

static int
metrics_purpose_cmp(const void *a, const void *b)
{
	const struct metrics_purpose	*x = a, *y = b;

	return strcmp(x->purpose, y->purpose);
}

/* The cluster gauges of l: every purpose present, all four statuses each
 * (zeros included, so a status that empties shows 0, not a gap). */
static int
metrics_render_clusters(struct buf *out, const struct cluster_list *l)
{
	struct metrics_purpose	*ps = NULL, *grown;
	size_t			 i, j, n = 0, cap = 0;
	unsigned		 s;
	int			 ret = -1;

	for (i = 0; i < l->len; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(ps[j].purpose, l->items[i].purpose) == 0)
				break;
		if (j == n) {
			if ((grown = util_array_grow(ps, n, &cap,
			    sizeof(*ps))) == NULL)
				goto out;
			ps = grown;
			memset(&ps[n], 0, sizeof(ps[n]));
			ps[n++].purpose = l->items[i].purpose;
		}
		if ((unsigned)l->items[i].status < CLUSTER_STATUS__MAX)
			ps[j].n[l->items[i].status]++;
	}
	if (n > 1)
		qsort(ps, n, sizeof(*ps), metrics_purpose_cmp);
	metrics_family(out, "cimaster_clusters", "gauge",
	    "Clusters in the store by purpose and status.");
	for (j = 0; j < n; j++)
		for (s = 0; s < CLUSTER_STATUS__MAX; s++) {
			buf_puts(out, "cimaster_clusters{purpose=\"");
			(void)metrics_escape_label(out, ps[j].purpose);
			buf_printf(out, "\",status=\"%s\"} %lu\n",
			    cluster_status_str((enum cluster_status)s),
			    ps[j].n[s]);
		}
	ret = 0;
out:
	free(ps);
	return ret;
}

int
metrics_render(struct buf *out, const struct cluster_list *l, time_t now,
    int workers)
{
	const struct metrics	*m;
	unsigned long		 pending = 0;
	size_t			 i;

	m = metrics_page != NULL ? metrics_page : &metrics_zero;
	metrics_render_requests(out, m);
	metrics_render_store(out, m);

	metrics_family(out, "cimaster_store_up", "gauge",
	    "1 when this scrape could read the store, else 0.");
	buf_printf(out, "cimaster_store_up %d\n", l != NULL);
	if (l != NULL) {
		if (metrics_render_clusters(out, l) == -1)
			return -1;
		for (i = 0; i < l->creations.len; i++)
			if (l->creations.items[i].expires > now)
				pending++;
		metrics_family(out, "cimaster_creations_pending", "gauge",
		    "Cluster creations asked of Prow and not yet added.");
		buf_printf(out, "cimaster_creations_pending %lu\n", pending);
	}
	metrics_family(out, "cimaster_workers_configured", "gauge",
	    "Worker processes the configuration asks for.");
	buf_printf(out, "cimaster_workers_configured %d\n", workers);
	return out->failed ? -1 : 0;
}
