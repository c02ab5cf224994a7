// Start a cluster and leave it running, the way a team has a cluster of its own: for checking
// the claims on an existing cluster (KUBE_CLAIMS_KUBECONFIG) with a cluster no run started.
// It is recorded as kept (~/.cache/kube-claims/kept/RUN), so runs' sweeps leave it alone;
// scripts/remove-kept.sh RUN removes it. The image settings are the test run's
// (KUBE_CLAIMS_IMAGES, KUBE_CLAIMS_NODE_IMAGE, KUBE_CLAIMS_REGISTRY_MIRROR, KUBE_CLAIMS_NODES).
//   usage: npx tsx scripts/start-cluster.ts [KUBERNETES_VERSION]
// Prints, on stdout, three lines: the run id, the kubeconfig's path, and a kubectl for it.
import { join } from 'node:path';
import { startCluster, type StartedCluster, writeKeptRecord } from '../helpers/cluster/cluster.js';
import { containerEngine } from '../helpers/cluster/engine.js';
import { resolveImageMode } from '../helpers/cluster/image-mode.js';
import { chooseKubectl } from '../helpers/verbs/kubectl.js';
import { readSettings, resolveVersion, SettingError } from '../helpers/settings.js';

const say = (line: string) => process.stderr.write(`[kube-claims] ${line}\n`);
let cluster: StartedCluster | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: removing the cluster being started`);
    cluster?.stop();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

async function main(): Promise<void> {
  const settings = readSettings();
  // testcontainers' reaper would remove the cluster once this process ends.
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  const version = process.argv[2] ? resolveVersion(process.argv[2]) : settings.versions[0]!;
  const engine = await containerEngine();
  const mode = await resolveImageMode(settings.mode, version, settings.nodeImage, say);
  // A run id whose owner is this short-lived process; the kept record keeps sweeps off it.
  const runId = `${process.pid}-${Date.now()}`;
  // Recorded as kept before it starts, so that another run's sweep never takes it for a leftover.
  const dir = writeKeptRecord(runId, { namespaces: '' });
  cluster = await startCluster({
    version, mode, image: settings.nodeImage, registriesYaml: settings.registriesYaml, runId, nodes: settings.nodes, bootTimeoutMs: settings.bootTimeoutSeconds * 1000, log: say,
  });
  writeKeptRecord(runId, { containerId: cluster.containerId, kubeconfig: cluster.kubeconfig });
  const kubeconfig = join(dir, 'kubeconfig');
  const imageId = (await engine.dockerode.getContainer(cluster.containerId).inspect()).Image;
  const kubectl = await chooseKubectl({ serverVersion: version.kubernetes, containerId: cluster.containerId, imageId });
  say(`cluster ${version.kubernetes} left running (${Object.keys(cluster.nodeContainers).length} node(s)); remove it with: bash scripts/remove-kept.sh ${runId}`);
  process.stdout.write(`${runId}\n${kubeconfig}\n${kubectl.path}\n`);
  cluster = undefined;
}

try {
  await main();
} catch (err) {
  say(`error: ${err instanceof SettingError ? err.message : String((err as Error)?.message ?? err).split('\n')[0]}`);
  cluster?.stop();
  process.exitCode = err instanceof SettingError ? 2 : 1;
}
