// Small verbs about pods, built on client-node. They wait; they do not assert.
import * as k8s from '@kubernetes/client-node';
import type { Api } from './fixtures.js';
import type { Kubectl } from './kubectl.js';
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

/** A record of every change the API server reported for some pods, kept until `stop()`. */
export interface PodWatch {
  /** Every event so far, oldest first: ADDED, MODIFIED or DELETED, with the pod as it was then. */
  readonly events: { type: string; pod: k8s.V1Pod }[];
  stop(): void;
}

/** Watch the pods of a namespace (optionally one, by field selector) from now on. */
export async function watchPods(api: Api, namespace: string, fieldSelector?: string): Promise<PodWatch> {
  const events: PodWatch['events'] = [];
  const watch = new k8s.Watch(api.config);
  const request = await watch.watch(`/api/v1/namespaces/${namespace}/pods`, fieldSelector ? { fieldSelector } : {},
    (type: string, pod: k8s.V1Pod) => events.push({ type, pod }), () => {});
  return { events, stop: () => request.abort() };
}

/** Wait until the pod no longer exists (404). */
export async function waitForPodGone(api: Api, namespace: string, name: string, timeoutMs = 60_000): Promise<void> {
  let seen = 'still there';
  await waitUntil(`pod ${namespace}/${name} to be gone`, timeoutMs, async () => {
    try {
      const pod = await api.core.readNamespacedPod({ name, namespace });
      seen = `${summary(pod)}${pod.metadata?.deletionTimestamp ? ' (terminating)' : ''}`;
      return false;
    } catch (err: any) {
      if (err?.code === 404) return true;
      throw err;
    }
  }, () => seen);
}

/**
 * Wait until a restarting container's log (the current or the previous container's: between
 * restarts the kubelet may already have replaced the one `--previous` names) matches `said`;
 * returns that log.
 */
export async function waitForRestartingLog(
  kubectl: Kubectl, pod: string, container: string, said: RegExp, timeoutMs = 30_000,
): Promise<string> {
  let log = '';
  await waitUntil(`container ${pod}/${container} to log ${said}`, timeoutMs, async () => {
    for (const previous of [true, false]) {
      const r = await kubectl(['logs', pod, '-c', container, ...(previous ? ['--previous'] : [])], { reject: false });
      log = r.exitCode === 0 ? r.stdout : r.stderr;
      if (r.exitCode === 0 && said.test(log)) return true;
    }
    return false;
  }, () => log);
  return log;
}
