/*
 * prefork: the parent process.  Forks the workers, respawns one that
 * dies, reloads on SIGHUP and stops gracefully on SIGTERM.  It knows
 * nothing of FastCGI: a worker is a function it runs in each child.
 */
#ifndef CIMASTER_PREFORK_H
#define CIMASTER_PREFORK_H

struct prefork_opts {
	/* Runs in each child; its return value is the child's exit
	 * status.  Signals arrive with default masks restored. */
	int	(*worker_main)(void *arg);
	/* In the parent on SIGHUP: re-reads the configuration; returns
	 * the new number of workers, or -1 to keep the old ones. */
	int	(*reload)(void *arg);
	void	*arg;
	int	 workers;
	int	 grace_seconds;
};

/*
 * Runs until SIGTERM or SIGINT: then each worker gets SIGTERM (finish the
 * current request, then exit), again every second, and SIGKILL after
 * grace_seconds.  Returns 0 when every worker ended in time, 1 otherwise.
 */
int	prefork_run(struct prefork_opts *o);

/* In a worker: 1 once the parent asked it to stop. */
int	prefork_stopping(void);

#endif
