// Every setting of a run, read from the environment in one place (the table in docs/settings.md).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parse, stringify } from 'yaml';
import { fileURLToPath } from 'node:url';
import { cacheDirFor, DEFAULT_BOOT_TIMEOUT_SECONDS, findVersion, supportedVersions, unknownVersionMessage, type VersionRow } from './facts.mjs';

export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

export type { VersionRow } from './facts.mjs';
export { supportedVersions };

/** A setting the user got wrong: reported as one clear line, never a stack trace. */
export class SettingError extends Error {}

/** A SettingError ends the run with one clear line and exit code 2; anything else is rethrown. */
export function exitOnSettingError(err: unknown): never {
  if (err instanceof SettingError) {
    process.stderr.write(`[kube-claims] error: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

/** online: official images, pulled; offline: built here, preloaded; auto: online where possible. */
export type ImageMode = 'auto' | 'online' | 'offline';
/** The mode a cluster runs in, once `auto` is decided. */
export type ResolvedMode = Exclude<ImageMode, 'auto'>;

/** Resolve "1.37" or "1.37.0" to a supported version; refuse anything else with the list. */
export function resolveVersion(wanted: string): VersionRow {
  const row = findVersion(wanted);
  if (!row) throw new SettingError(unknownVersionMessage(wanted, 'KUBE_CLAIMS_K8S_VERSION'));
  return row;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env) {
  const mode = (env.KUBE_CLAIMS_IMAGES || 'auto') as ImageMode;
  if (!['auto', 'online', 'offline'].includes(mode)) {
    throw new SettingError(`KUBE_CLAIMS_IMAGES must be "auto", "online" or "offline", not "${mode}"`);
  }
  const existing = existingCluster(env);
  const versions = existing ? [] : (env.KUBE_CLAIMS_K8S_VERSION ?? supportedVersions[0]!.kubernetes)
    .split(',')
    .filter((v) => v.trim() !== '')
    .map(resolveVersion);
  const nodeImage = env.KUBE_CLAIMS_NODE_IMAGE;
  if (nodeImage && versions.length > 1 && !nodeImage.includes('{version}')) {
    throw new SettingError('KUBE_CLAIMS_NODE_IMAGE names one image, so KUBE_CLAIMS_K8S_VERSION must name one version (or write {version} in the image name)');
  }
  return {
    /** Throwaway clusters, one per version; none when the run checks an existing cluster. */
    versions,
    /** A cluster the user already has (KUBE_CLAIMS_KUBECONFIG): no cluster is started. */
    existing,
    mode,
    /** Node image override, e.g. a k3s image of your own; `{version}` stands for the Kubernetes version. */
    nodeImage,
    /** The node's /etc/rancher/k3s/registries.yaml, from KUBE_CLAIMS_REGISTRY_MIRROR or _REGISTRIES_YAML. */
    registriesYaml: registriesYaml(env),
    /** kubectl binary to use instead of choosing one; `{minor}` stands for the version's minor, e.g. 1.37 (kubectlFor). */
    kubectl: kubectlSetting(env),
    /** Check every claim this many times on the same cluster (soak runs). */
    repeat: positiveInteger(env, 'KUBE_CLAIMS_REPEAT', 1),
    /** Test files at once (vitest workers); the node, not the test process, is what is busy. */
    workers: positiveInteger(env, 'KUBE_CLAIMS_WORKERS', Math.min(8, 2 * availableParallelism())),
    /** Leave the cluster and test namespaces in place after the run: never, on-failure, always. */
    keep: oneOf(env, 'KUBE_CLAIMS_KEEP', ['never', 'on-failure', 'always'] as const, 'never'),
    /** Keep the cluster between runs and use it again when version, settings and image are the same. */
    reuse: reuseSetting(env),
    /** How long a cluster may take to boot, in seconds (slow or emulated machines need more). */
    bootTimeoutSeconds: positiveInteger(env, 'KUBE_CLAIMS_BOOT_TIMEOUT', DEFAULT_BOOT_TIMEOUT_SECONDS),
    /** Nodes in the cluster: the server, and agents that join it (claims that need two nodes run from 2). */
    nodes: positiveInteger(env, 'KUBE_CLAIMS_NODES', 1),
    /** Tests at once within a file, each in its own namespace. */
    concurrency: positiveInteger(env, 'KUBE_CLAIMS_CONCURRENCY', 4),
    /** Multiplies every time limit of the test phase (tests, their waits and kubectl calls): slow or emulated machines. */
    timeScale: scale(env, 'KUBE_CLAIMS_TIME_SCALE'),
  };
}

export type Settings = ReturnType<typeof readSettings>;

/**
 * KUBE_CLAIMS_KUBECONFIG (and KUBE_CLAIMS_CONTEXT): check the claims on a cluster the user
 * already has. The settings that shape a throwaway cluster do not apply to it, so naming one
 * beside it is a mistake, not something to ignore quietly.
 */
function existingCluster(env: NodeJS.ProcessEnv): { kubeconfig: string; context?: string; allowDisruptive: boolean; imageRegistry?: string } | undefined {
  const kubeconfig = env.KUBE_CLAIMS_KUBECONFIG?.trim();
  const context = env.KUBE_CLAIMS_CONTEXT?.trim() || undefined;
  const allowDisruptive = oneOf(env, 'KUBE_CLAIMS_ALLOW_DISRUPTIVE', ['false', 'true'] as const, 'false') === 'true';
  const imageRegistry = imageRegistrySetting(env);
  if (!kubeconfig) {
    if (context) throw new SettingError('KUBE_CLAIMS_CONTEXT names a context of KUBE_CLAIMS_KUBECONFIG, which is not set');
    // A cluster the run starts takes its registries from registries.yaml, where a mirror (and a
    // rewrite of names) applies to every pull the node makes, the add-ons' too.
    if (imageRegistry) throw new SettingError('KUBE_CLAIMS_IMAGE_REGISTRY names where an existing cluster (KUBE_CLAIMS_KUBECONFIG) finds the book\'s images; a cluster the run starts pulls through KUBE_CLAIMS_REGISTRY_MIRROR or KUBE_CLAIMS_REGISTRIES_YAML instead');
    return undefined;
  }
  const throwaway = ['KUBE_CLAIMS_K8S_VERSION', 'KUBE_CLAIMS_NODES', 'KUBE_CLAIMS_NODE_IMAGE', 'KUBE_CLAIMS_IMAGES', 'KUBE_CLAIMS_REGISTRY_MIRROR', 'KUBE_CLAIMS_REGISTRIES_YAML']
    .filter((name) => env[name]?.trim());
  if (env.KUBE_CLAIMS_REUSE?.trim() === 'true') throwaway.push('KUBE_CLAIMS_REUSE');
  if (throwaway.length > 0) {
    throw new SettingError(`${throwaway.join(', ')} shape${throwaway.length === 1 ? 's' : ''} the cluster a run starts; with KUBE_CLAIMS_KUBECONFIG no cluster is started (the version is the server's): unset ${throwaway.length === 1 ? 'it' : 'them'}`);
  }
  return { kubeconfig, context, allowDisruptive, imageRegistry };
}

/**
 * KUBE_CLAIMS_IMAGE_REGISTRY: a registry, with a path if it has one, that holds the run's images
 * under their Docker Hub names (`registry.example.com/dockerhub` holds
 * `registry.example.com/dockerhub/kiamol/ch02-hello-kiamol`), for clusters that cannot reach
 * Docker Hub: a pull-through cache (Harbor, Artifactory, Nexus) or copies of the images.
 */
function imageRegistrySetting(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.KUBE_CLAIMS_IMAGE_REGISTRY?.trim();
  if (!raw) return undefined;
  // An image reference's repository part (no scheme, no tag, no digest): host[:port][/path...].
  const component = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
  const host = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?';
  if (!new RegExp(`^${host}(?:/${component})*$`).test(raw)) {
    throw new SettingError(`KUBE_CLAIMS_IMAGE_REGISTRY must be a registry and optional path as in an image name (registry.example.com:5000 or registry.example.com/dockerhub; no http://, tag or trailing /), not "${raw}"`);
  }
  return raw;
}

/**
 * KUBE_CLAIMS_REUSE: a cluster that outlives the run and serves the next. KUBE_CLAIMS_KEEP
 * leaves a cluster for a person to look at, with the namespaces of failed tests in it; the two
 * would leave one cluster with two meanings.
 */
function reuseSetting(env: NodeJS.ProcessEnv): boolean {
  const reuse = oneOf(env, 'KUBE_CLAIMS_REUSE', ['false', 'true'] as const, 'false') === 'true';
  if (reuse && (env.KUBE_CLAIMS_KEEP?.trim() ?? 'never') !== 'never') {
    throw new SettingError('KUBE_CLAIMS_REUSE keeps the cluster for the next run, KUBE_CLAIMS_KEEP for a person to look at; set one of them');
  }
  return reuse;
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!values.includes(raw as T)) throw new SettingError(`${name} must be one of ${values.map((v) => `"${v}"`).join(', ')}, not "${raw}"`);
  return raw as T;
}

/** KUBE_CLAIMS_KUBECTL: a path, in which `{minor}` is the only placeholder. */
function kubectlSetting(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.KUBE_CLAIMS_KUBECTL?.trim();
  if (!raw) return undefined;
  const other = /\{(?!minor\})[^}]*\}/.exec(raw);
  if (other) throw new SettingError(`KUBE_CLAIMS_KUBECTL may contain {minor} (a version's minor, e.g. 1.37) and no other placeholder, not "${other[0]}"`);
  return raw;
}

