/*
 * clock.h - the one monotonic clock both programs measure time with:
 * ages, deadlines, rate limits and costs, never wall-clock time (which
 * jumps with NTP and the administrator).
 *
 * Pure functions: nothing is owned or kept.
 */
#ifndef FLOWTOP_CLOCK_H
#define FLOWTOP_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC now, in nanoseconds.  Cannot fail on Linux. */
uint64_t clock_mono_ns(void);

/* CLOCK_MONOTONIC now, in whole milliseconds (truncated). */
uint64_t clock_mono_ms(void);

#endif
