// Small verbs about pods, built on client-node. They wait; they do not assert.
import type * as k8s from '@kubernetes/client-node';
import type { Api } from './fixtures.js';
import { waitUntil } from './wait.js';

export function condition(pod: k8s.V1Pod, type: string): string | undefined {
  return pod.status?.conditions?.find((c) => c.type === type)?.status;
}

export function summary(pod: k8s.V1Pod | undefined): string {
  if (!pod) return 'no pod';
  const states = (pod.status?.containerStatuses ?? [])
    .map((s) => `${s.name}=${Object.keys(s.state ?? {})[0]}${s.state?.waiting?.reason ? `(${s.state.waiting.reason})` : ''} restarts=${s.restartCount}`)
    .join(', ');
  return `phase=${pod.status?.phase} Ready=${condition(pod, 'Ready')} ${states}`;
}

/** Wait until the pod's Ready condition is True; returns the pod as it was then. */
export async function waitForPodReady(api: Api, namespace: string, name: string, timeoutMs = 120_000): Promise<k8s.V1Pod> {
  let pod: k8s.V1Pod | undefined;
  await waitUntil(`pod ${namespace}/${name} to be Ready`, timeoutMs, async () => {
    pod = await api.core.readNamespacedPod({ name, namespace });
    return condition(pod, 'Ready') === 'True';
  }, () => summary(pod));
  return pod!;
}

/** Wait until `predicate` holds for the pod; returns the pod as it was then. */
export async function waitForPod(
  api: Api, namespace: string, name: string, what: string,
  predicate: (pod: k8s.V1Pod) => boolean, timeoutMs = 120_000,
): Promise<k8s.V1Pod> {
  let pod: k8s.V1Pod | undefined;
  await waitUntil(`pod ${namespace}/${name}: ${what}`, timeoutMs, async () => {
    pod = await api.core.readNamespacedPod({ name, namespace });
    return predicate(pod);
  }, () => summary(pod));
  return pod!;
}
