/*
 * kreconcile lock status|release|acquire: Kamal's `kamal lock`, so a deploy
 * lock left behind (by a killed apply, or by `kamal deploy`) can be seen and
 * released without ssh-ing by hand. The lock is the one apply takes
 * (reconciler/apply.h): the directory .kamal/lock-<service>[-<dest>] on the
 * primary role's first host, holding Kamal's base64 `details`. Nothing here
 * builds a command of its own: the lock is read by the observe script
 * (drivers/docker.h, which decodes the details), taken and released by
 * kr_apply_lock_acquire and kr_apply_lock_release, over the connection
 * cli/hosts.h opens with the config's SSH settings.
 *
 * status: one exec; release: one exec to read whose lock it is, one to
 * release it (with an audit line), journaled; acquire: one exec, journaled.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cmd_common.h"
#include "cli/run.h"
#include "common/buf.h"
#include "common/error.h"
#include "drivers/docker.h"
#include "reconciler/apply.h"

#define LOCK_JSON_FORMAT "1.0"

static const struct option lock_options[] = {
	KR_CLI_OPTION_ACCEPT_NEW,
	{ "message", required_argument, NULL, 'm' },
	{ NULL, 0, NULL, 0 },
};

enum lock_verb {
	LOCK_STATUS,
	LOCK_RELEASE,
	LOCK_ACQUIRE,
};

static const char *const verb_names[] = {
	[LOCK_STATUS] = "status",
	[LOCK_RELEASE] = "release",
	[LOCK_ACQUIRE] = "acquire",
};

/* The decoded details, split into Kamal's three lines when they are so. */
struct holder {
	char *details; /* as decoded; NULL = none */
	char *by, *at, *version, *message; /* NULL when not in the details */
};

static void
holder_release(struct holder *h)
{
	free(h->details);
	free(h->by);
	free(h->at);
	free(h->version);
	free(h->message);
	memset(h, 0, sizeof(*h));
}

/* "Key: value" at the start of line `s` (up to `end`); NULL when not.
 * Kamal strips the details, so an empty last value is "Key:". */
static char *
field(const char *s, const char *end, const char *key)
{
	size_t n = strlen(key);

	if ((size_t)(end - s) < n || strncmp(s, key, n) != 0)
		return NULL;
	if (s + n < end && s[n] == ' ')
		n++;
	return kr_xstrndup(s + n, (size_t)(end - s) - n);
}

/*
 * Fill h from details (copied; may be NULL): "Locked by: WHO at TIME",
 * "Version: V", then "Message: " and the rest (a message may hold
 * newlines). Details in any other shape are kept only as they are.
 */
static void
holder_parse(struct holder *h, const char *details)
{
	const char *p, *nl, *at, *q;
	size_t n;

	memset(h, 0, sizeof(*h));
	if (!details)
		return;
	n = strlen(details);
	while (n && (details[n - 1] == '\n' || details[n - 1] == '\r'))
		n--;
	if (n == 0)
		return;
	h->details = kr_xstrndup(details, n);
	p = h->details;
	nl = strchr(p, '\n');
	if (!nl || strncmp(p, "Locked by: ", 11) != 0)
		return;
	/* the time is after the last " at " (a name may hold one) */
	for (at = NULL, q = p; (q = strstr(q, " at ")) && q < nl; q++)
		at = q;
	if (!at)
		return;
	h->by = kr_xstrndup(p + 11, (size_t)(at - (p + 11)));
	h->at = kr_xstrndup(at + 4, (size_t)(nl - (at + 4)));
	p = nl + 1;
	nl = strchr(p, '\n');
	h->version = field(p, nl ? nl : p + strlen(p), "Version:");
	if (h->version && nl)
		h->message = field(nl + 1, nl + 1 + strlen(nl + 1), "Message:");
	if (!h->version || !h->message) {
		free(h->by);
		free(h->at);
		free(h->version);
		free(h->message);
		h->by = h->at = h->version = h->message = NULL;
	}
}

/* Text from a host, for one line of a terminal: controls become spaces
 * (newlines) or '?' (anything else, escapes included); "" is "(none)". */
