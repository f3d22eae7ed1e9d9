/*
 * prefork: a parent that only supervises.  Signals are blocked and taken
 * synchronously with sigtimedwait(), so there is no handler state in the
 * parent.  Workers get PR_SET_PDEATHSIG so none outlives its parent.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "prefork.h"

#define PREFORK_MAX		256
#define RESPAWN_FAST_SEC	1	/* a worker dying faster is throttled */

static volatile sig_atomic_t	worker_stop;

struct slot {
	pid_t	pid;		/* 0: empty */
	time_t	started;
};

static void
on_term(int sig)
{
	(void)sig;
	worker_stop = 1;
}

int
prefork_stopping(void)
{
	return worker_stop != 0;
}

static time_t
mono_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static pid_t
spawn(struct prefork_opts *o, const sigset_t *oldmask, pid_t parent)
{
	struct sigaction	sa;
	pid_t			pid;

	if ((pid = fork()) != 0) {
		if (pid == -1)
			log_error(NULL, "fork: %s", strerror(errno));
		return pid;
	}
	/* The child: die with the parent (fcgiwrap's orphans are the
	 * counter-example), and stop on SIGTERM at a request boundary. */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a worker blocked in accept() must wake up. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	_exit(o->worker_main(o->arg));
}

static void
signal_all(struct slot *slots, int n, int sig)
{
	int	i;

	for (i = 0; i < n; i++)
		if (slots[i].pid > 0)
			kill(slots[i].pid, sig);
}

/* Reaps every ended child; returns how many are still alive. */
static int
reap(struct slot *slots, int n, int stopping)
{
	pid_t	pid;
	int	i, status, alive = 0;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < n; i++) {
			if (slots[i].pid != pid)
				continue;
			slots[i].pid = 0;
			if (WIFSIGNALED(status))
				log_warn(NULL, "worker %ld killed by signal %d",
				    (long)pid, WTERMSIG(status));
			else if (WEXITSTATUS(status) != 0 || !stopping)
				log_info(NULL, "worker %ld exited with %d",
				    (long)pid, WEXITSTATUS(status));
		}
	}
	for (i = 0; i < n; i++)
		if (slots[i].pid > 0)
			alive++;
	return alive;
}

int
prefork_run(struct prefork_opts *o)
{
	struct slot	 slots[PREFORK_MAX];
	sigset_t	 set, oldmask;
	siginfo_t	 info;
	struct timespec	 wait = { 1, 0 };
	time_t		 now, deadline = 0;
	pid_t		 self = getpid();
	int		 i, n, sig, want, alive, stopping = 0, killed = 0;

	memset(slots, 0, sizeof(slots));
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &oldmask);
	want = o->workers;
	n = PREFORK_MAX;
	log_info(NULL, "starting %d workers", want);

	for (;;) {
		now = mono_now();
		for (i = 0; i < want && !stopping; i++) {
			if (slots[i].pid != 0)
				continue;
			/* Throttle a worker that keeps dying at start. */
			if (slots[i].started != 0 &&
			    now - slots[i].started < RESPAWN_FAST_SEC)
				continue;
			slots[i].started = now;
			if ((slots[i].pid = spawn(o, &oldmask, self)) < 0)
				slots[i].pid = 0;
		}
		alive = reap(slots, n, stopping);
		if (stopping && alive == 0)
			break;
		if (stopping && now >= deadline) {
			log_warn(NULL, "%d workers still busy after %d s: "
			    "killing them", alive, o->grace_seconds);
			signal_all(slots, n, SIGKILL);
			killed = 1;
			deadline = now + 3600;
		}
		sig = sigtimedwait(&set, &info, &wait);
		switch (sig) {
		case SIGTERM:
		case SIGINT:
			if (!stopping) {
				log_info(NULL, "stopping: %d workers finish "
				    "their requests (grace %d s)", alive,
				    o->grace_seconds);
				stopping = 1;
				deadline = mono_now() + o->grace_seconds;
			}
			signal_all(slots, n, SIGTERM);
			break;
		case SIGHUP:
			if ((i = o->reload(o->arg)) > 0) {
				want = i < PREFORK_MAX ? i : PREFORK_MAX;
				log_info(NULL, "reloaded: cycling workers");
				signal_all(slots, n, SIGTERM);
				/* Respawn at once: these exits are asked for. */
				for (i = 0; i < n; i++)
					slots[i].started = 0;
			}
			break;
		case -1:
			/* A timeout: a worker that missed SIGTERM between
			 * its flag check and accept() gets another. */
			if (stopping)
				signal_all(slots, n, SIGTERM);
			break;
		default:
			break;	/* SIGCHLD: reaped at the top */
		}
	}
	return killed;
}
