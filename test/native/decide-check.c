/*
 * Unit check of what bhyve-monitor does after bhyve ended (native/monitor/decide.h), compiled and
 * run by test/native/monitor-safety.test.ts. Prints each failed check and exits 1 when any failed.
 */
#include <string.h>

#include "check.h"
#include "../../native/monitor/decide.h"

static int
is(struct decision d, enum next next, const char *reason)
{
	return d.next == next && strcmp(d.reason, reason) == 0;
}

int
main(void)
{
	/* bhyve(8)'s exit codes, for each restart policy. */
	check(is(decide(1, 0, 0, "always"), NEXT_RESTART, "reboot"), "exit 0 (reboot), always: run again");
	check(is(decide(1, 0, 0, "on-reboot"), NEXT_RESTART, "reboot"), "exit 0 (reboot), on-reboot: run again");
	check(is(decide(1, 0, 0, "never"), NEXT_STOP, "reboot"), "exit 0 (reboot), never: stop");
	check(is(decide(1, 1, 0, "always"), NEXT_STOP, "poweroff"), "exit 1 (power off): stop, whatever the policy");
	check(is(decide(1, 2, 0, "always"), NEXT_STOP, "halt"), "exit 2 (halt): stop");
	check(is(decide(1, 3, 0, "on-reboot"), NEXT_FAILED, "triple-fault"), "exit 3: a triple fault");
	check(is(decide(1, 4, 0, "always"), NEXT_FAILED, "error"), "exit 4: an error");
	check(is(decide(1, 70, 0, "always"), NEXT_FAILED, "error"), "any other exit: an error");
	check(is(decide(0, -1, 0, "always"), NEXT_FAILED, "signal"), "killed by a signal");

	/* The VM destroyed under bhyve: exit 1 on 13.x and 14.x, 4 on 15; stopped on purpose either way. */
	check(is(decide(1, 1, 1, "always"), NEXT_STOP, "destroyed"), "13.x/14.x: exit 1 with the VM gone");
	check(is(decide(1, 4, 1, "always"), NEXT_STOP, "destroyed"), "15: exit 4 with the VM gone, not retried");
	check(is(decide(1, 4, 0, "always"), NEXT_FAILED, "error"), "exit 4 with the VM still there: an error");
	check(is(decide(0, -1, 1, "always"), NEXT_FAILED, "signal"), "killed by a signal: a failure, even with the VM gone");

	/* Backoff: the initial wait, doubled per recent failure, never above the cap. */
	check(backoff_ms(1, 20, 100) == 20, "first failure: the initial wait");
	check(backoff_ms(2, 20, 100) == 40, "second: doubled");
	check(backoff_ms(3, 20, 100) == 80, "third: doubled again");
	check(backoff_ms(4, 20, 100) == 100, "fourth: capped");
	check(backoff_ms(1000, 1000, 60000) == 60000, "many failures: the cap, no overflow");
	check(backoff_ms(1, 500, 100) == 100, "an initial wait above the cap is capped");

	return checked();
}
