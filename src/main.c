/*
 * main: cimaster, the FastCGI server.  Loads and checks the
 * configuration, opens (or inherits on fd 0) the listening socket, drops
 * root, and hands over to the pre-forking parent.  The loaded
 * configuration is the one global, read-only in the workers.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cfg.h"
#include "httpc.h"
#include "log.h"
#include "metrics.h"
#include "prefork.h"
#include "privs.h"
#include "router.h"
#include "store.h"
#include "worker.h"

static struct cfg	conf;		/* replaced only by reload, in the parent */

struct server {
	int	listen_fd;
	int	created;		/* we made the socket file */
};

static void
usage(void)
{
	fprintf(stderr, "usage: cimaster [-n] [-c file]\n"
	    "  -c file  configuration (default %s)\n"
	    "  -n       check the configuration and exit\n", CFG_DEFAULT_PATH);
	exit(2);
}

/* A listening socket on fd 0 is how systemd and spawn-fcgi hand one
 * over. */
static int
inherited_socket(void)
{
	int		acc = 0;
	socklen_t	len = sizeof(acc);

	if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == -1)
		return 0;
	return acc;
}

/* The group nginx is in, given the socket so that it can connect. */
static gid_t
socket_gid(const struct cfg *c, const struct privs *p)
{
	struct group	*gr;

	if (c->socket_group[0] == '\0')
		return p->gid;
	if ((gr = getgrnam(c->socket_group)) == NULL)
		fatal("server.socket_group %s: no such group", c->socket_group);
	return gr->gr_gid;
}

static int
open_socket(const struct cfg *c, gid_t sgid, uid_t uid)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(c->socket) >= sizeof(sun.sun_path))
		fatal("server.socket %s: path too long", c->socket);
	memcpy(sun.sun_path, c->socket, strlen(c->socket) + 1);
	/* A socket left by a crash; never remove anything else. */
	if (lstat(c->socket, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(c->socket);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket: %s", strerror(errno));
	/* Only the owner and the group (nginx) may connect: the
	 * application trusts REMOTE_USER because of this. */
	umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s: %s", c->socket, strerror(errno));
	umask(0022);
	if (chown(c->socket, uid, sgid) == -1)
		fatal("chown %s: %s", c->socket, strerror(errno));
	if (chmod(c->socket, 0660) == -1)
		fatal("chmod %s: %s", c->socket, strerror(errno));
	if (listen(fd, c->backlog) == -1)
		fatal("listen %s: %s", c->socket, strerror(errno));
	return fd;
}

static int
run_worker(void *arg)
{
	struct server	*srv = arg;

	return worker_run(srv->listen_fd, &conf);
}

static int
reload(void *arg)
{
	struct cfg	next;
	struct err	e;

	(void)arg;
	cfg_defaults(&next);
	if (cfg_load(&next, conf.path, &e) == -1) {
		log_error(NULL, "reload refused, keeping the running "
		    "configuration: %s", e.msg);
		return -1;
	}
	/* The socket and the user were fixed at start, before root was
	 * given up. */
	if (strcmp(next.socket, conf.socket) != 0 ||
	    strcmp(next.user, conf.user) != 0)
		log_warn(NULL, "server.socket and server.user take effect "
		    "only at restart");
	memcpy(next.socket, conf.socket, sizeof(next.socket));
	memcpy(next.user, conf.user, sizeof(next.user));
	conf = next;
	log_init("cimaster", (enum log_level)conf.log_level);
	return conf.workers;
}

int
main(int argc, char *argv[])
{
	struct prefork_opts	 o;
	struct server		 srv = { -1, 0 };
	struct privs		 pv;
	struct store		 s;
	struct err		 e;
	const char		*path = CFG_DEFAULT_PATH;
	const char		*paths[METRICS_PATHS_MAX];
	size_t			 npaths;
	gid_t			 sgid;
	int			 ch, check = 0, rc;

	while ((ch = getopt(argc, argv, "c:nh")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("cimaster", LOG_LEVEL_INFO);
	cfg_defaults(&conf);
	if (cfg_load(&conf, path, &e) == -1) {
		fprintf(stderr, "cimaster: %s\n", e.msg);
		return 1;
	}
	if (check) {
		printf("%s: configuration ok\n", path);
		return 0;
	}
	log_init("cimaster", (enum log_level)conf.log_level);
	/* libcurl's global state is set up once, before any fork. */
	if (httpc_global_init() == -1)
		fatal("libcurl initialisation failed");
	if (privs_lookup(&conf, &pv, &e) == -1)
		fatal("%s", e.msg);
	sgid = socket_gid(&conf, &pv);
	if (inherited_socket()) {
		srv.listen_fd = 0;
		log_info(NULL, "using the socket inherited on fd 0");
	} else {
		srv.listen_fd = open_socket(&conf, sgid, pv.uid);
		srv.created = 1;
		log_info(NULL, "listening on %s", conf.socket);
	}
	if (privs_drop(&conf, &pv, &e) == -1)
		fatal("%s", e.msg);
	/* A store that cannot even be opened is a configuration error:
	 * say so now rather than in every worker. */
	if (store_open(&s, &conf, &e) == -1)
		fatal("store: %s", e.msg);
	store_close(&s);
	/* Before the first fork: every worker, and every one respawned
	 * or reloaded later, inherits the one page and counts into it. */
	npaths = router_paths(paths, METRICS_PATHS_MAX);
	if (metrics_open(paths, npaths, &e) == -1)
		fatal("%s", e.msg);

	memset(&o, 0, sizeof(o));
	o.worker_main = run_worker;
	o.reload = reload;
	o.arg = &srv;
	o.workers = conf.workers;
	o.grace_seconds = conf.grace_seconds;
	rc = prefork_run(&o);
	metrics_close();
	if (srv.created && unlink(conf.socket) == -1)
		log_warn(NULL, "removing %s: %s (the next start replaces it)",
		    conf.socket, strerror(errno));
	log_info(NULL, "stopped");
	return rc;
}
