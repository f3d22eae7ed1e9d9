/*
 * cfg: the libconfig file shared by cimaster and cimaster-expire.  Every
 * key is checked against one schema table: an unknown key, a wrong type or
 * a value out of range is an error with file:line.  The loaded struct owns
 * copies of every string (libconfig's die with config_destroy()).
 */
#ifndef CIMASTER_CFG_H
#define CIMASTER_CFG_H

#include <limits.h>

#include "cluster.h"
#include "errors.h"

#define CFG_DEFAULT_PATH	"/etc/cimaster/cimaster.conf"
#define CFG_ADMINS_MAX		256
#define CFG_JOBS_MAX		64
#define CFG_STR_MAX		512
#define CFG_REF_MAX		255	/* org, repo, base_ref of a job's refs */
#define CFG_SHA_LEN		40	/* a full git commit id in hex */

enum cfg_backend {
	CFG_BACKEND_FILE,
	CFG_BACKEND_CONFIGMAP,
	CFG_BACKEND__MAX
};

enum cfg_retry_policy {
	CFG_RETRY_DEFAULT,	/* jittered exponential backoff to a deadline */
	CFG_RETRY_SEED,		/* the original: 3 attempts, 50-200 ms sleeps */
	CFG_RETRY__MAX
};

enum cfg_prow_dialect {
	CFG_PROW_GANGWAY,
	CFG_PROW_MANUAL_TRIGGER,
	CFG_PROW__MAX
};

struct cfg_prow_job {
	char	name[CLUSTER_TEXT_MAX + 1];
	char	type[16];	/* periodic, postsubmit, presubmit */
	/* refs: all "" for a periodic job, all set for the others */
	char	org[CFG_REF_MAX + 1];
	char	repo[CFG_REF_MAX + 1];
	char	base_ref[CFG_REF_MAX + 1];
	char	base_sha[CFG_SHA_LEN + 1];
	/* The purpose of the clusters the job builds ("" = not said), and
	 * how many of them auto-provisioning may bring about (0: never). */
	char	purpose[CLUSTER_LABEL_MAX + 1];
	long	max_clusters;
	/* The BRANCH auto-provisioning asks for ("" = base_ref, or master
	 * for a periodic job). */
	char	branch[CFG_REF_MAX + 1];
};

struct cfg {
	char	path[PATH_MAX];		/* the file this came from */

	/* server */
	char	socket[PATH_MAX];
	int	workers;		/* 1..256, default 4 */
	char	user[64];		/* default "cimaster" */
	char	socket_group[64];	/* "" = the user's primary group */
	int	grace_seconds;		/* 0..3600, default 120 */
	int	backlog;		/* 1..65535, default 128 */
	int	log_level;		/* enum log_level, default info */

	/* admins */
	char	admins[CFG_ADMINS_MAX][CLUSTER_TEXT_MAX + 1];
	int	nadmins;

	/* clusters */
	char	default_purpose[CLUSTER_LABEL_MAX + 1];
	int	hold_hours;		/* 1..max_hold_hours, default 6 */
	int	max_hold_hours;		/* 1..8760, default 72 */
	int	retry_after_seconds;	/* 1..3600, default 30 */

	/* store */
	enum cfg_backend	backend;
	char	file_path[PATH_MAX];
	char	cm_server[CFG_STR_MAX];
	char	cm_ca_file[PATH_MAX];
	char	cm_token_file[PATH_MAX];
	char	cm_namespace[CLUSTER_LABEL_MAX + 1];	/* "": the pod's */
	char	cm_name[CLUSTER_LABEL_MAX + 1];
	int	cm_create_if_missing;
	long	cm_connect_timeout_ms;	/* 100..60000, default 2000 */
	long	cm_timeout_ms;		/* 100..120000, default 10000 */
	long	cm_max_response_bytes;	/* 64 KiB..16 MiB, default 4 MiB */
	long	cm_token_reread_seconds; /* 1..3600, default 60 */
	char	lock_file[PATH_MAX];	/* the configmap backend's host lock */
	enum cfg_retry_policy	retry_policy;
	long	retry_attempts;		/* 0 = until the deadline */
	long	retry_base_ms;
	long	retry_cap_ms;
	long	retry_deadline_ms;

	/* prow */
	enum cfg_prow_dialect	prow_dialect;
	char	prow_url[CFG_STR_MAX];
	char	prow_token_file[PATH_MAX];
	char	prow_ca_file[PATH_MAX];	/* "" = the system's CAs */
	char	prow_gangway_path[CFG_STR_MAX];	/* default "/v1/executions" */
	long	prow_connect_timeout_ms; /* 100..60000, default 2000 */
	long	prow_timeout_ms;	/* 100..120000, default 10000 */
	long	prow_max_response_bytes; /* 1 KiB..16 MiB, default 64 KiB */
	long	prow_pending_minutes;	/* 1..10080, default 120 */
	long	prow_max_pending;	/* 1..1000, default 20 */
	int	prow_auto_provision;	/* default 0 */
	struct cfg_prow_job	prow_jobs[CFG_JOBS_MAX];
	int	nprow_jobs;

	/* expire */
	char	webhook_url[CFG_STR_MAX];
	int	warn_minutes;		/* 0..1440, default 30 */
	int	webhook_timeout_ms;	/* 100..60000, default 5000 */
};

/* Fills c with every default. */
void	cfg_defaults(struct cfg *c);
/* Reads path over the defaults: 0, or -1 with e->msg "path:line: what"
 * and c left unchanged (a failed reload keeps the old configuration). */
int	cfg_load(struct cfg *c, const char *path, struct err *e);
/* 1 when name is in the admin list. */
int	cfg_is_admin(const struct cfg *c, const char *name);
/* The allow-list entry of job name, or NULL; borrowed from c. */
const struct cfg_prow_job *cfg_prow_job(const struct cfg *c,
	    const char *name);
/* The job that builds clusters of purpose (at most one per purpose), or
 * NULL; borrowed from c. */
const struct cfg_prow_job *cfg_prow_job_for(const struct cfg *c,
	    const char *purpose);

#endif
