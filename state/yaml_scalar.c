/*
 * What a YAML scalar means: YAML 1.1's implicit typing as Psych applies it
 * (yes/no/on/off are booleans, 0x/0o/0b and 1_000 are integers, floats),
 * and the scalar as Ruby's to_s would print the loaded object.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "state/yaml.h"

/* Psych's boolean words, checked case-insensitively. */
static int
bool_value(const char *s)
{
	static const char *const yes[] = { "yes", "true", "on" };
	static const char *const no[] = { "no", "false", "off" };
	size_t i;

	for (i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

static bool
all_of(const char *s, const char *set)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr(set, *s))
			return false;
	return true;
}

/*
 * Psych's integer forms: [-+]? then 0b..., 0x..., 0[0-7_,]+ (octal),
 * decimal with _ or , separators, or sexagesimal 1:30. Returns the value
 * through out when it fits a long long.
 */
static bool
parse_int(const char *s, long long *out, bool *fits)
{
	const char *p = s;
	bool neg = false;
	int base = 10;
	unsigned long long v = 0;
	const char *digits;

	*fits = true;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (p[0] == '0' && p[1] == 'b') {
		base = 2, digits = p + 2;
		if (!all_of(digits, "01_,"))
			return false;
	} else if (p[0] == '0' && p[1] == 'x') {
		base = 16, digits = p + 2;
		if (!all_of(digits, "0123456789abcdefABCDEF_,"))
			return false;
	} else if (p[0] == '0' && p[1]) {
		if (strchr(p, ':'))
			goto sexagesimal;
		base = 8, digits = p + 1;
		if (!all_of(digits, "01234567_,"))
			return false;
	} else if (p[0] == '0' && !p[1]) {
		*out = 0;
		return true;
	} else if (p[0] >= '1' && p[0] <= '9') {
		const char *q;

		if (strchr(p, ':'))
			goto sexagesimal;
		/* [1-9]([0-9]|,[0-9]|_[0-9])* */
		for (q = p + 1; *q; q++) {
			if (isdigit((unsigned char)*q))
				continue;
			if ((*q == '_' || *q == ',') && isdigit((unsigned char)q[1])) {
				q++;
				continue;
			}
			return false;
		}
		digits = p;
	} else {
		return false;
	}
	for (; *digits; digits++) {
		int d;

		if (*digits == '_' || *digits == ',')
			continue;
		d = isdigit((unsigned char)*digits) ? *digits - '0' :
			tolower((unsigned char)*digits) - 'a' + 10;
		if (v > (ULLONG_MAX - (unsigned)d) / (unsigned)base) {
			*fits = false;
			return true;
		}
		v = v * (unsigned)base + (unsigned)d;
	}
	goto done;
sexagesimal: {
	/* [0-9][0-9_]*(:[0-5]?[0-9]){1,2} */
	const char *q = p;
	int parts = 0;

	if (!isdigit((unsigned char)*q))
		return false;
	for (; isdigit((unsigned char)*q) || *q == '_'; q++) {
		if (*q == '_')
			continue;
		if (v > ULLONG_MAX / 10 - 10) {
			*fits = false;
			return true;
		}
		v = v * 10 + (unsigned)(*q - '0');
	}
	while (*q == ':') {
		int d;

		q++;
		if (!isdigit((unsigned char)*q))
			return false;
		if (isdigit((unsigned char)q[1])) {
			if (*q > '5')
				return false;
			d = (q[0] - '0') * 10 + (q[1] - '0');
			q += 2;
		} else {
			d = *q++ - '0';
		}
		if (v > ULLONG_MAX / 60 - 60) {
			*fits = false;
			return true;
		}
		v = v * 60 + (unsigned)d;
		parts++;
	}
	if (*q || parts < 1 || parts > 2)
		return false;
}
done:
	if (v > (unsigned long long)LLONG_MAX + (neg ? 1u : 0u)) {
		*fits = false;
		return true;
	}
	if (neg)
		*out = v == (unsigned long long)LLONG_MAX + 1u ? LLONG_MIN :
			-(long long)v;
	else
		*out = (long long)v;
	return true;
}

