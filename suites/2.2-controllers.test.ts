// Section 2.2: Running pods with controllers.
import type * as k8s from '@kubernetes/client-node';
import { expect } from 'vitest';
import { field, isAbsent } from '../helpers/verbs/conditions.js';
import { type Api, claim } from '../helpers/fixtures/fixtures.js';
import { listPods, waitForPod, waitForPodGone, waitForPodReady, waitForReadyPods, watchPods } from '../helpers/verbs/pods.js';
import type { StartedAgent } from '../helpers/cluster/cluster.js';
import { step } from '../helpers/fixtures/steps.js';
import { markedPath, waitForAccessLine } from '../helpers/verbs/access-log.js';
import type { Kubectl } from '../helpers/verbs/kubectl.js';
import { waitUntil } from '../helpers/verbs/wait.js';

const controllerOf = (obj: { metadata?: k8s.V1ObjectMeta }) => obj.metadata?.ownerReferences?.find((o) => o.controller);

/** The Deployment's one ReplicaSet and its pods, once `count` are Ready. */
async function deploymentChain(api: Api, ns: string, name: string, count = 1) {
  const deployment = await api.apps.readNamespacedDeployment({ name, namespace: ns });
  const pods = await waitForReadyPods(api, ns, `app=${name}`, count);
  const replicaSets = (await api.apps.listNamespacedReplicaSet({ namespace: ns })).items;
  return { deployment, replicaSets, pods };
}

claim('deployment-creates-pod', async ({ ns, kubectl, api, cluster }) => {
  const created = await kubectl(['create', 'deployment', 'hello-kiamol', `--image=${cluster.images.hello}`]);
  expect(created.stdout.trim()).toBe('deployment.apps/hello-kiamol created');
  const { deployment, replicaSets, pods } = await deploymentChain(api, ns, 'hello-kiamol');
  expect(replicaSets).toHaveLength(1);
  const rs = replicaSets[0]!;
  expect(controllerOf(rs)).toMatchObject({ kind: 'Deployment', name: 'hello-kiamol', uid: deployment.metadata!.uid });
  const pod = pods[0]!;
  expect(controllerOf(pod)).toMatchObject({ kind: 'ReplicaSet', name: rs.metadata!.name, uid: rs.metadata!.uid });
  const hash = rs.metadata!.labels!['pod-template-hash'];
  expect(rs.metadata!.name).toBe(`hello-kiamol-${hash}`);
  expect(pod.metadata!.name).toMatch(new RegExp(`^hello-kiamol-${hash}-[a-z0-9]{5}$`));
});

claim('deployment-labels', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['create', 'deployment', 'labelled', `--image=${cluster.images.hello}`]);
  const labels = await kubectl(['get', 'deploy', 'labelled', '-o', 'jsonpath={.spec.template.metadata.labels}']);
  expect(JSON.parse(labels.stdout)).toEqual({ app: 'labelled' });
  const [pod] = await waitForReadyPods(api, ns, 'app=labelled', 1);
  expect(pod!.metadata!.labels).toMatchObject({ app: 'labelled' });
  const found = await kubectl(['get', 'pods', '-l', 'app=labelled', '-o', 'name']);
  expect(found.stdout.trim()).toBe(`pod/${pod!.metadata!.name}`);
});

claim('relabel-releases', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['create', 'deployment', 'release', `--image=${cluster.images.hello}`]);
  const [original] = await waitForReadyPods(api, ns, 'app=release', 1);
  const relabel = await kubectl(['label', 'pods', '-l', 'app=release', '--overwrite', 'app=release-xyz']);
  expect(relabel.stdout.trim()).toBe(`pod/${original!.metadata!.name} labeled`);

  const [replacement] = await waitForReadyPods(api, ns, 'app=release', 1);
  expect(replacement!.metadata!.name).not.toBe(original!.metadata!.name);
  expect(controllerOf(replacement!)?.kind).toBe('ReplicaSet');
  // The released pod lives on, with no owner.
  await waitForPod(api, ns, original!.metadata!.name!, [field('metadata.ownerReferences', isAbsent)], 30_000);
  const all = await listPods(api, ns, '');
  expect(all.map((p) => p.metadata!.name).sort()).toEqual([original!.metadata!.name, replacement!.metadata!.name].sort());
});

/**
 * The book's relabelling round trip: release the Deployment's pod by changing its label, wait
 * for the replacement, set the label back, and record what the controller did meanwhile.
 */
