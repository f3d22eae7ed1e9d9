/*
 * prow: starts an allow-listed Prow job through one of two dialects
 * (gangway's REST API or a manual-trigger endpoint), over httpc_do().
 * Nothing is retried but one 401 (after re-reading the token).
 */
#ifndef CIMASTER_PROW_H
#define CIMASTER_PROW_H

#include "cfg.h"
#include "errors.h"

/* Longest job id: a Kubernetes object name's limit, as a ProwJob is named. */
#define PROW_ID_MAX	253

struct prow_result {
	char	id[PROW_ID_MAX + 1];	/* gangway id or ProwJob name */
};

/*
 * 1 when s is an id Prow may give us and we may store and echo: a
 * DNS-1123 subdomain (gangway's UUIDs and ProwJob names both are) of at
 * most PROW_ID_MAX characters; 0 otherwise, NULL included.  Exported
 * so that params and codec can check ids by the same rule.
 */
int	prow_id_valid(const char *s);

/*
 * The refusals that need no Prow: job on the allow-list, user and branch
 * not empty, branch the base_ref of a post/presubmit, Prow configured.
 * The job's entry (borrowed from c), or NULL with ERR_BAD_PARAM naming the
 * parameter (ERR_PROW when prow.url is empty).
 */
const struct cfg_prow_job *prow_job_check(const struct cfg *c,
	    const char *job, const char *user, const char *branch,
	    struct err *e);

/*
 * Starts job for user on branch.  0 with out->id set (prow_id_valid());
 * -1 with ERR_BAD_PARAM (job not allowed, empty user or branch, branch
 * other than a post/presubmit's base_ref) before anything is sent, or
 * ERR_PROW (Prow unreachable, answering an error, or no valid id).
 */
int	prow_create(const struct cfg *c, const char *job, const char *user,
	    const char *branch, struct prow_result *out, struct err *e);

#endif
