// Throwaway clusters: a k3s server in a container, started with @testcontainers/k3s from the
// official rancher/k3s image (online) or the node stand-in this project builds (offline,
// scripts/build/node-image.sh), and agents that join it (two nodes, and the node-loss claims'
// own); kept clusters (KUBE_CLAIMS_KEEP, KUBE_CLAIMS_REUSE) and the removal of what a killed run left.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { K3sContainer, type StartedK3sContainer } from '@testcontainers/k3s';
import { GenericContainer, ImageName, Wait } from 'testcontainers';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import semver from 'semver';
import { fixtureTarballs, type FixtureImages, fixtureImages } from './images.js';
import { keptDir, type ResolvedMode, SettingError, type VersionRow } from '../settings.js';
import { waitForDefaultServiceAccount, waitForNodes } from '../verbs/cluster-waits.js';
import { DEFAULT_BOOT_TIMEOUT_SECONDS, RUN_LABEL } from '../facts.mjs';
import { containerEngine, dockerSync, labelledContainers, removeContainersSync } from './engine.js';

// Label on every container kube-claims starts, so leftovers can always be found and removed.
export { RUN_LABEL };

export interface ClusterOptions {
  version: VersionRow;
  mode: ResolvedMode;
  image?: string;
  /** k3s's registries.yaml (mirrors), placed at /etc/rancher/k3s/registries.yaml. */
  registriesYaml?: string;
  runId: string;
  /** Nodes in all: the server, and agents that join it. */
  nodes?: number;
  /** How long the cluster may take to boot (default: DEFAULT_BOOT_TIMEOUT_SECONDS). */
  bootTimeoutMs?: number;
  log?: (line: string) => void;
}

/**
 * How Kubernetes notices a lost node, in a cluster of several nodes (the same in both modes):
 * the node controller marks a node that stopped reporting NotReady after this grace period
 * (upstream's default is 50 s). A one-node cluster keeps every default.
 */
export const NODE_LOSS_SETTINGS = ['--kube-controller-manager-arg=node-monitor-grace-period=20s'];

/**
 * What it takes to start another node of this cluster, as k3s joins one (`k3s agent` with
 * K3S_URL and K3S_TOKEN): structured-cloneable, so test files can add nodes of their own.
 */
export interface JoinSpec {
  image: string;
  /** The run's Docker network; the server is on it. */
  network: string;
  serverUrl: string;
  token: string;
  /** Flags every node of the cluster gets (the kubelet's cgroup v1 flag). */
  args: string[];
  /** Files placed in the node before it starts: image tarballs, registries.yaml. */
  files: { source?: string; content?: string; target: string }[];
  runId: string;
}

/** A node that joined the cluster (a container); `remove()` is losing it, without notice. */
export class StartedAgent {
  constructor(readonly containerId: string, readonly nodeName: string, private readonly dockerEnv: NodeJS.ProcessEnv) {}

  remove(): void {
    removeContainersSync(this.dockerEnv, [this.containerId]);
  }
}

/** Start an agent node that joins the cluster; it is Ready once the API says so (waitForNodes). */
export async function startAgent(join: JoinSpec, opts: { labels?: string[]; taints?: string[] } = {}): Promise<StartedAgent> {
  const command = ['agent', ...join.args,
    ...(opts.labels ?? []).map((l) => `--node-label=${l}`), ...(opts.taints ?? []).map((t) => `--node-taint=${t}`)];
  let container = new GenericContainer(join.image)
    .withPrivilegedMode()
    .withCommand(command)
    .withEnvironment({ K3S_URL: join.serverUrl, K3S_TOKEN: join.token })
    .withTmpFs({ '/run': 'rw', '/var/run': 'rw' })
    .withNetworkMode(join.network)
    .withLabels({ [RUN_LABEL]: join.runId })
    // Started when the container runs; joined when its Node is Ready (waited for by the API).
    .withWaitStrategy(Wait.forLogMessage(/./));
  Object.assign((container as unknown as { hostConfig: object }).hostConfig, { CgroupnsMode: 'private' });
  const files = join.files.filter((f) => f.source) as { source: string; target: string }[];
  const contents = join.files.filter((f) => f.content !== undefined) as { content: string; target: string }[];
  if (files.length) container = container.withCopyFilesToContainer(files);
  if (contents.length) container = container.withCopyContentToContainer(contents);
  const started = await container.start();
  // k3s names a node after its host name, which Docker sets to the container's short id.
  return new StartedAgent(started.getId(), started.getHostname(), (await containerEngine()).cliEnv);
}

