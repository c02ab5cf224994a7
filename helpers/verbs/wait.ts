// Polling with a bound: every wait says what it awaited and what it saw instead.
import { setTimeout as delay } from 'node:timers/promises';
import { boundedTimeout, step } from '../fixtures/steps.js';

export class WaitTimeoutError extends Error {}

/** Thrown by a check when waiting longer cannot help (a process died, a port is taken). */
export class GiveUp extends Error {}

/**
 * Poll `check` until it returns true. A check that throws counts as "not yet"; its message
 * becomes what was seen; a `GiveUp` ends the wait at once. On timeout the error names
 * `what` and the last thing seen. Within a test, the wait ends by the test's own deadline.
 */
export async function waitUntil(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean> | boolean,
  seen?: () => string,
  intervalMs = 250,
): Promise<void> {
  const bound = boundedTimeout(timeoutMs);
  return step(`wait for ${what}`, () => poll(what, bound.ms, bound.cut, check, seen, intervalMs));
}

async function poll(
  what: string,
  timeoutMs: number,
  cut: boolean,
  check: () => Promise<boolean> | boolean,
  seen: (() => string) | undefined,
  intervalMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'nothing yet';
  for (;;) {
    try {
      if (await check()) return;
      last = seen?.() ?? 'condition false';
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) {
      const after = `${Math.round(timeoutMs / 100) / 10}s${cut ? " (the rest of the test's time)" : ''}`;
      throw new WaitTimeoutError(`timed out after ${after} waiting for ${what}; last seen: ${last}`);
    }
    await delay(intervalMs);
  }
}
