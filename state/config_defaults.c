/*
 * Kamal's defaults, applied when the model reads a value: the kr_config_*
 * accessors.
 */
#include <string.h>

#include "common/error.h"
#include "state/config.h"
#include "state/config_int.h"

const char *
kr_config_primary_role(const struct kr_config *c)
{
	return c->primary_role ? c->primary_role : "web";
}

int
kr_config_retain_containers(const struct kr_config *c)
{
	return c->retain_containers > 0 ? (int)c->retain_containers : 5;
}

static int
clamp(long long v, int def)
{
	if (v < 0)
		return def;
	return v > 86400 * 365 ? 86400 * 365 : (int)v;
}

int
kr_config_readiness_delay(const struct kr_config *c)
{
	return clamp(c->readiness_delay, 7);
}

int
kr_config_deploy_timeout(const struct kr_config *c)
{
	return clamp(c->deploy_timeout, 30);
}

int
kr_config_drain_timeout(const struct kr_config *c)
{
	return clamp(c->drain_timeout, 30);
}

const char *
kr_config_ssh_user(const struct kr_config *c)
{
	return c->ssh.user ? c->ssh.user : "root";
}

int
kr_config_ssh_port(const struct kr_config *c)
{
	int port;

	if (c->ssh.port && kr_cfg_parse_port(c->ssh.port, &port))
		return port;
	return 22;
}

const char *
kr_config_secrets_path(const struct kr_config *c)
{
	return c->secrets_path ? c->secrets_path : ".kamal/secrets";
}

int
kr_config_app_port(const struct kr_config_proxy *p)
{
	return p->app_port > 0 && p->app_port <= 65535 ? (int)p->app_port : 80;
}

const struct kr_config_role *
kr_config_role(const struct kr_config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nroles; i++)
		if (strcmp(c->roles[i].name, name) == 0)
			return &c->roles[i];
	return NULL;
}

bool
kr_config_role_proxied(
	const struct kr_config *c, const struct kr_config_role *r)
{
	if (strcmp(r->name, kr_config_primary_role(c)) == 0)
		return r->proxy_mode != KR_ROLE_PROXY_FALSE;
	return r->proxy_mode == KR_ROLE_PROXY_TRUE ||
	       r->proxy_mode == KR_ROLE_PROXY_MAP;
}
