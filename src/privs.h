/*
 * privs: who cimaster and cimaster-expire run as.  Started as root, each
 * looks server.user up first and gives root up for good before it
 * touches the store; started as anyone else (systemd's User=), it stays
 * who it is.
 */
#ifndef CIMASTER_PRIVS_H
#define CIMASTER_PRIVS_H

#include <sys/types.h>

#include "errors.h"

struct cfg;

struct privs {
	int	root;		/* started as root: privs_drop() switches */
	uid_t	uid;		/* server.user; (uid_t)-1 unless root */
	gid_t	gid;		/* its primary group; (gid_t)-1 unless root */
};

/* Looks server.user up when started as root: 0, or -1 with e set (no such
 * user, or a user with uid 0). */
int	privs_lookup(const struct cfg *c, struct privs *p, struct err *e);
/* Switches to p's user and group for good when started as root, then
 * checks that root cannot be regained: 0, or -1 with e set.  A process
 * that is still root afterwards, however it was started, is an error. */
int	privs_drop(const struct cfg *c, const struct privs *p, struct err *e);

#endif
