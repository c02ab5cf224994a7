// Section 2.1: How Kubernetes runs and manages containers.
import ipaddr from 'ipaddr.js';
import { expect } from 'vitest';
import { claim } from '../helpers/fixtures.js';
import { resolvedManifest } from '../helpers/manifests.js';
import { condition, waitForPodReady } from '../helpers/pods.js';

claim('pod-wraps-containers', 'kubectl run creates a Pod, and no Deployment or ReplicaSet', async ({ ns, kubectl, api, cluster }) => {
  const run = await kubectl(['run', 'hello-kiamol', `--image=${cluster.images.hello}`]);
  expect(run.stdout.trim()).toBe('pod/hello-kiamol created');

  const pod = await waitForPodReady(api, ns, 'hello-kiamol');
  expect(pod.kind ?? 'Pod').toBe('Pod');
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

claim('run-not-ready', 'kubectl run returns once the Pod is created, before it is Ready', async ({ ns, kubectl, api, cluster }) => {
  const run = await kubectl(['run', 'not-yet', `--image=${cluster.images.hello}`]);
  expect(run.stdout.trim()).toBe('pod/not-yet created');
  const justCreated = await api.core.readNamespacedPod({ name: 'not-yet', namespace: ns });
  expect(condition(justCreated, 'Ready')).not.toBe('True');
  // ...and it does get there afterwards: kubectl simply did not wait.
  await waitForPodReady(api, ns, 'not-yet');
});

claim('wait-ready', 'kubectl wait --for=condition=Ready blocks until the Pod is Ready', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'waited', `--image=${cluster.images.hello}`]);
  const wait = await kubectl(['wait', '--for=condition=Ready', 'pod/waited', '--timeout=120s']);
  expect(wait.stdout.trim()).toBe('pod/waited condition met');
  const pod = await api.core.readNamespacedPod({ name: 'waited', namespace: ns });
  expect(condition(pod, 'Ready')).toBe('True');
});

claim('pod-has-ip', "each Pod gets its own IP address inside the cluster's pod network", async ({ ns, kubectl, api, cluster }) => {
  for (const name of ['ip-a', 'ip-b']) await kubectl(['run', name, `--image=${cluster.images.hello}`]);
  const pods = [await waitForPodReady(api, ns, 'ip-a'), await waitForPodReady(api, ns, 'ip-b')];
  const node = await api.core.readNode({ name: pods[0]!.spec!.nodeName! });
  const podCidrs = (node.spec?.podCIDRs ?? [node.spec?.podCIDR]).filter((c): c is string => !!c);
  expect(podCidrs.length).toBeGreaterThan(0);

  const ips = pods.map((p) => p.status?.podIP ?? '');
  for (const ip of ips) {
    expect(ipaddr.isValid(ip), `pod IP "${ip}"`).toBe(true);
    const inside = podCidrs.some((cidr) => ipaddr.parse(ip).match(ipaddr.parseCIDR(cidr)));
    expect(inside, `${ip} inside the node's pod CIDR ${podCidrs.join(',')}`).toBe(true);
  }
  expect(new Set(ips).size).toBe(ips.length);

  const columns = await kubectl(['get', 'pods', '-o', 'custom-columns=NAME:metadata.name,NODE_IP:status.hostIP,POD_IP:status.podIP']);
  const rows = columns.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
  expect(rows[0]).toEqual(['NAME', 'NODE_IP', 'POD_IP']);
  expect(rows.slice(1)).toEqual(pods.map((p) => [p.metadata!.name!, p.status!.hostIP!, p.status!.podIP!]));
});

claim('pod-shares-network', "all containers of a Pod share one network namespace and the Pod's IP", async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['apply', '-f', '-'], { input: resolvedManifest('two-containers.yaml', cluster.images) });
  const pod = await waitForPodReady(api, ns, 'two-containers');
  for (const container of ['web', 'sidecar']) {
    const seen = await kubectl(['exec', 'two-containers', '-c', container, '--', 'hostname', '-i']);
    expect(seen.stdout.trim(), `IP seen inside container ${container}`).toBe(pod.status?.podIP);
  }
});

claim('pod-localhost', 'containers in the same Pod reach each other over localhost', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['apply', '-f', '-'], { input: resolvedManifest('two-containers.yaml', cluster.images) });
  await waitForPodReady(api, ns, 'two-containers');
  // The sidecar serves nothing itself: what answers on its localhost:80 is the web container.
  const page = await kubectl(['exec', 'two-containers', '-c', 'sidecar', '--', 'wget', '-q', '-O', '-', 'http://localhost:80/']);
  expect(page.stdout).toMatch(/<html/i);
  const direct = await kubectl(['exec', 'two-containers', '-c', 'web', '--', 'wget', '-q', '-O', '-', 'http://localhost:80/']);
  expect(page.stdout).toBe(direct.stdout);
});

claim('pod-single-container-default', 'kubectl run gives a one-container Pod (1/1); a manifest can hold several (2/2)', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'single', `--image=${cluster.images.hello}`]);
  await kubectl(['apply', '-f', '-'], { input: resolvedManifest('two-containers.yaml', cluster.images) });
  const single = await waitForPodReady(api, ns, 'single');
  const double = await waitForPodReady(api, ns, 'two-containers');
  expect(single.spec?.containers).toHaveLength(1);
  expect(double.spec?.containers).toHaveLength(2);

  const table = await kubectl(['get', 'pods', '--no-headers']);
  const ready = Object.fromEntries(table.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)).map((c) => [c[0], c[1]]));
  expect(ready).toEqual({ single: '1/1', 'two-containers': '2/2' });
});
