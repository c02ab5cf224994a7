// KUBE_CLAIMS_REUSE=true: the cluster outlives the run, and the next run whose cluster would be
// made from the same things uses it again, as testcontainers reuses a container whose creation
// options hash the same (withReuse). The key is the version, the node image (its name and the
// engine's id for it), the image mode, the nodes, the registry mirrors and the harness's own
// code that starts clusters. A reused cluster is checked first (every node container running,
// the API answering, every node Ready) and replaced if it is not healthy; one run at a time
// uses it; namespaces that an earlier run left are removed before the tests start. Clusters
// idle for REUSE_IDLE_LIMIT_MINUTES are removed by the next run, and scripts/remove-kept.sh
// removes them on demand (they are kept clusters, recorded under keptDir()).
import * as k8s from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { debugImage, REUSE_IDLE_LIMIT_MINUTES, RUN_LABEL } from '../facts.mjs';
import { keptDir, type ResolvedMode, type VersionRow } from '../settings.js';
import type { ClusterInfo } from './context.js';
import { nodeImageName, type StartedCluster, writeKeptRecord } from './cluster.js';
import { containerEngine, dockerSync, removeContainersSync } from './engine.js';
import { mismatches, readyIsTrue } from '../verbs/conditions.js';
import { waitUntil } from '../verbs/wait.js';
import { withTimeout } from './existing-cluster.js';

/** In a kept cluster's record: what a later run needs to use it again. */
const RECORD = 'reuse.json';
/** In a kept cluster's record while a run uses it: that run's process id. */
const IN_USE = 'in-use';

/** The parts of ClusterInfo that belong to the cluster, not to the run using it. */
export type ReusableInfo = Pick<ClusterInfo, 'version' | 'nodes' | 'features' | 'debugImage' | 'image' | 'mode' | 'kubeconfig' | 'nodeContainers' | 'settings' | 'join' | 'images'>;

interface Record {
  key: string;
  /** The run that started the cluster: its containers and network carry this run id. */
  clusterRun: string;
  info: ReusableInfo;
}

/** The key of a cluster made from these parts (testcontainers hashes a container's options the same way). */
export function reuseKey(parts: { version: string; image: string; imageId: string; mode: string; nodes: number; registriesYaml?: string }): string {
  const harness = readFileSync(new URL('./cluster.ts', import.meta.url), 'utf8');
  return createHash('sha256').update(JSON.stringify({ ...parts, harness })).digest('hex').slice(0, 16);
}

/** The key of a cluster a run would start from these settings (what global setup looks for). */
export async function reuseKeyFor(parts: { version: VersionRow; mode: ResolvedMode; nodeImage?: string; nodes: number; registriesYaml?: string }): Promise<string> {
  const image = nodeImageName(parts.version, parts.mode, parts.nodeImage);
  const imageId = await (await containerEngine()).dockerode.getImage(image).inspect().then((i) => i.Id, () => 'absent');
  return reuseKey({ version: parts.version.kubernetes, image, imageId, mode: parts.mode, nodes: parts.nodes, registriesYaml: parts.registriesYaml });
}

/** What a later run reusing this cluster gets: the cluster as the run that started it knows it. */
export function startedClusterInfo(cluster: StartedCluster, version: VersionRow, mode: ResolvedMode): ReusableInfo {
  const nodes = Object.keys(cluster.nodeContainers);
  return {
    version: version.kubernetes,
    nodes,
    // The run's own cluster: it may disrupt it, and add and lose nodes of its own.
    features: [...(nodes.length >= 2 ? ['two-nodes' as const, 'own-nodes' as const] : []), 'disruptive'],
    debugImage: debugImage(version),
    image: cluster.image,
    mode,
    kubeconfig: cluster.kubeconfig,
    nodeContainers: cluster.nodeContainers,
    settings: cluster.settings,
    join: cluster.join,
    images: cluster.images,
  };
}

/** Keep a cluster this process started, under its key, for the next run; this process holds it until releaseReusable. */
export function keepForReuse(key: string, clusterRun: string, cluster: StartedCluster, info: ReusableInfo): void {
  writeKeptRecord(clusterRun, { kubeconfig: cluster.kubeconfig, containerId: cluster.containerId });
  recordReusable(key, clusterRun, info);
}

const recordDir = (clusterRun: string) => join(keptDir(), clusterRun);

function readRecords(): { dir: string; record: Record }[] {
  if (!existsSync(keptDir())) return [];
  return readdirSync(keptDir()).flatMap((run) => {
    const file = join(keptDir(), run, RECORD);
    try {
      return existsSync(file) ? [{ dir: join(keptDir(), run), record: JSON.parse(readFileSync(file, 'utf8')) as Record }] : [];
    } catch {
      return [];
    }
  });
}

