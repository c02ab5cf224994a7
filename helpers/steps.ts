// The steps of a claim's test, for the report: every kubectl command, every wait, every
// command on the node, and any step a test names itself, each with when it started, how long
// it took and whether it failed. Recorded per test through AsyncLocalStorage, so that helpers
// record without being handed a recorder.
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';

export interface Step {
  name: string;
  /** Milliseconds from the test's start to the step's. */
  at: number;
  ms: number;
  ok: boolean;
  /** First line of the error, for a failed step. */
  error?: string;
}

export interface Recorder {
  start: number;
  steps: Step[];
  /** When the test's waits must have ended (performance.now() time), if it has a timeout. */
  deadline?: number;
  /** Multiplies the test's wait and command time limits (KUBE_CLAIMS_TIME_SCALE). */
  timeScale: number;
}

const current = new AsyncLocalStorage<Recorder>();

/** A fresh record for one test, whose waits must end within `budgetMs` (if given). */
export function newRecorder(budgetMs?: number, timeScale = 1): Recorder {
  const start = performance.now();
  return { start, steps: [], timeScale, ...(budgetMs ? { deadline: start + budgetMs } : {}) };
}

/**
 * A wait's or command's timeout within a test: scaled (KUBE_CLAIMS_TIME_SCALE), and cut to
 * what is left of the test's time, so that it ends with its own message (what it awaited,
 * what it saw) before the test's timeout would.
 */
export function boundedTimeout(timeoutMs: number): { ms: number; cut: boolean } {
  const rec = current.getStore();
  if (!rec) return { ms: timeoutMs, cut: false };
  const scaled = timeoutMs * rec.timeScale;
  if (rec.deadline === undefined) return { ms: scaled, cut: false };
  const left = Math.max(1_000, Math.floor(rec.deadline - performance.now()));
  return left < scaled ? { ms: left, cut: true } : { ms: scaled, cut: false };
}

/** Run `fn` with `recorder` as the current test's record. */
export function recording<T>(recorder: Recorder, fn: () => Promise<T>): Promise<T> {
  return current.run(recorder, fn);
}

/** Run `fn` as a step of the current test (outside a test it just runs). */
export async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const rec = current.getStore();
  if (!rec) return fn();
  const begun = performance.now();
  const record = (ok: boolean, error?: unknown) => rec.steps.push({
    name: name.length > 160 ? `${name.slice(0, 157)}...` : name,
    at: Math.round(begun - rec.start),
    ms: Math.round(performance.now() - begun),
    ok,
    ...(error === undefined ? {} : { error: String((error as Error)?.message ?? error).split('\n')[0]!.slice(0, 300) }),
  });
  try {
    const result = await fn();
    record(true);
    return result;
  } catch (err) {
    record(false, err);
    throw err;
  }
}

/** The steps in the order they started. */
export function orderedSteps(recorder: Recorder): Step[] {
  return [...recorder.steps].sort((a, b) => a.at - b.at);
}
