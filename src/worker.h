/*
 * worker: one pre-forked FastCGI worker.  Accepts on the shared listening
 * socket, decodes each request from the FastCGI parameters, hands it to
 * the router and writes the response.  The only libfcgi user.
 */
#ifndef CIMASTER_WORKER_H
#define CIMASTER_WORKER_H

struct cfg;

/* Serves requests on listen_fd until the parent asks it to stop; returns
 * the process exit status.  c is borrowed for the worker's lifetime. */
int	worker_run(int listen_fd, const struct cfg *c);

#endif
