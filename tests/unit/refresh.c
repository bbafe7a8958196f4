/*
 * refresh.c - a refresher waits its least time, or ten times the cost of
 * the last read when that is longer.
 */
#include <time.h>

#include "clock.h"
#include "refresh.h"
#include "tap.h"

static void spin_ms(unsigned int ms)
{
	uint64_t end = clock_mono_ns() + ms * 1000000ull;

	while (clock_mono_ns() < end)
		;
}

int main(void)
{
	struct refresh r;
	uint64_t t0, wait;

	refresh_init(&r, 50);
	ok(refresh_due(&r), "a new refresher is due");
	t0 = refresh_begin(&r);
	refresh_done(&r);
	wait = r.next_ns - t0;
	ok(!refresh_due(&r), "not due right after a read");
	ok(wait >= 50000000u && wait < 60000000u, "a cheap read waits the least time (%llu ns)",
	   (unsigned long long)wait);

	t0 = refresh_begin(&r);
	spin_ms(20);
	refresh_done(&r);
	wait = r.next_ns - t0;
	ok(wait >= 220000000u, "a 20 ms read waits ten times its cost (%llu ns after it began)",
	   (unsigned long long)wait);

	refresh_init(&r, 1);
	refresh_begin(&r);
	refresh_done(&r);
	spin_ms(2);
	ok(refresh_due(&r), "due again once the wait has passed");
	return tap_done();
}
