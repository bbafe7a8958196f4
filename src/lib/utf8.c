/*
 * utf8.c - a small validating decoder.  yajl can only refuse bad UTF-8; we
 * need to repair it, since a process name is whatever bytes prctl was given.
 * The one sanitiser of both programs: repair, no controls, and safe for a
 * terminal are three strengths of the same walk.
 */
#include "utf8.h"

#include <string.h>

size_t utf8_seq_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	unsigned int cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n;

		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (!(n = utf8_seq_len(p + i, len - i)))
			return false;
		i += n;
	}
	return true;
}

/* A control character at p (a valid sequence of length n): C0, DEL, C1. */
static bool is_control(const unsigned char *p, size_t n)
{
	if (n == 1)
		return p[0] < 0x20 || p[0] == 0x7f;
	return n == 2 && p[0] == 0xc2 && p[1] < 0xa0;
}

/* A bidirectional mark, embedding, override or isolate (a valid sequence of
 * length n): U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069, which
 * can make a terminal show text in another order than it is. */
static bool is_bidi(const unsigned char *p, size_t n)
{
	if (n == 2)
		return p[0] == 0xd8 && p[1] == 0x9c;
	if (n != 3 || p[0] != 0xe2)
		return false;
	return (p[1] == 0x80 && (p[2] == 0x8e || p[2] == 0x8f || (p[2] >= 0xaa && p[2] <= 0xae))) ||
	       (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9);
}

enum keep { KEEP_CONTROLS, NO_CONTROLS, TERMINAL };

static size_t convert(const char *s, size_t len, char *out, size_t outlen, enum keep k)
{
	static const char repl[] = "\xef\xbf\xbd";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0;

	while (i < len) {
		size_t n, cnt, run = i;
		const char *src;
		bool bad;

		/* a run of printable ASCII, nearly all of a name, as it is */
		while (run < len && p[run] >= 0x20 && p[run] < 0x7f)
			run++;
		if (run > i) {
			cnt = run - i < outlen - 1 - o ? run - i : outlen - 1 - o;
			memcpy(out + o, s + i, cnt);
			o += cnt;
			i += cnt;
			if (i < run)
				break;		/* out is full */
			continue;
		}
		n = p[i] < 0x80 ? 1 : utf8_seq_len(p + i, len - i);
		bad = !n || (k != KEEP_CONTROLS && is_control(p + i, n)) ||
		      (k == TERMINAL && is_bidi(p + i, n));
		src = bad ? repl : s + i;
		cnt = bad ? 3 : n;
		if (o + cnt >= outlen)
			break;
		memcpy(out + o, src, cnt);
		o += cnt;
		i += n ? n : 1;
	}
	out[o] = '\0';
	return o;
}

size_t utf8_repair(const char *s, size_t len, char *out, size_t outlen)
{
	return convert(s, len, out, outlen, KEEP_CONTROLS);
}

size_t utf8_clean(const char *s, size_t len, char *out, size_t outlen)
{
	return convert(s, len, out, outlen, NO_CONTROLS);
}

size_t utf8_clean_terminal(const char *s, size_t len, char *out, size_t outlen)
{
	return convert(s, len, out, outlen, TERMINAL);
}

bool utf8_clean_already(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n = p[i] < 0x80 ? 1 : utf8_seq_len(p + i, len - i);

		if (!n || is_control(p + i, n))
			return false;
		i += n;
	}
	return true;
}
