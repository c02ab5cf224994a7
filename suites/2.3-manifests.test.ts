// Section 2.3: Defining deployments in application manifests.
import { expect } from 'vitest';
import { claim } from '../helpers/fixtures/fixtures.js';
import { waitForPodReady, waitForReadyPods } from '../helpers/verbs/pods.js';

claim('apply-pod-manifest', async ({ ns, kubectl, api, manifests }) => {
  const applied = await kubectl(['apply', '-f', manifests.file('pod.yaml')]);
  expect(applied.stdout.trim()).toBe('pod/hello-kiamol-3 created');
  const pod = await waitForPodReady(api, ns, 'hello-kiamol-3');
  expect(pod.spec?.containers.map((c) => c.name)).toEqual(['web']);
});

claim('apply-idempotent', async ({ ns, kubectl, api, manifests }) => {
  const file = manifests.file('pod.yaml');
  expect((await kubectl(['apply', '-f', file])).stdout.trim()).toBe('pod/hello-kiamol-3 created');
  const first = await waitForPodReady(api, ns, 'hello-kiamol-3');

  expect((await kubectl(['apply', '-f', file])).stdout.trim()).toBe('pod/hello-kiamol-3 unchanged');
  const url = await manifests.url('pod.yaml');
  expect((await kubectl(['apply', '-f', url])).stdout.trim()).toBe('pod/hello-kiamol-3 unchanged');

  const after = await api.core.readNamespacedPod({ name: 'hello-kiamol-3', namespace: ns });
  expect(after.metadata!.uid).toBe(first.metadata!.uid);
  expect(after.metadata!.resourceVersion).toBe(first.metadata!.resourceVersion);
});

claim('apply-deployment-manifest', async ({ ns, kubectl, api, manifests }) => {
  const applied = await kubectl(['apply', '-f', manifests.file('deployment.yaml')]);
  expect(applied.stdout.trim()).toBe('deployment.apps/hello-kiamol-4 created');
  const pods = await waitForReadyPods(api, ns, 'app=hello-kiamol-4', 1);
  // The chain the manifest set off: Deployment, its ReplicaSet (named by the template's hash), the Pod.
  const deployment = await api.apps.readNamespacedDeployment({ name: 'hello-kiamol-4', namespace: ns });
  const replicaSets = (await api.apps.listNamespacedReplicaSet({ namespace: ns })).items;
  expect(replicaSets).toHaveLength(1);
  const rs = replicaSets[0]!;
  const hash = rs.metadata!.labels!['pod-template-hash'];
  expect(rs.metadata!.ownerReferences?.find((o) => o.controller)).toMatchObject({ kind: 'Deployment', name: 'hello-kiamol-4', uid: deployment.metadata!.uid });
  expect(pods[0]!.metadata!.ownerReferences?.find((o) => o.controller)).toMatchObject({ kind: 'ReplicaSet', name: `hello-kiamol-4-${hash}`, uid: rs.metadata!.uid });
  expect(pods[0]!.metadata!.name).toMatch(new RegExp(`^hello-kiamol-4-${hash}-[a-z0-9]{5}$`));
  expect(pods[0]!.metadata!.labels).toMatchObject({ app: 'hello-kiamol-4' });
  expect((await kubectl(['get', 'pods', '-l', 'app=hello-kiamol-4', '-o', 'name'])).stdout).toBe(`pod/${pods[0]!.metadata!.name}`);
});

claim('manifest-name-required', async ({ ns, kubectl, api, manifests }) => {
  const applied = await kubectl(['apply', '-f', manifests.file('pod-without-name.yaml')], { reject: false });
  expect(applied.exitCode).not.toBe(0);
  expect(applied.stderr).toMatch(/resource name may not be empty/);
  expect((await api.core.listNamespacedPod({ namespace: ns })).items).toEqual([]);
});
