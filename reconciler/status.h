/*
 * The status document: what every host runs, as last read, compared with
 * the configuration. Built from the engine's read of the hosts; printed
 * by `kreconcile status`, served by the watcher.
 */
#ifndef KR_RECONCILER_STATUS_H
#define KR_RECONCILER_STATUS_H

#include <jansson.h>

#include "reconciler/hosts.h"
#include "state/desired.h"

#define KR_STATUS_FORMAT_VERSION "1.0"

/*
 * {format_version, service, destination, hosts: [...]}, one entry per
 * host of h (docs/json.md). New reference; the caller owns it.
 */
json_t *kr_status_to_json(const struct kr_desired *d, const struct kr_hosts *h);

#endif
