// The add-ons a server applies after it boots (CoreDNS, local-path), in the background, as k3s's
// deploy controller does: a cluster is "ready" before their Deployments exist, and `rollout status`
// fails at once on one that does not exist yet. So wait until both exist, then until both are out.
// For the scripts that start a cluster and need its add-ons up (the bench's idle cluster, the node
// record, the existing-cluster check); the claims wait for what each needs.
//   usage: npx tsx helpers/cluster/addons.ts KUBECTL KUBECONFIG [ALLOWANCE_SECONDS]
import { execa } from 'execa';
import { pathToFileURL } from 'node:url';
import { waitUntil } from '../verbs/wait.js';

export const ADDON_DEPLOYMENTS = ['deployment/coredns', 'deployment/local-path-provisioner'];

/** Waits, within `allowanceS` for each part, until the add-ons' Deployments exist and are rolled out. */
export async function waitForAddons(kubectl: (args: string[]) => Promise<unknown>, allowanceS = 180): Promise<void> {
  // A failed get is "not yet"; its message is what the timeout reports.
  await waitUntil("the add-ons' Deployments to exist", allowanceS * 1000,
    async () => (await kubectl(['-n', 'kube-system', 'get', ...ADDON_DEPLOYMENTS, '-o', 'name']), true), undefined, 1_000);
  await kubectl(['-n', 'kube-system', 'rollout', 'status', ...ADDON_DEPLOYMENTS, `--timeout=${allowanceS}s`]);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [kubectl, kubeconfig, allowance = '180'] = process.argv.slice(2);
  if (!kubectl || !kubeconfig || !/^[1-9]\d*$/.test(allowance)) {
    process.stderr.write('usage: npx tsx helpers/cluster/addons.ts KUBECTL KUBECONFIG [ALLOWANCE_SECONDS]\n');
    process.exit(2);
  }
  try {
    await waitForAddons((args) => execa(kubectl, ['--kubeconfig', kubeconfig, ...args]), Number(allowance));
  } catch (err) {
    const e = err as { shortMessage?: string; stderr?: string; message?: string };
    process.stderr.write(`[kube-claims] the add-ons did not come up: ${(e.stderr || e.shortMessage || e.message || String(err)).trim().split('\n').pop()}\n`);
    process.exit(1);
  }
}
