// Every setting of a run, read from the environment in one place (the README's table).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

export interface VersionRow {
  kubernetes: string;
  k3s: string;
  etcd: string;
  containerd: string;
  runc: string;
  cniPlugins: string;
  criTools: string;
  pause: string;
}

export const supportedVersions: VersionRow[] = JSON.parse(
  readFileSync(new URL('../images/versions.json', import.meta.url), 'utf8'),
).versions;

/** A setting the user got wrong: reported as one clear line, never a stack trace. */
export class SettingError extends Error {}

export type ImageMode = 'online' | 'offline';

/** Resolve "1.37" or "1.37.0" to a supported version; refuse anything else with the list. */
export function resolveVersion(wanted: string): VersionRow {
  const w = wanted.trim().replace(/^v/, '');
  const row = supportedVersions.find((v) => v.kubernetes === w || v.kubernetes.startsWith(`${w}.`));
  if (!row) {
    throw new SettingError(
      `unknown Kubernetes version "${wanted}" (KUBE_CLAIMS_K8S_VERSION); known: ${supportedVersions.map((v) => v.kubernetes).join(', ')}`,
    );
  }
  return row;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env) {
  const mode = (env.KUBE_CLAIMS_IMAGES ?? 'online') as ImageMode;
  if (mode !== 'online' && mode !== 'offline') {
    throw new SettingError(`KUBE_CLAIMS_IMAGES must be "online" or "offline", not "${mode}"`);
  }
  const versions = (env.KUBE_CLAIMS_K8S_VERSION ?? supportedVersions[0]!.kubernetes)
    .split(',')
    .filter((v) => v.trim() !== '')
    .map(resolveVersion);
  if (env.KUBE_CLAIMS_NODE_IMAGE && versions.length > 1) {
    throw new SettingError('KUBE_CLAIMS_NODE_IMAGE names one image, so KUBE_CLAIMS_K8S_VERSION must name one version');
  }
  return {
    versions,
    mode,
    /** Node image override (one version only), e.g. a k3s image of your own. */
    nodeImage: env.KUBE_CLAIMS_NODE_IMAGE,
    /** kubectl binary to use instead of choosing one. */
    kubectl: env.KUBE_CLAIMS_KUBECTL,
  };
}

export type Settings = ReturnType<typeof readSettings>;

/** Where expensive things are kept between runs (same place the image scripts use). */
export const cacheDir =
  process.env.KUBE_CLAIMS_CACHE ??
  `${process.env.XDG_CACHE_HOME ?? `${process.env.HOME ?? '/tmp'}/.cache`}/kube-claims`;
