/*
 * The helpers cli/cmd_common.h declares for the command files: the
 * performer's name and printing a JSON document.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/cmd_common.h"
#include "common/error.h"

char *
kr_cli_performer(void)
{
	struct passwd *pw = getpwuid(getuid());
	char host[256] = "";
	const char *user = getenv("KR_PERFORMER");

	if (user && *user)
		return kr_xstrdup(user);
	gethostname(host, sizeof(host) - 1);
	return kr_xasprintf("%s@%s",
		pw && pw->pw_name ? pw->pw_name : "unknown",
		*host ? host : "localhost");
}

void
kr_cli_json_print(const json_t *root)
{
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (text) {
		fputs(text, stdout);
		fputc('\n', stdout);
	}
	free(text);
}
