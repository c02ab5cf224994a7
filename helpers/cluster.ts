// Cluster lifecycle: one throwaway single-node cluster in a container, started with
// @testcontainers/k3s from either the official rancher/k3s image (online) or the node image
// this project builds from source (offline, scripts/build-node-image.sh).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { K3sContainer, type StartedK3sContainer } from '@testcontainers/k3s';
import { getContainerRuntimeClient, ImageName } from 'testcontainers';
import * as k8s from '@kubernetes/client-node';
import { execa } from 'execa';
import { fixtureTarballs, type FixtureImages, fixtureImages } from './images.js';
import { keptDir, type ResolvedMode, SettingError, type VersionRow } from './settings.js';
import { describeExpectation, mismatches, readyIsTrue } from './conditions.js';
import { waitUntil } from './wait.js';

/** Label on every container kube-claims starts, so leftovers can always be found and removed. */
export const RUN_LABEL = 'kube-claims.run';

export interface ClusterOptions {
  version: VersionRow;
  mode: ResolvedMode;
  image?: string;
  /** k3s's registries.yaml (mirrors), placed at /etc/rancher/k3s/registries.yaml. */
  registriesYaml?: string;
  runId: string;
  log?: (line: string) => void;
}

export class StartedCluster {
  constructor(
    private readonly container: StartedK3sContainer,
    readonly version: string,
    readonly image: string,
    readonly images: FixtureImages,
    readonly bootSeconds: number,
  ) {}

  get kubeconfig(): string {
    return this.container.getKubeConfig();
  }

  get containerId(): string {
    return this.container.getId();
  }

  /**
   * Stop gracefully (the node removes its pods and cgroups), then remove the container and its
   * volumes. Synchronous on purpose: on Ctrl-C vitest may exit before async teardown finishes.
   */
  stop(): void {
    spawnSync('docker', ['stop', '-t', '30', this.containerId], { stdio: 'ignore' });
    spawnSync('docker', ['rm', '-f', '-v', this.containerId], { stdio: 'ignore' });
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

async function dockerCgroupVersion(): Promise<string> {
  const { stdout } = await execa('docker', ['info', '--format', '{{.CgroupVersion}}'], { reject: false });
  return stdout.trim();
}

/** Whether the engine holds `image` (testcontainers' client: the engine the run uses). */
export async function imagePresent(image: string): Promise<boolean> {
  return (await getContainerRuntimeClient()).image.exists(ImageName.fromString(image));
}

async function assertImagePresent(image: string, version: string): Promise<void> {
  if (!(await imagePresent(image))) {
    throw new SettingError(
      `offline mode needs the image ${image}, which is not present; build it with: bash scripts/build-images.sh ${version}`,
    );
  }
}

export async function startCluster(opts: ClusterOptions): Promise<StartedCluster> {
  const log = opts.log ?? (() => {});
  const image = opts.image?.replaceAll('{version}', opts.version.kubernetes) ?? nodeImageFor(opts.version, opts.mode);
  const command = ['server', '--disable=traefik,metrics-server,servicelb'];
  // Kubernetes 1.35+ refuses to start the kubelet on a cgroup v1 host unless told otherwise.
  if ((await dockerCgroupVersion()) === '1') command.push('--kubelet-arg=fail-cgroupv1=false');
  // The kubeconfig points at the host testcontainers reaches containers on (localhost, or the
  // Docker gateway when the tests themselves run in a container): the API's certificate must name it.
  const host = (await getContainerRuntimeClient()).info.containerRuntime.host;
  if (host !== 'localhost') command.push(`--tls-san=${host}`);

  let container = new NodeContainer(image)
    .withCommand(command)
    .withLabels({ [RUN_LABEL]: opts.runId });
  if (opts.registriesYaml) {
    // Where k3s reads its registry mirrors from, before it starts.
    container = container.withCopyContentToContainer([{ content: opts.registriesYaml, target: '/etc/rancher/k3s/registries.yaml' }]);
  }
  if (opts.mode === 'offline') {
    await assertImagePresent(image, opts.version.kubernetes);
    // Like k3s's air-gap install: tarballs in agent/images are imported when the node starts.
    const tarballs = fixtureTarballs();
    for (const t of tarballs) {
      if (!existsSync(t.source)) {
        throw new SettingError(`offline mode needs ${t.source}; build it with: bash scripts/build-fixtures.sh`);
      }
    }
    container = container.withCopyFilesToContainer(
      tarballs.map((t) => ({ source: t.source, target: join('/var/lib/rancher/k3s/agent/images', t.name) })),
    );
  }

  log(`starting ${image} (${command.join(' ')})`);
  const started = Date.now();
  const k3s = await container.start();
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(k3s.getKubeConfig());
    await waitForNodeReady(kc);
    // Right after boot, pods can be refused with `serviceaccount "default" not found`.
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await waitUntil('the default ServiceAccount in namespace default', 60_000, async () => {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
      return true;
    });
  } catch (err) {
    await k3s.stop({ timeout: 10_000, removeVolumes: true });
    throw err;
  }
  const bootSeconds = (Date.now() - started) / 1000;
  log(`cluster ready in ${bootSeconds.toFixed(1)}s`);
  return new StartedCluster(k3s, opts.version.kubernetes, image, fixtureImages(opts.mode), bootSeconds);
}

export async function waitForNodeReady(kc: k8s.KubeConfig, timeoutMs = 180_000): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  let seen = 'no nodes yet';
  await waitUntil(`a node with ${describeExpectation(readyIsTrue)}`, timeoutMs, async () => {
    const nodes = await core.listNode();
    seen = nodes.items.map((n) => `node ${n.metadata?.name}: ${mismatches(n, [readyIsTrue]).join(', ') || 'Ready'}`).join('; ') || 'no nodes yet';
    return nodes.items.some((n) => mismatches(n, [readyIsTrue]).length === 0);
  }, () => seen);
}

/**
 * Remove containers an earlier run left behind when it was killed before it could clean up:
 * those labelled by kube-claims whose run's process is gone. Other live runs are left alone.
 */
export async function removeLeftovers(log: (line: string) => void): Promise<void> {
  const { stdout } = await execa('docker', [
    'ps', '-a', '--filter', `label=${RUN_LABEL}`, '--format', `{{.ID}} {{.Label "${RUN_LABEL}"}}`,
  ]);
  for (const line of stdout.split('\n').filter(Boolean)) {
    const [id, run] = line.split(' ');
    // Run labels start with the owning process's id; a label that does not is someone else's
    // convention, and its owner cannot be checked: leave it alone.
    const owner = /^(\d+)-/.exec(run ?? '');
    if (!owner || isAlive(Number(owner[1]))) continue;
    // Kept on purpose (KUBE_CLAIMS_KEEP) until scripts/remove-kept.sh removes it.
    if (existsSync(join(keptDir(), run!))) continue;
    log(`removing container ${id} left by an earlier run (${run})`);
    await execa('docker', ['rm', '-f', '-v', id!], { reject: false });
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
