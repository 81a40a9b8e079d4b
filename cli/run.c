/*
 * Running the engine from a command (see run.h): the event printer, the
 * signal thread, the confirmation and the exit codes.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/run.h"
#include "common/buf.h"
#include "common/error.h"

void
kr_cli_source(struct kr_source *out, const struct kr_globals *g)
{
	memset(out, 0, sizeof(*out));
	out->config = g->config;
	out->destination = g->destination;
	out->app_version = g->app_version;
	out->state_path = g->state_path;
}

void
kr_cli_print_diags(struct kr_diags *d)
{
	size_t i;

	kr_diags_sort(d);
	for (i = 0; i < d->n; i++) {
		char *s = kr_diag_format(&d->v[i]);

		fprintf(stderr, "%s\n", s);
		free(s);
	}
}

int
kr_cli_load_report(struct kr_loaded *out, struct kr_diags *diags,
	const struct kr_globals *g, unsigned flags)
{
	struct kr_source src;
	int err;

	kr_cli_source(&src, g);
	err = kr_load(out, diags, &src, flags);
	kr_cli_print_diags(&out->warnings);
	if (err < 0) {
		kr_cli_print_diags(diags);
		if (!diags->n)
			kr_cli_error("%s", kr_error_last());
	}
	return err;
}

/* An action's or a host's outcome during apply. */
static void
print_apply(const struct kr_cli_printer *p, const struct kr_apply_event *ev)
{
	char dur[32];

	if (!ev->address && ev->result) {
		const struct kr_apply_host *h = ev->result;
		size_t n = h->steps_ok + h->steps_failed + h->steps_not_run;

		if (p->g->verbosity < 0 && h->state == KR_APPLY_HOST_OK)
			return;
		kr_format_duration(dur, sizeof(dur), h->seconds);
		fprintf(stderr, "host %s: %s (%zu action%s in %u exec, %s)\n",
			ev->host,
			h->state == KR_APPLY_HOST_OK ? "applied" : "failed", n,
			n == 1 ? "" : "s", h->execs, dur);
		return;
	}
	if (!ev->address || strcmp(ev->what, "starting") == 0)
		return;
	if (strcmp(ev->what, "ok") == 0) {
		if (p->g->verbosity >= 0)
			fprintf(stderr, "%s: %s ok\n", ev->address, ev->action);
		return;
	}
	fprintf(stderr, "%s: %s %s\n", ev->address, ev->action, ev->what);
}

static void
print_event(const struct kr_event *ev, void *arg)
{
	struct kr_cli_printer *p = arg;
	struct kr_buf text = KR_BUF_INIT;
	char *s;

	switch (ev->kind) {
	case KR_EVENT_ERROR:
		kr_cli_error("%s", ev->message);
		break;
	case KR_EVENT_PROGRESS:
	case KR_EVENT_OBSERVED:
		if (ev->message)
			kr_cli_progress(p->g, "%s", ev->message);
		break;
	case KR_EVENT_TEXT:
		fprintf(stderr, "%s\n", ev->message);
		break;
	case KR_EVENT_DIAG:
		s = kr_diag_format(ev->diag);
		fprintf(stderr, "%s\n", s);
		free(s);
		break;
	case KR_EVENT_PLAN:
		if (!p->print_plan)
			break;
		kr_plan_render_text(
			&text, ev->plan, p->g->color ? KR_PLAN_COLOR : 0);
		fwrite(text.ptr, 1, text.len, stdout);
		fflush(stdout);
		kr_buf_release(&text);
		break;
	case KR_EVENT_APPLY:
		print_apply(p, ev->apply);
		break;
	case KR_EVENT_LOCKING:
		p->locking = 1;
		break;
	}
}

void
kr_cli_printer_events(struct kr_events *out, struct kr_cli_printer *p)
{
	out->fn = print_event;
	out->arg = p;
}

static sigset_t cli_sigs;

static void *
signal_thread(void *arg)
{
	struct kr_cli_signals *s = arg;
	int sig;

	for (;;) {
		if (sigwait(&cli_sigs, &sig) != 0)
			continue;
		if (sig == SIGUSR2) /* our own wake-up: done */
			break;
		if (!s->signal)
			s->signal = sig;
		if (!s->cancel && s->printer && s->printer->locking)
			fprintf(stderr,
				"kreconcile: %s: finishing the actions "
				"in flight, then releasing the lock\n",
				sig == SIGINT ? "interrupted" : "terminated");
		s->cancel = 1;
	}
	return NULL;
}

void
kr_cli_signals_start(struct kr_cli_signals *s, struct kr_cli_printer *p)
{
	memset(s, 0, sizeof(*s));
	s->printer = p;
	sigemptyset(&cli_sigs);
	sigaddset(&cli_sigs, SIGINT);
	sigaddset(&cli_sigs, SIGTERM);
	sigaddset(&cli_sigs, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &cli_sigs, &s->old_mask);
	if (pthread_create(&s->tid, NULL, signal_thread, s) == 0)
		s->thread = true;
}

void
kr_cli_signals_stop(struct kr_cli_signals *s)
{
	if (s->thread) {
		pthread_kill(s->tid, SIGUSR2);
		pthread_join(s->tid, NULL);
		s->thread = false;
	}
	pthread_sigmask(SIG_SETMASK, &s->old_mask, NULL);
}

const char *
kr_cli_signal_word(const struct kr_cli_signals *s)
{
	return s->signal == SIGINT ? "interrupted" : "terminated";
}

bool
kr_cli_confirm(const struct kr_plan *plan, void *arg)
{
	struct kr_cli_signals *s = arg;
	FILE *out = s->printer && s->printer->g->json ? stderr : stdout;
	char line[64];
	size_t n = 0;

	(void)plan;
	if (!isatty(STDIN_FILENO)) {
		kr_cli_error("refusing to apply without confirmation: stdin is "
			     "not a terminal (use --auto-approve)");
		return false;
	}
	fputs("\nDo you want to perform these actions?\n"
	      "  Only 'yes' will be accepted to approve.\n\n"
	      "  Enter a value: ",
		out);
	fflush(out);
	/* read the answer a byte at a time, hearing Ctrl-C meanwhile */
	while (n < sizeof(line) - 1) {
		struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
		ssize_t r;

		if (s->cancel)
			return false;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		r = read(STDIN_FILENO, line + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (strcmp(line, "yes") == 0)
		return true;
	fprintf(out, "\nApply cancelled.\n");
	return false;
}

int
kr_cli_outcome_exit(enum kr_engine_outcome oc)
{
	switch (oc) {
	case KR_OUTCOME_OK:
		return KR_EXIT_OK;
	case KR_OUTCOME_CHANGES:
		return KR_EXIT_CHANGES;
	case KR_OUTCOME_PARTIAL:
		return KR_EXIT_PARTIAL;
	case KR_OUTCOME_FAILED:
	case KR_OUTCOME_WAITING:
	case KR_OUTCOME_CANCELLED:
		break;
	}
	return KR_EXIT_ERROR;
}
