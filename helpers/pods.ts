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

/** Pods matching a label selector, oldest first. */
export async function listPods(api: Api, namespace: string, labelSelector: string): Promise<k8s.V1Pod[]> {
  const pods = await api.core.listNamespacedPod({ namespace, labelSelector });
  return pods.items.sort((a, b) =>
    new Date(a.metadata!.creationTimestamp!).getTime() - new Date(b.metadata!.creationTimestamp!).getTime());
}

/** Wait until exactly `count` pods match the selector, all Ready and none terminating. */
export async function waitForReadyPods(api: Api, namespace: string, labelSelector: string, count: number, timeoutMs = 120_000): Promise<k8s.V1Pod[]> {
  let pods: k8s.V1Pod[] = [];
  await waitUntil(`${count} Ready pod(s) matching ${labelSelector} in ${namespace}`, timeoutMs, async () => {
    pods = await listPods(api, namespace, labelSelector);
    return pods.length === count && pods.every((p) => !p.metadata?.deletionTimestamp && condition(p, 'Ready') === 'True');
  }, () => pods.map((p) => `${p.metadata?.name}: ${summary(p)}${p.metadata?.deletionTimestamp ? ' (terminating)' : ''}`).join('; ') || 'no pods');
  return pods;
}
