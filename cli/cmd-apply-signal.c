/*
 * kreconcile apply's signals and confirmation. Ctrl-C and SIGTERM are
 * caught by a thread of their own (every other thread blocks them, so no
 * exec in flight is cut): before the lock is taken one exits at once;
 * after, the hosts already running finish their script, no other host
 * starts, the lock is released and the journal says what did not run.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd-apply.h"

volatile sig_atomic_t kr_cli_apply_interrupted;
/* 0 until the lock is about to be taken: a signal before then exits at
 * once (nothing has changed on any host, nothing to release) */
static volatile sig_atomic_t apply_phase;
static sigset_t apply_sigs;

static void *
signal_thread(void *arg)
{
	int sig;

	(void)arg;
	for (;;) {
		if (sigwait(&apply_sigs, &sig) != 0)
			continue;
		if (sig == SIGUSR2)	/* our own wake-up: done */
			break;
		if (!apply_phase) {
			fprintf(stderr, "kreconcile: %s before anything was "
				"changed\n", sig == SIGINT ? "interrupted" :
				"terminated");
			_exit(KR_EXIT_ERROR);
		}
		if (!kr_cli_apply_interrupted)
			fprintf(stderr, "kreconcile: %s: finishing the actions "
				"in flight, then releasing the lock\n",
				sig == SIGINT ? "interrupted" : "terminated");
		kr_cli_apply_interrupted = 1;
	}
	return NULL;
}

void
kr_cli_apply_signals_start(struct kr_cli_apply_signals *out)
{
	/* Ctrl-C and SIGTERM go to one thread; nothing else is cut short */
	memset(out, 0, sizeof(*out));
	sigemptyset(&apply_sigs);
	sigaddset(&apply_sigs, SIGINT);
	sigaddset(&apply_sigs, SIGTERM);
	sigaddset(&apply_sigs, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &apply_sigs, &out->old_mask);
	if (pthread_create(&out->tid, NULL, signal_thread, NULL) == 0)
		out->thread = true;
}

void
kr_cli_apply_signals_arm(void)
{
	apply_phase = 1;
}

void
kr_cli_apply_signals_stop(struct kr_cli_apply_signals *s)
{
	if (s->thread) {
		pthread_kill(s->tid, SIGUSR2);
		pthread_join(s->tid, NULL);
		s->thread = false;
	}
	pthread_sigmask(SIG_SETMASK, &s->old_mask, NULL);
}

bool
kr_cli_apply_confirm(FILE *out)
{
	char line[64];

	fputs("\nDo you want to perform these actions?\n"
		"  Only 'yes' will be accepted to approve.\n\n"
		"  Enter a value: ", out);
	fflush(out);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	return strcmp(line, "yes") == 0;
}
