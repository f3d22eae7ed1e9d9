/*
 * params: the validation table.  Every API parameter has one row: name,
 * kind and limits.  params_validate() turns decoded pairs into a struct of
 * checked values; handlers never see a raw string.
 */
#ifndef CIMASTER_PARAMS_H
#define CIMASTER_PARAMS_H

#include "cluster.h"
#include "errors.h"
#include "http.h"

enum param_id {
	PARAM_CLUSTER,
	PARAM_PURPOSE,
	PARAM_OS,
	PARAM_BUILD,
	PARAM_JOB,
	PARAM_USER,
	PARAM_BRANCH,
	PARAM_REASON,
	PARAM_HOURS,
	PARAM_FORCE,
	PARAM_STATUS,
	PARAM_NAME,
	PARAM_FORMAT,
	PARAM_CREATION,
	PARAM__MAX
};

#define PARAM_BIT(id)	(1u << (id))

struct params {
	unsigned	present;	/* PARAM_BIT of each one given */
	char		cluster[CLUSTER_NAME_MAX + 1];
	char		purpose[CLUSTER_LABEL_MAX + 1];
	char		os[CLUSTER_LABEL_MAX + 1];
	char		build[CLUSTER_TEXT_MAX + 1];
	char		job[CLUSTER_TEXT_MAX + 1];
	char		user[CLUSTER_TEXT_MAX + 1];
	char		branch[CLUSTER_TEXT_MAX + 1];
	char		reason[CLUSTER_TEXT_MAX + 1];
	long		hours;
	int		force;
	enum cluster_status status;
	char		name[CLUSTER_NAME_MAX + 1];	/* list filter */
	char		format[8];
	char		creation[CREATION_ID_MAX + 1];	/* add */
};

/*
 * Checks the pairs in in whose names are in allowed (PARAM_BIT mask;
 * others are ignored, as the API says unknown parameters are) and fills
 * out.  Every bit of required must be present.  hours is checked against
 * 1..max_hours.  Returns 0, or -1 with ERR_BAD_PARAM and a message naming
 * the parameter.
 */
int	params_validate(const struct http_params *in, unsigned allowed,
	    unsigned required, long max_hours, struct params *out,
	    struct err *e);
/* Checks one value of parameter id (REMOTE_USER goes through
 * PARAM_USER): 0 or -1 with ERR_BAD_PARAM. */
int	params_check(enum param_id id, const char *value, long max_hours,
	    struct err *e);
const char *params_name(enum param_id id);

#endif
