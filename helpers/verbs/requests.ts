// A request a reader makes from inside a Pod (`kubectl exec POD -- wget ...`) to an app that has
// just started. A container without a readiness probe is Ready as soon as it starts, a moment
// before its server listens (nginx runs its entrypoint's scripts first; the official image too).
// A person typing the command never sees that moment; a test that sends it at once can, on a busy
// node. So the first request is sent again until it succeeds, within a bound; an app that never
// answers still fails the claim, with what the last attempt said.
import { waitUntil } from './wait.js';
import type { Kubectl, KubectlOptions, KubectlResult } from './kubectl.js';

/** How long a just-started app may take to answer its first request. */
export const FIRST_ANSWER_MS = 30_000;

/** `kubectl ARGS` (an exec that makes a request), run again until it exits 0; its result. */
export async function onceAnswering(kubectl: Kubectl, args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
  let last: KubectlResult | undefined;
  await waitUntil(`\`kubectl ${args.join(' ')}\` to succeed (the app to answer)`, FIRST_ANSWER_MS, async () => {
    last = await kubectl(args, { ...opts, reject: false });
    return last.exitCode === 0;
  }, () => `exit ${last?.exitCode}: ${(last?.stderr || last?.stdout || '').trim().slice(0, 300) || 'no output'}`, 500);
  return last!;
}