/** The kubectl KUBE_CLAIMS_KUBECTL names for `version`: `{minor}` is its major.minor, e.g. "1.37". */
export function kubectlFor(setting: string, version: VersionRow | string): string {
  const v = typeof version === 'string' ? version : version.kubernetes;
  return setting.replaceAll('{minor}', v.split('.').slice(0, 2).join('.'));
}

/** Where kept clusters are recorded (kubeconfig, namespaces), one folder per run. */
export const keptDir = () => `${cacheDir}/kept`;

function scale(env: NodeJS.ProcessEnv, name: string): number {
  const raw = env[name]?.trim();
  if (!raw) return 1;
  if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) < 1 || Number(raw) > 100) throw new SettingError(`${name} must be a number from 1 to 100, not "${raw}"`);
  return Number(raw);
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^[1-9]\d*$/.test(raw)) throw new SettingError(`${name} must be a whole number of 1 or more, not "${raw}"`);
  return Number(raw);
}

/**
 * k3s's registries.yaml for the node: a file of the user's (KUBE_CLAIMS_REGISTRIES_YAML), or
 * one mirror (KUBE_CLAIMS_REGISTRY_MIRROR, a URL; host:port means https) for Docker Hub and
 * any registries listed in KUBE_CLAIMS_REGISTRY_MIRROR_FOR.
 */
