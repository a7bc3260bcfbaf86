/*
 * Unit check of bhyve-monitor's deadline arithmetic (native/monitor/deadline.h), compiled and run by
 * test/native/monitor-safety.test.ts. Prints each failed check and exits 1 when any failed.
 */
#include <limits.h>

#include "check.h"
#include "../../native/monitor/deadline.h"

int
main(void)
{
	/* A deadline that passed while the caller was busy waits 0 ms: never the -1 of "for ever". */
	check(ms_until(1000, 1001) == 0, "ms_until: 1 ms past the deadline is 0");
	check(ms_until(1000, 5000000) == 0, "ms_until: long past the deadline is 0");
	check(ms_until(1000, 1000) == 0, "ms_until: at the deadline is 0");
	check(ms_until(1050, 1000) == 50, "ms_until: 50 ms ahead is 50");
	check(ms_until(LONG_MAX, 0) == INT_MAX, "ms_until: a far deadline is capped at INT_MAX");
	check(ms_until(LONG_MAX, -10) == INT_MAX, "ms_until: no overflow with a negative now");
	check(deadline_after(100, 50) == 150, "deadline_after: 100 + 50");
	check(deadline_after(LONG_MAX - 5, 10) == LONG_MAX, "deadline_after: saturates at LONG_MAX");
	check(deadline_after(100, -7) == 100, "deadline_after: a negative delay counts as 0");
	check(doubled_capped(20, 80) == 40, "doubled_capped: 20 -> 40");
	check(doubled_capped(50, 80) == 80, "doubled_capped: capped at 80");
	check(doubled_capped(LONG_MAX / 2 + 1, LONG_MAX) == LONG_MAX, "doubled_capped: no overflow");
	return checked();
}
