// Small verbs for the waits that repeat, beyond pods (helpers/verbs/pods.ts): nodes, the default
// ServiceAccount, events, EndpointSlices. Each names what it awaits and what it saw instead.
import * as k8s from '@kubernetes/client-node';
import { describeExpectation, type FieldExpectation, mismatches, readyIsTrue } from './conditions.js';
import type { Kubectl } from './kubectl.js';
import { waitUntil } from './wait.js';

/** Wait until `count` nodes are Ready; returns their names. */
export async function waitForNodes(core: k8s.CoreV1Api, count: number, timeoutMs = 180_000): Promise<string[]> {
  let seen = 'no nodes yet';
  let ready: string[] = [];
  await waitUntil(`${count} node(s) with ${describeExpectation(readyIsTrue)}`, timeoutMs, async () => {
    const nodes = await core.listNode();
    seen = nodes.items.map((n) => `node ${n.metadata?.name}: ${mismatches(n, [readyIsTrue]).join(', ') || 'Ready'}`).join('; ') || 'no nodes yet';
    ready = nodes.items.filter((n) => mismatches(n, [readyIsTrue]).length === 0).map((n) => n.metadata!.name!);
    return ready.length >= count;
  }, () => seen);
  return ready;
}

/** Wait until the node meets every field expectation; returns it as it was then. */
export async function waitForNode(core: k8s.CoreV1Api, name: string, until: FieldExpectation[], timeoutMs = 120_000): Promise<k8s.V1Node> {
  let node: k8s.V1Node | undefined;
  await waitUntil(`node ${name}: ${until.map((e) => describeExpectation(e)).join(', ')}`, timeoutMs, async () => {
    node = await core.readNode({ name });
    return mismatches(node, until).length === 0;
  }, () => mismatches(node, until).join('; '));
  return node!;
}

/**
 * Wait for a namespace's default ServiceAccount: until the controller has made it, Pods are
 * refused with `serviceaccount "default" not found`.
 */
export async function waitForDefaultServiceAccount(core: k8s.CoreV1Api, namespace: string, timeoutMs = 60_000): Promise<void> {
  // Polled often: the controller makes it within a moment of the namespace, and every test waits for it.
  await waitUntil(`ServiceAccount default in namespace ${namespace}`, timeoutMs, async () => {
    await core.readNamespacedServiceAccount({ name: 'default', namespace });
    return true;
  }, undefined, 50);
}

/** Wait for an event about `object` with this reason (and a message matching, or containing, `message`); returns it. */
export async function waitForEvent(
  core: k8s.CoreV1Api, namespace: string, want: { object: string; reason: string; message?: RegExp | string }, timeoutMs = 30_000,
): Promise<k8s.CoreV1Event> {
  let found: k8s.CoreV1Event | undefined;
  let seen: string[] = [];
  await waitUntil(`a ${want.reason} event for ${want.object}${want.message ? ` saying ${typeof want.message === 'string' ? JSON.stringify(want.message) : want.message}` : ''}`, timeoutMs, async () => {
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${want.object},reason=${want.reason}` });
    seen = events.items.map((e) => e.message ?? '');
    const says = (text: string) => !want.message || (typeof want.message === 'string' ? text.includes(want.message) : want.message.test(text));
    found = events.items.find((e) => says(e.message ?? ''));
    return found !== undefined;
  }, () => (seen.length ? `${want.reason} events: ${seen.join(' | ')}` : `no ${want.reason} event`));
  return found!;
}

/** The Pods listed in a Service's EndpointSlices, each with its ready condition. */
export async function endpointReadiness(discovery: k8s.DiscoveryV1Api, namespace: string, service: string): Promise<Record<string, boolean | undefined>> {
  const slices = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
  return Object.fromEntries(slices.items.flatMap((s) => (s.endpoints ?? []).map((e) => [e.targetRef?.name ?? '', e.conditions?.ready])));
}

/** Wait until the Service's EndpointSlices list `pod` with this ready condition. */
export async function waitForEndpoint(
  discovery: k8s.DiscoveryV1Api, namespace: string, service: string, pod: string, ready: boolean, timeoutMs = 30_000,
): Promise<void> {
  let listed: Record<string, boolean | undefined> = {};
  await waitUntil(`pod ${pod} listed as ${ready ? 'ready' : 'not ready'} in the EndpointSlices of Service ${service}`, timeoutMs, async () => {
    listed = await endpointReadiness(discovery, namespace, service);
    return listed[pod] === ready;
  }, () => `endpoints (pod: ready): ${JSON.stringify(listed)}`);
}

/** Manifests of the API groups the chapter's manifests use, for kubectl to validate and send nowhere. */
const VALIDATION_PROBE = `apiVersion: v1
kind: ConfigMap
metadata:
  name: kube-claims-validation-probe
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kube-claims-validation-probe
spec:
  selector: {matchLabels: {app: probe}}
  template:
    metadata: {labels: {app: probe}}
    spec: {containers: [{name: probe, image: probe}]}
`;

/**
 * Wait until kubectl can validate a manifest. Before \`apply\` or \`create\` sends one, kubectl
 * fetches the API server's OpenAPI documents, which a new server builds on first request; an
 * emulated one (the cgroup v2 check) took longer than client-go's 32 s for it, and the first
 * test's \`apply\` failed. Nothing is sent (--dry-run=client); the server keeps what it built.
 */
export async function waitForManifestValidation(kubectl: Kubectl, timeoutMs: number): Promise<void> {
  let seen = '';
  await waitUntil('kubectl to validate a manifest (the API server serving its OpenAPI documents)', timeoutMs, async () => {
    const r = await kubectl(['create', '--dry-run=client', '-o', 'name', '-f', '-'], { input: VALIDATION_PROBE, reject: false, timeoutMs: 120_000 });
    seen = r.stderr || r.stdout;
    return r.exitCode === 0;
  }, () => seen, 1_000);
}
