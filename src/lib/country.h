/*
 * country.h - ISO 3166-1 alpha-2 country codes and their English names.
 * A static read-only table; the strings it returns live for the program.
 */
#ifndef FLOWTOP_COUNTRY_H
#define FLOWTOP_COUNTRY_H

#include <stddef.h>

/* English short name for a two-letter code (either case), or NULL when the
 * code is not assigned.  Also knows the pseudo-codes EU, AP and XK that
 * GeoIP databases use. */
const char *country_name(const char *code);

/* How many codes the table knows (for tests). */
size_t country_count(void);

#endif
