// Section 2.4: Working with applications in pods.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { claim } from '../helpers/fixtures.js';
import { waitForPodReady, waitForReadyPods } from '../helpers/pods.js';
import { waitUntil } from '../helpers/wait.js';

/** Where the hello page lives in both the book's image and ours. */
const PAGE = '/usr/share/nginx/html/index.html';

claim('exec-in-pod', 'kubectl exec runs a command in the container, which sees the Pod IP', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'hello-kiamol', `--image=${cluster.images.hello}`]);
  const pod = await waitForPodReady(api, ns, 'hello-kiamol');
  const seen = await kubectl(['exec', 'hello-kiamol', '--', 'sh', '-c', 'hostname -i']);
  expect(seen.stdout.trim()).toBe(pod.status!.podIP);
});

claim('exec-localhost', 'inside the container, the app answers on localhost', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'hello-kiamol', `--image=${cluster.images.hello}`]);
  await waitForPodReady(api, ns, 'hello-kiamol');
  const page = await kubectl(['exec', 'hello-kiamol', '--', 'wget', '-q', '-O', '-', 'http://localhost']);
  expect(page.stdout).toMatch(/<html/i);
});

claim('exec-by-controller', 'kubectl exec deploy/<name> runs the command in one of its pods', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['create', 'deployment', 'hello-kiamol-4', '--replicas=2', `--image=${cluster.images.hello}`]);
  const pods = await waitForReadyPods(api, ns, 'app=hello-kiamol-4', 2);
  const hostname = await kubectl(['exec', 'deploy/hello-kiamol-4', '--', 'hostname']);
  expect(pods.map((p) => p.metadata!.name)).toContain(hostname.stdout.trim());
});

claim('logs-relayed', 'kubectl logs shows what the container runtime captured, unchanged', async ({ ns, kubectl, api, cluster, node }) => {
  await kubectl(['run', 'logged', `--image=${cluster.images.hello}`]);
  const pod = await waitForPodReady(api, ns, 'logged');
  await kubectl(['exec', 'logged', '--', 'wget', '-q', '-O', '/dev/null', 'http://localhost/?from=logs-relayed']);
  let last = '';
  await waitUntil('the request in kubectl logs', 30_000, async () => {
    last = (await kubectl(['logs', 'logged', '--tail=1'])).stdout.trim();
    return last !== '';
  }, () => last);
  const id = pod.status!.containerStatuses![0]!.containerID!.replace(/^containerd:\/\//, '');
  // crictl prints the container's stdout and stderr as captured; compare the same last line.
  const onNode = (await node.exec(['sh', '-c', `crictl logs --tail=1 ${id} 2>&1`])).trim();
  expect(onNode).toBe(last);
  expect((await kubectl(['logs', 'logged'])).stdout.trim().split('\n')).toContain(last);
});

claim('logs-by-selector', 'kubectl logs -l app=<name> reads the logs of the pods with that label', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['create', 'deployment', 'selected', `--image=${cluster.images.hello}`]);
  const [pod] = await waitForReadyPods(api, ns, 'app=selected', 1);
  await kubectl(['exec', pod!.metadata!.name!, '--', 'wget', '-q', '-O', '/dev/null', 'http://localhost/']);
  let logs = '';
  await waitUntil('an access line in kubectl logs -l app=selected', 30_000, async () => {
    logs = (await kubectl(['logs', '-l', 'app=selected'])).stdout;
    return logs.trim() !== '';
  }, () => logs);
  expect(logs).toBe((await kubectl(['logs', pod!.metadata!.name!])).stdout);
});

claim('cp-from-pod', 'kubectl cp copies a file out of the container, the same page the app serves', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'hello-kiamol', `--image=${cluster.images.hello}`]);
  await waitForPodReady(api, ns, 'hello-kiamol');
  const dir = await mkdtemp(join(tmpdir(), 'kube-claims-cp-'));
  try {
    const local = join(dir, 'index.html');
    await kubectl(['cp', `${ns}/hello-kiamol:${PAGE}`, local]);
    const copied = await readFile(local, 'utf8');
    const served = (await kubectl(['exec', 'hello-kiamol', '--', 'wget', '-q', '-O', '-', 'http://localhost/'])).stdout;
    expect(copied).toMatch(/<html/i);
    expect(copied.trim()).toBe(served.trim());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