static void
put_line_safe(struct kr_buf *b, const char *s)
{
	if (!*s) {
		kr_buf_puts(b, "(none)");
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n' || c == '\r' || c == '\t')
			kr_buf_putc(b, ' ');
		else if (c < 0x20 || c == 0x7f)
			kr_buf_putc(b, '?');
		else
			kr_buf_putc(b, (char)c);
	}
}

/* "locked by WHO at TIME, version V, message M" (or the details as they
 * are, when not in Kamal's shape); caller frees. */
static char *
holder_text(const struct holder *h)
{
	struct kr_buf b = KR_BUF_INIT;

	if (h->by) {
		kr_buf_puts(&b, "locked by ");
		put_line_safe(&b, h->by);
		kr_buf_puts(&b, " at ");
		put_line_safe(&b, h->at);
		kr_buf_puts(&b, ", version ");
		put_line_safe(&b, h->version);
		kr_buf_puts(&b, ", message ");
		put_line_safe(&b, h->message);
	} else if (h->details) {
		kr_buf_puts(&b, "locked: ");
		put_line_safe(&b, h->details);
	} else {
		kr_buf_puts(&b, "locked (no details)");
	}
	return kr_buf_detach(&b, NULL);
}

static json_t *
json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* The holder as JSON (NULL h: null). New reference. */
static json_t *
holder_json(const struct holder *h)
{
	json_t *o;

	if (!h)
		return json_null();
	o = json_object();
	json_object_set_new(o, "details", json_str_or_null(h->details));
	json_object_set_new(o, "locked_by", json_str_or_null(h->by));
	json_object_set_new(o, "locked_at", json_str_or_null(h->at));
	json_object_set_new(o, "version", json_str_or_null(h->version));
	json_object_set_new(o, "message", json_str_or_null(h->message));
	return o;
}

/*
 * --json: {format_version, command, host, lock, locked, holder, and
 * "released" or "acquired"}. `locked` and `holder` are the lock as the
 * command found it (acquire: the holder that stopped it, null when it
 * took the lock). Host text is JSON-escaped by jansson.
 */
static void
print_json(enum lock_verb verb, const char *host, const char *dir, bool locked,
	const struct holder *h, bool done)
{
	json_t *root = json_object();

	json_object_set_new(
		root, "format_version", json_string(LOCK_JSON_FORMAT));
	json_object_set_new(root, "command", json_string(verb_names[verb]));
	json_object_set_new(root, "host", json_string(host));
	json_object_set_new(root, "lock", json_string(dir));
	json_object_set_new(root, "locked", json_boolean(locked));
	json_object_set_new(root, "holder", holder_json(locked ? h : NULL));
	if (verb == LOCK_RELEASE)
		json_object_set_new(root, "released", json_boolean(done));
	else if (verb == LOCK_ACQUIRE)
		json_object_set_new(root, "acquired", json_boolean(done));
	kr_cli_json_print(root);
	json_decref(root);
}

/*
 * Read the lock in one exec: the observe script of the lock host (its
 * last section is the lock, details decoded). Only the service's own
 * containers are looked at; a host where docker is unusable still reports
 * its lock. 0 with *locked and h filled, or a negative KR_E*.
 */
static int
lock_read(bool *locked, struct holder *h, struct kr_transport *t,
	const struct kr_desired *d)
{
	struct kr_docker_scope scope = {
		.service = d->service,
		.destination = d->destination,
	};
	struct kr_observed_host obs;
	int err;

	err = kr_docker_observe(&obs, t, &scope);
	if (err == 0 || err == KR_EDOCKER) {
		*locked = obs.lock.held;
		holder_parse(h, obs.lock.held ? obs.lock.details : NULL);
		err = 0;
	}
	kr_observed_host_release(&obs);
	return err;
}