async function relabelRoundTrip(api: Api, kubectl: Kubectl, ns: string, name: string, image: string, originalReadyForMs = 0) {
  await kubectl(['create', 'deployment', name, `--image=${image}`]);
  const [original] = await waitForReadyPods(api, ns, `app=${name}`, 1);
  const replicaSet = controllerOf(original!)!;
  if (originalReadyForMs > 0) {
    const readySince = new Date(original!.status!.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime!).getTime();
    await waitUntil(`pod ${original!.metadata!.name} Ready for ${originalReadyForMs / 1000} s`, originalReadyForMs + 30_000,
      () => Date.now() - readySince >= originalReadyForMs);
  }
  await kubectl(['label', 'pods', '-l', `app=${name}`, '--overwrite', `app=${name}-xyz`]);
  const [replacement] = await waitForReadyPods(api, ns, `app=${name}`, 1);
  await waitForPod(api, ns, original!.metadata!.name!, [field('metadata.ownerReferences[controller=true]', isAbsent)]);

  const watch = await watchPods(api, ns);
  try {
    await kubectl(['label', 'pods', '-l', `app=${name}-xyz`, '--overwrite', `app=${name}`]);
    const [survivor] = await waitForReadyPods(api, ns, `app=${name}`, 1);
    await waitUntil('only one pod left in the namespace', 60_000, async () => (await listPods(api, ns, '')).length === 1);
    await waitUntil('the watch to report the extra pod deleted', 30_000, () => watch.events.some((e) => e.type === 'DELETED'));
    return { original: original!, replacement: replacement!, survivor: survivor!, replicaSet, events: [...watch.events] };
  } finally {
    watch.stop();
  }
}

claim('relabel-adopts', async ({ ns, kubectl, api, cluster }) => {
  const { original, survivor, replicaSet, events } = await relabelRoundTrip(api, kubectl, ns, 'adopt', cluster.images.hello);
  // The adoption itself: the released pod, matching again, got the ReplicaSet as its controller
  // (seen in the watch even when it is the pod the controller then removed).
  const adopted = events.filter((e) => e.pod.metadata?.name === original.metadata!.name && controllerOf(e.pod)?.uid === replicaSet.uid);
  expect(adopted.length, `watch events of ${original.metadata!.name} owned by ReplicaSet ${replicaSet.name}`).toBeGreaterThan(0);
  // Back to one pod, owned by the ReplicaSet; which of the two survives is relabel-adopts-survivor.
  expect(controllerOf(survivor)?.uid).toBe(replicaSet.uid);
  expect(events.filter((e) => e.type === 'DELETED')).toHaveLength(1);
});

claim('relabel-adopts-survivor', async ({ ns, kubectl, api, cluster, differs }) => {
  // The ReplicaSet removes the pod Ready for the shorter time, comparing the times in powers
  // of two (LogarithmicScaleDown, on by default since 1.22) and by UID when they tie. In the
  // book the original has run a while before the reader relabels it; here it has run 10 s, so
  // that it has been Ready well over twice as long as the replacement when the label returns.
  const { original, replacement, survivor } = await relabelRoundTrip(api, kubectl, ns, 'survivor', cluster.images.hello, 10_000);
  expect([original.metadata!.name, replacement.metadata!.name]).toContain(survivor.metadata!.name);
  if (survivor.metadata!.name !== original.metadata!.name) {
    const readyFor = (p: k8s.V1Pod) => ((Date.now() - new Date(p.status!.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime!).getTime()) / 1000).toFixed(1);
    await differs(`the controller kept the newer pod ${replacement.metadata!.name} (Ready for ${readyFor(replacement)} s) and deleted the original ${original.metadata!.name} (Ready for ${readyFor(original)} s)`);
  }
});

claim('pods-self-heal', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['create', 'deployment', 'heal', `--image=${cluster.images.hello}`]);
  const [before] = await waitForReadyPods(api, ns, 'app=heal', 1);
  const deleted = await kubectl(['delete', 'pod', before!.metadata!.name!]);
  // kubectl 1.34 and later add the namespace: `pod "x" deleted from ns namespace`.
  expect(deleted.stdout.trim()).toMatch(new RegExp(`^pod "${before!.metadata!.name}" deleted( from ${ns} namespace)?$`));
  const [after] = await waitForReadyPods(api, ns, 'app=heal', 1);
  expect(after!.metadata!.name).not.toBe(before!.metadata!.name);
  expect(controllerOf(after!)?.uid).toBe(controllerOf(before!)?.uid);
});

