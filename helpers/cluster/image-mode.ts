// KUBE_CLAIMS_IMAGES=auto (the default): the official images where they can be pulled,
// otherwise the offline images, built here when missing. Says which, and why, in one line.
// Only a registry that cannot be reached at all leads to the offline images: a pull that
// reached one and was refused (a rate limit, credentials, a missing tag) or timed out ends the
// run with what to do, since building (sudo apt-get, minutes of compiling) would not fix it.
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { getContainerRuntimeClient, ImageName } from 'testcontainers';
import { imagePresent } from './cluster.js';
import { fixtureTarballs } from './images.js';
import { projectRoot, SettingError, type ImageMode, type ResolvedMode, type VersionRow } from '../settings.js';

type Say = (line: string) => void;

/** Why a pull failed, from the engine's message: only `unreachable` falls back to offline. */
export type PullFailureKind = 'unreachable' | 'rate-limit' | 'auth' | 'not-found' | 'timeout' | 'other';

/**
 * The kind of a failed pull, from the message the Docker engine returns (through dockerode:
 * "(HTTP code 500) server error - Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup
 * registry-1.docker.io on 10.255.255.53:53: no such host"). The registry's answers come first:
 * a message that names one was not cut off by the network.
 */
export function classifyPullFailure(message: string): PullFailureKind {
  const m = message.toLowerCase();
  const status = Number(/^\(http code (\d+)\)/.exec(m)?.[1]);
  if (status === 429 || /toomanyrequests|too many requests|pull rate limit/.test(m)) return 'rate-limit';
  if (status === 401 || status === 403 || /unauthorized|authentication required|denied|forbidden|incorrect username or password/.test(m)) return 'auth';
  // (containerd, in a node: 'failed to resolve reference "docker.io/x:1": docker.io/x:1: not found'.)
  if (/manifest unknown|not found: manifest|name unknown|no such manifest|: not found$/.test(m.trim())) return 'not-found';
  // No name resolution (Go's resolver: "no such host", "server misbehaving", "Temporary failure
  // in name resolution", or a DNS server that never answers: "lookup HOST ...: i/o timeout"),
  // nothing listening, or no route: no registry can be reached from here.
  if (/dial tcp: lookup |no such host|server misbehaving|name resolution|enotfound|eai_again/.test(m)) return 'unreachable';
  if (/connection refused|network is unreachable|no route to host|econnrefused|enetunreach|ehostunreach/.test(m)) return 'unreachable';
  if (/timeout|timed out|deadline exceeded|client\.timeout/.test(m)) return 'timeout';
  return 'other';
}

/** What a failed pull means and what to do, in one line (the `unreachable` kind is not an error). */
export function pullFailureAdvice(kind: Exclude<PullFailureKind, 'unreachable'>, image: string, detail: string): string {
  const offline = 'or set KUBE_CLAIMS_IMAGES=offline to use images built on this machine';
  switch (kind) {
    case 'rate-limit':
      return `${image} cannot be pulled: Docker Hub's limit of pulls for this address is reached (${detail}); log in with \`docker login\` for a higher limit, wait for it to reset (6 hours), ${offline} (docs/settings.md: Pull limits)`;
    case 'auth':
      return `${image} cannot be pulled: the registry refused access (${detail}); check your \`docker login\` (or \`docker logout\` to pull anonymously), ${offline}`;
    case 'not-found':
      return `${image} is not in the registry (${detail}); choose a version k3s has published (KUBE_CLAIMS_K8S_VERSION), ${offline}`;
    case 'timeout':
      return `pulling ${image} timed out (${detail}); a registry was found but did not answer in time: try again, check the network or proxy, ${offline}`;
    case 'other':
      return `${image} cannot be pulled (${detail}); see what \`docker pull ${image}\` says, ${offline}`;
  }
}

/** Pull `image` unless present; the engine's message when it failed, or undefined when it is there. */
async function pullFailure(image: string): Promise<string | undefined> {
  if (await imagePresent(image)) return undefined;
  try {
    const client = await getContainerRuntimeClient();
    // testcontainers sends the credentials of `docker login` (~/.docker/config.json).
    await client.image.pull(ImageName.fromString(image));
  } catch (err) {
    return (err as Error).message.split('\n')[0]!.trim();
  }
  // A failure after the pull began is only in its progress stream, which testcontainers does
  // not read for errors: the image is then simply not there.
  return (await imagePresent(image)) ? undefined : 'the pull ended without the image (its progress stream reported an error)';
}

/** What this machine lacks to build the offline images (scripts/build/images.sh), if anything. */
async function cannotBuildOffline(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `this is ${process.platform}, and the offline images are built on Linux`;
  const missing: string[] = [];
  for (const tool of ['go', 'gcc', 'apt-get']) {
    if ((await execa('sh', ['-c', `command -v ${tool}`], { reject: false })).exitCode !== 0) missing.push(tool);
  }
  const root = process.getuid?.() === 0 || (await execa('sudo', ['-n', 'true'], { reject: false })).exitCode === 0;
  if (!root) missing.push('root (or sudo without a password)');
  return missing.length ? `it needs ${missing.join(', ')}` : undefined;
}

async function offlineImagesPresent(version: VersionRow): Promise<boolean> {
  return (await imagePresent(`kube-claims/node:v${version.kubernetes}`)) && fixtureTarballs().every((t) => existsSync(t.source));
}

/**
 * The mode a run uses: `online` and `offline` as set; `auto` becomes `online` when the
 * official node image can be pulled, `offline` when no registry can be reached (building the
 * images when missing), and any other failed pull is a SettingError saying what to do.
 */
export async function resolveImageMode(mode: ImageMode, version: VersionRow, nodeImage: string | undefined, say: Say): Promise<ResolvedMode> {
  if (mode !== 'auto') return mode;
  if (nodeImage) return 'online';
  const failure = await pullFailure(version.k3s);
  if (!failure) {
    say(`images: online (${version.k3s} and the book's kiamol/* images, pulled)`);
    return 'online';
  }
  const detail = failure.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim().slice(0, 200);
  const kind = classifyPullFailure(failure);
  if (kind !== 'unreachable') throw new SettingError(pullFailureAdvice(kind, version.k3s, detail));
  say(`images: offline: no registry can be reached (${detail})`);
  if (!(await offlineImagesPresent(version))) {
    const why = await cannotBuildOffline();
    if (why) {
      throw new SettingError(
        `no registry answers, and the offline images cannot be built here: ${why}. Run where Docker Hub is reachable, or build them on a Linux machine: bash scripts/build/images.sh ${version.kubernetes}`,
      );
    }
    say(`building the offline images for Kubernetes ${version.kubernetes} (a first build takes about ten minutes; later runs reuse it)`);
    const build = await execa('bash', [`${projectRoot}scripts/build/images.sh`, version.kubernetes], { stdout: 'inherit', stderr: 'inherit', reject: false });
    if (build.exitCode !== 0) {
      throw new SettingError(`building the offline images failed (exit ${build.exitCode}); its stages and logs are printed above`);
    }
  }
  return 'offline';
}
