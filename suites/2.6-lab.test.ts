// Section 2.6: Lab.
import { expect } from 'vitest';
import { claim } from '../helpers/fixtures.js';
import { waitForReadyPods } from '../helpers/pods.js';

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
