// Section 2.1: How Kubernetes runs and manages containers.
import * as k8s from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import ipaddr from 'ipaddr.js';
import semver from 'semver';
import { expect } from 'vitest';
import { describeBlock, describeField, describeSection } from '../helpers/verbs/describe.js';
import { type Api, claim } from '../helpers/fixtures/fixtures.js';
import { check, expectFields, field, isSet, oneOf } from '../helpers/verbs/conditions.js';
import { condition, summary, waitForPod, waitForPodReady, waitForReadinessFailing, waitForRestartingLog, watchPods } from '../helpers/verbs/pods.js';
import { waitUntil } from '../helpers/verbs/wait.js';
import { startHeldRegistry } from '../helpers/fixtures/held-registry.js';
import type { BackgroundKubectl } from '../helpers/verbs/kubectl.js';
import { waitForEndpoint, waitForEvent } from '../helpers/verbs/cluster-waits.js';
import { markedPath, waitForAccessLine, accessLineFor } from '../helpers/verbs/access-log.js';
import { listeningPorts, localAddresses, READ_FIB_TRIE, READ_TCP_SOCKETS } from '../helpers/cluster/kernel.js';
import { FIRST_ANSWER_MS, onceAnswering } from '../helpers/verbs/requests.js';

claim('pod-wraps-containers', async ({ ns, kubectl, api, cluster }) => {
  const run = await kubectl(['run', 'hello-kiamol', `--image=${cluster.images.hello}`]);
  expect(run.stdout.trim()).toBe('pod/hello-kiamol created');

  const pod = await waitForPodReady(api, ns, 'hello-kiamol');
  const stored = await kubectl.json<k8s.V1Pod>(['get', 'pod', 'hello-kiamol']);
  expect(stored.kind).toBe('Pod');
  expect(stored.metadata?.uid).toBe(pod.metadata?.uid);
  expect(pod.metadata?.ownerReferences ?? []).toEqual([]);
  expect(pod.spec?.containers.map((c) => c.image)).toEqual([cluster.images.hello]);
  expect(pod.status?.containerStatuses?.map((s) => s.name)).toEqual(['hello-kiamol']);

  const deployments = await api.apps.listNamespacedDeployment({ namespace: ns });
  const replicaSets = await api.apps.listNamespacedReplicaSet({ namespace: ns });
  expect(deployments.items).toEqual([]);
  expect(replicaSets.items).toEqual([]);
  const all = await kubectl(['get', 'pods,deployments,replicasets', '-o', 'name']);
  expect(all.stdout.trim().split('\n')).toEqual(['pod/hello-kiamol']);
});

/**
 * kubectl's request log (-v=6): an empty namespace's `get --watch` prints nothing, so a test
 * knows its watch is in place before it acts only from the logged watch request.
 */
const WATCH_LOGGED = ['-v=6'];
async function waitForWatchStarted(reader: BackgroundKubectl): Promise<void> {
  await waitUntil('kubectl get pods --watch to have its watch answered (its -v=6 request log)', 30_000,
    () => /watch=true.*200 OK/.test(reader.output), () => JSON.stringify(reader.output.slice(-300)));
}

claim('run-not-ready', async ({ ns, kubectl, api, cluster }) => {
  // The API's record of the Pod from before it exists: when it turned Ready, relative to kubectl.
  const watch = await watchPods(api, ns, 'metadata.name=not-yet');
  try {
    const run = await kubectl(['run', 'not-yet', `--image=${cluster.images.hello}`]);
    const readyEventsWhenReturned = watch.events.filter((e) => condition(e.pod, 'Ready') === 'True').length;
    // Read at once: a kubectl that waited for Ready would leave a Ready Pod here.
    const rightAfter = await api.core.readNamespacedPod({ name: 'not-yet', namespace: ns });
    expect(run.stdout).toBe('pod/not-yet created');
    expect(condition(rightAfter, 'Ready'), `Ready condition right after kubectl run returned (${summary(rightAfter)})`).not.toBe('True');
    expect(rightAfter.status?.phase, 'phase right after kubectl run returned').toBe('Pending');
    expect(readyEventsWhenReturned, 'Ready=True events the API had sent when kubectl run returned').toBe(0);
    // ...and it does get there afterwards: kubectl simply did not wait.
    await waitUntil('the watch to see not-yet turn Ready', 120_000, () => watch.events.some((e) => condition(e.pod, 'Ready') === 'True'),
      () => summary(watch.events.at(-1)?.pod));
  } finally {
    watch.stop();
  }
});

claim('run-reader-view', async ({ ns, kubectl, api, cluster, outcome }) => {
  // The Pod's image comes from a registry on its node that holds its answer until the test lets
  // it go (as the book's first pull takes seconds): what the reader sees before it can be Ready
  // does not depend on how fast the node is.
  const registry = await startHeldRegistry({ api, kubectl, namespace: ns, image: cluster.debugImage, mayRefuse: cluster.provider === 'existing' });
  const onItsNode = { apiVersion: 'v1', spec: { nodeSelector: { 'kubernetes.io/hostname': registry.hostname } } };
  let describedSeen: { describeStatus: string; describeReady: string } | undefined;
  // The reader's own window on the Pod, opened before it exists.
  const reader = kubectl.background(['get', 'pods', '--watch', ...WATCH_LOGGED]);
  const rows = () => reader.output.split('\n').map((l) => l.trim().split(/\s+/)).filter((r) => r[0] === 'just-run');
  try {
    await waitForWatchStarted(reader);
    const run = await kubectl(['run', 'just-run', `--image=${registry.image}`, `--overrides=${JSON.stringify(onItsNode)}`]);
    expect(run.stdout).toBe('pod/just-run created');
    // The notes' own commands, right after kubectl run: not Ready, 0/1.
    const listed = (await kubectl(['get', 'pods', 'just-run', '--no-headers'])).stdout;
    expect(listed, 'kubectl get pods right after kubectl run').toMatch(/^just-run\s+0\/1\s+(Pending|ContainerCreating)\s+0\s/);
    const described = (await kubectl(['describe', 'pod', 'just-run'])).stdout;
    const status = describeField(described, 'Status');
    const readyRow = describeSection(described, 'Conditions').map((l) => l.trim().split(/\s+/)).find((r) => r[0] === 'Ready');
    expect(status, 'describe: Status right after kubectl run').toBe('Pending');
    describedSeen = { describeStatus: status!, describeReady: readyRow?.[1] ?? 'absent' };
    // The API behind it: Pending, not Ready.
    const pod = await api.core.readNamespacedPod({ name: 'just-run', namespace: ns });
    expect(pod.status?.phase).toBe('Pending');
    expect(condition(pod, 'Ready') ?? 'absent', `the Ready condition (${summary(pod)})`).not.toBe('True');

    // Once the runtime is pulling, the reader sees ContainerCreating; then the pull ends.
    await waitUntil('the node\'s runtime to ask the registry for the image', 60_000, () => registry.asked());
    expect((await kubectl(['get', 'pods', 'just-run', '--no-headers'])).stdout, 'kubectl get pods while the image is pulled').toMatch(/^just-run\s+0\/1\s+ContainerCreating\s+0\s/);
    await registry.release();
    await waitUntil('kubectl get pods --watch to show just-run 1/1 Running', 120_000,
      () => rows().some((r) => r[1] === '1/1' && r[2] === 'Running'), () => rows().map((r) => r.slice(1, 3).join(' ')).join(' > '));
  } finally {
    await reader.stop();
  }
  // First 0/1 Pending, then 0/1 ContainerCreating while the runtime pulls and starts it, then 1/1 Running.
  const seen = rows().map((r) => `${r[1]} ${r[2]}`);
  const firstReady = seen.indexOf('1/1 Running');
  expect(seen[0], `first row kubectl showed (all: ${seen.join(' > ')})`).toBe('0/1 Pending');
  expect(seen.slice(0, firstReady), `rows before 1/1 Running: ${seen.join(' > ')}`).toContain('0/1 ContainerCreating');
  expect(seen.slice(0, firstReady).every((r) => /^0\/1 (Pending|ContainerCreating)$/.test(r)), `rows before 1/1 Running: ${seen.join(' > ')}`).toBe(true);
  // The API behind it agrees: Ready now.
  expect(condition(await api.core.readNamespacedPod({ name: 'just-run', namespace: ns }), 'Ready')).toBe('True');
  await outcome(describedSeen!);
});

claim('wait-ready', async ({ ns, kubectl, api, manifests }) => {
  // A Pod that runs but is not Ready until the test creates /tmp/ready (its readiness probe).
  await kubectl(['apply', '-f', manifests.file('readiness-gated.yaml')]);
  let returnedAt: number | undefined;
  const wait = kubectl(['wait', '--for=condition=Ready', 'pod/gated', '--timeout=120s'], { reject: false })
    .finally(() => (returnedAt = Date.now()));
  // The Pod runs and its probe has failed: kubectl wait must still be waiting.
  const notReady = await waitForReadinessFailing(api, ns, 'gated');
  expect(condition(notReady, 'Ready')).toBe('False');
  expect(returnedAt, 'kubectl wait returned while the Pod was not Ready').toBeUndefined();

  const readyFrom = Date.now();
  await kubectl(['exec', 'gated', '--', 'touch', '/tmp/ready']);
  const waited = await wait;
  expect(waited.exitCode, waited.stderr).toBe(0);
  expect(waited.stdout.trim()).toBe('pod/gated condition met');
  expect(returnedAt!).toBeGreaterThanOrEqual(readyFrom);
  const pod = await api.core.readNamespacedPod({ name: 'gated', namespace: ns });
  expect(condition(pod, 'Ready')).toBe('True');
});

claim('pod-has-ip', async ({ ns, kubectl, api, cluster }) => {
  for (const name of ['ip-a', 'ip-b']) await kubectl(['run', name, `--image=${cluster.images.hello}`]);
  const pods = [await waitForPodReady(api, ns, 'ip-a'), await waitForPodReady(api, ns, 'ip-b')];
  const ips = pods.map((p) => p.status?.podIP ?? '');
  for (const pod of pods) {
    // Each node has a pod subnet of its own, inside the cluster's (several nodes: one each).
    const node = await api.core.readNode({ name: pod.spec!.nodeName! });
    const podCidrs = (node.spec?.podCIDRs ?? [node.spec?.podCIDR]).filter((c): c is string => !!c);
    expect(podCidrs.length, `pod CIDRs of node ${node.metadata?.name}`).toBeGreaterThan(0);
    const ip = pod.status?.podIP ?? '';
    expect(ipaddr.isValid(ip), `pod IP "${ip}"`).toBe(true);
    const inside = podCidrs.some((cidr) => ipaddr.parse(ip).match(ipaddr.parseCIDR(cidr)));
    expect(inside, `${ip} inside the pod CIDR ${podCidrs.join(',')} of node ${node.metadata?.name}`).toBe(true);
  }
  expect(new Set(ips).size).toBe(ips.length);

  const columns = await kubectl(['get', 'pods', '-o', 'custom-columns=NAME:metadata.name,NODE_IP:status.hostIP,POD_IP:status.podIP']);
  const rows = columns.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
  expect(rows[0]).toEqual(['NAME', 'NODE_IP', 'POD_IP']);
  expect(rows.slice(1)).toEqual(pods.map((p) => [p.metadata!.name!, p.status!.hostIP!, p.status!.podIP!]));
});