/* [-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?, .inf, .nan */
static bool
is_float(const char *s)
{
	const char *p = s;

	if (strcasecmp(s, ".inf") == 0 || strcasecmp(s, "+.inf") == 0 ||
	    strcasecmp(s, "-.inf") == 0 || strcasecmp(s, ".nan") == 0)
		return true;
	if (*p == '-' || *p == '+')
		p++;
	if (isdigit((unsigned char)*p)) {
		while (isdigit((unsigned char)*p) || *p == '_' || *p == ',')
			p++;
	}
	if (*p != '.')
		return false;
	p++;
	if (p - s == 1 || (p - s == 2 && (s[0] == '-' || s[0] == '+')))
		if (!isdigit((unsigned char)*p))
			return false;	/* "." and "-." are strings */
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p != '-' && *p != '+')
			return false;
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

enum kr_yaml_kind
kr_yaml_kind(const struct kr_yaml_node *n)
{
	long long v;
	bool fits;

	if (!n)
		return KR_YK_NULL;
	switch (n->type) {
	case KR_YAML_NULL:
		return KR_YK_NULL;
	case KR_YAML_SEQ:
		return KR_YK_SEQ;
	case KR_YAML_MAP:
		return KR_YK_MAP;
	case KR_YAML_SCALAR:
		break;
	}
	if (!n->plain)
		return KR_YK_STR;
	if (strlen(n->value) <= 5 && bool_value(n->value) >= 0)
		return KR_YK_BOOL;
	if (parse_int(n->value, &v, &fits))
		return KR_YK_INT;
	if (is_float(n->value))
		return KR_YK_FLOAT;
	return KR_YK_STR;
}

const char *
kr_yaml_kind_name(enum kr_yaml_kind k)
{
	switch (k) {
	case KR_YK_NULL:
		return "null";
	case KR_YK_STR:
		return "a string";
	case KR_YK_INT:
		return "an integer";
	case KR_YK_FLOAT:
		return "a number";
	case KR_YK_BOOL:
		return "a boolean";
	case KR_YK_SEQ:
		return "a list";
	case KR_YK_MAP:
		return "a map";
	}
	return "a value";
}

bool
kr_yaml_to_int(const struct kr_yaml_node *n, long long *out)
{
	bool fits;
	long long v;

	if (kr_yaml_kind(n) != KR_YK_INT)
		return false;
	if (!parse_int(n->value, &v, &fits) || !fits)
		return false;
	*out = v;
	return true;
}

bool
kr_yaml_to_bool(const struct kr_yaml_node *n, bool *out)
{
	if (kr_yaml_kind(n) != KR_YK_BOOL)
		return false;
	*out = bool_value(n->value) == 1;
	return true;
}

char *
kr_yaml_to_string(const struct kr_yaml_node *n)
{
	long long v;
	bool b;

	if (!n)
		return NULL;
	switch (kr_yaml_kind(n)) {
	case KR_YK_NULL:
		return kr_xstrdup("");
	case KR_YK_SEQ:
	case KR_YK_MAP:
		return NULL;
	case KR_YK_BOOL:
		kr_yaml_to_bool(n, &b);
		return kr_xstrdup(b ? "true" : "false");
	case KR_YK_INT:
		if (kr_yaml_to_int(n, &v))
			return kr_xasprintf("%lld", v);
		return kr_xstrdup(n->value);
	case KR_YK_FLOAT:
		return kr_xstrdup(n->value);
	case KR_YK_STR:
		if (n->plain && n->value[0] == ':' && n->value[1])
			return kr_xstrdup(n->value + 1);	/* a Ruby symbol */
		return kr_xstrdup(n->value);
	}
	return NULL;
}