claim('port-forward-deployment', async ({ ns, kubectl, api, cluster, forward }) => {
  await kubectl(['create', 'deployment', 'forwarded', `--image=${cluster.images.hello}`]);
  const [pod] = await waitForReadyPods(api, ns, 'app=forwarded', 1);
  const tunnel = await forward('deploy/forwarded', 80);
  const path = markedPath('via-deployment');
  expect(await tunnel.get(path)).toMatch(/<html/i);
  // The Deployment's pod served this very request.
  await waitForAccessLine(kubectl, [pod!.metadata!.name!], path);
});

claim('desired-state-converges', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['create', 'deployment', 'desired', `--image=${cluster.images.hello}`]);
  await waitForReadyPods(api, ns, 'app=desired', 1);
  for (const replicas of [3, 1]) {
    expect((await kubectl(['scale', 'deploy', 'desired', `--replicas=${replicas}`])).stdout).toBe('deployment.apps/desired scaled');
    // Kubernetes makes it so: that many Pods, all Ready, none terminating...
    const pods = await waitForReadyPods(api, ns, 'app=desired', replicas);
    // ...as the ReplicaSet's status reports it and `get pods` shows it.
    let rs: k8s.V1ReplicaSet | undefined;
    await waitUntil(`the ReplicaSet of desired to report ${replicas} ready of ${replicas}`, 60_000, async () => {
      rs = (await api.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=desired' })).items[0];
      return rs?.spec?.replicas === replicas && rs.status?.replicas === replicas && rs.status?.readyReplicas === replicas;
    }, () => JSON.stringify({ spec: rs?.spec?.replicas, status: rs?.status?.replicas, ready: rs?.status?.readyReplicas }));
    let rows: string[][] = [];
    await waitUntil(`kubectl get pods to show ${replicas} desired Pod(s), all 1/1 Running`, 60_000, async () => {
      rows = (await kubectl(['get', 'pods', '-l', 'app=desired', '--no-headers'])).stdout.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/));
      return rows.length === replicas && rows.every((r) => r[1] === '1/1' && r[2] === 'Running');
    }, () => rows.map((r) => r.slice(0, 3).join(' ')).join('; '));
    expect(rows.map((r) => r[0]).sort()).toEqual(pods.map((p) => p.metadata!.name).sort());
  }
});

claim('labels-any-resource', async ({ ns, kubectl, api, manifests }) => {
  await kubectl(['apply', '-f', manifests.file('deployment.yaml')]);
  const labelled = await kubectl(['label', 'deployment', 'hello-kiamol-4', 'release=20.04']);
  expect(labelled.stdout.trim()).toBe('deployment.apps/hello-kiamol-4 labeled');
  const deployment = await api.apps.readNamespacedDeployment({ name: 'hello-kiamol-4', namespace: ns });
  expect(deployment.metadata?.labels).toMatchObject({ release: '20.04' });
  expect((await kubectl(['get', 'deploy', '-l', 'release=20.04', '-o', 'name'])).stdout.trim()).toBe('deployment.apps/hello-kiamol-4');
  const other = await kubectl(['get', 'deploy', '-l', 'release=20.10']);
  expect(`${other.stdout}${other.stderr}`.trim()).toBe(`No resources found in ${ns} namespace.`);
  // The label is the Deployment's own: its pod template, and so its pods, do not carry it.
  expect(deployment.spec?.template.metadata?.labels).toEqual({ app: 'hello-kiamol-4' });
});

claim('selector-must-match-template', async ({ ns, kubectl, api, manifests }) => {
  const applied = await kubectl(['apply', '-f', manifests.file('selector-mismatch.yaml')], { reject: false });
  expect(applied.exitCode).not.toBe(0);
  expect(applied.stderr).toMatch(/The Deployment "hello-mismatch" is invalid: .*`selector` does not match template `labels`/);
  expect((await api.apps.listNamespacedDeployment({ namespace: ns })).items).toEqual([]);
  expect((await api.core.listNamespacedPod({ namespace: ns })).items).toEqual([]);
});

claim('deployment-scales-across-nodes', async ({ ns, kubectl, api, cluster }) => {
  const runNodes = cluster.nodes;
  const replicas = 2 * runNodes.length;
  await kubectl(['create', 'deployment', 'spread', `--image=${cluster.images.hello}`, `--replicas=${replicas}`]);
  const pods = await waitForReadyPods(api, ns, 'app=spread', replicas);
  // The scheduler spreads a Deployment's pods over the nodes (its default topology spread).
  const used = new Set(pods.map((p) => p.spec!.nodeName!));
  expect([...used].sort(), `nodes of the ${replicas} replicas`).toEqual([...runNodes].sort());
  const wide = await kubectl(['get', 'pods', '-l', 'app=spread', '-o', 'custom-columns=NODE:spec.nodeName', '--no-headers']);
  expect(new Set(wide.stdout.trim().split('\n')).size, 'nodes in the NODE column').toBe(runNodes.length);
});

