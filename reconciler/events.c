/* Sending the engine's events (see events.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/buf.h"
#include "reconciler/events.h"

void
kr_event_send(const struct kr_events *sink, const struct kr_event *ev)
{
	if (sink && sink->fn)
		sink->fn(ev, sink->arg);
}

void
kr_event_say(const struct kr_events *sink, enum kr_event_kind kind,
	const char *host, const char *fmt, ...)
{
	struct kr_event ev = { .kind = kind, .host = host };
	struct kr_buf b = KR_BUF_INIT;
	va_list ap;

	if (!sink || !sink->fn)
		return;
	va_start(ap, fmt);
	kr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	ev.message = b.ptr;
	sink->fn(&ev, sink->arg);
	kr_buf_release(&b);
}

void
kr_format_duration(char *out, size_t size, double seconds)
{
	if (seconds < 0)
		seconds = 0;
	snprintf(out, size, seconds < 0.1 ? "%.2f s" : "%.1f s", seconds);
}