export class StartedCluster {
  constructor(
    private readonly container: StartedK3sContainer,
    readonly version: string,
    readonly image: string,
    readonly images: FixtureImages,
    readonly bootSeconds: number,
    /** How to add a node; undefined for a one-node cluster. */
    readonly join: JoinSpec | undefined,
    readonly agents: StartedAgent[],
    /** Node name -> its container, for node-level steps (crictl) on the node a pod runs on. */
    readonly nodeContainers: Record<string, string>,
    /** Component settings beyond k3s's defaults, for the report. */
    readonly settings: string[],
    private readonly dockerEnv: NodeJS.ProcessEnv,
  ) {}

  get kubeconfig(): string {
    return this.container.getKubeConfig();
  }

  get containerId(): string {
    return this.container.getId();
  }

  /**
   * Remove the nodes' containers and volumes, and the run's network. Synchronous on purpose:
   * on Ctrl-C vitest may exit before async teardown finishes.
   */
  stop(): void {
    // Every node at once, nodes that tests added too (found by the run's label), removed
    // without a graceful stop: each node is in a cgroup namespace of its own, so removing its
    // container removes its pods and their cgroups too (a graceful stop cost about 8 s).
    const ids = [...this.agents.map((a) => a.containerId), this.containerId];
    const labelled = dockerSync(this.dockerEnv, ['ps', '-aq', '--no-trunc', '--filter', `label=${RUN_LABEL}=${this.runId}`]).split('\n').filter(Boolean);
    removeContainersSync(this.dockerEnv, [...new Set([...ids, ...labelled])]);
    if (this.join) dockerSync(this.dockerEnv, ['network', 'rm', this.join.network]);
  }

  /** The last lines of the server node's own output (its entrypoint and components). */
  async logTail(lines = 40): Promise<string> {
    const { dockerode } = await containerEngine();
    const raw = await dockerode.getContainer(this.containerId).logs({ stdout: true, stderr: true, tail: lines });
    // Docker's multiplexed stream: an 8-byte header before each chunk.
    const out: Buffer[] = [];
    for (let i = 0; i + 8 <= raw.length;) {
      const size = raw.readUInt32BE(i + 4);
      out.push(raw.subarray(i + 8, i + 8 + size));
      i += 8 + size;
    }
    return Buffer.concat(out).toString('utf8');
  }

  private get runId(): string {
    return this.container.getLabels()[RUN_LABEL]!;
  }
}

/**
 * K3sContainer with the node in a cgroup namespace of its own, as kind and k3d run nodes
 * (@testcontainers/k3s puts it in the host's and binds the host's /sys/fs/cgroup). The
 * kubelet's pod cgroups then live inside the node container's cgroup: clusters side by side
 * never see, or remove, each other's pods, and removing the container removes them all.
 */
export class NodeContainer extends K3sContainer {
  constructor(image: string) {
    super(image);
    // dockerode's HostConfig type predates CgroupnsMode; the engine API has it (1.41+).
    Object.assign(this.hostConfig, { CgroupnsMode: 'private' });
    this.hostConfig.Binds = (this.hostConfig.Binds ?? []).filter((b) => !b.startsWith('/sys/fs/cgroup:'));
  }
}

export function nodeImageFor(version: VersionRow, mode: ResolvedMode): string {
  return mode === 'online' ? version.k3s : `kube-claims/node:v${version.kubernetes}`;
}

async function engineCgroupVersion(): Promise<string> {
  const { dockerode } = await containerEngine();
  return String((await dockerode.info()).CgroupVersion ?? '');
}