/**
 * A node of the test's own that only its pods use (they select its label and tolerate its
 * taint), so that losing it disturbs no other test.
 */
const POOL_LABEL = 'kube-claims/pool';

function pinnedPodSpec(image: string, pool: string): k8s.V1PodSpec {
  return {
    nodeSelector: { [POOL_LABEL]: pool },
    tolerations: [{ key: POOL_LABEL, operator: 'Equal', value: pool, effect: 'NoSchedule' }],
    containers: [{ name: 'web', image }],
  };
}

/** Lose a node without notice (its machine is gone), see it NotReady, and remove it from the cluster. */
async function loseNode(api: Api, kubectl: Kubectl, agent: StartedAgent) {
  await step(`lose node ${agent.nodeName}: its container is removed`, async () => agent.remove());
  // The node controller notices within its grace period (node-monitor-grace-period, see NODE_LOSS_SETTINGS).
  await waitUntil(`node ${agent.nodeName} to be NotReady`, 90_000, async () =>
    (await api.core.readNode({ name: agent.nodeName })).status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True');
  const nodes = await kubectl(['get', 'nodes', '--no-headers']);
  expect(nodes.stdout).toMatch(new RegExp(`^${agent.nodeName}\\s+NotReady\\s`, 'm'));
  const deleted = await kubectl(['delete', 'node', agent.nodeName]);
  expect(deleted.stdout.trim()).toBe(`node "${agent.nodeName}" deleted`);
}

claim('node-loss-bare-pod-gone', async ({ ns, kubectl, api, cluster, addNode }) => {
  const lost = await addNode({ labels: [`${POOL_LABEL}=${ns}`], taints: [`${POOL_LABEL}=${ns}:NoSchedule`] });
  const pod: k8s.V1Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bare', labels: { app: 'bare' } }, spec: pinnedPodSpec(cluster.images.hello, ns) };
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
  const running = await waitForPodReady(api, ns, 'bare');
  expect(running.spec!.nodeName, 'the Pod runs on the node that will be lost').toBe(lost.nodeName);

  await loseNode(api, kubectl, lost);
  // Nothing manages the Pod: once its node is gone, the Pod goes too (the pod garbage
  // collector removes pods bound to a node that no longer exists), and nothing replaces it.
  await waitForPodGone(api, ns, 'bare', 150_000);
  expect((await listPods(api, ns, '')).map((p) => p.metadata!.name), 'pods in the namespace').toEqual([]);
  const listed = await kubectl(['get', 'pods']);
  expect(listed.stdout.trim()).toBe('');
  expect(listed.stderr.trim()).toBe(`No resources found in ${ns} namespace.`);
}, 300_000);

claim('node-loss-deployment-recreates', async ({ ns, kubectl, api, cluster, addNode }) => {
  const lost = await addNode({ labels: [`${POOL_LABEL}=${ns}`], taints: [`${POOL_LABEL}=${ns}:NoSchedule`] });
  const deployment: k8s.V1Deployment = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'survivor' },
    spec: {
      replicas: 1, selector: { matchLabels: { app: 'survivor' } },
      template: { metadata: { labels: { app: 'survivor' } }, spec: pinnedPodSpec(cluster.images.hello, ns) },
    },
  };
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(deployment) });
  const [original] = await waitForReadyPods(api, ns, 'app=survivor', 1);
  expect(original!.spec!.nodeName, 'the Pod runs on the node that will be lost').toBe(lost.nodeName);
  // Another node the Deployment may use: one of the run's own, given the pool's label now.
  const other = cluster.nodes[0]!;
  await kubectl(['label', 'node', other, `${POOL_LABEL}=${ns}`]);
  try {
    await loseNode(api, kubectl, lost);
    // The ReplicaSet replaces the Pod it lost with the node: a new Pod, Ready on the other node.
    const [replacement] = await waitForReadyPods(api, ns, 'app=survivor', 1, 150_000);
    expect(replacement!.metadata!.name).not.toBe(original!.metadata!.name);
    expect(replacement!.spec!.nodeName, 'the replacement runs on the other node').toBe(other);
    expect(controllerOf(replacement!)?.uid).toBe(controllerOf(original!)?.uid);
  } finally {
    await kubectl(['label', 'node', other, `${POOL_LABEL}-`], { reject: false });
  }
}, 300_000);
