// Section 2.4: Working with applications in pods.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { claim } from '../helpers/fixtures/fixtures.js';
import { waitForPodReady, waitForReadyPods } from '../helpers/verbs/pods.js';
import { waitUntil } from '../helpers/verbs/wait.js';
import { markedPath, waitForAccessLine } from '../helpers/verbs/access-log.js';
import { localAddresses, READ_FIB_TRIE } from '../helpers/cluster/kernel.js';
import { Terminal } from '../helpers/fixtures/terminal.js';
import { onceAnswering } from '../helpers/verbs/requests.js';

/** Where the hello page lives in both the book's image and ours (images/contract.md). */
const WEB_ROOT = '/usr/share/nginx/html';
const PAGE = `${WEB_ROOT}/index.html`;

claim('exec-in-pod', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'hello-kiamol', `--image=${cluster.images.hello}`]);
  const pod = await waitForPodReady(api, ns, 'hello-kiamol');
  const seen = await kubectl(['exec', 'hello-kiamol', '--', 'sh', '-c', 'hostname -i']);
  expect(seen.stdout.trim()).toBe(pod.status!.podIP);
  // hostname -i reads /etc/hosts, which the kubelet writes; the kernel confirms the address is
  // the container's own.
  const fib = await kubectl(['exec', 'hello-kiamol', '--', ...READ_FIB_TRIE]);
  expect(localAddresses(fib.stdout)).toContain(pod.status!.podIP);
});

claim('exec-localhost', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'hello-kiamol', `--image=${cluster.images.hello}`]);
  await waitForPodReady(api, ns, 'hello-kiamol');
  const page = await onceAnswering(kubectl, ['exec', 'hello-kiamol', '--', 'wget', '-q', '-O', '-', 'http://localhost'], { raw: true });
  // The app's own page, byte for byte: the file it serves (images/contract.md).
  const file = await kubectl(['exec', 'hello-kiamol', '--', 'cat', '/usr/share/nginx/html/index.html'], { raw: true });
  expect(page.stdout).toMatch(/<html/i);
  expect(page.stdout).toBe(file.stdout);
});

claim('exec-by-controller', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['create', 'deployment', 'hello-kiamol-4', '--replicas=2', `--image=${cluster.images.hello}`]);
  const pods = await waitForReadyPods(api, ns, 'app=hello-kiamol-4', 2);
  const hostname = await kubectl(['exec', 'deploy/hello-kiamol-4', '--', 'hostname']);
  expect(pods.map((p) => p.metadata!.name)).toContain(hostname.stdout.trim());
});

claim('logs-relayed', async ({ ns, kubectl, api, cluster, nodeOf }) => {
  await kubectl(['run', 'logged', `--image=${cluster.images.hello}`]);
  const pod = await waitForPodReady(api, ns, 'logged');
  const path = markedPath('relayed');
  await onceAnswering(kubectl, ['exec', 'logged', '--', 'wget', '-q', '-O', '/dev/null', `http://localhost${path}`]);
  // The last line kubectl shows is this request's access line...
  const { line } = await waitForAccessLine(kubectl, ['logged', '--tail=1'], path);
  // ...and it is the line the runtime captured on the node (stdout and stderr, as crictl shows them).
  const id = pod.status!.containerStatuses![0]!.containerID!.replace(/^containerd:\/\//, '');
  const onNode = (await nodeOf(pod).crictl(['logs', '--tail=1', id], { withStderr: true })).replace(/\n$/, '');
  expect(onNode).toBe(line);
});

claim('logs-by-selector', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['create', 'deployment', 'selected', `--image=${cluster.images.hello}`]);
  const [pod] = await waitForReadyPods(api, ns, 'app=selected', 1);
  const path = markedPath('selected');
  await onceAnswering(kubectl, ['exec', pod!.metadata!.name!, '--', 'wget', '-q', '-O', '/dev/null', `http://localhost${path}`]);
  const { log } = await waitForAccessLine(kubectl, ['-l', 'app=selected'], path);
  // With a selector kubectl shows the last 10 lines of each pod (its default --tail=10).
  const whole = (await kubectl(['logs', pod!.metadata!.name!])).stdout;
  expect(log.split('\n')).toEqual(whole.split('\n').slice(-10));
});

claim('cp-from-pod', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'hello-kiamol', `--image=${cluster.images.hello}`]);
  await waitForPodReady(api, ns, 'hello-kiamol');
  const dir = await mkdtemp(join(cluster.tmpDir, 'cp-'));
  try {
    const local = join(dir, 'index.html');
    await kubectl(['cp', `${ns}/hello-kiamol:${PAGE}`, local]);
    const copied = await readFile(local, 'utf8');
    const served = (await onceAnswering(kubectl, ['exec', 'hello-kiamol', '--', 'wget', '-q', '-O', '-', 'http://localhost/'], { raw: true })).stdout;
    expect(copied).toMatch(/<html/i);
    expect(copied).toBe(served);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

claim('cp-to-pod', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'hello-kiamol', `--image=${cluster.images.hello}`]);
  await waitForPodReady(api, ns, 'hello-kiamol');
  const dir = await mkdtemp(join(cluster.tmpDir, 'cp-'));
  try {
    const page = `<html><body>copied into ${ns}/hello-kiamol by kubectl cp</body></html>\n`;
    const local = join(dir, 'copied.html');
    await writeFile(local, page);
    await kubectl(['cp', local, `${ns}/hello-kiamol:${WEB_ROOT}/copied.html`]);
    const served = await kubectl(['exec', 'hello-kiamol', '--', 'wget', '-q', '-O', '-', 'http://localhost/copied.html'], { raw: true });
    expect(served.stdout).toBe(page);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

claim('exec-interactive', async ({ ns, kubectl, api, cluster }) => {
  await kubectl(['run', 'hello-kiamol', `--image=${cluster.images.hello}`]);
  await waitForPodReady(api, ns, 'hello-kiamol');
  const terminal = Terminal.open([kubectl.binary, '--kubeconfig', cluster.kubeconfigPath, '-n', ns, 'exec', '-it', 'hello-kiamol', '--', 'sh']);
  try {
    // Busybox's line editor may follow its prompt with a cursor-position query (ESC [6n).
    await terminal.waitFor(/[#$] (\x1b\[6n)?$/, 'the shell prompt');
    // Answers that the echoed keystrokes do not contain: they come from the shell in the Pod.
    terminal.type('echo "$((6 * 7))-$(hostname)"\r');
    await terminal.waitFor(/^42-hello-kiamol\r?$/m, "the shell's answer 42-hello-kiamol");
    terminal.type('[ -t 0 ] && echo "stdin-is-a-$((1 + 1))-tty"\r');
    await terminal.waitFor(/^stdin-is-a-2-tty\r?$/m, 'that the shell reads from a terminal');
    terminal.type('exit\r');
    expect(await terminal.exitCode(), `exit code of kubectl exec -it; screen: ${terminal.screen}`).toBe(0);
  } finally {
    await terminal.close();
  }
});
