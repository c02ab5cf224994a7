// Facts that the TypeScript harness and the bash scripts share, each written once: the label
// on everything a run starts, where expensive things are cached, how long a node may take to
// boot, and the version table's lookup. TypeScript imports this module; bash evaluates what
// `node helpers/facts.mjs shell` prints (scripts/lib.sh) and asks it for version fields.
// Plain JavaScript, so that bash needs only node, not the project's packages.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Label on every container and network kube-claims starts; its value is the run's id (PID-time). */
export const RUN_LABEL = 'kube-claims.run';

/** How long a node may take to boot, in seconds, unless KUBE_CLAIMS_BOOT_TIMEOUT says otherwise. */
export const DEFAULT_BOOT_TIMEOUT_SECONDS = 180;

/** A cluster kept for reuse (KUBE_CLAIMS_REUSE) that no run has used for this long is removed by the next run. */
export const REUSE_IDLE_LIMIT_MINUTES = 120;

/**
 * Where expensive things are kept between runs (binaries, images, kubectl copies, logs).
 * @param {Record<string, string | undefined>} env
 */
export function cacheDirFor(env) {
  return env.KUBE_CLAIMS_CACHE || `${env.XDG_CACHE_HOME || `${env.HOME || '/tmp'}/.cache`}/kube-claims`;
}

/**
 * @typedef {{ kubernetes: string, k3s: string, kine: string, containerd: string, runc: string,
 *   cniPlugins: string, flannel: string, criTools: string, pause: string, coredns: string,
 *   localPathProvisioner: string, busybox: string, builtFrom?: Record<string, string>,
 *   stagingFrom?: Record<string, string> }} VersionRow
 */

const versionTable = JSON.parse(readFileSync(new URL('../images/versions.json', import.meta.url), 'utf8'));

/** @type {VersionRow[]} The supported versions, newest first (images/versions.json). */
export const supportedVersions = versionTable.versions;

/**
 * @type {Record<string, string>} MODULE@VERSION to its go.sum hash, for modules the Go module
 * proxy serves but the checksum database has no entry for (images/versions.json, pinnedSums).
 */
export const pinnedSums = versionTable.pinnedSums ?? {};

/**
 * The row for "1.37", "1.37.2" or "v1.37.2", or undefined.
 * @param {string} wanted
 * @returns {VersionRow | undefined}
 */
export function findVersion(wanted) {
  const w = wanted.trim().replace(/^v/, '');
  return supportedVersions.find((v) => v.kubernetes === w || v.kubernetes.startsWith(`${w}.`));
}

/**
 * The upstream tag a component of the row is built from: the release notes' value without
 * k3s's suffix (v2.3.4-k3s1.36 is containerd v2.3.4), or the row's builtFrom where the Go
 * module proxy refuses that tag or the checksum database has no entry for it.
 * @param {VersionRow} row
 * @param {string} field
 */
export function sourceVersion(row, field) {
  const value = /** @type {Record<string, unknown>} */ (row)[field];
  if (typeof value !== 'string') throw new Error(`images/versions.json has no field "${field}"`);
  return row.builtFrom?.[field] ?? value.replace(/-k3s.*$/, '');
}

/**
 * @param {string} wanted
 * @param {string} [from] where the version came from (a setting's name)
 */
export function unknownVersionMessage(wanted, from) {
  return `unknown Kubernetes version "${wanted}"${from ? ` (${from})` : ''}; known: ${supportedVersions.map((v) => v.kubernetes).join(', ')}`;
}

/**
 * @typedef {{ name: string, image: string, local: string, module?: string, version?: string }} AddonImage
 * name: the add-on's image in scripts/build/addons.sh; image: k3s's name for it, under which
 * the node imports it and the registry serves it; local: its name in the Docker engine that
 * builds it (not k3s's, so that a rancher/* image of the user's stays as it is); module and
 * version: what it is built from (busybox: Debian's static busybox stands in).
 */

/**
 * The images of the add-ons a server deploys (CoreDNS, local-path-provisioner and its helper),
 * named and tagged as k3s names them.
 * @param {VersionRow} row
 * @returns {AddonImage[]}
 */
export function addonImages(row) {
  const coredns = row.coredns.replace(/^v/, ''); // k3s tags CoreDNS without the v
  return [
    { name: 'coredns', image: `rancher/mirrored-coredns-coredns:${coredns}`, local: `kube-claims/coredns:${coredns}`,
      module: 'github.com/coredns/coredns', version: sourceVersion(row, 'coredns') },
    { name: 'local-path-provisioner', image: `rancher/local-path-provisioner:${row.localPathProvisioner}`,
      local: `kube-claims/local-path-provisioner:${row.localPathProvisioner}`,
      module: 'github.com/rancher/local-path-provisioner', version: sourceVersion(row, 'localPathProvisioner') },
    { name: 'busybox', image: `rancher/mirrored-library-busybox:${row.busybox}`, local: `kube-claims/busybox:${row.busybox}` },
  ];
}

