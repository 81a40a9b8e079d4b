/*
 * The golden table of Kamal's verdicts: each tests/fixtures/kamal-verdicts/
 * <case>/config/deploy.yml was loaded by Kamal 2.12's own configuration code
 * (Kamal::Configuration.create_from), and <case>/kamal-verdict records what
 * it said ("Kamal 2.12.0: ok" or "Kamal 2.12.0: error: <message>").
 * kreconcile must agree on every case: a config Kamal deploys loads, a
 * config Kamal refuses is refused. A case may hold a file
 * `kreconcile-differs` saying why kreconcile deliberately gives the other
 * verdict (docs/configuration.md lists these); then it must differ.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/diag.h"
#include "state/config.h"

#define VERDICTS KR_FIXTURES "/kamal-verdicts"

static void
test_agrees_with_kamal(void **state)
{
	/* KR_VERDICTS_DIR: another table of the same shape (development) */
	const char *dir = getenv("KR_VERDICTS_DIR") ?
				  getenv("KR_VERDICTS_DIR") :
				  VERDICTS;
	DIR *dp = opendir(dir);
	struct dirent *de;
	size_t cases = 0, oks = 0, wrong = 0;

	assert_non_null(dp);
	while ((de = readdir(dp))) {
		char path[4096], verdict[1024] = "";
		struct kr_config_load_opts o = { 0 };
		struct kr_config *c = NULL;
		struct kr_diags d = { 0 };
		bool kamal_ok, differs;
		FILE *f;
		int rc;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/kamal-verdict", dir,
			de->d_name);
		assert_non_null(f = fopen(path, "r"));
		assert_non_null(fgets(verdict, sizeof(verdict), f));
		fclose(f);
		assert_int_equal(strncmp(verdict, "Kamal 2.12.0: ", 14), 0);
		kamal_ok = strcmp(verdict + 14, "ok\n") == 0;
		snprintf(path, sizeof(path), "%s/%s/kreconcile-differs", dir,
			de->d_name);
		differs = (f = fopen(path, "r")) != NULL;
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "%s/%s/config/deploy.yml", dir,
			de->d_name);
		o.ruby = "";
		rc = kr_config_load(&c, &d, path, &o);
		if (((rc == 0) != kamal_ok) != differs) {
			fprintf(stderr, "%s: %s%s  kreconcile: %s\n",
				de->d_name, differs ? "(should differ) " : "",
				verdict,
				rc == 0 ? "ok" :
				d.n	? d.v[0].msg :
					  "error");
			wrong++;
		}
		cases++;
		oks += kamal_ok;
		kr_config_free(c);
		kr_diags_release(&d);
	}
	closedir(dp);
	assert_true(cases >= 40);
	assert_true(oks >= 10 && oks < cases);
	assert_int_equal(wrong, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agrees_with_kamal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
