/* The tiny harness of the C checks in test/native: each failed check is printed, and remembered. */
#ifndef BHYVE_TEST_CHECK_H
#define BHYVE_TEST_CHECK_H

#include <stdio.h>

static int failed;

static void
check(int ok, const char *what)
{
	if (!ok) {
		printf("FAIL %s\n", what);
		failed = 1;
	}
}

/* main's last word: "ok" when every check held, and the exit status. */
static int
checked(void)
{
	if (!failed)
		printf("ok\n");
	return failed;
}

#endif
