// Section 2.2: Running pods with controllers.
import type * as k8s from '@kubernetes/client-node';
import { expect } from 'vitest';
import { type Api, claim } from '../helpers/fixtures.js';
import { listPods, waitForReadyPods } from '../helpers/pods.js';
import { waitUntil } from '../helpers/wait.js';

const controllerOf = (obj: { metadata?: k8s.V1ObjectMeta }) => obj.metadata?.ownerReferences?.find((o) => o.controller);

/** The Deployment's one ReplicaSet and its pods, once `count` are Ready. */
async function deploymentChain(api: Api, ns: string, name: string, count = 1) {
  const deployment = await api.apps.readNamespacedDeployment({ name, namespace: ns });
  const pods = await waitForReadyPods(api, ns, `app=${name}`, count);
  const replicaSets = (await api.apps.listNamespacedReplicaSet({ namespace: ns })).items;
  return { deployment, replicaSets, pods };
}

claim('deployment-creates-pod', 'kubectl create deployment makes a Deployment, which makes a ReplicaSet, which makes the Pod', async ({ ns, kubectl, api, cluster }) => {
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

claim('deployment-labels', "the Deployment's template label app=<name> is on its pods, and a selector finds them", async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['create', 'deployment', 'labelled', `--image=${cluster.images.hello}`]);
  const labels = await kubectl(['get', 'deploy', 'labelled', '-o', 'jsonpath={.spec.template.metadata.labels}']);
  expect(JSON.parse(labels.stdout)).toEqual({ app: 'labelled' });
  const [pod] = await waitForReadyPods(api, ns, 'app=labelled', 1);
  expect(pod!.metadata!.labels).toMatchObject({ app: 'labelled' });
  const found = await kubectl(['get', 'pods', '-l', 'app=labelled', '-o', 'name']);
  expect(found.stdout.trim()).toBe(`pod/${pod!.metadata!.name}`);
});

claim('relabel-releases', "changing a pod's label so it no longer matches releases it, and the controller makes a new pod", async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['create', 'deployment', 'release', `--image=${cluster.images.hello}`]);
  const [original] = await waitForReadyPods(api, ns, 'app=release', 1);
  const relabel = await kubectl(['label', 'pods', '-l', 'app=release', '--overwrite', 'app=release-xyz']);
  expect(relabel.stdout.trim()).toBe(`pod/${original!.metadata!.name} labeled`);

  const [replacement] = await waitForReadyPods(api, ns, 'app=release', 1);
  expect(replacement!.metadata!.name).not.toBe(original!.metadata!.name);
  expect(controllerOf(replacement!)?.kind).toBe('ReplicaSet');
  // The released pod lives on, with no owner.
  await waitUntil(`pod ${original!.metadata!.name} to lose its owner`, 30_000, async () => {
    const released = await api.core.readNamespacedPod({ name: original!.metadata!.name!, namespace: ns });
    return (released.metadata?.ownerReferences ?? []).length === 0;
  });
  const all = await listPods(api, ns, '');
  expect(all.map((p) => p.metadata!.name).sort()).toEqual([original!.metadata!.name, replacement!.metadata!.name].sort());
});

claim('relabel-adopts', 'changing the label back makes the controller adopt the pod and remove the extra one', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['create', 'deployment', 'adopt', `--image=${cluster.images.hello}`]);
  await waitForReadyPods(api, ns, 'app=adopt', 1);
  await kubectl(['label', 'pods', '-l', 'app=adopt', '--overwrite', 'app=adopt-xyz']);
  await waitForReadyPods(api, ns, 'app=adopt', 1);
  expect(await listPods(api, ns, 'app=adopt-xyz')).toHaveLength(1);

  await kubectl(['label', 'pods', '-l', 'app=adopt-xyz', '--overwrite', 'app=adopt']);
  // Back to one pod; which of the two survives is the controller's choice, not the claim.
  const [survivor] = await waitForReadyPods(api, ns, 'app=adopt', 1);
  expect(controllerOf(survivor!)?.kind).toBe('ReplicaSet');
  await waitUntil('only one pod left in the namespace', 60_000, async () => (await listPods(api, ns, '')).length === 1);
});

claim('pods-self-heal', 'deleting a managed pod makes the controller replace it', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['create', 'deployment', 'heal', `--image=${cluster.images.hello}`]);
  const [before] = await waitForReadyPods(api, ns, 'app=heal', 1);
  const deleted = await kubectl(['delete', 'pod', before!.metadata!.name!]);
  // kubectl 1.34 and later add the namespace: `pod "x" deleted from ns namespace`.
  expect(deleted.stdout.trim()).toMatch(new RegExp(`^pod "${before!.metadata!.name}" deleted( from ${ns} namespace)?$`));
  const [after] = await waitForReadyPods(api, ns, 'app=heal', 1);
  expect(after!.metadata!.name).not.toBe(before!.metadata!.name);
  expect(controllerOf(after!)?.uid).toBe(controllerOf(before!)?.uid);
});

claim('port-forward-deployment', 'kubectl port-forward deploy/<name> forwards to one of its pods', async ({ ns, kubectl, api, cluster, forward }) => {
  await kubectl(['create', 'deployment', 'forwarded', `--image=${cluster.images.hello}`]);
  const [pod] = await waitForReadyPods(api, ns, 'app=forwarded', 1);
  const tunnel = await forward('deploy/forwarded', 80);
  expect(await tunnel.get('/')).toMatch(/<html/i);
  const logs = await kubectl(['logs', pod!.metadata!.name!]);
  expect(logs.stdout.trim().split('\n').filter(Boolean).length, 'requests logged by the pod').toBeGreaterThanOrEqual(1);
});
