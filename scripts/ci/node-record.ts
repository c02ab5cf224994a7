// What a user sees of a node, as a record to compare two node images by (the stand-in against
// real k3s built from source, scripts/build/k3s-image.sh): the kubelet's configuration (configz),
// the node's labels, annotations, taints, conditions, capacity and addresses, `kubectl version`,
// `describe node`'s sections, the kube-system Pods and their images, and the events of a Pod's
// start. Names that differ from run to run (the node's, addresses, hashes, times) are replaced
// by placeholders, so that two records differ only where the images do.
//   usage: npx tsx scripts/ci/node-record.ts IMAGE KUBERNETES_VERSION > record.json
//   then:  diff <(jq -S . a.json) <(jq -S . b.json)
import { release } from 'node:os';
import { startCluster, type StartedCluster } from '../../helpers/cluster/cluster.js';
import { nodeShell } from '../../helpers/cluster/node-shell.js';
import { readSettings, resolveVersion, SettingError } from '../../helpers/settings.js';
import { waitForAddons } from '../../helpers/cluster/addons.js';
import { waitUntil } from '../../helpers/verbs/wait.js';

const say = (line: string) => process.stderr.write(`[kube-claims] node record: ${line}\n`);
let cluster: StartedCluster | undefined;
// Interrupted (Ctrl-C, a timeout), the node goes too: killed by `timeout` once, it stayed.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: removing the node`);
    cluster?.stop();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

