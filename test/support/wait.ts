/** Waiting on conditions in tests: poll, never sleep for a guessed time. */

/**
 * Waits until `check()` is true. The deadline only bounds a failure: it is generous (a minute) so
 * that a slow or busy machine (a second copy of the suite running beside this one) cannot eat it.
 */
export async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
