/*
 * num.c - command-line numbers.  strtod() alone accepts "nan", "inf" and
 * "0x1p4"; NaN then fails every range check silently, so the characters are
 * checked before strtod gets to interpret them.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"

static int decimal_only(const char *s, const char *allowed)
{
	return *s && strspn(s, allowed) == strlen(s);
}

int num_parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (!decimal_only(s, "0123456789.eE+-")) {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end) {
		errno = EINVAL;
		return -1;
	}
	if (errno == ERANGE || !isfinite(v) || v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int num_parse_uint(const char *s, unsigned long long min, unsigned long long max,
		   int units, unsigned long long *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	size_t n = strspn(s, "0123456789");
	char *end;

	if (n == 0) {
		errno = EINVAL;
		return -1;
	}
	if (s[n]) {
		switch (units ? s[n] : 0) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default:
			errno = EINVAL;
			return -1;
		}
		if (s[n + 1]) {
			errno = EINVAL;
			return -1;
		}
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE || (shift && v > (~0ull >> shift))) {
		errno = ERANGE;
		return -1;
	}
	v <<= shift;
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int num_parse_ms(const char *s, double max_s, unsigned int *out_ms)
{
	double v;

	if (max_s > 4294967.0)
		max_s = 4294967.0;	/* what fits in unsigned milliseconds */
	if (num_parse_double(s, 0, max_s, &v) < 0)
		return -1;
	*out_ms = (unsigned int)(v * 1000 + 0.5);
	return 0;
}