claim('pod-shares-network', async ({ ns, kubectl, api, cluster, manifests }) => {
  await kubectl(['apply', '-f', manifests.file('two-containers.yaml')]);
  const pod = await waitForPodReady(api, ns, 'two-containers');
  // The kernel's view from inside each container: the Pod IP is a local address of its network
  // namespace (not /etc/hosts, which the kubelet writes for every container alike).
  for (const container of ['web', 'sidecar']) {
    const fib = await kubectl(['exec', 'two-containers', '-c', container, '--', ...READ_FIB_TRIE]);
    expect(localAddresses(fib.stdout), `local addresses in container ${container}`).toContain(pod.status?.podIP);
  }
  // One namespace, not two alike: the sidecar (which only sleeps) sees the web container's
  // listening socket on port 80 (once nginx listens, a moment after its container started).
  let sockets = '';
  await waitUntil('the sidecar to see a socket listening on port 80', FIRST_ANSWER_MS, async () => {
    sockets = (await kubectl(['exec', 'two-containers', '-c', 'sidecar', '--', ...READ_TCP_SOCKETS])).stdout;
    return listeningPorts(sockets).includes(80);
  }, () => `listening: ${listeningPorts(sockets).join(', ') || 'none'}`, 500);
  expect(listeningPorts(sockets), 'ports listening, as the sidecar sees them').toContain(80);
});

claim('pod-localhost', async ({ ns, kubectl, api, manifests }) => {
  await kubectl(['apply', '-f', manifests.file('two-containers.yaml')]);
  await waitForPodReady(api, ns, 'two-containers');
  // The sidecar serves nothing itself: what answers on its localhost:80 is the web container.
  const page = await onceAnswering(kubectl, ['exec', 'two-containers', '-c', 'sidecar', '--', 'wget', '-q', '-O', '-', 'http://localhost:80/']);
  expect(page.stdout).toMatch(/<html/i);
  const direct = await kubectl(['exec', 'two-containers', '-c', 'web', '--', 'wget', '-q', '-O', '-', 'http://localhost:80/']);
  expect(page.stdout).toBe(direct.stdout);

  // Our own manifest, not the claim: a reader who deletes this Pod waits for it. Each container
  // must end on the signal its image stops it with (QUIT for hello), not wait out the 30 s grace
  // period and be killed: how each ended (exit 0, not 137 from SIGKILL) says so on a machine of
  // any speed, where the time taken would not (an emulated node needs longer for the rest).
  const watch = await watchPods(api, ns, 'metadata.name=two-containers');
  const started = Date.now();
  try {
    const deleted = await kubectl(['delete', 'pod', 'two-containers', '--wait=true', '--timeout=300s']);
    // kubectl 1.34 and later add the namespace: `pod "x" deleted from ns namespace`.
    expect(deleted.stdout).toMatch(new RegExp(`^pod "two-containers" deleted( from ${ns} namespace)?$`));
    await waitUntil('the watch to report two-containers DELETED', 60_000, () => watch.events.some((e) => e.type === 'DELETED'), () => watch.events.map((e) => e.type).join(' > '));
  } finally {
    watch.stop();
  }
  const ended = Object.fromEntries(['web', 'sidecar'].map((name) => [name,
    watch.events.map((e) => e.pod.status?.containerStatuses?.find((c) => c.name === name)?.state?.terminated).filter(Boolean).at(-1)?.exitCode]));
  expect(ended, `exit codes as the containers ended on deletion (137: killed after the grace period; ${((Date.now() - started) / 1000).toFixed(1)} s in all)`).toEqual({ web: 0, sidecar: 0 });
});

claim('pod-single-container-default', async ({ ns, kubectl, api, cluster, manifests }) => {
  await kubectl(['run', 'single', `--image=${cluster.images.hello}`]);
  await kubectl(['apply', '-f', manifests.file('two-containers.yaml')]);
  const single = await waitForPodReady(api, ns, 'single');
  const double = await waitForPodReady(api, ns, 'two-containers');
  expect(single.spec?.containers).toHaveLength(1);
  expect(double.spec?.containers).toHaveLength(2);

  const table = await kubectl(['get', 'pods', '--no-headers']);
  const ready = Object.fromEntries(table.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)).map((c) => [c[0], c[1]]));
  expect(ready).toEqual({ single: '1/1', 'two-containers': '2/2' });
});

claim('pod-runs-on-one-node', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'placed', `--image=${cluster.images.hello}`]);
  const pod = await waitForPodReady(api, ns, 'placed');
  const nodeName = pod.spec?.nodeName;
  expect(nodeName).toBeTruthy();
  const node = await api.core.readNode({ name: nodeName! });
  const internalIp = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  expect(pod.status?.hostIP).toBe(internalIp);
  expect(pod.status?.hostIPs?.map((h) => h.ip)).toContain(internalIp);
  const described = await kubectl(['describe', 'pod', 'placed']);
  expect(describeField(described.stdout, 'Node')).toBe(`${nodeName}/${internalIp}`);
});

claim('pod-ip-reachable-in-cluster', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'server', `--image=${cluster.images.hello}`]);
  await kubectl(['run', 'client', `--image=${cluster.images.hello}`]);
  const server = await waitForPodReady(api, ns, 'server');
  const client = await waitForPodReady(api, ns, 'client');
  const path = markedPath('reachable');
  const page = await onceAnswering(kubectl, ['exec', 'client', '--', 'wget', '-q', '-O', '-', `http://${server.status!.podIP}${path}`]);
  expect(page.stdout).toMatch(/<html/i);
  // The request reached the server Pod itself, from the client Pod's IP: the server logged it.
  const { line } = await waitForAccessLine(kubectl, ['server'], path);
  expect(line.split(' ')[0], `client address in the server's access line: ${line}`).toBe(client.status!.podIP);
});

claim('pod-ip-internal-only', async ({ ns, kubectl, api, cluster, forward }) => {
  await kubectl(['run', 'inside', `--image=${cluster.images.hello}`]);
  const pod = await waitForPodReady(api, ns, 'inside');
  // From the test process, outside the cluster, the Pod IP does not lead to the app. (Some
  // networks answer every outbound connection themselves, so compare what comes back.)
  const outsidePath = markedPath('from-outside');
  const outside = await httpGetOutcome(`http://${pod.status!.podIP}${outsidePath}`, 3_000);
  // Then through port-forward, which does reach it.
  const tunnel = await forward('pod/inside', 80);
  const forwardedPath = markedPath('forwarded');
  const page = await tunnel.get(forwardedPath);
  expect(page).toMatch(/<html/i);
  expect(outside, `GET http://${pod.status!.podIP}${outsidePath} from outside the cluster`).not.toBe(page);
  // The app logged the forwarded request; the outside one, made first, never reached it.
  const { log } = await waitForAccessLine(kubectl, ['inside'], forwardedPath);
  expect(accessLineFor(log, outsidePath), 'access line of the request from outside').toBeUndefined();
});

claim('pod-port-shared', async ({ ns, kubectl, api, cluster, manifests }) => {
  await kubectl(['apply', '-f', manifests.file('two-web-servers.yaml')]);
  // Which container wins the port is a race; the loser keeps failing and being restarted.
  const pod = await waitForPod(api, ns, 'port-clash', [field('status.containerStatuses[*].restartCount',
    check('one of them above 0', (counts) => Array.isArray(counts) && counts.some((n) => n > 0)))]);
  const statuses = pod.status!.containerStatuses!;
  const loser = statuses.find((s) => s.restartCount > 0)!;
  const winner = statuses.find((s) => s.name !== loser.name)!;
  expect(winner.restartCount).toBe(0);
  expect(winner.state?.running, `container ${winner.name} keeps running`).toBeTruthy();
  expect(loser.lastState?.terminated?.exitCode, `container ${loser.name} exit code`).not.toBe(0);
  // The loser's log says why.
  await waitForRestartingLog(kubectl, 'port-clash', loser.name, /address (already )?in use/i);
});

claim('pod-phases', async ({ ns, kubectl, api, cluster }) => {
  const watch = await watchPods(api, ns, 'metadata.name=phases');
  const seen = () => watch.events.map((e) => ({ phase: e.pod.status?.phase, ready: condition(e.pod, 'Ready') }));
  try {
    await kubectl(['run', 'phases', `--image=${cluster.images.hello}`]);
    await waitUntil('the watch to see Ready=True', 120_000, () => seen().some((s) => s.ready === 'True'), () => JSON.stringify(seen()));
  } finally {
    watch.stop();
  }
  const phases = seen().map((s) => s.phase).filter((p, i, all) => p !== all[i - 1]);
  expect(phases).toEqual(['Pending', 'Running']);
  const firstTrue = seen().findIndex((s) => s.ready === 'True');
  const firstFalse = seen().findIndex((s) => s.ready === 'False');
  expect(firstFalse, `Ready=False seen before Ready=True in ${JSON.stringify(seen())}`).toBeGreaterThanOrEqual(0);
  expect(firstFalse).toBeLessThan(firstTrue);
});

claim('readiness-probe-gates', async ({ ns, kubectl, api, cluster, manifests }) => {
  await kubectl(['apply', '-f', manifests.file('readiness-gated.yaml')]);
  // Evidence that the probe ran and failed, not merely that it has not run yet.
  const failing = await waitForReadinessFailing(api, ns, 'gated');
  expect(condition(failing, 'Ready')).toBe('False');
  expect(failing.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  // The Service's EndpointSlice lists the Pod, as not ready (an absent slice would prove nothing).
  await waitForEndpoint(api.discovery, ns, 'gated', 'gated', false);
  expect((await kubectl(['get', 'pod', 'gated', '--no-headers'])).stdout).toMatch(/^gated\s+0\/1\s+Running\s+0\s/);

  await kubectl(['exec', 'gated', '--', 'touch', '/tmp/ready']);
  const ready = await waitForPodReady(api, ns, 'gated');
  expect(ready.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  await waitForEndpoint(api.discovery, ns, 'gated', 'gated', true);
});

claim('get-pods-columns', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'columns', `--image=${cluster.images.hello}`]);
  await waitForPodReady(api, ns, 'columns');
  const lines = (await kubectl(['get', 'pods'])).stdout.trim().split('\n');
  expect(lines[0]!.trim().split(/\s+/)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
  expect(lines[1]).toMatch(/^columns\s+1\/1\s+Running\s+0\s+\d+s$/);
});