static int
cmd_lock_exec(const struct kr_globals *g, int argc, char **argv)
{
	struct kr_loaded l;
	struct kr_diags diags = { 0 };
	struct kr_hostconns cc;
	struct kr_cli_printer pr = { .g = g };
	struct kr_events ev;
	struct kr_source src;
	struct kr_store *s = NULL;
	struct kr_transport *t = NULL;
	struct holder h = { 0 };
	const struct kr_desired *d;
	const char *message = NULL;
	char *dir = NULL, *who = NULL, *addr = NULL, *text = NULL;
	char *audit = NULL, *audit_msg = NULL, *held = NULL, *emsg = NULL;
	bool accept_new = false, conns_ready = false, locked = false;
	enum lock_verb verb;
	int64_t run = 0, entry = 0;
	time_t now;
	int c, rc = KR_EXIT_ERROR, err;

	memset(&l, 0, sizeof(l));
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:", lock_options, NULL)) != -1) {
		switch (c) {
		case KR_CLI_OPT_ACCEPT_NEW:
			accept_new = true;
			break;
		case 'm':
			message = optarg;
			break;
		default:
			return kr_cli_opt_error(&kr_cmd_lock_entry, c, argv);
		}
	}
	if (optind >= argc)
		return kr_cli_usage(&kr_cmd_lock_entry,
			"lock needs a command: status, release or acquire");
	if (strcmp(argv[optind], "status") == 0)
		verb = LOCK_STATUS;
	else if (strcmp(argv[optind], "release") == 0)
		verb = LOCK_RELEASE;
	else if (strcmp(argv[optind], "acquire") == 0)
		verb = LOCK_ACQUIRE;
	else
		return kr_cli_usage(&kr_cmd_lock_entry,
			"unknown lock command '%s'", argv[optind]);
	optind++;
	if ((err = kr_cli_opt_no_more(&kr_cmd_lock_entry, argc, argv)))
		return err;
	if (verb == LOCK_ACQUIRE && (!message || !*message))
		return kr_cli_usage(&kr_cmd_lock_entry,
			"'lock acquire' needs a message (-m MESSAGE)");
	if (verb != LOCK_ACQUIRE && message)
		return kr_cli_usage(
			&kr_cmd_lock_entry, "-m is for 'lock acquire' only");

	/* a version is only the lock's "Version:" line: none is no error */
	if (kr_cli_load_report(&l, &diags, g, KR_LOAD_ANY_VERSION) < 0)
		goto out;
	d = l.desired;
	if (!d->lock_host) {
		kr_cli_error("no host to hold the deploy lock: the primary "
			     "role has no hosts");
		goto out;
	}
	dir = kr_docker_lock_dir(d->service, d->destination);
	kr_cli_source(&src, g);
	kr_cli_printer_events(&ev, &pr);
	if (verb != LOCK_STATUS &&
		(kr_engine_store_open(&s, &src, &l) < 0 ||
			kr_store_run_begin(&run, s, KR_RUN_APPLY, 0) < 0)) {
		kr_cli_error("%s", kr_error_last());
		goto out;
	}
	if (kr_hostconns_init(&cc, &ev, &l, accept_new) < 0) {
		kr_cli_error("%s", kr_error_last());
		if (s)
			kr_store_run_end(s, run, "failed", kr_error_last());
		goto out;
	}
	conns_ready = true;
	cc.store = s;
	cc.run = run;
	kr_hostconns_add(&cc, d, d->lock_host);
	if (kr_hostconns_get(&t, &cc, d->lock_host) < 0) {
		kr_cli_error("cannot reach the lock host '%s': %s",
			d->lock_host, kr_error_last());
		if (s)
			kr_store_run_end(s, run, "failed", kr_error_last());
		goto out;
	}
	who = kr_cli_performer();
	addr = kr_engine_lock_address(d);

	if (verb == LOCK_ACQUIRE) {
		bool has_version = strcmp(d->version_source, "none") != 0;
		struct kr_apply_lock_opts lo = {
			.service = d->service,
			.destination = d->destination,
			.who = who,
			.version = has_version ? d->version : NULL,
			.message = message,
			.now = time(NULL),
		};

		kr_store_journal_begin(
			&entry, s, run, d->lock_host, addr, "acquire");
		err = kr_apply_lock_acquire(&held, t, &lo);
		/* the journal may set another error: keep this one */
		if (err < 0)
			emsg = kr_xstrdup(kr_error_last());
		if (entry && err == KR_ELOCKED)
			kr_store_journal_end(s, entry, "held", held);
		else if (entry)
			kr_store_journal_end(s, entry,
				err < 0 ? "failed" : "ok",
				err < 0 ? emsg : NULL);
		if (err == KR_ELOCKED) {
			holder_parse(&h, held);
			text = holder_text(&h);
			if (g->json)
				print_json(verb, d->lock_host, dir, true, &h,
					false);
			kr_cli_error("%s", emsg);
			fprintf(stderr, "%s\n", text);
			kr_store_run_end(
				s, run, "failed", "lock acquire: held");
			goto out;
		}
		if (err < 0) {
			kr_cli_error("%s", emsg);
			kr_store_run_end(s, run, "failed", emsg);
			goto out;
		}
		if (g->json)
			print_json(verb, d->lock_host, dir, false, NULL, true);
		else
			printf("acquired the deploy lock '%s' on '%s'\n", dir,
				d->lock_host);
		kr_store_run_end(s, run, "ok", "lock acquire: acquired");
		rc = KR_EXIT_OK;
		goto out;
	}

	if ((err = lock_read(&locked, &h, t, d)) < 0) {
		kr_cli_error("cannot read the deploy lock '%s' on '%s': %s",
			dir, d->lock_host, kr_error_last());
		if (s)
			kr_store_run_end(s, run, "failed", kr_error_last());
		goto out;
	}
	text = locked ? holder_text(&h) : kr_xstrdup("not locked");

	if (verb == LOCK_STATUS) {
		if (g->json)
			print_json(verb, d->lock_host, dir, locked, &h, false);
		else
			printf("%s\n", text);
		rc = KR_EXIT_OK;
		goto out;
	}

	/* release: whoever holds it, as Kamal's `lock release` */
	kr_store_journal_begin(&entry, s, run, d->lock_host, addr, "release");
	if (!locked) {
		if (entry)
			kr_store_journal_end(s, entry, "not locked", NULL);
		if (g->json)
			print_json(verb, d->lock_host, dir, false, NULL, false);
		else
			printf("not locked\n");
		kr_store_run_end(s, run, "ok", "lock release: not locked");
		rc = KR_EXIT_OK;
		goto out;
	}
	now = time(NULL);
	audit_msg = kr_xasprintf("Released the deploy lock (%s)", text);
	audit = kr_apply_audit_line(now, who, d->destination, NULL, audit_msg);
	err = kr_apply_lock_release(t, d->service, d->destination, audit);
	if (err < 0)
		emsg = kr_xstrdup(kr_error_last());
	if (entry)
		kr_store_journal_end(s, entry, err < 0 ? "failed" : "ok",
			err < 0 ? emsg : h.details);
	if (err < 0) {
		kr_cli_error("%s", emsg);
		kr_store_run_end(s, run, "failed", emsg);
		goto out;
	}
	if (g->json)
		print_json(verb, d->lock_host, dir, true, &h, true);
	else
		printf("released the deploy lock '%s' on '%s': it was %s\n",
			dir, d->lock_host, text);
	kr_store_run_end(s, run, "ok", "lock release: released");
	rc = KR_EXIT_OK;
out:
	if (conns_ready)
		kr_hostconns_release(&cc);
	holder_release(&h);
	free(held);
	free(emsg);
	free(audit_msg);
	free(audit);
	free(text);
	free(addr);
	free(who);
	free(dir);
	kr_store_close(s);
	kr_loaded_release(&l);
	kr_diags_release(&diags);
	return rc;
}

const struct kr_cmd_entry kr_cmd_lock_entry = {
	.name = "lock",
	.summary = "show, release or take Kamal's deploy lock",
	.usage = "kreconcile lock status|release|acquire [-m MESSAGE]\n"
		 "  status                  who holds the deploy lock, or "
		 "\"not locked\" (exit 0 either way)\n"
		 "  release                 remove it, whoever holds it (says "
		 "whose it was)\n"
		 "  acquire -m MESSAGE      take it; exit 1 with the holder's "
		 "details when held\n"
		 "  --accept-new-host-keys  trust the key of a host not yet in "
		 "known_hosts\n"
		 "the lock is .kamal/lock-<service>[-<dest>] on the primary "
		 "role's first host",
	.flags = KR_CMD_JSON,
	.complete = "-m|--message=MESSAGE --accept-new-host-keys "
		    "status|release|acquire",
	.exec = cmd_lock_exec,
};