/** Whether the engine holds `image`. */
export async function imagePresent(image: string): Promise<boolean> {
  return (await containerEngine()).client.image.exists(ImageName.fromString(image));
}

async function assertImagePresent(image: string, version: string): Promise<void> {
  if (!(await imagePresent(image))) {
    throw new SettingError(
      `offline mode needs the image ${image}, which is not present; build it with: bash scripts/build/images.sh ${version}`,
    );
  }
}

/** The node image a cluster of this version starts from: KUBE_CLAIMS_NODE_IMAGE's, or the mode's. */
export function nodeImageName(version: VersionRow, mode: ResolvedMode, override?: string): string {
  return override?.replaceAll('{version}', version.kubernetes) ?? nodeImageFor(version, mode);
}

export async function startCluster(opts: ClusterOptions): Promise<StartedCluster> {
  const log = opts.log ?? (() => {});
  const nodes = opts.nodes ?? 1;
  const image = nodeImageName(opts.version, opts.mode, opts.image);
  // Flags for every node (server and agents).
  const nodeArgs: string[] = [];
  // Kubernetes 1.35+ refuses to start the kubelet on a cgroup v1 host unless told otherwise
  // (the flag exists from 1.31; earlier kubelets refuse it).
  if (semver.gte(opts.version.kubernetes, '1.35.0') && (await engineCgroupVersion()) === '1') nodeArgs.push('--kubelet-arg=fail-cgroupv1=false');
  const command = ['server', '--disable=traefik,metrics-server,servicelb', ...nodeArgs];
  // The kubeconfig points at the host testcontainers reaches containers on (localhost, or the
  // Docker gateway when the tests themselves run in a container): the API's certificate must name it.
  const { client, cliEnv } = await containerEngine();
  const host = client.info.containerRuntime.host;
  if (host !== 'localhost') command.push(`--tls-san=${host}`);
  const token = randomBytes(16).toString('hex');
  if (nodes > 1) command.push(`--token=${token}`, ...NODE_LOSS_SETTINGS);

  const files: JoinSpec['files'] = [];
  if (opts.registriesYaml) {
    // Where k3s reads its registry mirrors from, before it starts.
    files.push({ content: opts.registriesYaml, target: '/etc/rancher/k3s/registries.yaml' });
  }
  if (opts.mode === 'offline') {
    // Ryuk's image comes from a registry; offline, kube-claims removes its own containers.
    process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
    await assertImagePresent(image, opts.version.kubernetes);
    // Like k3s's air-gap install: tarballs in agent/images are imported when the node starts.
    for (const t of fixtureTarballs()) {
      if (!existsSync(t.source)) {
        throw new SettingError(`offline mode needs ${t.source}; build it with: bash scripts/build/fixtures.sh`);
      }
      files.push({ source: t.source, target: join('/var/lib/rancher/k3s/agent/images', t.name) });
    }
  }
  const bootTimeoutMs = opts.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_SECONDS * 1000;
  // The node's last output lines: testcontainers removes a node that fails to start, and these
  // say why (which component it was waiting for, which one exited).
  const lastLines: string[] = [];
  let container = new NodeContainer(image)
    .withCommand(command)
    .withStartupTimeout(bootTimeoutMs)
    .withLabels({ [RUN_LABEL]: opts.runId })
    .withLogConsumer((stream) => stream.on('data', (chunk: Buffer | string) => {
      lastLines.push(...chunk.toString().split('\n').filter(Boolean));
      lastLines.splice(0, Math.max(0, lastLines.length - 40));
    }));
  const sources = files.filter((f) => f.source) as { source: string; target: string }[];
  const contents = files.filter((f) => f.content !== undefined) as { content: string; target: string }[];
  if (sources.length) container = container.withCopyFilesToContainer(sources);
  if (contents.length) container = container.withCopyContentToContainer(contents);

  let network: string | undefined;
  if (nodes > 1) {
    // One network for the run's nodes, labelled like its containers (the sweeps find it).
    network = `kube-claims-${opts.runId}`;
    await client.network.create({ Name: network, Labels: { [RUN_LABEL]: opts.runId } });
    container = container.withNetworkMode(network);
  }

  log(`starting ${image} (${command.join(' ').replace(token, '<token>')})${nodes > 1 ? `, then ${nodes - 1} agent(s)` : ''}`);
  const started = Date.now();
  let k3s: StartedK3sContainer | undefined;
  const agents: StartedAgent[] = [];
  try {
    k3s = await container.start();
    const kc = new k8s.KubeConfig();
    kc.loadFromString(k3s.getKubeConfig());
    let joinSpec: JoinSpec | undefined;
    if (network) {
      joinSpec = {
        image, network, serverUrl: `https://${k3s.getIpAddress(network)}:6443`, token, args: nodeArgs, files, runId: opts.runId,
      };
      for (let i = 1; i < nodes; i++) agents.push(await startAgent(joinSpec));
    }
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const ready = await waitForNodes(core, nodes, bootTimeoutMs);
    await waitForDefaultServiceAccount(core, 'default');
    const bootSeconds = (Date.now() - started) / 1000;
    log(`cluster ready in ${bootSeconds.toFixed(1)}s: ${ready.length} node(s) Ready`);
    const nodeContainers = Object.fromEntries([[k3s.getHostname(), k3s.getId()], ...agents.map((a) => [a.nodeName, a.containerId])]);
    return new StartedCluster(k3s, opts.version.kubernetes, image, fixtureImages(opts.mode), bootSeconds, joinSpec, agents, nodeContainers, nodes > 1 ? NODE_LOSS_SETTINGS : [], cliEnv);
  } catch (err) {
    for (const a of agents) a.remove();
    await k3s?.stop({ timeout: 10_000, removeVolumes: true });
    if (network) dockerSync(cliEnv, ['network', 'rm', network]);
    // The first line is the reason; the node's own last lines follow (in the setup log).
    if (err instanceof Error && lastLines.length) err.message += `\nthe node's last lines:\n${lastLines.map((l) => `  ${l}`).join('\n')}`;
    throw err;
  }
}

