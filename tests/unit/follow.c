/* Follow mode's refresh rule: --interval, stretched by a dump's cost. */
#include "tap.h"
#include "follow.h"

int main(void)
{
	ok(follow_refresh_gap(2000, 50, true) == 2000, "a small table: --interval as given");
	ok(follow_refresh_gap(2000, 50, false) == 4950,
	   "without counters 1%%: 50 ms of dump, 4.95 s between");
	ok(follow_refresh_gap(2000, 4000, true) == 76000,
	   "with counters 5%%: a 4 s dump every 80 s at most (76 s between)");
	ok(follow_refresh_gap(2000, 4000, false) == 396000,
	   "without counters: every 400 s at most");
	ok(follow_refresh_gap(600000, 4000, true) == 600000, "a longer --interval stays");
	ok(follow_refresh_gap(0, 0, true) == 0, "nothing to stretch: no gap");
	return tap_done();
}
