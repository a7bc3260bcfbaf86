/*
 * What bhyve-monitor does after a guest's bhyve ended: bhyve(8)'s exit status read against the
 * restart policy, and the backoff before a retry. Pure functions, checked by
 * test/native/decide-check.c; the monitor's main loop carries out what they decide.
 */
#ifndef BHYVE_MONITOR_DECIDE_H
#define BHYVE_MONITOR_DECIDE_H

#include <string.h>

#include "deadline.h"

enum next {
	NEXT_RESTART,	/* the guest rebooted: run bhyve again */
	NEXT_STOP,	/* the guest is done (powered off, halted, or rebooted with restart=never) */
	NEXT_FAILED	/* bhyve failed (triple fault, error, signal): retried only with restart=always */
};

struct decision {
	enum next next;
	const char *reason;
};

/*
 * bhyve(8): exit 0 the guest rebooted, 1 powered off, 2 halted, 3 triple fault, 4 an error;
 * `exited` is 0 when bhyve was killed by a signal (or could not be waited for). `vm_gone` is 1
 * when bhyve's VM existed while it ran and no longer exists after it ended: someone destroyed it
 * under the running bhyve (bhyvectl --destroy; the agent never passes -D, so bhyve does not
 * destroy it itself). A bhyve that failed before it made its VM is not that: it failed. bhyve
 * then exits 1 on 13.x and 14.x (vm_run error, read there like a power-off) and 4 on 15 (read like
 * an error): either way the guest was stopped on purpose, and it is not run again.
 */
static inline struct decision
decide(int exited, int code, int vm_gone, const char *restart)
{
	struct decision d;

	if (vm_gone && exited) {
		d.next = NEXT_STOP;
		d.reason = "destroyed";
	} else if (exited && code == 0) {
		d.next = strcmp(restart, "never") == 0 ? NEXT_STOP : NEXT_RESTART;
		d.reason = "reboot";
	} else if (exited && code == 1) {
		d.next = NEXT_STOP;
		d.reason = "poweroff";
	} else if (exited && code == 2) {
		d.next = NEXT_STOP;
		d.reason = "halt";
	} else {
		d.next = NEXT_FAILED;
		d.reason = !exited ? "signal" : code == 3 ? "triple-fault" : "error";
	}
	return d;
}

/* The wait before the next try after `failures` recent failures: initial, doubled each time, capped. */
static inline long
backoff_ms(int failures, long initial, long max)
{
	long backoff = initial;
	int i;

	for (i = 1; i < failures && backoff < max; i++)
		backoff = doubled_capped(backoff, max);
	return backoff > max ? max : backoff;
}

#endif
