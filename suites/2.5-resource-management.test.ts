// Section 2.5: Understanding Kubernetes resource management.
import { expect } from 'vitest';
import { claim } from '../helpers/fixtures/fixtures.js';
import { listPods, waitForPodGone, waitForPodReady, waitForReadyPods, watchPods } from '../helpers/verbs/pods.js';
import { waitUntil } from '../helpers/verbs/wait.js';

claim('delete-unmanaged-gone', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'bare', `--image=${cluster.images.hello}`]);
  await kubectl(['create', 'deployment', 'managed', `--image=${cluster.images.hello}`]);
  await waitForPodReady(api, ns, 'bare');
  const [managed] = await waitForReadyPods(api, ns, 'app=managed', 1);
  await kubectl(['delete', 'pods', '--all']);
  // The managed pod comes back under a new name; by then the controller has acted, and the
  // bare pod has not returned.
  const [replacement] = await waitForReadyPods(api, ns, 'app=managed', 1);
  expect(replacement!.metadata!.name).not.toBe(managed!.metadata!.name);
  const names = (await listPods(api, ns, '')).map((p) => p.metadata!.name);
  expect(names).toEqual([replacement!.metadata!.name]);
  const get = await kubectl(['get', 'pod', 'bare'], { reject: false });
  expect(get.stderr).toMatch(/NotFound|not found/);
});

claim('delete-managed-returns', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['create', 'deployment', 'returns', '--replicas=2', `--image=${cluster.images.hello}`]);
  const before = await waitForReadyPods(api, ns, 'app=returns', 2);
  await kubectl(['delete', 'pods', '-l', 'app=returns']);
  const after = await waitForReadyPods(api, ns, 'app=returns', 2);
  const old = new Set(before.map((p) => p.metadata!.name));
  expect(after.filter((p) => old.has(p.metadata!.name))).toEqual([]);
});

claim('delete-controller-cascades', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['create', 'deployment', 'cascade', '--replicas=2', `--image=${cluster.images.hello}`]);
  await waitForReadyPods(api, ns, 'app=cascade', 2);
  const deleted = await kubectl(['delete', 'deployment', 'cascade']);
  expect(deleted.stdout.trim()).toMatch(new RegExp(`^deployment.apps "cascade" deleted( from ${ns} namespace)?$`));
  await waitUntil('the ReplicaSet and pods of deployment cascade to be gone', 90_000, async () => {
    const rs = await api.apps.listNamespacedReplicaSet({ namespace: ns });
    const pods = await api.core.listNamespacedPod({ namespace: ns });
    return rs.items.length === 0 && pods.items.length === 0;
  });
  const all = await kubectl(['get', 'all']);
  expect(`${all.stdout}${all.stderr}`.trim()).toBe(`No resources found in ${ns} namespace.`);
});

claim('delete-shows-terminating', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'doomed', `--image=${cluster.images.hello}`]);
  await waitForPodReady(api, ns, 'doomed');
  // What a reader watching `kubectl get pods --watch` sees while the Pod is deleted, and the
  // API's record of every change behind it (a read afterwards could find the Pod already gone).
  const watch = await watchPods(api, ns, 'metadata.name=doomed');
  const watching = kubectl.background(['get', 'pods', '--watch']);
  try {
    await waitUntil('kubectl get pods --watch to list pod doomed', 30_000, () => /^doomed\s/m.test(watching.output), () => watching.output);
    const deleted = await kubectl(['delete', 'pod', 'doomed', '--wait=false']);
    expect(deleted.stdout.trim()).toMatch(new RegExp(`^pod "doomed" deleted( from ${ns} namespace)?$`));
    await waitUntil('STATUS Terminating for pod doomed', 30_000, () => /^doomed\s+\S+\s+Terminating\s/m.test(watching.output), () => watching.output);
    await waitForPodGone(api, ns, 'doomed');
    await waitUntil('the watch to report doomed DELETED', 30_000, () => watch.events.some((e) => e.type === 'DELETED'), () => watch.events.map((e) => e.type).join(' > '));
  } finally {
    watch.stop();
    await watching.stop();
  }
  // Behind it: the deletion timestamp, with the grace period the Pod was given (30 s, the default).
  const terminating = watch.events.find((e) => e.type === 'MODIFIED' && e.pod.metadata?.deletionTimestamp);
  expect(terminating, `a MODIFIED event with deletionTimestamp set, among ${watch.events.map((e) => e.type).join(' > ')}`).toBeDefined();
  expect(terminating!.pod.metadata?.deletionGracePeriodSeconds).toBe(30);
  expect(watch.events.at(-1)?.type).toBe('DELETED');
});
