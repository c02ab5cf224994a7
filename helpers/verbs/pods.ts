// Small verbs about pods, built on client-node. They wait; they do not assert.
import * as k8s from '@kubernetes/client-node';
import type { Api } from '../fixtures/fixtures.js';
import type { Kubectl } from './kubectl.js';
import { describeExpectation, field, type FieldExpectation, mismatches, readyIsTrue } from './conditions.js';
import { waitUntil } from './wait.js';
import { giveUpOnFailedPull } from './pulls.js';
import { waitForEvent } from './cluster-waits.js';

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
  return waitForPod(api, namespace, name, [readyIsTrue], timeoutMs);
}

/**
 * Wait until a readiness probe of the pod has failed (its Unhealthy event) and the kubelet has
 * reported the pod Running; returns the pod as it was then. The prober's event can reach the
 * API before the status manager's patch (CI saw the event, then phase Pending), so a test that
 * reads the pod or `kubectl get` right after the event alone races the kubelet. It does not
 * wait for Ready False: that is for the test to assert.
 */
export async function waitForReadinessFailing(
  api: Api, namespace: string, name: string, message: RegExp | string = /Readiness probe failed/, timeoutMs = 60_000,
): Promise<k8s.V1Pod> {
  await waitForEvent(api.core, namespace, { object: name, reason: 'Unhealthy', message }, timeoutMs);
  return waitForPod(api, namespace, name, [field('status.phase', 'Running')], timeoutMs);
}

/** A test of the whole pod, where field expectations cannot say it (alternatives). */
export interface PodTest {
  wants: string;
  test: (pod: k8s.V1Pod) => boolean;
}

/**
 * The pods of a namespace (those a field or label selector picks) as the API server reports
 * them, kept current by a list and a watch (client-node's ListWatch, as an informer keeps
 * them) until `stop()`. Waits read it instead of asking the API server four times a second:
 * one request per wait, and they see each change as it happens.
 */
export async function podView(api: Api, namespace: string, select: { fieldSelector?: string; labelSelector?: string }) {
  const listWatch = new k8s.ListWatch<k8s.V1Pod>(`/api/v1/namespaces/${namespace}/pods`, new k8s.Watch(api.config),
    () => api.core.listNamespacedPod({ namespace, ...select }), false, select.labelSelector, select.fieldSelector);
  let stopped = false;
  let failed = false;
  let restarting = false;
  let error: string | undefined;
  // A failed list or watch ends the ListWatch; the next read starts it again, one attempt at a
  // time, so the wait that polls the view also paces the retries.
  listWatch.on(k8s.ERROR, (err) => {
    error = String((err as Error)?.message ?? err);
    failed = true;
  });
  const current = () => {
    if (failed && !restarting && !stopped) {
      failed = false;
      restarting = true;
      void listWatch.start().catch(() => (failed = true)).finally(() => (restarting = false));
    }
    return listWatch;
  };
  await listWatch.start();
  return {
    /** The pods now, oldest first. */
    pods: (): k8s.V1Pod[] => oldestFirst(current().list(namespace)),
    pod: (name: string): k8s.V1Pod | undefined => current().get(name, namespace),
    /** The last error of the list or watch, if any (it recovers by itself). */
    get error() { return error; },
    stop: () => { stopped = true; void listWatch.stop(); },
  };
}

/** Checks of a pod view's current state, many times a second; they make no requests. */
const VIEW_CHECK_INTERVAL_MS = 50;

/**
 * Wait until the pod meets every field expectation (or the test); returns the pod as it was
 * then. A timeout names each field still unmet, with what was expected and seen.
 */
export async function waitForPod(
  api: Api, namespace: string, name: string, until: FieldExpectation[] | PodTest, timeoutMs = 120_000,
): Promise<k8s.V1Pod> {
  let pod: k8s.V1Pod | undefined;
  const unmet = () => (Array.isArray(until) ? mismatches(pod, until) : [`wanted ${until.wants}`]);
  const wants = Array.isArray(until) ? until.map((e) => describeExpectation(e)).join(', ') : until.wants;
  const view = await podView(api, namespace, { fieldSelector: `metadata.name=${name}` });
  try {
    await waitUntil(`pod ${namespace}/${name}: ${wants}`, timeoutMs, () => {
      pod = view.pod(name);
      giveUpOnFailedPull(pod);
      return pod !== undefined && (Array.isArray(until) ? mismatches(pod, until).length === 0 : until.test(pod));
    }, () => (pod ? `${unmet().join('; ')} (${summary(pod)})` : `no pod ${name}${view.error ? ` (${view.error})` : ''}`), VIEW_CHECK_INTERVAL_MS);
  } finally {
    view.stop();
  }
  return pod!;
}

function oldestFirst(pods: readonly k8s.V1Pod[]): k8s.V1Pod[] {
  return [...pods].sort((a, b) =>
    new Date(a.metadata!.creationTimestamp!).getTime() - new Date(b.metadata!.creationTimestamp!).getTime());
}

/** Pods matching a label selector, oldest first. */
export async function listPods(api: Api, namespace: string, labelSelector: string): Promise<k8s.V1Pod[]> {
  return oldestFirst((await api.core.listNamespacedPod({ namespace, labelSelector })).items);
}

/** Wait until exactly `count` pods match the selector, all Ready and none terminating. */
export async function waitForReadyPods(api: Api, namespace: string, labelSelector: string, count: number, timeoutMs = 120_000): Promise<k8s.V1Pod[]> {
  let pods: k8s.V1Pod[] = [];
  const view = await podView(api, namespace, { labelSelector });
  try {
    await waitUntil(`${count} Ready pod(s) matching ${labelSelector} in ${namespace}`, timeoutMs, () => {
      pods = view.pods();
      pods.forEach(giveUpOnFailedPull);
      return pods.length === count && pods.every((p) => !p.metadata?.deletionTimestamp && mismatches(p, [readyIsTrue]).length === 0);
    }, () => `${pods.length} pod(s)${pods.map((p) => `; ${p.metadata?.name}: ${[...mismatches(p, [readyIsTrue]), ...(p.metadata?.deletionTimestamp ? ['metadata.deletionTimestamp set (terminating)'] : [])].join(', ') || 'as wanted'} (${summary(p)})`).join('')}`, VIEW_CHECK_INTERVAL_MS);
  } finally {
    view.stop();
  }
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

/** Wait until the pod no longer exists. */
export async function waitForPodGone(api: Api, namespace: string, name: string, timeoutMs = 60_000): Promise<void> {
  let pod: k8s.V1Pod | undefined;
  const view = await podView(api, namespace, { fieldSelector: `metadata.name=${name}` });
  try {
    await waitUntil(`pod ${namespace}/${name} to be gone`, timeoutMs, () => (pod = view.pod(name)) === undefined,
      () => `${summary(pod)}${pod?.metadata?.deletionTimestamp ? ' (terminating)' : ''}`, VIEW_CHECK_INTERVAL_MS);
  } finally {
    view.stop();
  }
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
