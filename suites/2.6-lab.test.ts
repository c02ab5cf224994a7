// Section 2.6: Lab.
import { expect } from 'vitest';
import { claim } from '../helpers/fixtures/fixtures.js';
import { waitForPodReady, waitForReadyPods } from '../helpers/verbs/pods.js';

claim('lab-whoami', async ({ ns, kubectl, api, manifests, forward }) => {
  expect((await kubectl(['apply', '-f', manifests.file('whoami.yaml')])).stdout.trim()).toBe('deployment.apps/whoami created');
  // The book's solution labels the Deployment and its pods by app and chapter version.
  const [pod] = await waitForReadyPods(api, ns, 'app=whoami,version=ch02', 1);
  const tunnel = await forward('deploy/whoami', 80);
  const body = await tunnel.get('/');

  const columns = await kubectl(['get', 'pods', '-l', 'app=whoami', '--no-headers', '-o', 'custom-columns=NAME:metadata.name']);
  const name = columns.stdout.trim();
  expect(name).toBe(pod!.metadata!.name);
  const hostname = (await kubectl(['exec', name, '--', 'hostname'])).stdout.trim();
  expect(hostname).toBe(name);
  expect(body).toContain(name);
});

claim('lab-bare-pod', async ({ ns, kubectl, api, manifests, forward }) => {
  // The lab's start: the bare Pod of lab/pod.yaml.
  expect((await kubectl(['apply', '-f', manifests.file('lab/pod.yaml')])).stdout).toBe('pod/whoami-1 created');
  await waitForPodReady(api, ns, 'whoami-1');
  const bare = await forward('pod/whoami-1', 80);
  // The app listens a moment after its container starts (as ASP.NET does): get() retries.
  expect(await bare.get('/')).toMatch(/^"I'm whoami-1 running on Linux /);

  // The lab's end: the Deployment, and the book's commands as written.
  await kubectl(['apply', '-f', manifests.file('whoami.yaml')]);
  const [pod] = await waitForReadyPods(api, ns, 'app=whoami', 1);
  const name = pod!.metadata!.name!;
  expect(name).toMatch(/^whoami-[a-z0-9]+-[a-z0-9]{5}$/);
  expect((await kubectl(['exec', 'deploy/whoami', '--', 'sh', '-c', 'hostname'])).stdout).toBe(name);
  const tunnel = await forward('deploy/whoami', 80);
  expect(await tunnel.get('/')).toMatch(new RegExp(`^"I'm ${name} running on Linux `));
});