/**
 * The image of the node debugger Pods (`kubectl debug node/...`): k3s's own mirror of busybox,
 * public on Docker Hub and held by every node image this project builds.
 * @param {VersionRow} row
 */
export function debugImage(row) {
  const busybox = addonImages(row).find((a) => a.name === 'busybox');
  if (!busybox) throw new Error('the add-on images have no busybox');
  return busybox.image;
}

/**
 * A standalone kubectl of a supported version, built with the offline images
 * (scripts/build/binaries.sh): the harness's kubectl when yours is far from the server. It starts
 * for about 60 % of the CPU of the node's multi-call binary (docs/benchmarks.md).
 * @param {string} cacheDir
 * @param {string} version a full version, "1.37.2"
 */
export function builtKubectlPath(cacheDir, version) {
  return `${cacheDir}/bin/kubectl-v${version.replace(/^v/, '')}/kubectl`;
}

// The command line, for bash:
//   shell                   KC_CACHE=..., KC_RUN_LABEL=..., KC_BOOT_TIMEOUT=... (for eval)
//   version WANTED FIELD    a field of the version's row (exit 2 if unknown)
//   source WANTED FIELD     the upstream tag that field's component is built from (sourceVersion)
//   pinned-sum MODULE@VERSION  the module's hash pinned in pinnedSums, or nothing
//   staging WANTED          the staging modules taken at another patch (stagingFrom): MODULE VERSION a line
//   default-version         the newest supported version
//   versions                every supported version, newest first, separated by spaces
//   addon-images WANTED     the version's add-on images, a line each: NAME LOCAL IMAGE [MODULE@VERSION]
//   kubectl-path VERSION    where the standalone kubectl of that full version is built (builtKubectlPath)
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [command, wanted, field] = process.argv.slice(2);
  const quote = (/** @type {string} */ s) => `'${s.replaceAll("'", "'\\''")}'`;
  if (command === 'shell') {
    const bootTimeout = process.env.KUBE_CLAIMS_BOOT_TIMEOUT || String(DEFAULT_BOOT_TIMEOUT_SECONDS);
    console.log(`KC_CACHE=${quote(cacheDirFor(process.env))}; KC_RUN_LABEL=${quote(RUN_LABEL)}; KC_BOOT_TIMEOUT=${quote(bootTimeout)}`);
  } else if ((command === 'version' || command === 'source') && wanted && field) {
    const row = findVersion(wanted);
    if (!row) {
      console.error(unknownVersionMessage(wanted));
      process.exit(2);
    }
    const value = /** @type {Record<string, unknown>} */ (row)[field];
    if (typeof value !== 'string') {
      console.error(`images/versions.json has no field "${field}"`);
      process.exit(2);
    }
    console.log(command === 'source' ? sourceVersion(row, field) : value);
  } else if (command === 'pinned-sum' && wanted) {
    console.log(pinnedSums[wanted] ?? '');
  } else if (command === 'staging' && wanted) {
    const row = findVersion(wanted);
    if (!row) {
      console.error(unknownVersionMessage(wanted));
      process.exit(2);
    }
    for (const [module, version] of Object.entries(row.stagingFrom ?? {})) console.log(`${module} ${version}`);
  } else if (command === 'default-version') {
    console.log(supportedVersions[0]?.kubernetes);
  } else if (command === 'addon-images' && wanted) {
    const row = findVersion(wanted);
    if (!row) {
      console.error(unknownVersionMessage(wanted));
      process.exit(2);
    }
    for (const a of addonImages(row)) console.log([a.name, a.local, a.image, a.module && `${a.module}@${a.version}`].filter(Boolean).join(' '));
  } else if (command === 'kubectl-path' && wanted) {
    console.log(builtKubectlPath(cacheDirFor(process.env), wanted));
  } else if (command === 'versions') {
    console.log(supportedVersions.map((v) => v.kubernetes).join(' '));
  } else {
    console.error('usage: node helpers/facts.mjs shell | version WANTED FIELD | source WANTED FIELD | pinned-sum MODULE@VERSION | staging WANTED | default-version | versions | addon-images WANTED | kubectl-path VERSION');
    process.exit(2);
  }
}