/**
 * The record of a cluster kept on purpose (KUBE_CLAIMS_KEEP, scripts/start-cluster.ts), under
 * keptDir()/RUN: its kubeconfig, its server container and the namespaces kept in it. Sweeps
 * (removeLeftovers, the watchdog, .ci/run) leave a run with a record alone;
 * scripts/remove-kept.sh reads it. Writes the parts given; returns the record's folder.
 */
export function writeKeptRecord(runId: string, parts: { kubeconfig?: string; containerId?: string; namespaces?: string }): string {
  const dir = join(keptDir(), runId);
  mkdirSync(dir, { recursive: true });
  if (parts.kubeconfig !== undefined) writeFileSync(join(dir, 'kubeconfig'), parts.kubeconfig, { mode: 0o600 });
  if (parts.containerId !== undefined) writeFileSync(join(dir, 'container'), `${parts.containerId}\n`);
  if (parts.namespaces !== undefined) writeFileSync(join(dir, 'namespaces'), parts.namespaces);
  return dir;
}

/**
 * Remove containers an earlier run left behind when it was killed before it could clean up:
 * those labelled by kube-claims whose run's process is gone. Other live runs are left alone.
 */
export async function removeLeftovers(log: (line: string) => void): Promise<void> {
  const { dockerode } = await containerEngine();
  for (const { id, run } of await labelledContainers()) {
    // Run labels start with the owning process's id; a label that does not is someone else's
    // convention, and its owner cannot be checked: leave it alone.
    const owner = /^(\d+)-/.exec(run ?? '');
    if (!owner || isAlive(Number(owner[1]))) continue;
    // Kept on purpose (KUBE_CLAIMS_KEEP) until scripts/remove-kept.sh removes it.
    if (existsSync(join(keptDir(), run!))) continue;
    log(`removing container ${id.slice(0, 12)} left by an earlier run (${run})`);
    await dockerode.getContainer(id).remove({ force: true, v: true }).catch(() => {});
  }
}

/** Whether a process exists; one we may not signal (EPERM, another user's) exists too. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
