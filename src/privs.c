/*
 * privs: the user lookup and the privilege drop shared by cimaster and
 * cimaster-expire, so that both give root up the same way: groups, then
 * group, then user, then proof that setuid(0) fails.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "errors.h"
#include "log.h"
#include "privs.h"

int
privs_lookup(const struct cfg *c, struct privs *p, struct err *e)
{
	struct passwd	*pw;

	p->root = getuid() == 0 || geteuid() == 0;
	p->uid = (uid_t)-1;
	p->gid = (gid_t)-1;
	if (!p->root)
		return 0;
	errno = 0;
	if ((pw = getpwnam(c->user)) == NULL)
		return errors_set(e, ERR_INTERNAL, "server.user %s: %s",
		    c->user, errno != 0 ? strerror(errno) : "no such user");
	if (pw->pw_uid == 0)
		return errors_set(e, ERR_INTERNAL, "server.user %s is root: "
		    "refusing", c->user);
	p->uid = pw->pw_uid;
	p->gid = pw->pw_gid;
	return 0;
}

int
privs_drop(const struct cfg *c, const struct privs *p, struct err *e)
{
	if (p->root) {
		/* Supplementary groups first: root's would survive setuid. */
		if (setgroups(1, &p->gid) == -1 || setgid(p->gid) == -1 ||
		    setuid(p->uid) == -1)
			return errors_set(e, ERR_INTERNAL, "switching to %s: "
			    "%s", c->user, strerror(errno));
		if (setuid(0) != -1)
			return errors_set(e, ERR_INTERNAL, "could regain root "
			    "after switching to %s", c->user);
		log_info(NULL, "running as %s", c->user);
	}
	if (getuid() == 0 || geteuid() == 0)
		return errors_set(e, ERR_INTERNAL, "still root: refusing to "
		    "run");
	return 0;
}
