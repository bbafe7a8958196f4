/*
 * utf8.h - checking and repairing UTF-8.  Pure functions over caller-owned
 * buffers.
 */
#ifndef FLOWTOP_UTF8_H
#define FLOWTOP_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Whether s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t len);

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if it is invalid. */
size_t utf8_seq_len(const unsigned char *s, size_t len);

/* Copy s into out replacing every invalid byte with U+FFFD; returns the
 * length written, truncating at a character boundary to fit outlen - 1 and
 * always NUL-terminating (outlen must be > 0). */
size_t utf8_repair(const char *s, size_t len, char *out, size_t outlen);

/* Like utf8_repair(), and also replaces every control character (C0, DEL
 * and C1) with U+FFFD: for output that must stay one line and can reach a
 * terminal as it is (CSV). */
size_t utf8_clean(const char *s, size_t len, char *out, size_t outlen);

/* Like utf8_clean(), and also replaces every bidirectional mark, embedding,
 * override and isolate with U+FFFD: for text a terminal shows, which must
 * not be able to reorder what is around it (the view's strings). */
size_t utf8_clean_terminal(const char *s, size_t len, char *out, size_t outlen);

/* Whether s[0..len) is valid UTF-8 without control characters. */
bool utf8_clean_already(const char *s, size_t len);

#endif