claim('describe-fields', async ({ ns, kubectl, api, cluster, claim: entry, differs }) => {
  await kubectl(['run', 'hello-kiamol', `--image=${cluster.images.hello}`]);
  await waitForPodReady(api, ns, 'hello-kiamol');
  // Events are written shortly after the container starts; describe what a reader sees then.
  await waitForEvent(api.core, ns, { object: 'hello-kiamol', reason: 'Started' });
  const pod = await api.core.readNamespacedPod({ name: 'hello-kiamol', namespace: ns });
  const text = (await kubectl(['describe', 'pod', 'hello-kiamol'])).stdout;
  const c = pod.status!.containerStatuses![0]!;
  const container = pod.spec!.containers[0]!;
  const events = (await api.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=hello-kiamol' })).items;
  const token = pod.spec!.volumes!.find((v) => v.name.startsWith('kube-api-access-'))!;
  const sources = token.projected?.sources ?? [];
  const tokenSource = sources.find((x) => x.serviceAccountToken)?.serviceAccountToken;
  const configMapSource = sources.find((x) => x.configMap)?.configMap;
  const downwardSource = sources.find((x) => x.downwardAPI)?.downwardAPI;

  // What this version prints otherwise than the notes show (the report says "differs").
  const versionSays: string[] = [];
  const checks: Record<string, () => void> = {
    Name: () => expect(describeField(text, 'Name')).toBe(pod.metadata!.name),
    Namespace: () => expect(describeField(text, 'Namespace')).toBe(ns),
    // Pinned to the notes: no PriorityClass, so 0.
    Priority: () => expect([describeField(text, 'Priority'), pod.spec!.priority]).toEqual(['0', 0]),
    'Service Account': () => expect(describeField(text, 'Service Account')).toBe(pod.spec!.serviceAccountName),
    Node: () => expect(describeField(text, 'Node')).toBe(`${pod.spec!.nodeName}/${pod.status!.hostIP}`),
    'Start Time': () => expect(new Date(describeField(text, 'Start Time')!).getTime()).toBe(new Date(pod.status!.startTime!).getTime()),
    // Pinned to what the notes show, not read back from the object: kubectl run labels run=<name>.
    Labels: () => expect([describeField(text, 'Labels'), pod.metadata!.labels]).toEqual(['run=hello-kiamol', { run: 'hello-kiamol' }]),
    Annotations: () => expect([describeField(text, 'Annotations'), pod.metadata!.annotations]).toEqual(['<none>', undefined]),
    Status: () => expect(describeField(text, 'Status')).toBe(pod.status!.phase),
    IP: () => expect(describeField(text, 'IP')).toBe(pod.status!.podIP),
    IPs: () => expect(describeBlock(text, 'IPs', 0)).toEqual(pod.status!.podIPs!.map((x) => `IP:  ${x.ip}`)),
    // Each container under its own name, as the notes show it: `  hello-kiamol:`.
    Containers: () => expect(describeSection(text, 'Containers')[0]).toBe('  hello-kiamol:'),
    'Container ID': () => expect(describeField(text, 'Container ID', 4)).toBe(c.containerID),
    Image: () => expect(describeField(text, 'Image', 4)).toBe(pod.spec!.containers[0]!.image),
    'Image ID': () => {
      // The runtime's image reference: a digest, with the repository when it was pulled by name.
      const shown = describeField(text, 'Image ID', 4);
      expect(shown).toBe(c.imageID);
      expect(shown, 'describe: Image ID').toMatch(/^([^\s@]+@)?sha256:[0-9a-f]{64}$/);
      // The notes, taken on Docker Desktop's Docker runtime, show docker-pullable://<repository>@sha256:...
      versionSays.push(`Image ID is "${shown}" where the notes show "docker-pullable://kiamol/ch02-hello-kiamol@sha256:..." (the node runs containerd; docker-pullable:// is the Docker runtime's form)`);
    },
    // kubectl run without --port: the container declares no port.
    Port: () => expect([describeField(text, 'Port', 4), container.ports]).toEqual(['<none>', undefined]),
    'Host Port': () => expect(describeField(text, 'Host Port', 4)).toBe('<none>'),
    Started: () => expect(new Date(describeField(text, 'Started', 6)!).getTime()).toBe(new Date(c.state!.running!.startedAt!).getTime()),
    Environment: () => expect([describeField(text, 'Environment', 4), container.env]).toEqual(['<none>', undefined]),
    // Pinned to the notes: the service account's token, read-only.
    Mounts: () => {
      expect(describeBlock(text, 'Mounts', 4)).toEqual([`/var/run/secrets/kubernetes.io/serviceaccount from ${token.name} (ro)`]);
      expect(container.volumeMounts!.map((m) => [m.mountPath, m.readOnly])).toEqual([['/var/run/secrets/kubernetes.io/serviceaccount', true]]);
    },
    State: () => expect(describeField(text, 'State', 4)).toBe(Object.keys(c.state!)[0]!.replace(/^./, (x) => x.toUpperCase())),
    Ready: () => expect(describeField(text, 'Ready', 4)).toBe(c.ready ? 'True' : 'False'),
    'Restart Count': () => expect(describeField(text, 'Restart Count', 4)).toBe(String(c.restartCount)),
    Conditions: () => {
      const rows = describeSection(text, 'Conditions').slice(1).map((l) => l.trim().split(/\s+/));
      expect(Object.fromEntries(rows.map((r) => [r[0], r[1]]))).toEqual(
        Object.fromEntries(pod.status!.conditions!.map((x) => [x.type, x.status])));
    },
    Volumes: () => {
      const volume = pod.spec!.volumes!.find((v) => v.name.startsWith('kube-api-access-'))!;
      expect(volume.projected).toBeTruthy();
      const section = describeSection(text, 'Volumes').join('\n');
      expect(section).toMatch(new RegExp(`^\\s+${volume.name}:\\n\\s+Type:\\s+Projected`, 'm'));
    },
    TokenExpirationSeconds: () => {
      expect(describeField(text, 'TokenExpirationSeconds', 4)).toBe(String(tokenSource!.expirationSeconds));
      expect(tokenSource!.expirationSeconds).toBe(3607);
    },
    ConfigMapName: () => expect([describeField(text, 'ConfigMapName', 4), configMapSource!.name]).toEqual(['kube-root-ca.crt', 'kube-root-ca.crt']),
    ConfigMapOptional: () => {
      expect(configMapSource!.optional, 'the projected ConfigMap source\'s optional').toBeUndefined();
      const notes = describeField(text, 'ConfigMapOptional', 4);
      // kubectl 1.37 prints the same unset field as `Optional: false`.
      if (notes === undefined) {
        expect(describeField(text, 'Optional', 4), 'describe: ConfigMapOptional, or Optional').toBe('false');
        versionSays.push('the token volume shows "Optional: false" where the notes show "ConfigMapOptional: <nil>"');
      } else {
        expect(notes).toBe('<nil>');
      }
    },
    DownwardAPI: () => expect([describeField(text, 'DownwardAPI', 4), !!downwardSource]).toEqual(['true', true]),
    'QoS Class': () => expect(describeField(text, 'QoS Class')).toBe(pod.status!.qosClass),
    'Node-Selectors': () => expect([describeField(text, 'Node-Selectors'), pod.spec!.nodeSelector]).toEqual(['<none>', undefined]),
    Tolerations: () => {
      const shown = describeSection(text, 'Tolerations').map((l) => l.trim());
      const expected = pod.spec!.tolerations!.map((t) => `${t.key}:${t.effect} op=${t.operator} for ${t.tolerationSeconds}s`);
      expect(shown).toEqual(expected);
      expect(expected).toEqual(['node.kubernetes.io/not-ready:NoExecute op=Exists for 300s', 'node.kubernetes.io/unreachable:NoExecute op=Exists for 300s']);
    },
    Events: () => {
      // Each event as the notes show it (Type, Reason, From, Message; Age aside).
      const rows = describeSection(text, 'Events').slice(2).map((l) => l.trim().split(/\s{2,}/));
      expect(rows.map((r) => r[1]).sort(), 'event reasons describe shows, against the API').toEqual(events.map((e) => e.reason).sort());
      const image = pod.spec!.containers[0]!.image!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      // Since 1.37 the kubelet names the container by its field path and words some messages anew.
      const field = '(spec\\.containers\\{hello-kiamol\\}: )?';
      const expectRow = (reason: string, from: string, notes: string, forms: RegExp[]) => {
        const row = rows.find((r) => r[1] === reason);
        expect(row, `an event ${reason} in describe`).toBeDefined();
        expect([row![0], row![3]], `event ${reason}: Type and From`).toEqual(['Normal', from]);
        const message = row![4]!;
        const known = forms.some((f) => f.test(message));
        expect(known, `event ${reason}: Message ${JSON.stringify(message)}, where the notes show ${JSON.stringify(notes)}; known forms: ${forms.join(' ')}`).toBe(true);
        if (!forms[0]!.test(message)) versionSays.push(`${reason} says "${message}" where the notes show "${notes}"`);
      };
      expectRow('Scheduled', 'default-scheduler', `Successfully assigned ${ns}/hello-kiamol to <node>`,
        [new RegExp(`^Successfully assigned ${ns}/hello-kiamol to ${pod.spec!.nodeName}$`)]);
      if (pod.spec!.containers[0]!.imagePullPolicy === 'Always') {
        // An image tagged latest (the book's) is pulled every time: describe shows the pull.
        expectRow('Pulling', 'kubelet', 'Pulling image "kiamol/ch02-hello-kiamol"',
          [new RegExp(`^Pulling image "${image}"$`), new RegExp(`^${field}Pulling image "${image}"$`)]);
        const took = '[\\d.]+m?s \\([\\d.]+m?s including waiting\\)';
        expectRow('Pulled', 'kubelet', 'Successfully pulled image "kiamol/ch02-hello-kiamol" in 5.358s (5.358s including waiting). Image size: 22009873 bytes.',
          [new RegExp(`^Successfully pulled image "${image}" in ${took}\\. Image size: \\d+ bytes\\.$`),
            new RegExp(`^${field}Successfully pulled image "${image}" in ${took}(\\. Image size: \\d+ bytes\\.)?$`)]);
      } else {
        // Preloaded (offline images, IfNotPresent): the notes pulled, so no form of theirs applies.
        expectRow('Pulled', 'kubelet', 'Container image "<image>" already present on machine',
          [new RegExp(`^${field}Container image "${image}" already present on machine( and can be accessed by the pod)?$`)]);
      }
      expectRow('Created', 'kubelet', 'Created container: hello-kiamol',
        [/^Created container: hello-kiamol$/, /^Created container hello-kiamol$/, /^spec\.containers\{hello-kiamol\}: Container created$/]);
      expectRow('Started', 'kubelet', 'Started container hello-kiamol',
        [/^Started container hello-kiamol$/, /^spec\.containers\{hello-kiamol\}: Container started$/]);
    },
  };
  expect(entry.fields?.length).toBeGreaterThan(0);
  for (const field of entry.fields!) {
    const check = checks[field];
    if (!check) throw new Error(`describe-fields: no check for catalogued field "${field}"`);
    try {
      check();
    } catch (err) {
      throw new Error(`describe field "${field}": ${(err as Error).message}`);
    }
  }
  expect(pod.status!.qosClass).toBe('BestEffort');
  if (versionSays.length) await differs(`describe on ${cluster.version}: ${versionSays.join('; ')}`);
});

claim('describe-conditions', async ({ ns, kubectl, api, cluster, claim: entry }) => {
  await kubectl(['run', 'conditions', `--image=${cluster.images.hello}`]);
  const pod = await waitForPodReady(api, ns, 'conditions');
  const text = (await kubectl(['describe', 'pod', 'conditions'])).stdout;
  const shown = Object.fromEntries(describeSection(text, 'Conditions').slice(1).map((l) => l.trim().split(/\s+/)).map((r) => [r[0], r[1]]));
  for (const cond of entry.conditions!) {
    const applies = !cond.kubernetes || semver.satisfies(cluster.version, cond.kubernetes);
    if (applies) {
      expect(condition(pod, cond.type), `condition ${cond.type} on ${cluster.version}`).toBe('True');
      expect(shown[cond.type], `describe shows ${cond.type}`).toBe('True');
    } else {
      expect(condition(pod, cond.type), `condition ${cond.type} absent before ${cond.kubernetes}`).toBeUndefined();
    }
  }
});

claim('defaults-filled', async ({ ns, api, cluster }) => {
  const sent: k8s.V1Pod = { metadata: { name: 'minimal' }, spec: { containers: [{ name: 'web', image: cluster.images.hello }] } };
  await api.core.createNamespacedPod({ namespace: ns, body: sent });
  const stored = await waitForPodReady(api, ns, 'minimal');
  // What Kubernetes added: the fields of the stored spec that the request did not hold.
  const added = Object.fromEntries(Object.entries(stored.spec!).filter(([k]) => !(k in sent.spec!)));
  expect(added).toMatchObject({
    serviceAccountName: 'default',
    restartPolicy: 'Always',
    dnsPolicy: 'ClusterFirst',
    terminationGracePeriodSeconds: 30,
    schedulerName: 'default-scheduler',
  });
  expect(stored.spec?.tolerations?.map((t) => `${t.key}:${t.effect}:${t.tolerationSeconds}`)).toEqual([
    'node.kubernetes.io/not-ready:NoExecute:300', 'node.kubernetes.io/unreachable:NoExecute:300',
  ]);
  expect(stored.status?.qosClass).toBe('BestEffort');
  const container = stored.spec!.containers[0]!;
  // The API's default: Always for the tag latest, written or implied; a port in the registry's name is not a tag.
  const tag = /:([^/:]+)$/.exec(cluster.images.hello)?.[1] ?? 'latest';
  expect(container.imagePullPolicy).toBe(tag === 'latest' ? 'Always' : 'IfNotPresent');
  expect(container.terminationMessagePath).toBe('/dev/termination-log');
  expect(container.volumeMounts?.[0]?.mountPath).toBe('/var/run/secrets/kubernetes.io/serviceaccount');
});

claim('runtime-runs-containers', async ({ ns, kubectl, api, cluster, nodeOf }) => {
  await kubectl(['run', 'runtime', `--image=${cluster.images.hello}`]);
  const pod = await waitForPodReady(api, ns, 'runtime');
  const id = (await kubectl(['get', 'pod', 'runtime', '-o', 'jsonpath={.status.containerStatuses[0].containerID}'])).stdout;
  const m = /^([a-z]+):\/\/([0-9a-f]{64})$/.exec(id);
  expect(m, `containerID "${id}"`).not.toBeNull();
  const nodeObj = await api.core.readNode({ name: pod.spec!.nodeName! });
  expect(nodeObj.status?.nodeInfo?.containerRuntimeVersion).toMatch(new RegExp(`^${m![1]}://`));
  expect(m![1]).toBe('containerd');
  const listed = await nodeOf(pod).crictlJson<{ containers: { id: string; labels: Record<string, string> }[] }>(
    ['ps', '--label', 'io.kubernetes.pod.name=runtime', '--label', `io.kubernetes.pod.namespace=${ns}`]);
  expect(listed.containers.map((c) => c.id)).toEqual([m![2]]);
  expect(listed.containers[0]!.labels['io.kubernetes.pod.uid']).toBe(pod.metadata!.uid);
});

claim('container-replaced', async ({ ns, kubectl, api, cluster, nodeOf, outcome }) => {
  await kubectl(['run', 'replaced', `--image=${cluster.images.hello}`]);
  const before = await waitForPodReady(api, ns, 'replaced');
  const oldId = before.status!.containerStatuses![0]!.containerID!;
  const node = nodeOf(before);
  const listed = await node.crictlJson<{ containers: { id: string }[] }>(
    ['ps', '--label', 'io.kubernetes.pod.name=replaced', '--label', `io.kubernetes.pod.namespace=${ns}`]);
  expect(listed.containers.map((c) => `containerd://${c.id}`)).toEqual([oldId]);
  await node.crictl(['rm', '--force', listed.containers[0]!.id]);

  const after = await waitForPod(api, ns, 'replaced', [
    field('status.containerStatuses[0].containerID', check(`an ID other than ${oldId}`, (id) => !!id && id !== oldId)),
    field('status.containerStatuses[0].ready', true),
  ]);
  expect(after.metadata!.uid).toBe(before.metadata!.uid);
  const restarts = after.status!.containerStatuses![0]!.restartCount - before.status!.containerStatuses![0]!.restartCount;
  // The reader's RESTARTS column says what the API says.
  expect((await kubectl(['get', 'pod', 'replaced', '--no-headers'])).stdout).toMatch(new RegExp(`^replaced\\s+1/1\\s+Running\\s+${after.status!.containerStatuses![0]!.restartCount}\\s`));
  await outcome({ restarts });
});

claim('jsonpath-output', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'fields', `--image=${cluster.images.hello}`]);
  const pod = await waitForPodReady(api, ns, 'fields');
  const jp = async (path: string) => (await kubectl(['get', 'pod', 'fields', '-o', `jsonpath=${path}`])).stdout;
  expect(await jp('{.status.podIP}')).toBe(pod.status!.podIP);
  expect(await jp('{.spec.containers[0].image}')).toBe(pod.spec!.containers[0]!.image);
  expect(await jp('{.metadata.uid}')).toBe(pod.metadata!.uid);
  expect(await jp('{.status.containerStatuses[0].containerID}')).toBe(pod.status!.containerStatuses![0]!.containerID);
  const cols = await kubectl(['get', 'pod', 'fields', '--no-headers', '-o', 'custom-columns=NAME:.metadata.name,NODE:.spec.nodeName,PHASE:.status.phase']);
  expect(cols.stdout.trim().split(/\s+/)).toEqual([pod.metadata!.name, pod.spec!.nodeName, pod.status!.phase]);
});

