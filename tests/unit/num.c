/*
 * num.c - the command-line number parser refuses what strtod() would let
 * through (NaN, infinities, hex) and keeps to its range.
 */
#include <errno.h>

#include "num.h"
#include "tap.h"

int main(void)
{
	static const char *const bad[] = {
		"nan", "NaN", "-nan", "inf", "-inf", "infinity", "0x10", "0x1p3",
		"", " 1", "1 ", "1s", "--1", "1e", ".", "e5",
	};
	unsigned long long u;
	unsigned int ms;
	double d;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ok(num_parse_double(bad[i], -1e9, 1e9, &d) < 0 && errno == EINVAL,
		   "double '%s' refused as not a number", bad[i]);
	}
	ok(num_parse_double("2.5", 0, 10, &d) == 0 && d == 2.5, "2.5 parsed");
	ok(num_parse_double("1e2", 0, 1000, &d) == 0 && d == 100, "1e2 parsed");
	ok(num_parse_double("1e999", 0, 1e9, &d) < 0 && errno == ERANGE, "1e999 out of range");
	ok(num_parse_double("11", 0, 10, &d) < 0 && errno == ERANGE, "above max refused");
	ok(num_parse_double("-1", 0, 10, &d) < 0 && errno == ERANGE, "below min refused");
	ok(num_parse_double("10", 0, 10, &d) == 0 && d == 10, "max itself accepted");

	ok(num_parse_uint("4096", 4096, 1ull << 31, 1, &u) == 0 && u == 4096, "uint parsed");
	ok(num_parse_uint("64M", 0, 1ull << 31, 1, &u) == 0 && u == 64ull << 20, "64M");
	ok(num_parse_uint("2g", 0, 1ull << 31, 1, &u) == 0 && u == 2ull << 30, "2g");
	ok(num_parse_uint("3G", 0, 1ull << 31, 1, &u) < 0 && errno == ERANGE, "3G above max");
	ok(num_parse_uint("64M", 0, ~0ull, 0, &u) < 0 && errno == EINVAL, "suffix refused without units");
	ok(num_parse_uint("-1", 0, ~0ull, 0, &u) < 0 && errno == EINVAL, "minus refused");
	ok(num_parse_uint("1.5", 0, ~0ull, 0, &u) < 0 && errno == EINVAL, "fraction refused");
	ok(num_parse_uint("nan", 0, ~0ull, 0, &u) < 0 && errno == EINVAL, "nan refused");
	ok(num_parse_uint("99999999999999999999", 0, ~0ull, 0, &u) < 0 && errno == ERANGE,
	   "overflow refused");
	ok(num_parse_uint("17179869184G", 0, ~0ull, 1, &u) < 0 && errno == ERANGE,
	   "overflow by suffix refused");
	ok(num_parse_uint("1MM", 0, ~0ull, 1, &u) < 0 && errno == EINVAL, "two suffixes refused");

	ok(num_parse_ms("1.5", 60, &ms) == 0 && ms == 1500, "1.5 s is 1500 ms");
	ok(num_parse_ms("0.0004", 60, &ms) == 0 && ms == 0, "rounded");
	ok(num_parse_ms("nan", 60, &ms) < 0, "nan seconds refused");
	ok(num_parse_ms("61", 60, &ms) < 0 && errno == ERANGE, "above the cap refused");
	return tap_done();
}
