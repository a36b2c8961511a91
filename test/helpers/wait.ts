/**
 * How long `waitFor` polls by default. A safety net, not a budget: on a 2-core machine running
 * another test suite beside this one, an outcome that takes 100 ms alone can take seconds. Kept
 * under vitest's 60 s `testTimeout`, so that a condition that never comes fails with the `what`
 * it was waiting for rather than with a bare "test timed out".
 */
export const WAIT_TIMEOUT_MS = 40_000;

/** Polls until `check` returns a defined value, or fails with the last error after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = WAIT_TIMEOUT_MS, intervalMs = 25, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
