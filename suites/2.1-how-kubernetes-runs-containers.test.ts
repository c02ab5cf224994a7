// Section 2.1: How Kubernetes runs and manages containers.
import * as k8s from '@kubernetes/client-node';
import ipaddr from 'ipaddr.js';
import semver from 'semver';
import { expect } from 'vitest';
import { describeField, describeSection } from '../helpers/describe.js';
import { type Api, claim } from '../helpers/fixtures.js';
import { condition, waitForPod, waitForPodReady } from '../helpers/pods.js';
import { waitUntil } from '../helpers/wait.js';
import { forVersion } from '../helpers/claims.js';

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

claim('pod-shares-network', "all containers of a Pod share one network namespace and the Pod's IP", async ({ ns, kubectl, api, cluster, manifests }) => {
  await kubectl(['apply', '-f', manifests.file('two-containers.yaml')]);
  const pod = await waitForPodReady(api, ns, 'two-containers');
  for (const container of ['web', 'sidecar']) {
    const seen = await kubectl(['exec', 'two-containers', '-c', container, '--', 'hostname', '-i']);
    expect(seen.stdout.trim(), `IP seen inside container ${container}`).toBe(pod.status?.podIP);
  }
});

claim('pod-localhost', 'containers in the same Pod reach each other over localhost', async ({ ns, kubectl, api, cluster, manifests }) => {
  await kubectl(['apply', '-f', manifests.file('two-containers.yaml')]);
  await waitForPodReady(api, ns, 'two-containers');
  // The sidecar serves nothing itself: what answers on its localhost:80 is the web container.
  const page = await kubectl(['exec', 'two-containers', '-c', 'sidecar', '--', 'wget', '-q', '-O', '-', 'http://localhost:80/']);
  expect(page.stdout).toMatch(/<html/i);
  const direct = await kubectl(['exec', 'two-containers', '-c', 'web', '--', 'wget', '-q', '-O', '-', 'http://localhost:80/']);
  expect(page.stdout).toBe(direct.stdout);
});