claim('port-forward-pod', async ({ ns, kubectl, api, cluster, forward }) => {
  await kubectl(['run', 'forwarded', `--image=${cluster.images.hello}`]);
  await waitForPodReady(api, ns, 'forwarded');
  const tunnel = await forward('pod/forwarded', 80);
  const page = await tunnel.get('/');
  expect(page).toMatch(/<html/i);
  // Byte for byte what the app serves inside the Pod (line endings included: CRLF in the book's page).
  expect(page).toBe((await kubectl(['exec', 'forwarded', '--', 'wget', '-q', '-O', '-', 'http://localhost/'], { raw: true })).stdout);
  // A local port that is taken is refused with a clear error, not a hang.
  await expect(forward('pod/forwarded', 80, tunnel.port)).rejects.toThrow(/already in use/);
});

/** GET from the test process: the body, or how the request failed. */
async function httpGetOutcome(url: string, timeoutMs: number): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return await res.text();
  } catch (err) {
    return `request failed: ${(err as Error).message}`;
  }
}

claim('pod-ip-reachable-across-nodes', async ({ ns, kubectl, api, cluster }) => {
  // The run's own nodes (a test may add and remove one of its own meanwhile).
  const nodes = cluster.nodes;
  const listed = (await api.core.listNode()).items.map((n) => n.metadata!.name!);
  expect(listed, 'nodes in the cluster').toEqual(expect.arrayContaining(nodes));
  expect(nodes.length, 'nodes of this run').toBeGreaterThanOrEqual(2);
  for (const [name, nodeName] of [['server', nodes[0]!], ['client', nodes[1]!]] as const) {
    await kubectl(['run', name, `--image=${cluster.images.hello}`, `--overrides={"spec":{"nodeName":"${nodeName}"}}`]);
  }
  const server = await waitForPodReady(api, ns, 'server');
  const client = await waitForPodReady(api, ns, 'client');
  expect(server.spec!.nodeName).not.toBe(client.spec!.nodeName);
  expect(server.status!.hostIP, 'the two nodes have different addresses').not.toBe(client.status!.hostIP);
  const path = markedPath('across-nodes');
  const page = await onceAnswering(kubectl, ['exec', 'client', '--', 'wget', '-q', '-O', '-', `http://${server.status!.podIP}${path}`]);
  expect(page.stdout).toMatch(/<html/i);
  // It reached the server Pod on the other node, from the client Pod's own IP (not its node's).
  const { line } = await waitForAccessLine(kubectl, ['server'], path);
  expect(line.split(' ')[0], `client address in the server's access line: ${line}`).toBe(client.status!.podIP);
});

