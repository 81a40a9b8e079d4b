/*
 * What the files of the Docker observe driver share and nothing else sees
 * (the API is docker.h): the frame marker, one frame of the script's
 * output, the containers parser the output parser calls, and how a host
 * that could not be observed is recorded.
 */
#ifndef KR_DRIVERS_DOCKER_INT_H
#define KR_DRIVERS_DOCKER_INT_H

#include <stddef.h>

#include "drivers/docker.h"
#include "state/observed.h"

/* Every frame line starts with this, the nonce and a space. */
#define KR_DOCKER_MARKER "@@KR-"

/* One frame of the output: the marker line's words and the body after it. */
struct frame {
	const char *args; /* after the marker and a space, up to the newline */
	size_t args_len;
	const char *body;
	size_t body_len;
};

/*
 * The containers frame (`docker inspect` JSON, cf) and the images frame
 * (repo digests, imf; may be NULL) into h->containers, env values masked.
 * 0, or KR_EPARSE when the inspect output is not a JSON list.
 */
int kr_docker_parse_containers(struct kr_observed_host *h, const char *host,
	const struct kr_docker_scope *scope, const struct frame *cf,
	const struct frame *imf);

/*
 * kamal-proxy's saved state (the routes frame's body; empty: no state file
 * yet) into p->routes, sorted; routes_known set. 0, or KR_EPARSE when it is
 * not a JSON list (p untouched but for what it held).
 */
int kr_docker_parse_proxy_state(
	struct kr_obs_proxy *p, const char *host, const char *text, size_t len);
/* The proxy container `name` of h, if any: p->version (its image tag) and
 * p->running. */
void kr_docker_proxy_container(struct kr_obs_proxy *p,
	const struct kr_observed_host *h, const char *name);

/*
 * Make h a host that could not be observed (status), its error the last
 * error message, which stays set with code err. Returns err.
 */
int kr_docker_fail_host(struct kr_observed_host *h, const char *host,
	enum kr_obs_status status, int err);

#endif
