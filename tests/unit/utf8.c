/*
 * utf8.c - the one sanitiser at its three strengths: repair (invalid bytes
 * only), clean (also controls), terminal (also bidirectional controls).
 */
#include "tap.h"
#include "utf8.h"

int main(void)
{
	char out[64];
	size_t n;

	n = utf8_repair("a\xff" "b\x01", 4, out, sizeof(out));
	is_str(out, "a\xef\xbf\xbd" "b\x01", "repair: an invalid byte becomes U+FFFD, a control stays");
	ok(n == 6, "repair: length 6 (%zu)", n);
	utf8_clean("a\x01\x7f\xc2\x85z", 6, out, sizeof(out));
	is_str(out, "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz", "clean: C0, DEL and C1 become U+FFFD");
	utf8_clean("\xe2\x80\xae" "x", 4, out, sizeof(out));
	is_str(out, "\xe2\x80\xae" "x", "clean: a bidi override stays");
	utf8_clean_terminal("\xe2\x80\xae" "x\xe2\x81\xa6\xe2\x80\x8f\xd8\x9c\t", 13, out, sizeof(out));
	is_str(out, "\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	       "terminal: U+202E, U+2066, U+200F, U+061C and a tab become U+FFFD");
	utf8_clean_terminal("\xe2\x80\x94 caf\xc3\xa9 \xe2\x80\xad", 13, out, sizeof(out));
	is_str(out, "\xe2\x80\x94 caf\xc3\xa9 \xef\xbf\xbd", "terminal: an em dash and é stay, U+202D goes");
	n = utf8_clean_terminal("abc\xc3\xa9", 5, out, 5);
	is_str(out, "abc", "cut at a character boundary to fit (%zu)", n);
	n = utf8_repair("abcdef\x01", 7, out, 4);
	is_str(out, "abc", "cut inside a run of ASCII to fit (%zu)", n);
	n = utf8_clean("ab\x01" "cd", 5, out, 1);
	ok(n == 0 && out[0] == '\0', "room for the NUL only: empty");
	ok(utf8_valid("\xed\xa0\x80", 3) == false && utf8_valid("\xc0\xaf", 2) == false,
	   "surrogates and overlongs are invalid");
	ok(utf8_clean_already("ok \xc3\xa9", 5) && !utf8_clean_already("a\tb", 3),
	   "clean_already: é yes, a tab no");
	return tap_done();
}
