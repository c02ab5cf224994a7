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
}

const current = new AsyncLocalStorage<Recorder>();

/** A fresh record for one test. */
export function newRecorder(): Recorder {
  return { start: performance.now(), steps: [] };
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