claim('run-restart-never', async ({ ns, kubectl, api, cluster }) => {
  const run = await kubectl(['run', 'hello-kiamol', `--image=${cluster.images.hello}`, '--restart=Never']);
  expect(run.stdout.trim()).toBe('pod/hello-kiamol created');
  const pod = await waitForPodReady(api, ns, 'hello-kiamol');
  expect(pod.spec?.restartPolicy).toBe('Never');
  expect(pod.metadata?.ownerReferences ?? []).toEqual([]);
  expect((await kubectl(['get', 'pod', 'hello-kiamol', '-o', 'jsonpath={.spec.restartPolicy}'])).stdout).toBe('Never');
});

claim('container-replaced-never', async ({ ns, kubectl, api, cluster, nodeOf, outcome }) => {
  await kubectl(['run', 'hello-kiamol', `--image=${cluster.images.hello}`, '--restart=Never']);
  const before = await waitForPodReady(api, ns, 'hello-kiamol');
  const oldId = before.status!.containerStatuses![0]!.containerID!;
  await nodeOf(before).crictl(['rm', '--force', oldId.replace(/^containerd:\/\//, '')]);
  // Either the kubelet starts a new container in the same Pod, or the Pod ends with its
  // container terminated.
  const after = await waitForPod(api, ns, 'hello-kiamol', {
    wants: 'a new container Ready, or the Pod ended',
    test: (p) => {
      const s = p.status?.containerStatuses?.[0];
      return (!!s?.containerID && s.containerID !== oldId && s.ready) ||
        (['Failed', 'Succeeded'].includes(p.status?.phase ?? '') && !!s?.state?.terminated);
    },
  });
  const s = after.status!.containerStatuses![0]!;
  const [, ready, status, restarts] = (await kubectl(['get', 'pod', 'hello-kiamol', '--no-headers'])).stdout.trim().split(/\s+/);
  expect(after.metadata!.uid).toBe(before.metadata!.uid);
  // The reader's RESTARTS column says what the API says.
  expect(restarts, 'RESTARTS in kubectl get pod').toBe(String(s.restartCount));
  await outcome({
    replaced: !!s.containerID && s.containerID !== oldId && s.ready,
    phase: after.status!.phase!,
    exitCode: s.state?.terminated?.exitCode ?? 'none',
    reason: s.state?.terminated?.reason ?? (s.state?.running ? 'Running' : 'none'),
    restarts: s.restartCount,
    ready: ready!,
    status: status!,
  });
});

claim('crash-loop-backoff', async ({ ns, kubectl, api, cluster }) => {
  // Two views of every change: the API's (a watch) and the reader's (`kubectl get pods --watch`).
  const watch = await watchPods(api, ns, 'metadata.name=crasher');
  const reader = kubectl.background(['get', 'pods', '--watch', '--no-headers']);
  const shown = () => reader.output.split('\n').map((l) => l.trim().split(/\s+/)).filter((r) => r[0] === 'crasher');
  const restarts = () => watch.events.at(-1)?.pod.status?.containerStatuses?.[0]?.restartCount ?? 0;
  const backOffRows = (rows: string[][]) => rows.filter((r) => r[2] === 'CrashLoopBackOff');
  const backOffEvents = (events: typeof watch.events) =>
    events.filter((e) => e.pod.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff');
  // Both views as they stood at one moment when they agreed (each watch runs on, so one may be a change ahead).
  let views: { rows: string[][]; events: typeof watch.events } | undefined;
  try {
    await kubectl(['run', 'crasher', `--image=${cluster.images.hello}`, '--command', '--', 'sh', '-c', 'echo "crashing on purpose"; exit 1']);
    // Until the reader sees CrashLoopBackOff, or the kubelet has backed off three times (10, 20, 40 s).
    await waitUntil('STATUS CrashLoopBackOff in kubectl get pods --watch, or three restarts', 150_000,
      () => backOffRows(shown()).length > 0 || restarts() >= 3,
      () => `restarts ${restarts()}; kubectl showed: ${shown().map((r) => r[2]).join(' > ')}`);
    // The kubelet did back off: its events say so.
    await waitForEvent(api.core, ns, { object: 'crasher', reason: 'BackOff', message: /Back-off restarting failed container/ });
    // And it keeps restarting it: the count rises (one restart after a back-off of 10 s, the next after 20 s).
    await waitUntil('restartCount of crasher to reach 2', 90_000, () => restarts() >= 2, () => `restarts ${restarts()}`);
    // The reader's view follows the API's: RESTARTS 2, and CrashLoopBackOff seen by both or by neither
    // (kubectl's watch prints a change a moment after the API's, more under load).
    await waitUntil('kubectl get pods --watch to show RESTARTS 2, and CrashLoopBackOff as the API watch reported it', 30_000, () => {
      const now = { rows: shown(), events: [...watch.events] };
      const agree = now.rows.some((r) => Number.parseInt(r[3] ?? '', 10) >= 2) &&
        backOffRows(now.rows).length > 0 === backOffEvents(now.events).length > 0;
      if (agree) views = now;
      return agree;
    }, () => `kubectl showed ${shown().map((r) => `${r[2]} ${r[3]}`).join(' > ')}; the API reported CrashLoopBackOff ${backOffEvents(watch.events).length} time(s)`);
  } finally {
    watch.stop();
    await reader.stop();
  }
  const { rows, events } = views!;
  const last = events.at(-1)!.pod;
  const container = last.status!.containerStatuses![0]!;
  // RESTARTS rising, as the API reported it (each value once, in order) and as kubectl showed it.
  const counts = events.map((e) => e.pod.status?.containerStatuses?.[0]?.restartCount ?? 0).filter((n, i, all) => n !== all[i - 1]);
  expect(counts.slice(0, 3), `restartCount values the API reported: ${counts.join(' > ')}`).toEqual([0, 1, 2]);
  const shownRestarts = rows.map((r) => Number.parseInt(r[3] ?? '', 10)).filter((n, i, all) => n !== all[i - 1]);
  expect(shownRestarts.slice(0, 3), `RESTARTS kubectl showed: ${shownRestarts.join(' > ')}`).toEqual([0, 1, 2]);
  expect(container.lastState?.terminated?.exitCode ?? container.state?.terminated?.exitCode).toBe(1);
  // The claim's own words: the reader saw CrashLoopBackOff, and the API reported it, never Ready then.
  expect(backOffRows(rows).length, `rows with STATUS CrashLoopBackOff in kubectl get pods --watch (the kubelet backed off: BackOff events, ${container.restartCount} restarts; STATUS went ${rows.map((r) => r[2]).join(' > ')})`).toBeGreaterThan(0);
  expect(backOffEvents(events).length, 'API watch events with the container waiting in CrashLoopBackOff').toBeGreaterThan(0);
  expect(backOffEvents(events).filter((e) => condition(e.pod, 'Ready') === 'True'), 'Ready while in CrashLoopBackOff').toEqual([]);
  for (const row of backOffRows(rows)) expect(row[1], 'READY while in CrashLoopBackOff').toBe('0/1');
  // What the crashing container said.
  await waitForRestartingLog(kubectl, 'crasher', 'crasher', /^crashing on purpose\n?$/);
});

claim('image-pull-pending', async ({ ns, kubectl, api }) => {
  // A registry name that can never resolve (RFC 2606 reserves .invalid).
  const image = 'registry.invalid/kiamol/ch02-missing:1.0';
  await kubectl(['run', 'unpullable', `--image=${image}`]);
  const pod = await waitForPod(api, ns, 'unpullable', [
    field('status.containerStatuses[0].state.waiting.reason', oneOf('ErrImagePull', 'ImagePullBackOff')),
  ]);
  expectFields(pod, [field('status.phase', 'Pending'), field('status.conditions[type=Ready].status', 'False')]);
  expect((await kubectl(['get', 'pod', 'unpullable', '--no-headers'])).stdout).toMatch(/^unpullable\s+0\/1\s+(ErrImagePull|ImagePullBackOff)\s+0\s/);
  await waitForEvent(api.core, ns, { object: 'unpullable', reason: 'Failed', message: image });
});

claim('slow-pull-container-creating', async ({ ns, kubectl, api, cluster }) => {
  // The image comes from a registry on the Pod's node that holds its answer until released.
  const registry = await startHeldRegistry({ api, kubectl, namespace: ns, image: cluster.debugImage, mayRefuse: cluster.provider === 'existing' });
  const onItsNode = { apiVersion: 'v1', spec: { nodeSelector: { 'kubernetes.io/hostname': registry.hostname } } };
  await kubectl(['run', 'slow', `--image=${registry.image}`, `--overrides=${JSON.stringify(onItsNode)}`]);
  await waitForEvent(api.core, ns, { object: 'slow', reason: 'Pulling', message: `Pulling image "${registry.image}"` }, 60_000);
  await waitUntil('the node\'s runtime to ask the registry for the image', 60_000, () => registry.asked());

  // The pull is under way and held: what the reader sees, and the Pod behind it.
  expect((await kubectl(['get', 'pod', 'slow', '--no-headers'])).stdout).toMatch(/^slow\s+0\/1\s+ContainerCreating\s+0\s/);
  expectFields(await api.core.readNamespacedPod({ name: 'slow', namespace: ns }), [
    field('status.phase', 'Pending'),
    field('status.containerStatuses[0].state.waiting.reason', 'ContainerCreating'),
    field('status.conditions[type=Ready].status', 'False'),
  ]);
  const described = (await kubectl(['describe', 'pod', 'slow'])).stdout;
  expect(describeField(described, 'Status')).toBe('Pending');
  expect(described).toContain(`Pulling image "${registry.image}"`);
  expect(described, 'no Pulled event while the pull is held').not.toMatch(/\bPulled\b|Successfully pulled/);

  await registry.release();
  expect((await kubectl(['wait', '--for=condition=Ready', 'pod/slow', '--timeout=120s'])).stdout.trim()).toBe('pod/slow condition met');
  expect((await kubectl(['get', 'pod', 'slow', '--no-headers'])).stdout).toMatch(/^slow\s+1\/1\s+Running\s+0\s/);
  await waitForEvent(api.core, ns, { object: 'slow', reason: 'Pulled', message: `Successfully pulled image "${registry.image}"` });
});

claim('exec-before-ready-fails', async ({ ns, kubectl, api, manifests, forward }) => {
  // The Pod's web container cannot start until the test opens the gate (an init container).
  await kubectl(['apply', '-f', manifests.file('held-pod.yaml')]);
  await waitForPod(api, ns, 'held', [field('status.initContainerStatuses[0].state.running', isSet)]);
  const exec = await kubectl(['exec', 'held', '-c', 'web', '--', 'hostname'], { reject: false });
  expect(exec.exitCode, 'kubectl exec before the container started').not.toBe(0);
  expect(exec.stderr).toMatch(/container not found|not (yet )?running|waiting to start|PodInitializing/i);
  const logs = await kubectl(['logs', 'held', '-c', 'web'], { reject: false });
  expect(logs.exitCode, 'kubectl logs before the container started').not.toBe(0);
  expect(logs.stderr).toMatch(/is waiting to start: PodInitializing/);
  await expect(forward('pod/held', 80), 'kubectl port-forward before the container started').rejects.toThrow(/pod is not running/);

  await kubectl(['exec', 'held', '-c', 'gate', '--', 'touch', '/gate/open']);
  expect((await kubectl(['wait', '--for=condition=Ready', 'pod/held', '--timeout=120s'])).stdout.trim()).toBe('pod/held condition met');
  expect((await kubectl(['exec', 'held', '-c', 'web', '--', 'hostname'])).stdout.trim()).toBe('held');
  expect((await kubectl(['logs', 'held', '-c', 'web'])).exitCode).toBe(0);
  expect(await (await forward('pod/held', 80)).get('/')).toMatch(/<html/i);
});

claim('get-pods-namespace-scope', async ({ ns, kubectl, api, cluster, otherNamespace }) => {
  const other = await otherNamespace();
  await kubectl(['run', 'here', `--image=${cluster.images.hello}`]);
  await kubectl(['run', 'there', `--image=${cluster.images.hello}`], { namespace: other });
  const names = (await kubectl(['get', 'pods', '--no-headers', '-o', 'custom-columns=NAME:.metadata.name'])).stdout.trim().split('\n');
  expect(names, `kubectl get pods in namespace ${ns}`).toEqual(['here']);
  const all = (await kubectl(['get', 'pods', '-A'])).stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
  expect(all[0]!.slice(0, 2)).toEqual(['NAMESPACE', 'NAME']);
  const rows = all.slice(1).map((r) => `${r[0]}/${r[1]}`);
  expect(rows).toEqual(expect.arrayContaining([`${ns}/here`, `${other}/there`]));
  // The API agrees: each Pod lives in one namespace.
  expect((await api.core.listNamespacedPod({ namespace: other })).items.map((p) => p.metadata!.name)).toEqual(['there']);
});

// What the reader sees, and where the notes are wrong.

claim('exec-running-not-ready', async ({ ns, kubectl, api, manifests, forward }) => {
  // Running, with a readiness probe that fails until /tmp/ready exists: never made to pass here.
  await kubectl(['apply', '-f', manifests.file('readiness-gated.yaml')]);
  await waitForReadinessFailing(api, ns, 'gated');
  expect((await kubectl(['get', 'pod', 'gated', '--no-headers'])).stdout).toMatch(/^gated\s+0\/1\s+Running\s+0\s/);

  expect((await kubectl(['exec', 'gated', '--', 'hostname'])).stdout).toBe('gated');
  const path = markedPath('not-ready');
  await kubectl(['exec', 'gated', '--', 'wget', '-q', '-O', '/dev/null', `http://localhost${path}`]);
  const { line } = await waitForAccessLine(kubectl, ['gated'], path);
  expect(line, 'the access line kubectl logs shows').toContain(`GET ${path} `);
  const tunnel = await forward('pod/gated', 80);
  expect(await tunnel.get('/')).toBe((await kubectl(['exec', 'gated', '--', 'cat', '/usr/share/nginx/html/index.html'], { raw: true })).stdout);

  // All of that while the Pod was not Ready, and still is not.
  const pod = await api.core.readNamespacedPod({ name: 'gated', namespace: ns });
  expectFields(pod, [field('status.phase', 'Running'), field('status.conditions[type=Ready].status', 'False'), field('status.containerStatuses[0].ready', false)]);
  expect((await kubectl(['get', 'pod', 'gated', '--no-headers'])).stdout).toMatch(/^gated\s+0\/1\s+Running\s+0\s/);
});

claim('ready-is-a-condition', async ({ ns, kubectl, api, cluster }) => {
  const watch = await watchPods(api, ns, 'metadata.name=phased');
  const reader = kubectl.background(['get', 'pods', '--watch', '--no-headers', ...WATCH_LOGGED]);
  const statuses = () => reader.output.split('\n').map((l) => l.trim().split(/\s+/)).filter((r) => r[0] === 'phased').map((r) => r[2]!);
  try {
    await waitForWatchStarted(reader);
    await kubectl(['run', 'phased', `--image=${cluster.images.hello}`]);
    await waitUntil('the API to report phased Ready and kubectl to show it Running', 120_000,
      () => watch.events.some((e) => condition(e.pod, 'Ready') === 'True') && statuses().includes('Running'),
      () => `API: ${summary(watch.events.at(-1)?.pod)}; kubectl: ${statuses().join(' > ')}`);
  } finally {
    watch.stop();
    await reader.stop();
  }
  // The phases the API reported, in order: Ready is never one of them.
  const phases = watch.events.map((e) => e.pod.status?.phase).filter((p, i, all) => p !== all[i - 1]);
  expect(phases).toEqual(['Pending', 'Running']);
  // Ready is a condition, with a status: False, then True.
  const ready = watch.events.map((e) => condition(e.pod, 'Ready')).filter((c, i, all) => c !== undefined && c !== all[i - 1]);
  expect(ready).toEqual(['False', 'True']);
  // The reader's STATUS column: never "Ready".
  const shown = statuses().filter((st, i, all) => st !== all[i - 1]);
  expect(shown, `STATUS as kubectl showed it: ${shown.join(' > ')}`).not.toContain('Ready');
  expect(shown.at(-1)).toBe('Running');
  expect(shown.every((st) => ['Pending', 'ContainerCreating', 'Running'].includes(st)), `STATUS values: ${shown.join(' > ')}`).toBe(true);
  expect((await kubectl(['get', 'pod', 'phased', '-o', 'jsonpath={.status.phase} {.status.conditions[?(@.type=="Ready")].status}'])).stdout).toBe('Running True');
});

/** Every process's command line, as the container's /proc shows it (sh and cat only: the fixture contract). */
const LIST_PROCESSES = ['sh', '-c', 'for f in /proc/[0-9]*/cmdline; do cat "$f"; echo; done'];

claim('pod-separate-filesystems', async ({ ns, kubectl, api, manifests }) => {
  await kubectl(['apply', '-f', manifests.file('two-containers.yaml')]);
  const pod = await waitForPodReady(api, ns, 'two-containers');
  expect(pod.spec?.shareProcessNamespace, 'shareProcessNamespace (unset: each container has its own)').toBeUndefined();
  // A file written in one container...
  await kubectl(['exec', 'two-containers', '-c', 'web', '--', 'sh', '-c', 'echo written-by-web > /tmp/shared-or-not']);
  expect((await kubectl(['exec', 'two-containers', '-c', 'web', '--', 'cat', '/tmp/shared-or-not'])).stdout).toBe('written-by-web');
  // ...is not in the other: each container has its own filesystem (the image's, copied on write).
  const other = await kubectl(['exec', 'two-containers', '-c', 'sidecar', '--', 'cat', '/tmp/shared-or-not'], { reject: false });
  expect(other.exitCode, 'cat of the web container\'s file in the sidecar').not.toBe(0);
  expect(other.stderr).toMatch(/No such file or directory/);
  // Each container sees its own processes only: nginx in web, the sleeping shell in sidecar.
  const inWeb = (await kubectl(['exec', 'two-containers', '-c', 'web', '--', ...LIST_PROCESSES])).stdout;
  const inSidecar = (await kubectl(['exec', 'two-containers', '-c', 'sidecar', '--', ...LIST_PROCESSES])).stdout;
  expect(inWeb, 'processes the web container sees').toMatch(/nginx: master process/);
  expect(inWeb, 'processes the web container sees').not.toMatch(/while true/);
  expect(inSidecar, 'processes the sidecar sees').toMatch(/while true/);
  expect(inSidecar, 'processes the sidecar sees').not.toMatch(/nginx/);
});

claim('ready-needs-all-containers', async ({ ns, kubectl, api, manifests }) => {
  await kubectl(['apply', '-f', manifests.file('sidecar-not-ready.yaml')]);
  await waitForReadinessFailing(api, ns, 'half-ready');
  const half = await waitForPod(api, ns, 'half-ready', [field('status.containerStatuses[name=web].ready', true)]);
  expectFields(half, [
    field('status.phase', 'Running'),
    field('status.containerStatuses[name=sidecar].ready', false),
    field('status.conditions[type=ContainersReady].status', 'False'),
    field('status.conditions[type=Ready].status', 'False'),
  ]);
  expect((await kubectl(['get', 'pod', 'half-ready', '--no-headers'])).stdout).toMatch(/^half-ready\s+1\/2\s+Running\s+0\s/);
  // Once the last container passes its probe, the Pod is Ready.
  await kubectl(['exec', 'half-ready', '-c', 'sidecar', '--', 'touch', '/tmp/ready']);
  const ready = await waitForPodReady(api, ns, 'half-ready');
  expectFields(ready, [field('status.conditions[type=ContainersReady].status', 'True')]);
  expect((await kubectl(['get', 'pod', 'half-ready', '--no-headers'])).stdout).toMatch(/^half-ready\s+2\/2\s+Running\s+0\s/);
});

claim('readiness-probe-kinds', async ({ ns, kubectl, api, manifests }) => {
  await kubectl(['apply', '-f', manifests.file('probe-kinds.yaml')]);
  // Each kind: how describe shows the probe, what its failure says, and what makes it pass.
  const kinds = [
    { pod: 'probe-http', shown: /^http-get http:\/\/:80\/ready\.html /, failure: /HTTP probe failed with statuscode: 404/,
      pass: ['sh', '-c', 'echo ready > /usr/share/nginx/html/ready.html'] },
    { pod: 'probe-tcp', shown: /^tcp-socket :80 /, failure: /dial tcp [\d.]+:80: connect: connection refused/, pass: ['touch', '/tmp/listen'] },
    { pod: 'probe-exec', shown: /^exec \[cat \/tmp\/ready\] /, failure: /\/tmp\/ready/, pass: ['touch', '/tmp/ready'] },
  ];
  for (const k of kinds) {
    const pod = await waitForReadinessFailing(api, ns, k.pod, k.failure);
    expectFields(pod, [field('status.phase', 'Running'), field('status.conditions[type=Ready].status', 'False'), field('status.containerStatuses[0].restartCount', 0)]);
    expect((await kubectl(['get', 'pod', k.pod, '--no-headers'])).stdout).toMatch(new RegExp(`^${k.pod}\\s+0/1\\s+Running\\s+0\\s`));
    expect(describeField((await kubectl(['describe', 'pod', k.pod])).stdout, 'Readiness', 4), `describe ${k.pod}: Readiness`).toMatch(k.shown);
  }
  for (const k of kinds) await kubectl(['exec', k.pod, '--', ...k.pass]);
  for (const k of kinds) {
    const ready = await waitForPodReady(api, ns, k.pod);
    expectFields(ready, [field('status.containerStatuses[0].restartCount', 0)]);
    expect((await kubectl(['get', 'pod', k.pod, '--no-headers'])).stdout).toMatch(new RegExp(`^${k.pod}\\s+1/1\\s+Running\\s+0\\s`));
  }
});

claim('containers-not-api-objects', async ({ ns, kubectl, api, cluster, nodeOf }) => {
  const refused = await kubectl(['get', 'containers'], { reject: false });
  expect(refused.exitCode, 'kubectl get containers').not.toBe(0);
  expect(refused.stderr).toMatch(/the server doesn't have a resource type "containers"/);
  await kubectl(['run', 'boxed', `--image=${cluster.images.hello}`]);
  const pod = await waitForPodReady(api, ns, 'boxed');
  const node = nodeOf(pod);
  type Sandboxes = { items: { id: string; metadata: { name: string; namespace: string; uid: string } }[] };
  type Containers = { containers: { id: string; podSandboxId: string; metadata: { name: string } }[] };
  // The runtime's running containers and the API's running containers, both ways, for the Pods of
  // this test's namespace and kube-system on this node (other tests start and stop Pods meanwhile):
  // each container the runtime runs is one a Pod in the API names, and each the API names runs.
  // A Pod's status follows its containers by a moment: they must agree within a few seconds.
  const scope = [ns, 'kube-system'];
  const key = (namespace: string, pod: string, container: string, id: string) => `${namespace}/${pod}/${container} ${id.replace(/^[a-z]+:\/\//, '')}`;
  // The Pod a container belongs to is its sandbox's (namespace and name, as the runtime records them).
  const runtimeSide = async () => {
    const boxes = async () => (await node.crictlJson<Sandboxes>(['pods'])).items;
    const before = await boxes();
    const running = (await node.crictlJson<Containers>(['ps'])).containers;
    const sandbox = new Map([...before, ...await boxes()].map((p) => [p.id, p.metadata]));
    return running.map((c) => ({ c, box: sandbox.get(c.podSandboxId) }))
      .filter(({ box }) => !box || scope.includes(box.namespace))
      .map(({ c, box }) => key(box?.namespace ?? '(no sandbox)', box?.name ?? c.podSandboxId, c.metadata.name, c.id)).sort();
  };
  const apiSide = async () => (await Promise.all(scope.map((namespace) => api.core.listNamespacedPod({ namespace, fieldSelector: `spec.nodeName=${pod.spec!.nodeName}` }))))
    .flatMap((list) => list.items).flatMap((p) => [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]
      .filter((c) => c.state?.running && c.containerID).map((c) => key(p.metadata!.namespace!, p.metadata!.name!, c.name, c.containerID!))).sort();
  let sides = { runtime: [] as string[], api: [] as string[] };
  const agree = await waitUntil('the runtime\'s running containers and the API\'s to agree', 20_000, async () => {
    sides = { runtime: await runtimeSide(), api: await apiSide() };
    return sides.runtime.length > 0 && isDeepStrictEqual(sides.runtime, sides.api);
  }).then(() => true, () => false);
  if (!agree) {
    expect(sides.runtime.filter((c) => !sides.api.includes(c)), `containers the runtime on ${pod.spec!.nodeName} runs that no Pod in the API names`).toEqual([]);
    expect(sides.api.filter((c) => !sides.runtime.includes(c)), `containers the API says run on ${pod.spec!.nodeName} that the runtime does not run`).toEqual([]);
  }
  // This Pod is one sandbox on the node, with its UID, holding exactly its container.
  const mine = (await node.crictlJson<Sandboxes>(['pods'])).items.filter((p) => p.metadata.namespace === ns && p.metadata.name === 'boxed');
  expect(mine.map((p) => p.metadata.uid)).toEqual([pod.metadata!.uid]);
  const inMine = (await node.crictlJson<Containers>(['ps', '--all'])).containers.filter((c) => c.podSandboxId === mine[0]!.id).map((c) => `containerd://${c.id}`);
  expect(inMine).toEqual([pod.status!.containerStatuses![0]!.containerID]);
});

claim('runtime-pulls-image', async ({ ns, kubectl, api, cluster, nodeOf }) => {
  // An image no node can hold yet (a new name each run), from a registry on the Pod's node that
  // records the requests it gets: the runtime must fetch it, not find it.
  const registry = await startHeldRegistry({ api, kubectl, namespace: ns, image: cluster.debugImage, mayRefuse: cluster.provider === 'existing' });
  await registry.release();
  const onItsNode = { apiVersion: 'v1', spec: { nodeSelector: { 'kubernetes.io/hostname': registry.hostname } } };
  await kubectl(['run', 'pulled', `--image=${registry.image}`, `--overrides=${JSON.stringify(onItsNode)}`]);
  const pod = await waitForPodReady(api, ns, 'pulled');
  // The kubelet asked the runtime to pull it, and the pull completed: its events say so, in that order.
  const pulling = await waitForEvent(api.core, ns, { object: 'pulled', reason: 'Pulling', message: `Pulling image "${registry.image}"` });
  const pulled = await waitForEvent(api.core, ns, { object: 'pulled', reason: 'Pulled', message: `Successfully pulled image "${registry.image}"` });
  for (const e of [pulling, pulled]) expect(e.source?.component ?? e.reportingComponent, `who reported ${e.reason}`).toBe('kubelet');
  expect(pulled.message, 'the Pulled event').not.toMatch(/already present on machine/);
  // The registry saw the runtime's request.
  expect(await registry.asked(), 'the registry on the node was asked for the image').toBe(true);
  // The runtime on the Pod's node now holds it, by that name, and the container runs that image.
  const images = (await nodeOf(pod).crictlJson<{ images: { id: string; repoTags: string[]; repoDigests: string[] }[] }>(['images'])).images;
  const held = images.find((i) => i.repoTags.includes(registry.image));
  expect(held, `crictl images on ${pod.spec!.nodeName} lists ${registry.image} (it lists: ${images.flatMap((i) => i.repoTags).join(', ')})`).toBeDefined();
  const imageID = pod.status!.containerStatuses![0]!.imageID;
  expect([held!.id, ...held!.repoDigests], `the image the container runs (${imageID})`).toContain(imageID);
});

claim('jsonpath-no-newline', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'bare-value', `--image=${cluster.images.hello}`]);
  const pod = await waitForPodReady(api, ns, 'bare-value');
  const id = pod.status!.containerStatuses![0]!.containerID!;
  // The raw bytes kubectl wrote: the ID and nothing after it (a shell prompt then follows on the same line: the notes' %).
  const raw = await kubectl(['get', 'pod', 'bare-value', '-o', 'jsonpath={.status.containerStatuses[0].containerID}'], { raw: true });
  expect(raw.stdout).toMatch(/^[a-z]+:\/\/[0-9a-f]{64}$/);
  expect(raw.stdout).toBe(id);
  // A newline is printed only when the template asks for one.
  const withNewline = await kubectl(['get', 'pod', 'bare-value', '-o', 'jsonpath={.status.containerStatuses[0].containerID}{"\\n"}'], { raw: true });
  expect(withNewline.stdout).toBe(`${id}\n`);
});

claim('runtime-ids', async ({ ns, kubectl, api, cluster, note }) => {
  await kubectl(['run', 'identified', `--image=${cluster.images.hello}`]);
  const pod = await waitForPodReady(api, ns, 'identified');
  const node = await api.core.readNode({ name: pod.spec!.nodeName! });
  const runtime = node.status!.nodeInfo!.containerRuntimeVersion; // e.g. containerd://2.2.3
  const id = (await kubectl(['get', 'pod', 'identified', '-o', 'jsonpath={.status.containerStatuses[0].containerID}'])).stdout;
  const scheme = id.split('://')[0];
  expect(id).toMatch(/^[a-z]+:\/\/[0-9a-f]{64}$/);
  expect(scheme, `the ID's scheme, against the node's runtime ${runtime}`).toBe(runtime.split('://')[0]);
  // k3s runs containerd; the notes, taken on Docker Desktop with the Docker runtime, show docker://.
  expect(scheme).toBe('containerd');
  await note(`container IDs are ${scheme}:// (the node runs ${runtime}); the notes show docker:// from Docker Desktop's Docker runtime`);
});

claim('readiness-out-of-service', async ({ ns, kubectl, api, cluster, manifests, skip, outcome }) => {
  await kubectl(['apply', '-f', manifests.file('readiness-service.yaml')]);
  await kubectl(['run', 'client', `--image=${cluster.images.hello}`]);
  await waitForPod(api, ns, 'web-a', [field('status.containerStatuses[0].state.running', isSet)]);
  await kubectl(['exec', 'web-a', '--', 'touch', '/tmp/ready']);
  const a = await waitForPodReady(api, ns, 'web-a');
  await waitForPodReady(api, ns, 'client');
  await waitForReadinessFailing(api, ns, 'web-b');
  await waitForEndpoint(api.discovery, ns, 'web', 'web-a', true);
  await waitForEndpoint(api.discovery, ns, 'web', 'web-b', false);
  const service = await api.core.readNamespacedService({ name: 'web', namespace: ns });
  const clusterIP = service.spec!.clusterIP!;
  const b = await api.core.readNamespacedPod({ name: 'web-b', namespace: ns });

  // What the reader sees: the Service's endpoints are the ready Pod's address only. kubectl
  // 1.31 lists every address of the Service's EndpointSlices, ready or not (before 1.31 it read
  // the Endpoints object's ready addresses; 1.32 skips unready endpoints): the test reports
  // which it saw (the traffic below is the same). Which kubectl answers is known only from its
  // version, and a dispatcher (gcloud's) reports its own while running one of the server's
  // minor: with 1.31 on either side, web-b's address may be listed too.
  const is131 = (v: string) => semver.satisfies(semver.coerce(v)!, '~1.31');
  const mayListUnready = is131(cluster.version) || is131(cluster.kubectlVersion);
  const described = (await kubectl(['describe', 'service', 'web'])).stdout;
  const listed = describeField(described, 'Endpoints')!.split(',').sort();
  const onlyA = [`${a.status!.podIP}:80`];
  const both = [`${a.status!.podIP}:80`, `${b.status!.podIP}:80`].sort();
  const listedUnready = mayListUnready && listed.length === 2;
  expect(listed, `describe service web: Endpoints (kubectl ${cluster.kubectlVersion}, server ${cluster.version})`)
    .toEqual(listedUnready ? both : onlyA);

  // Requests through the ClusterIP, from another Pod, as a reader's app would make them: one
  // `kubectl exec` sends them all, in order, and stops at the first that fails.
  const through = async (label: string, count = 1) => {
    const paths = Array.from({ length: count }, () => markedPath(label));
    const r = await kubectl(['exec', 'client', '--', 'sh', '-c',
      'ip=$1; shift; for p; do wget -q -O /dev/null "http://$ip$p" || { echo "GET $p failed" >&2; exit 1; }; done', 'sh', clusterIP, ...paths], { reject: false });
    return { paths, ok: r.exitCode === 0, said: r.stderr.trim() };
  };
  // Who served a request is in the Pods' access logs: waited for through the API (the log the
  // kubelet serves), then read once as the reader reads it, with kubectl logs.
  const apiLog = (pod: string) => api.core.readNamespacedPodLog({ name: pod, namespace: ns });
  const loggedBy = async (paths: string[]) => {
    await waitUntil(`web-a or web-b to log ${paths.length} request(s)`, 30_000, async () => {
      const [la, lb] = await Promise.all([apiLog('web-a'), apiLog('web-b')]);
      return paths.every((p) => accessLineFor(la, p) !== undefined || accessLineFor(lb, p) !== undefined);
    }, () => `not yet logged by either: ${paths.join(' ')}`);
    const [la, lb] = [(await kubectl(['logs', 'web-a'])).stdout, (await kubectl(['logs', 'web-b'])).stdout];
    return {
      byA: paths.filter((p) => accessLineFor(la, p) !== undefined),
      byB: paths.filter((p) => accessLineFor(lb, p) !== undefined),
    };
  };
  // A cluster that does not route Service IPs cannot show the claim (the EndpointSlice alone
  // would not); nor can one where something else answers the ClusterIP.
  const first = await through('routes');
  if (!first.ok) {
    skip(`this cluster does not route Service ClusterIPs to their Pods (wget http://${clusterIP}/ from a Pod: ${first.said || 'failed'}); the EndpointSlice lists web-b as not ready, but no request could show it`);
  }
  // Something answered: it must be web-a (nginx logs a request as it completes).
  const firstBy = await loggedBy(first.paths).catch(() => ({ byA: [], byB: [] }));
  if (firstBy.byA.length !== 1) {
    expect.fail(`the first request through the Service (GET ${first.paths[0]}) was answered ${firstBy.byB.length ? 'by web-b, which is not Ready' : 'by neither web-a nor web-b'}`);
  }
  // While web-b is not Ready, every request goes to web-a: each is logged by the Pod that served
  // it, web-a, never web-b.
  const unready = await through('unready', 9);
  expect(unready.ok, `9 more requests through the Service: ${unready.said}`).toBe(true);
  const unreadyBy = await loggedBy(unready.paths);
  expect(unreadyBy.byB, 'requests served by web-b, which is not Ready').toEqual([]);
  expect(unreadyBy.byA).toEqual(unready.paths);

  // Once web-b is Ready, it gets traffic again.
  await kubectl(['exec', 'web-b', '--', 'touch', '/tmp/ready']);
  await waitForPodReady(api, ns, 'web-b');
  await waitForEndpoint(api.discovery, ns, 'web', 'web-b', true);
  let reachedB = false;
  let sent = 0;
  await waitUntil('a request through the Service to reach web-b, now Ready', 60_000, async () => {
    const r = await through('ready', 4);
    sent += r.paths.length;
    if (r.ok && (await loggedBy(r.paths)).byB.length > 0) reachedB = true;
    return reachedB;
  }, () => `all ${sent} requests so far went to web-a`);
  const endpoints = describeField((await kubectl(['describe', 'service', 'web'])).stdout, 'Endpoints')!.split(',').sort();
  expect(endpoints).toEqual([`${a.status!.podIP}:80`, `${b.status!.podIP}:80`].sort());
  await outcome(listedUnready ? { endpointsListed: 'Ready and not Ready', kubectl: '1.31' } : { endpointsListed: 'Ready only' });
});

claim('ready-not-serving', async ({ ns, kubectl, api, cluster, manifests }) => {
  // Two Pods whose server listens only once the test says so; `late` has no readiness probe.
  await kubectl(['apply', '-f', manifests.file('late-listener.yaml')]);
  await kubectl(['run', 'client', `--image=${cluster.images.hello}`]);
  await waitForPodReady(api, ns, 'client');
  const request = async (pod: k8s.V1Pod) =>
    kubectl(['exec', 'client', '--', 'wget', '-q', '-O', '/dev/null', `http://${pod.status!.podIP}/`], { reject: false });

  // The notes' safeguard: kubectl wait returns, and the Pod is Ready...
  const waited = await kubectl(['wait', '--for=condition=Ready', 'pod/late', '--timeout=120s']);
  expect(waited.stdout.trim()).toBe('pod/late condition met');
  const late = await api.core.readNamespacedPod({ name: 'late', namespace: ns });
  expect(condition(late, 'Ready')).toBe('True');
  expect((await kubectl(['get', 'pods', 'late', '--no-headers'])).stdout).toMatch(/^late\s+1\/1\s+Running\s+0\s/);
  // ...and a request right after is refused: its app is not listening yet.
  const refused = await request(late);
  expect(refused.exitCode, 'a request to late, Ready with no readiness probe, before its app listens').not.toBe(0);
  expect(refused.stderr).toMatch(/can't connect to remote host|Connection refused/);

  // A readiness probe that asks the app closes the gap: not Ready while it does not answer...
  expect(condition(await waitForReadinessFailing(api, ns, 'late-probed'), 'Ready')).toBe('False');
  expect((await kubectl(['get', 'pods', 'late-probed', '--no-headers'])).stdout).toMatch(/^late-probed\s+0\/1\s+Running\s+0\s/);
  const early = await kubectl(['wait', '--for=condition=Ready', 'pod/late-probed', '--timeout=3s'], { reject: false });
  expect(early.exitCode, 'kubectl wait on late-probed while its app does not answer').not.toBe(0);
  // ...and Ready once it does: a request right after kubectl wait is answered.
  await kubectl(['exec', 'late-probed', '--', 'touch', '/tmp/listen']);
  expect((await kubectl(['wait', '--for=condition=Ready', 'pod/late-probed', '--timeout=60s'])).stdout.trim()).toBe('pod/late-probed condition met');
  const served = await request(await api.core.readNamespacedPod({ name: 'late-probed', namespace: ns }));
  expect(served.exitCode, `a request to late-probed right after kubectl wait: ${served.stderr}`).toBe(0);
});

claim('kubelet-manages-containers', async ({ ns, kubectl, api, nodeOf, manifests }) => {
  // A container whose liveness probe fails once the test breaks it.
  await kubectl(['apply', '-f', manifests.file('liveness-restart.yaml')]);
  const before = await waitForPodReady(api, ns, 'liveness');
  const first = before.status!.containerStatuses![0]!.containerID!;
  await kubectl(['exec', 'liveness', '--', 'touch', '/tmp/broken']);
  // The kubelet, not the container or the runtime, decides: it says why it kills the container...
  const killing = await waitForEvent(api.core, ns, { object: 'liveness', reason: 'Killing', message: /failed liveness probe, will be restarted/ }, 60_000);
  expect(killing.source?.component ?? killing.reportingComponent, 'who restarted it').toBe('kubelet');
  expect(killing.message).toMatch(/^(spec\.containers\{web\}: )?Container web failed liveness probe, will be restarted$/);
  // ...and starts a new one in the same Pod.
  const after = await waitForPod(api, ns, 'liveness', [
    field('status.containerStatuses[0].restartCount', 1),
    field('status.containerStatuses[0].state.running', isSet),
  ], 90_000);
  const second = after.status!.containerStatuses![0]!.containerID!;
  expect(after.metadata!.uid, 'the Pod is the same object').toBe(before.metadata!.uid);
  expect(second, 'the container after the restart').not.toBe(first);
  expect((await kubectl(['get', 'pods', 'liveness', '--no-headers'])).stdout).toMatch(/^liveness\s+\d\/1\s+Running\s+1 \(.+ ago\)\s/);
  // On the node, the runtime holds both: the one the kubelet stopped and the one it started.
  type Containers = { containers: { id: string; state: string; labels: Record<string, string> }[] };
  const onNode = (await nodeOf(after).crictlJson<Containers>(['ps', '--all'])).containers
    .filter((c) => c.labels['io.kubernetes.pod.uid'] === after.metadata!.uid)
    .map((c) => [`containerd://${c.id}`, c.state]).sort();
  expect(onNode).toEqual([[first, 'CONTAINER_EXITED'], [second, 'CONTAINER_RUNNING']].sort());
});

claim('pending-unschedulable', async ({ ns, kubectl, api, cluster }) => {
  // A node selector no node matches: the scheduler can place the Pod nowhere.
  const nowhere = { apiVersion: 'v1', spec: { nodeSelector: { 'kube-claims.example/no-such-node': 'true' } } };
  await kubectl(['run', 'nowhere', `--image=${cluster.images.hello}`, `--overrides=${JSON.stringify(nowhere)}`]);
  const event = await waitForEvent(api.core, ns, { object: 'nowhere', reason: 'FailedScheduling' }, 60_000);
  expect(event.source?.component ?? event.reportingComponent, 'who reported it').toBe('default-scheduler');
  expect(event.message).toMatch(/^0\/\d+ nodes are available: \d+ node\(s\) didn't match Pod's node affinity\/selector/);
  const pod = await waitForPod(api, ns, 'nowhere', [
    field('status.conditions[type=PodScheduled].status', 'False'),
    field('status.conditions[type=PodScheduled].reason', 'Unschedulable'),
  ], 30_000);
  expect(pod.status!.phase).toBe('Pending');
  expect(pod.spec!.nodeName, 'spec.nodeName of a Pod no node was chosen for').toBeUndefined();
  expect((await kubectl(['get', 'pods', 'nowhere', '--no-headers'])).stdout).toMatch(/^nowhere\s+0\/1\s+Pending\s+0\s/);
  const described = (await kubectl(['describe', 'pod', 'nowhere'])).stdout;
  expect(describeField(described, 'Status')).toBe('Pending');
  expect(describeField(described, 'Node')).toBe('<none>');
  expect(described).toMatch(/Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0\/\d+ nodes are available/);
});
