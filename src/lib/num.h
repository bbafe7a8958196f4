/*
 * num.h - the one parser for numbers given on either program's command
 * line: decimal only, finite, inside a range.  NaN, infinities, hex floats,
 * empty strings and trailing junk are refused, so a bad value is a usage
 * error instead of a value that passes every comparison.
 *
 * Pure functions: nothing is owned or kept.
 */
#ifndef FLOWTOP_NUM_H
#define FLOWTOP_NUM_H

/* Parse s as a decimal number (digits, optional fraction and exponent)
 * between min and max inclusive into *out.  Returns 0, or -1 with errno
 * EINVAL (not such a number) or ERANGE (outside [min, max]). */
int num_parse_double(const char *s, double min, double max, double *out);

/* Parse s as a non-negative decimal integer between min and max inclusive,
 * with an optional binary unit suffix when units is non-zero (k, M, G: 2^10,
 * 2^20, 2^30, either case).  Returns 0, or -1 with errno EINVAL or ERANGE. */
int num_parse_uint(const char *s, unsigned long long min, unsigned long long max,
		   int units, unsigned long long *out);

/* Seconds as a decimal number (num_parse_double) between 0 and max_s,
 * converted to whole milliseconds, rounded to nearest. */
int num_parse_ms(const char *s, double max_s, unsigned int *out_ms);

#endif
