/*
 * clock.c - the monotonic clock agrees with CLOCK_MONOTONIC in both units
 * and never goes backwards.
 */
#include <time.h>

#include "clock.h"
#include "tap.h"

int main(void)
{
	struct timespec ts;
	uint64_t a, b, ms, kern;

	a = clock_mono_ns();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	kern = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	b = clock_mono_ns();
	ok(a <= kern && kern <= b, "ns: %llu <= %llu <= %llu",
	   (unsigned long long)a, (unsigned long long)kern, (unsigned long long)b);
	ms = clock_mono_ms();
	ok(ms >= b / 1000000u && ms <= clock_mono_ns() / 1000000u, "ms is ns / 1e6 (%llu)",
	   (unsigned long long)ms);
	ok(b - a < 1000000000u, "two reads less than a second apart");
	return tap_done();
}