function registriesYaml(env: NodeJS.ProcessEnv): string | undefined {
  const file = env.KUBE_CLAIMS_REGISTRIES_YAML;
  const mirror = env.KUBE_CLAIMS_REGISTRY_MIRROR?.trim();
  if (file && mirror) throw new SettingError('set KUBE_CLAIMS_REGISTRY_MIRROR or KUBE_CLAIMS_REGISTRIES_YAML, not both');
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SettingError(`KUBE_CLAIMS_REGISTRIES_YAML=${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? err})`);
    }
    try {
      const parsed = parse(text);
      if (!parsed || typeof parsed !== 'object' || !('mirrors' in parsed || 'configs' in parsed)) throw new Error('no "mirrors" or "configs"');
    } catch (err) {
      throw new SettingError(`KUBE_CLAIMS_REGISTRIES_YAML=${file} is not a k3s registries.yaml: ${(err as Error).message.split('\n')[0]}`);
    }
    return text;
  }
  if (!mirror) return undefined;
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//.test(mirror) ? mirror : `https://${mirror}`);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http or https');
  } catch {
    throw new SettingError(`KUBE_CLAIMS_REGISTRY_MIRROR must be a registry address (host:port, or an http:// or https:// URL), not "${mirror}"`);
  }
  const registries = (env.KUBE_CLAIMS_REGISTRY_MIRROR_FOR ?? 'docker.io').split(',').map((r) => r.trim()).filter(Boolean);
  const endpoint = `${url.protocol}//${url.host}`;
  return stringify({ mirrors: Object.fromEntries(registries.map((r) => [r, { endpoint: [endpoint] }])) });
}

/** Where expensive things are kept between runs (the image scripts use the same place). */
export const cacheDir = cacheDirFor(process.env);
