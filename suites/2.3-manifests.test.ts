// Section 2.3: Defining deployments in application manifests.
import { expect } from 'vitest';
import { claim } from '../helpers/fixtures.js';
import { waitForPodReady, waitForReadyPods } from '../helpers/pods.js';

claim('apply-pod-manifest', 'kubectl apply -f pod.yaml creates the Pod', async ({ ns, kubectl, api, manifests }) => {
  const applied = await kubectl(['apply', '-f', manifests.file('pod.yaml')]);
  expect(applied.stdout.trim()).toBe('pod/hello-kiamol created');
  const pod = await waitForPodReady(api, ns, 'hello-kiamol');
  expect(pod.spec?.containers.map((c) => c.name)).toEqual(['web']);
});

claim('apply-idempotent', 'applying the same manifest again, from a file or a URL, changes nothing', async ({ ns, kubectl, api, manifests }) => {
  const file = manifests.file('pod.yaml');
  expect((await kubectl(['apply', '-f', file])).stdout.trim()).toBe('pod/hello-kiamol created');
  const first = await waitForPodReady(api, ns, 'hello-kiamol');

  expect((await kubectl(['apply', '-f', file])).stdout.trim()).toBe('pod/hello-kiamol unchanged');
  const url = await manifests.url('pod.yaml');
  expect((await kubectl(['apply', '-f', url])).stdout.trim()).toBe('pod/hello-kiamol unchanged');

  const after = await api.core.readNamespacedPod({ name: 'hello-kiamol', namespace: ns });
  expect(after.metadata!.uid).toBe(first.metadata!.uid);
  expect(after.metadata!.resourceVersion).toBe(first.metadata!.resourceVersion);
});

claim('apply-deployment-manifest', 'a Deployment manifest with a selector and template creates its pod', async ({ ns, kubectl, api, manifests }) => {
  const applied = await kubectl(['apply', '-f', manifests.file('deployment.yaml')]);
  expect(applied.stdout.trim()).toBe('deployment.apps/hello-kiamol-2 created');
  const pods = await waitForReadyPods(api, ns, 'app=hello-kiamol-2', 1);
  expect(pods[0]!.metadata!.name).toMatch(/^hello-kiamol-2-[a-z0-9]+-[a-z0-9]{5}$/);
});