async function main(): Promise<void> {
  const [image, wanted] = process.argv.slice(2);
  if (!image || !wanted) throw new SettingError('usage: npx tsx scripts/ci/node-record.ts IMAGE KUBERNETES_VERSION');
  const settings = readSettings();
  const version = resolveVersion(wanted);
  cluster = await startCluster({ version, mode: 'offline', image, runId: `${process.pid}-record`, nodes: 1, bootTimeoutMs: settings.bootTimeoutSeconds * 1000, log: say });
  const node = await nodeShell(cluster.containerId, say);
  const kubectl = (...args: string[]) => node.exec(['kubectl', ...args]);
  const json = async (...args: string[]) => JSON.parse(await kubectl(...args, '-o', 'json'));
  const name = (await kubectl('get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
  await waitForAddons((args) => kubectl(...args), 180 * settings.timeScale);
  // The node lifecycle controller taints a node not-ready until it has seen it Ready, a moment
  // after the node reports it: recorded in that moment, the stand-in once showed the taint and a
  // Pod's TaintManagerEviction event that k3s's record has not (2026-12-07). Both run the same
  // controller; the record is of the node once it has settled.
  let taints = '';
  const settling = Date.now();
  await waitUntil(`node ${name} without the node.kubernetes.io/not-ready taint`, 60_000 * settings.timeScale, async () => {
    taints = (await kubectl('get', 'node', name, '-o', 'jsonpath={.spec.taints[*].key}')).trim();
    return !taints.split(' ').includes('node.kubernetes.io/not-ready');
  }, () => `taints: ${taints}`, 500);
  if (Date.now() - settling > 1000) say(`node ${name} lost its not-ready taint ${((Date.now() - settling) / 1000).toFixed(1)} s after the add-ons were up`);
  await kubectl('run', 'hello', `--image=${cluster.images.hello}`);
  await kubectl('wait', '--for=condition=Ready', 'pod/hello', `--timeout=${120 * settings.timeScale}s`);
  const n = await json('get', 'node', name);
  const ip = n.status.addresses.find((a: { type: string }) => a.type === 'InternalIP')?.address ?? '';
  const scrub = (text: string) => text.replaceAll(name, 'NODE').replaceAll(ip, 'NODE_IP')
    .replace(/\b(172\.\d{1,3}|10\.42)\.\d{1,3}\.\d{1,3}\b/g, 'IP').replace(/sha256:[0-9a-f]{64}/g, 'sha256:…')
    .replace(/-[0-9a-f]{8,10}-[0-9a-z]{5}\b/g, '-HASH');
  // A Pod's generated suffix (not a word such as control-plane's).
  const scrubPod = (podName: string) => scrub(podName).replace(/-[0-9a-z]{5}$/, '-ID');
  // The images the runtime holds after boot (air-gap and preloaded): pinned, and named by digest too, as k3s imports them.
  type CriImages = { images: { repoTags: string[]; repoDigests: string[]; pinned: boolean }[] };
  const runtimeImages = (JSON.parse(await node.exec(['crictl', 'images', '-o', 'json'])) as CriImages).images
    .filter((i) => i.repoTags.length > 0)
    .map((i) => [i.repoTags[0]!.replace(/:[^:/]+$/, ':TAG'), `${i.pinned ? 'pinned' : 'not pinned'}, ${i.repoDigests.length ? 'with' : 'without'} a digest name`]).sort();
  const configz = JSON.parse(await kubectl('get', '--raw', `/api/v1/nodes/${name}/proxy/configz`)).kubeletconfig;
  const pods = (await json('-n', 'kube-system', 'get', 'pods')).items.map((p: { metadata: { name: string }; spec: { containers: { name: string; image: string }[] }; status: { phase: string } }) =>
    `${scrubPod(p.metadata.name)}: ${p.status.phase}; ${p.spec.containers.map((c) => `${c.name}=${c.image}`).join(', ')}`).sort();
  const events = (await json('get', 'events', '--field-selector', 'involvedObject.name=hello', '--sort-by=.metadata.creationTimestamp')).items
    .map((e: { reason: string; source?: { component?: string }; reportingComponent?: string; message: string }) => `${e.reason} (${e.reportingComponent || e.source?.component}): ${scrub(e.message).replace(/in [\d.]+m?s.*$/, 'in …')}`);
  // describe node's top-level fields, each with its first line (a section's heading has none).
  const describe = Object.fromEntries((await kubectl('describe', 'node', name)).split('\n').filter((l) => /^[A-Z][A-Za-z ]+:/.test(l))
    .map((l) => scrub(l).replace(/\s+/g, ' ').replace(/(CreationTimestamp|Lease|RenewTime|HolderIdentity|AcquireTime):.*/, '$1: …'))
    .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
  const record = {
    image,
    version: JSON.parse(await kubectl('version', '-o', 'json')).serverVersion.gitVersion,
    configz: JSON.parse(scrub(JSON.stringify(configz))),
    labels: JSON.parse(scrub(JSON.stringify(n.metadata.labels))),
    annotations: Object.fromEntries(Object.entries(n.metadata.annotations as Record<string, string>).map(([k, v]) => [k, scrub(v).replace(/^\{.*\}$/s, '{…}')])),
    taints: n.spec.taints ?? [],
    providerID: scrub(n.spec.providerID ?? ''),
    podCIDR: n.spec.podCIDR,
    addresses: n.status.addresses.map((a: { type: string; address: string }) => `${a.type}=${scrub(a.address)}`),
    conditions: n.status.conditions.map((c: { type: string; status: string; reason: string }) => `${c.type}=${c.status} (${c.reason})`),
    capacity: Object.keys(n.status.capacity).sort(),
    // A node container runs on the host's kernel: its release is the machine's, not the node's (HOST).
    nodeInfo: Object.fromEntries(Object.entries(n.status.nodeInfo as Record<string, string>).filter(([k]) => !/ID$|bootID/.test(k))
      .map(([k, v]) => [k, k === 'kernelVersion' && v === release() ? 'HOST' : v])),
    describeNode: describe,
    kubeSystemPods: pods,
    runtimeImages: Object.fromEntries(runtimeImages),
    podStartEvents: events,
  };
  process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
}

try {
  await main();
} catch (err) {
  say(`FAILED: ${String((err as Error)?.message ?? err)}`);
  if (cluster) say(`last node log lines:\n${(await cluster.logTail(40).catch(() => '')).replace(/^/gm, '    ')}`);
  process.exitCode = err instanceof SettingError ? 2 : 1;
} finally {
  cluster?.stop();
}