/** The process using the cluster of this record, if it is alive. */
function user(dir: string): number | undefined {
  const file = join(dir, IN_USE);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/** Take the cluster for this process; false if another live run has it. */
function take(dir: string): boolean {
  const file = join(dir, IN_USE);
  if (existsSync(file) && user(dir) === undefined) rmSync(file, { force: true });
  try {
    writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
  } catch {
    return false;
  }
  const now = new Date();
  utimesSync(join(dir, RECORD), now, now);
  return true;
}

/** The end of a run that used the cluster: it stays for the next, idle from now. */
export function releaseReusable(clusterRun: string): void {
  const dir = recordDir(clusterRun);
  if (!existsSync(join(dir, RECORD))) return;
  const now = new Date();
  utimesSync(join(dir, RECORD), now, now);
  rmSync(join(dir, IN_USE), { force: true });
}

/** Record a cluster this run started for reuse, as in use by this run. */
export function recordReusable(key: string, clusterRun: string, info: ReusableInfo): void {
  const dir = recordDir(clusterRun);
  // It holds the kubeconfig and the join token: for this user only, like the kubeconfig beside it.
  writeFileSync(join(dir, RECORD), JSON.stringify({ key, clusterRun, info } satisfies Record, null, 2), { mode: 0o600 });
  writeFileSync(join(dir, IN_USE), `${process.pid}\n`);
}

/** Remove a kept cluster: its containers (nodes that tests added too), its network, its record. */
async function removeKept(clusterRun: string): Promise<void> {
  const { cliEnv } = await containerEngine();
  const ids = dockerSync(cliEnv, ['ps', '-aq', '--no-trunc', '--filter', `label=${RUN_LABEL}=${clusterRun}`]).split('\n').filter(Boolean);
  removeContainersSync(cliEnv, ids);
  for (const net of dockerSync(cliEnv, ['network', 'ls', '-q', '--filter', `label=${RUN_LABEL}=${clusterRun}`]).split('\n').filter(Boolean)) {
    dockerSync(cliEnv, ['network', 'rm', net]);
  }
  rmSync(recordDir(clusterRun), { recursive: true, force: true });
}

/** Why the cluster cannot be used as it is, or undefined when it is healthy. */
async function unhealthy(record: Record): Promise<string | undefined> {
  const { dockerode } = await containerEngine();
  for (const [node, id] of Object.entries(record.info.nodeContainers)) {
    const state = await dockerode.getContainer(id).inspect().then((c) => c.State, () => undefined);
    if (!state?.Running) return `node ${node}'s container ${id.slice(0, 12)} is ${state ? state.Status : 'gone'}`;
  }
  const config = new k8s.KubeConfig();
  config.loadFromString(record.info.kubeconfig);
  const core = config.makeApiClient(k8s.CoreV1Api);
  try {
    const nodes = await withTimeout('list the nodes', core.listNode());
    const notReady = nodes.items.filter((n) => mismatches(n, [readyIsTrue]).length > 0).map((n) => n.metadata?.name);
    if (notReady.length) return `node(s) not Ready: ${notReady.join(', ')}`;
    const missing = record.info.nodes.filter((n) => !nodes.items.some((i) => i.metadata?.name === n));
    if (missing.length) return `node(s) gone: ${missing.join(', ')}`;
  } catch (err) {
    return `its API server did not answer: ${String((err as Error).message ?? err).split('\n')[0]}`;
  }
  return undefined;
}

/**
 * Remove kept-for-reuse clusters idle for longer than the limit (and not in use), then take a
 * healthy one with this key, if there is one; an unhealthy one is removed. Namespaces that an
 * earlier run left in it are deleted before it is returned.
 */
export async function takeReusable(key: string, log: (line: string) => void): Promise<Record | undefined> {
  for (const { dir, record } of readRecords()) {
    const idleMinutes = (Date.now() - statSync(join(dir, RECORD)).mtimeMs) / 60_000;
    if (user(dir) === undefined && idleMinutes > REUSE_IDLE_LIMIT_MINUTES) {
      log(`removing cluster ${record.info.version} kept for reuse: unused for ${Math.round(idleMinutes)} min (the limit is ${REUSE_IDLE_LIMIT_MINUTES})`);
      await removeKept(record.clusterRun);
    }
  }
  for (const { dir, record } of readRecords().filter((r) => r.record.key === key)) {
    const pid = user(dir);
    if (pid !== undefined) {
      log(`the cluster kept for reuse (${record.clusterRun}) is in use by process ${pid}; this run starts its own`);
      continue;
    }
    if (!take(dir)) continue;
    const why = await unhealthy(record);
    if (why) {
      log(`replacing the cluster kept for reuse (${record.clusterRun}): ${why}`);
      await removeKept(record.clusterRun);
      continue;
    }
    await removeEarlierNamespaces(record, log);
    return record;
  }
  return undefined;
}

/** Namespaces of earlier runs (interrupted before their tests cleaned up): deleted, and waited for. */
async function removeEarlierNamespaces(record: Record, log: (line: string) => void): Promise<void> {
  const config = new k8s.KubeConfig();
  config.loadFromString(record.info.kubeconfig);
  const core = config.makeApiClient(k8s.CoreV1Api);
  // Namespaces already being deleted are the ones the last run's tests emptied and deleted
  // at their end (not waited for, like a throwaway cluster's); only others are waited for.
  const active = async () => (await core.listNamespace({ labelSelector: RUN_LABEL })).items
    .filter((n) => !n.metadata?.deletionTimestamp).map((n) => n.metadata!.name!);
  const left = await active();
  if (!left.length) return;
  log(`removing ${left.length} namespace(s) an earlier run left in the reused cluster (interrupted before its tests ended)`);
  await Promise.all(left.map((name) => core.deleteNamespace({ name }).catch(() => {})));
  let still = left.length;
  await waitUntil(`namespaces of an earlier run gone from the reused cluster (else: bash scripts/remove-kept.sh ${record.clusterRun})`, 120_000, async () => {
    still = (await core.listNamespace({ labelSelector: RUN_LABEL })).items.filter((n) => left.includes(n.metadata!.name!)).length;
    return still === 0;
  }, () => `${still} still there`, 500);
}
