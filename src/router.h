/*
 * router: the route table (path, methods, admin or not, parameters
 * allowed and required) and the one path every request takes: method
 * check, identity, validation, handler, error rendering, log line.
 */
#ifndef CIMASTER_ROUTER_H
#define CIMASTER_ROUTER_H

#include <time.h>

#include "http.h"

struct cfg;
struct store;

/*
 * Handles r completely: resp gets status, format, headers and body
 * (caller frees resp->body).  Never fails: every outcome is a response.
 * clock may be NULL (time()).
 */
void	router_handle(const struct cfg *c, struct store *s,
	    const struct http_request *r, time_t (*clock)(void),
	    struct http_response *resp);

/* Puts up to max of the route table's paths (static storage) into out:
 * how many there are. */
size_t	router_paths(const char **out, size_t max);

#endif
