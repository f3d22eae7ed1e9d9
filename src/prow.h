/*
 * prow: starts an allow-listed Prow job through one of two dialects
 * (gangway's REST API or a manual-trigger endpoint), over httpc_do().
 * Nothing is retried but one 401 (after re-reading the token).
 */
#ifndef CIMASTER_PROW_H
#define CIMASTER_PROW_H

#include "cfg.h"
#include "errors.h"

#define PROW_ID_MAX	256	/* longest job id / ProwJob name we keep */

struct prow_result {
	char	id[PROW_ID_MAX + 1];	/* gangway id or ProwJob name */
};

/*
 * Starts job for user on branch.  0 with out->id set; -1 with
 * ERR_BAD_PARAM (job not allowed, empty user or branch, branch other than
 * a post/presubmit's base_ref) before anything is sent, or ERR_PROW
 * (Prow unreachable or answering an error or no id).
 */
int	prow_create(const struct cfg *c, const char *job, const char *user,
	    const char *branch, struct prow_result *out, struct err *e);

#endif
