/*
 * Deadline arithmetic of bhyve-monitor, kept apart so that a test can compile it on its own
 * (test/native/deadline-check.c). Times are milliseconds of one monotonic clock.
 */
#ifndef BHYVE_MONITOR_DEADLINE_H
#define BHYVE_MONITOR_DEADLINE_H

#include <limits.h>

/* now + ms (ms >= 0), saturating at LONG_MAX instead of overflowing. */
static inline long
deadline_after(long now, long ms)
{
	if (ms < 0)
		ms = 0;
	return now > LONG_MAX - ms ? LONG_MAX : now + ms;
}

/*
 * The poll(2) timeout until a deadline: never negative (a deadline already passed is 0, not the
 * -1 that would make poll wait for ever), at most INT_MAX.
 */
static inline int
ms_until(long deadline, long now)
{
	if (deadline <= now)
		return 0;
	if (now < 0 && deadline > LONG_MAX + now)
		return INT_MAX;
	if (deadline - now > INT_MAX)
		return INT_MAX;
	return (int)(deadline - now);
}

/* Doubles a delay (ms > 0) up to cap, without overflowing. */
static inline long
doubled_capped(long ms, long cap)
{
	if (ms >= cap || ms > LONG_MAX / 2)
		return cap;
	ms *= 2;
	return ms > cap ? cap : ms;
}

#endif