claim('pod-single-container-default', 'kubectl run gives a one-container Pod (1/1); a manifest can hold several (2/2)', async ({ ns, kubectl, api, cluster, manifests }) => {
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

claim('pod-runs-on-one-node', 'a Pod runs on exactly one node, which describe and status name', async ({ ns, kubectl, api, cluster }) => {
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

claim('pod-ip-reachable-in-cluster', "one Pod reaches another by the other's Pod IP", async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'server', `--image=${cluster.images.hello}`]);
  await kubectl(['run', 'client', `--image=${cluster.images.hello}`]);
  const server = await waitForPodReady(api, ns, 'server');
  await waitForPodReady(api, ns, 'client');
  const page = await kubectl(['exec', 'client', '--', 'wget', '-q', '-O', '-', `http://${server.status!.podIP}/`]);
  expect(page.stdout).toMatch(/<html/i);
  // The request reached the server pod itself: it logged it.
  const logs = await kubectl(['logs', 'server']);
  expect(logs.stdout.trim().split('\n').length).toBeGreaterThan(0);
});

claim('pod-ip-internal-only', 'a Pod IP is not reachable from outside the cluster, while port-forward reaches the Pod', async ({ ns, kubectl, api, cluster, forward }) => {
  await kubectl(['run', 'inside', `--image=${cluster.images.hello}`]);
  const pod = await waitForPodReady(api, ns, 'inside');
  const tunnel = await forward('pod/inside', 80);
  const page = await tunnel.get('/');
  expect(page).toMatch(/<html/i);
  // From the test process, outside the cluster, the pod IP does not lead to the app. (Some
  // networks answer every outbound connection themselves, so compare what comes back.)
  const outside = await httpGetOutcome(`http://${pod.status!.podIP}/`, 3_000);
  expect(outside, `GET http://${pod.status!.podIP}/ from outside the cluster`).not.toBe(page);
  const logged = (await kubectl(['logs', 'inside'])).stdout.trim().split('\n').filter(Boolean);
  expect(logged, 'requests the app logged: only the port-forwarded one').toHaveLength(1);
});

claim('pod-port-shared', 'two containers of one Pod cannot both bind the same port', async ({ ns, kubectl, api, cluster, manifests }) => {
  await kubectl(['apply', '-f', manifests.file('two-web-servers.yaml')]);
  // Which container wins the port is a race; the loser keeps failing and being restarted.
  const pod = await waitForPod(api, ns, 'port-clash', 'one container restarted', (p) =>
    (p.status?.containerStatuses ?? []).some((s) => s.restartCount > 0));
  const statuses = pod.status!.containerStatuses!;
  const loser = statuses.find((s) => s.restartCount > 0)!;
  const winner = statuses.find((s) => s.name !== loser.name)!;
  expect(winner.restartCount).toBe(0);
  expect(winner.state?.running, `container ${winner.name} keeps running`).toBeTruthy();
  expect(loser.lastState?.terminated?.exitCode, `container ${loser.name} exit code`).not.toBe(0);
  // The loser's log says why. Between restarts the kubelet may replace the container whose
  // log `--previous` names, so read the current and the previous one until either says it.
  let said = '';
  await waitUntil(`container ${loser.name} to log "address in use"`, 30_000, async () => {
    for (const previous of [true, false]) {
      const logs = await kubectl(['logs', 'port-clash', '-c', loser.name, ...(previous ? ['--previous'] : [])], { reject: false });
      said = `${logs.stdout}${logs.stderr}`;
      if (/address (already )?in use/i.test(said)) return true;
    }
    return false;
  }, () => said);
  expect(said).toMatch(/address (already )?in use/i);
});

claim('pod-phases', 'a Pod is Pending before Running, and Ready turns True only after False', async ({ ns, kubectl, api, cluster }) => {
  const seen: { phase?: string; ready?: string }[] = [];
  const watch = new k8s.Watch(api.config);
  const stream = await watch.watch(`/api/v1/namespaces/${ns}/pods`, { fieldSelector: 'metadata.name=phases' },
    (_type, pod: k8s.V1Pod) => seen.push({ phase: pod.status?.phase, ready: condition(pod, 'Ready') }),
    () => {});
  try {
    await kubectl(['run', 'phases', `--image=${cluster.images.hello}`]);
    await waitUntil('the watch to see Ready=True', 120_000, () => seen.some((s) => s.ready === 'True'), () => JSON.stringify(seen));
  } finally {
    stream.abort();
  }
  const phases = seen.map((s) => s.phase).filter((p, i, all) => p !== all[i - 1]);
  expect(phases).toEqual(['Pending', 'Running']);
  const firstTrue = seen.findIndex((s) => s.ready === 'True');
  const firstFalse = seen.findIndex((s) => s.ready === 'False');
  expect(firstFalse, `Ready=False seen before Ready=True in ${JSON.stringify(seen)}`).toBeGreaterThanOrEqual(0);
  expect(firstFalse).toBeLessThan(firstTrue);
});

claim('readiness-probe-gates', 'a failing readiness probe keeps a Pod out of Ready and out of its Service, without restarts', async ({ ns, kubectl, api, cluster, manifests }) => {
  await kubectl(['apply', '-f', manifests.file('readiness-gated.yaml')]);
  // Evidence that the probe ran and failed, not merely that it has not run yet.
  await waitUntil('a failed readiness probe event', 60_000, async () => {
    const events = await api.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=gated,reason=Unhealthy' });
    return events.items.some((e) => /Readiness probe failed/.test(e.message ?? ''));
  });
  const failing = await api.core.readNamespacedPod({ name: 'gated', namespace: ns });
  expect(failing.status?.phase).toBe('Running');
  expect(condition(failing, 'Ready')).toBe('False');
  expect(failing.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  expect(await readyEndpoints(api, ns, 'gated')).not.toContain('gated');
  expect((await kubectl(['get', 'pod', 'gated', '--no-headers'])).stdout).toMatch(/^gated\s+0\/1\s+Running\s+0\s/);

  await kubectl(['exec', 'gated', '--', 'touch', '/tmp/ready']);
  const ready = await waitForPodReady(api, ns, 'gated');
  expect(ready.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  await waitUntil('pod gated among the ready endpoints of Service gated', 30_000, async () =>
    (await readyEndpoints(api, ns, 'gated')).includes('gated'));
});

claim('get-pods-columns', 'kubectl get pods shows NAME READY STATUS RESTARTS AGE', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'columns', `--image=${cluster.images.hello}`]);
  await waitForPodReady(api, ns, 'columns');
  const lines = (await kubectl(['get', 'pods'])).stdout.trim().split('\n');
  expect(lines[0]!.trim().split(/\s+/)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
  expect(lines[1]).toMatch(/^columns\s+1\/1\s+Running\s+0\s+\d+s$/);
});

claim('describe-fields', 'kubectl describe pod shows each catalogued field with the value the API object holds', async ({ ns, kubectl, api, cluster, claim: entry }) => {
  await kubectl(['run', 'described', `--image=${cluster.images.hello}`]);
  await waitForPodReady(api, ns, 'described');
  // Events are written shortly after the container starts; describe what a reader sees then.
  await waitUntil('a Started event', 30_000, async () =>
    (await api.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=described,reason=Started' })).items.length > 0);
  const pod = await api.core.readNamespacedPod({ name: 'described', namespace: ns });
  const text = (await kubectl(['describe', 'pod', 'described'])).stdout;
  const c = pod.status!.containerStatuses![0]!;
  const events = (await api.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=described' })).items;

  const checks: Record<string, () => void> = {
    Name: () => expect(describeField(text, 'Name')).toBe(pod.metadata!.name),
    Namespace: () => expect(describeField(text, 'Namespace')).toBe(ns),
    Node: () => expect(describeField(text, 'Node')).toBe(`${pod.spec!.nodeName}/${pod.status!.hostIP}`),
    'Start Time': () => expect(new Date(describeField(text, 'Start Time')!).getTime()).toBe(new Date(pod.status!.startTime!).getTime()),
    Labels: () => expect(describeField(text, 'Labels')).toBe(`run=${pod.metadata!.labels!.run}`),
    Status: () => expect(describeField(text, 'Status')).toBe(pod.status!.phase),
    IP: () => expect(describeField(text, 'IP')).toBe(pod.status!.podIP),
    'Container ID': () => expect(describeField(text, 'Container ID', 4)).toBe(c.containerID),
    Image: () => expect(describeField(text, 'Image', 4)).toBe(pod.spec!.containers[0]!.image),
    'Image ID': () => expect(describeField(text, 'Image ID', 4)).toBe(c.imageID),
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
    'QoS Class': () => expect(describeField(text, 'QoS Class')).toBe(pod.status!.qosClass),
    Tolerations: () => {
      const shown = describeSection(text, 'Tolerations').map((l) => l.trim());
      const expected = pod.spec!.tolerations!.map((t) => `${t.key}:${t.effect} op=${t.operator} for ${t.tolerationSeconds}s`);
      expect(shown).toEqual(expected);
      expect(expected).toEqual(['node.kubernetes.io/not-ready:NoExecute op=Exists for 300s', 'node.kubernetes.io/unreachable:NoExecute op=Exists for 300s']);
    },
    Events: () => {
      const reasons = describeSection(text, 'Events').slice(2).map((l) => l.trim().split(/\s+/)[1]);
      expect(new Set(reasons)).toEqual(new Set(events.map((e) => e.reason)));
      expect(reasons).toEqual(expect.arrayContaining(['Scheduled', 'Created', 'Started']));
      expect(reasons.some((r) => r === 'Pulled' || r === 'Pulling')).toBe(true);
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
});

claim('describe-conditions', 'a running Pod has every catalogued condition True, by Kubernetes version', async ({ ns, kubectl, api, cluster, claim: entry }) => {
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

claim('defaults-filled', 'fields the user never set are filled in by Kubernetes defaults', async ({ ns, api, cluster }) => {
  const sent: k8s.V1Pod = { metadata: { name: 'minimal' }, spec: { containers: [{ name: 'web', image: cluster.images.hello }] } };
  await api.core.createNamespacedPod({ namespace: ns, body: sent });
  const stored = await waitForPodReady(api, ns, 'minimal');
  expect(sent.spec).toEqual({ containers: [{ name: 'web', image: cluster.images.hello }] });
  expect(stored.spec?.serviceAccountName).toBe('default');
  expect(stored.spec?.restartPolicy).toBe('Always');
  expect(stored.spec?.dnsPolicy).toBe('ClusterFirst');
  expect(stored.spec?.terminationGracePeriodSeconds).toBe(30);
  expect(stored.spec?.schedulerName).toBe('default-scheduler');
  expect(stored.spec?.tolerations?.map((t) => `${t.key}:${t.effect}:${t.tolerationSeconds}`)).toEqual([
    'node.kubernetes.io/not-ready:NoExecute:300', 'node.kubernetes.io/unreachable:NoExecute:300',
  ]);
  expect(stored.status?.qosClass).toBe('BestEffort');
  const container = stored.spec!.containers[0]!;
  expect(container.imagePullPolicy).toBe(cluster.images.hello.includes(':') && !cluster.images.hello.endsWith(':latest') ? 'IfNotPresent' : 'Always');
  expect(container.terminationMessagePath).toBe('/dev/termination-log');
  expect(container.volumeMounts?.[0]?.mountPath).toBe('/var/run/secrets/kubernetes.io/serviceaccount');
});

claim('runtime-runs-containers', "the node's container runtime (containerd), not Kubernetes, runs the containers", async ({ ns, kubectl, api, cluster, node }) => {
  await kubectl(['run', 'runtime', `--image=${cluster.images.hello}`]);
  const pod = await waitForPodReady(api, ns, 'runtime');
  const id = (await kubectl(['get', 'pod', 'runtime', '-o', 'jsonpath={.status.containerStatuses[0].containerID}'])).stdout;
  const m = /^([a-z]+):\/\/([0-9a-f]{64})$/.exec(id);
  expect(m, `containerID "${id}"`).not.toBeNull();
  const nodeObj = await api.core.readNode({ name: pod.spec!.nodeName! });
  expect(nodeObj.status?.nodeInfo?.containerRuntimeVersion).toMatch(new RegExp(`^${m![1]}://`));
  expect(m![1]).toBe('containerd');
  const listed = await node.crictlJson<{ containers: { id: string; labels: Record<string, string> }[] }>(
    ['ps', '--label', 'io.kubernetes.pod.name=runtime', '--label', `io.kubernetes.pod.namespace=${ns}`]);
  expect(listed.containers.map((c) => c.id)).toEqual([m![2]]);
  expect(listed.containers[0]!.labels['io.kubernetes.pod.uid']).toBe(pod.metadata!.uid);
});

claim('container-replaced', 'a container removed behind Kubernetes\' back is replaced in the same Pod', async ({ ns, kubectl, api, cluster, node, claim: entry, note }) => {
  const expected = forVersion(entry.restartsAfterRemoval, cluster.version, 'RESTARTS after removal');
  await kubectl(['run', 'replaced', `--image=${cluster.images.hello}`]);
  const before = await waitForPodReady(api, ns, 'replaced');
  const oldId = before.status!.containerStatuses![0]!.containerID!;
  const listed = await node.crictlJson<{ containers: { id: string }[] }>(
    ['ps', '--label', 'io.kubernetes.pod.name=replaced', '--label', `io.kubernetes.pod.namespace=${ns}`]);
  expect(listed.containers.map((c) => `containerd://${c.id}`)).toEqual([oldId]);
  await node.exec(['crictl', 'rm', '--force', listed.containers[0]!.id]);

  const after = await waitForPod(api, ns, 'replaced', 'a new container, Ready', (p) => {
    const s = p.status?.containerStatuses?.[0];
    return !!s && s.containerID !== oldId && !!s.containerID && s.ready;
  });
  expect(after.metadata!.uid).toBe(before.metadata!.uid);
  expect(after.status!.containerStatuses![0]!.restartCount).toBe(before.status!.containerStatuses![0]!.restartCount + expected.restarts);
  expect((await kubectl(['get', 'pod', 'replaced', '--no-headers'])).stdout).toMatch(new RegExp(`^replaced\\s+1/1\\s+Running\\s+${expected.restarts}\\s`));
  if (expected.why) await note(`RESTARTS stays ${expected.restarts} on ${cluster.version}: ${expected.why}`);
});

claim('jsonpath-output', 'kubectl prints any field with JSONPath or custom columns, equal to the API object', async ({ ns, kubectl, api, cluster }) => {
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

claim('port-forward-pod', 'kubectl port-forward pod/<name> reaches an app with no other route from outside', async ({ ns, kubectl, api, cluster, forward }) => {
  await kubectl(['run', 'forwarded', `--image=${cluster.images.hello}`]);
  await waitForPodReady(api, ns, 'forwarded');
  const tunnel = await forward('pod/forwarded', 80);
  const page = await tunnel.get('/');
  expect(page).toMatch(/<html/i);
  expect(page).toBe((await kubectl(['exec', 'forwarded', '--', 'wget', '-q', '-O', '-', 'http://localhost/'])).stdout + '\n');
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

/** Pod names among the ready endpoints of a Service's EndpointSlices. */
async function readyEndpoints(api: Api, namespace: string, service: string): Promise<string[]> {
  const slices = await api.discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
  return slices.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready).map((e) => e.targetRef?.name ?? ''));
}

claim('pod-ip-reachable-across-nodes', 'Pods on different nodes reach each other by Pod IP', async ({ ns, kubectl, api, cluster }) => {
  const nodes = (await api.core.listNode()).items.map((n) => n.metadata!.name!);
  expect(nodes.length, 'nodes in the cluster').toBeGreaterThanOrEqual(2);
  for (const [name, nodeName] of [['server', nodes[0]!], ['client', nodes[1]!]] as const) {
    await kubectl(['run', name, `--image=${cluster.images.hello}`, `--overrides={"spec":{"nodeName":"${nodeName}"}}`]);
  }
  const server = await waitForPodReady(api, ns, 'server');
  const client = await waitForPodReady(api, ns, 'client');
  expect(server.spec!.nodeName).not.toBe(client.spec!.nodeName);
  const page = await kubectl(['exec', 'client', '--', 'wget', '-q', '-O', '-', `http://${server.status!.podIP}/`]);
  expect(page.stdout).toMatch(/<html/i);
});
