// Bad input gets one clear line and exit code 2, never a stack trace, and leaves no vitest process
// running. Each row runs the real command (this project's vitest, as `npm test` does, with one
// setting wrong); no cluster starts, but for one row whose node starts and does not boot in time.
import { cpSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, onTestFinished, test } from 'vitest';
import { projectRoot } from '../helpers/settings.js';
import { supportedVersions } from '../helpers/facts.mjs';
import { notLinux, scratchDir } from './scratch.js';

interface Row {
  mistake: string;
  env?: Record<string, string>;
  /** A mistake in the project's own files: made in a copy of the project, never in this one. */
  edit?: (root: string) => void;
  says: RegExp;
  /** What the row needs that this machine lacks, or undefined: the row is then skipped with it. */
  lacks?: () => Promise<string | undefined>;
}

const editFile = (root: string, file: string, change: (text: string) => string) => {
  const path = join(root, file);
  const before = readFileSync(path, 'utf8');
  const after = change(before);
  if (after === before) throw new Error(`the row's edit of ${file} changed nothing`);
  writeFileSync(path, after);
};

// A kubectl for 1.37 only (it answers `kubectl version --client -o json`), so that a run of 1.37
// and 1.36 with KUBE_CLAIMS_KUBECTL=.../kubectl-{minor} shows 1.36's checked before any cluster boots.
const kubectls = scratchDir('kubectls');
writeFileSync(join(kubectls, 'kubectl-1.37'), `#!/bin/sh\necho '{"clientVersion":{"major":"1","minor":"37","gitVersion":"v1.37.2"}}'\n`, { mode: 0o755 });

// Kubeconfigs for the existing-cluster rows: one whose server does not answer (port 9, discard),
// with one context "a"; and a file that is not a kubeconfig.
const kubeconfigs = scratchDir('kubeconfigs');
const silent = join(kubeconfigs, 'silent');
writeFileSync(silent, `apiVersion: v1
kind: Config
clusters: [{ name: a, cluster: { server: "https://127.0.0.1:9", insecure-skip-tls-verify: true } }]
users: [{ name: a, user: { token: t } }]
contexts: [{ name: a, context: { cluster: a, user: a } }]
current-context: a
`);
const notKubeconfig = join(kubeconfigs, 'notes.txt');
writeFileSync(notKubeconfig, 'kubectl run does not mean Ready: [\n');

const rows: Row[] = [
  { mistake: 'an unknown Kubernetes version', env: { KUBE_CLAIMS_K8S_VERSION: '1.20' }, says: /unknown Kubernetes version "1\.20" \(KUBE_CLAIMS_K8S_VERSION\); known: \d/ },
  { mistake: 'an unknown image mode', env: { KUBE_CLAIMS_IMAGES: 'sometimes' }, says: /KUBE_CLAIMS_IMAGES must be "auto", "online" or "offline", not "sometimes"/ },
  { mistake: 'a repeat count that is not a whole number of 1 or more', env: { KUBE_CLAIMS_REPEAT: '-3' }, says: /KUBE_CLAIMS_REPEAT must be a whole number of 1 or more, not "-3"/ },
  { mistake: 'a worker count that is not a whole number of 1 or more', env: { KUBE_CLAIMS_WORKERS: 'many' }, says: /KUBE_CLAIMS_WORKERS must be a whole number of 1 or more, not "many"/ },
  { mistake: 'a time scale below 1', env: { KUBE_CLAIMS_TIME_SCALE: '0.5' }, says: /KUBE_CLAIMS_TIME_SCALE must be a number from 1 to 100, not "0\.5"/ },
  { mistake: 'a registry mirror that is not a registry address', env: { KUBE_CLAIMS_REGISTRY_MIRROR: 'ftp://mirror' }, says: /KUBE_CLAIMS_REGISTRY_MIRROR must be a registry address/ },
  { mistake: 'a registries.yaml that cannot be read', env: { KUBE_CLAIMS_REGISTRIES_YAML: '/nonexistent/registries.yaml' }, says: /KUBE_CLAIMS_REGISTRIES_YAML=\/nonexistent\/registries\.yaml cannot be read \(ENOENT\)/ },
  { mistake: 'a Docker engine that does not answer', env: { DOCKER_HOST: 'tcp://127.0.0.1:9' }, says: /the Docker engine is not reachable .*start Docker, or run: bash scripts\/host\/docker-engine\.sh/ },
  { mistake: 'a kubectl that does not run', env: { KUBE_CLAIMS_IMAGES: 'offline', KUBE_CLAIMS_KUBECTL: '/nonexistent/kubectl' }, says: /KUBE_CLAIMS_KUBECTL=\/nonexistent\/kubectl does not run/ },
  { mistake: 'a placeholder in KUBE_CLAIMS_KUBECTL other than {minor}', env: { KUBE_CLAIMS_KUBECTL: '/opt/kubectl-{version}' }, says: /KUBE_CLAIMS_KUBECTL may contain \{minor\} \(a version's minor, e\.g\. 1\.37\) and no other placeholder, not "\{version\}"/ },
  {
    mistake: 'a kubectl per minor that is missing for one of the versions',
    env: { KUBE_CLAIMS_IMAGES: 'offline', KUBE_CLAIMS_K8S_VERSION: '1.37,1.36', KUBE_CLAIMS_KUBECTL: join(kubectls, 'kubectl-{minor}') },
    says: /KUBE_CLAIMS_KUBECTL=\S+\/kubectl-\{minor\} gives \S+\/kubectl-1\.36 for Kubernetes 1\.36\.\d+, which does not run/,
  },
  { mistake: 'a kubeconfig that cannot be read', env: { KUBE_CLAIMS_KUBECONFIG: '/nonexistent/kubeconfig' }, says: /KUBE_CLAIMS_KUBECONFIG=\/nonexistent\/kubeconfig cannot be read \(ENOENT\)/ },
  { mistake: 'a kubeconfig that is not one', env: { KUBE_CLAIMS_KUBECONFIG: notKubeconfig }, says: /KUBE_CLAIMS_KUBECONFIG=\S+notes\.txt is not a kubeconfig/ },
  { mistake: 'a context the kubeconfig does not have', env: { KUBE_CLAIMS_KUBECONFIG: silent, KUBE_CLAIMS_CONTEXT: 'b' }, says: /KUBE_CLAIMS_CONTEXT "b" is not in \S+ \(it has: a\)/ },
  { mistake: 'a cluster whose server does not answer', env: { KUBE_CLAIMS_KUBECONFIG: silent }, says: /the cluster of context "a" \(https:\/\/127\.0\.0\.1:9\) does not answer: connect ECONNREFUSED 127\.0\.0\.1:9$/m },
  { mistake: 'a setting of the throwaway cluster beside an existing one', env: { KUBE_CLAIMS_KUBECONFIG: silent, KUBE_CLAIMS_K8S_VERSION: '1.37' }, says: /KUBE_CLAIMS_K8S_VERSION shapes the cluster a run starts; with KUBE_CLAIMS_KUBECONFIG no cluster is started/ },
  { mistake: 'a reuse setting that is neither true nor false', env: { KUBE_CLAIMS_REUSE: 'yes' }, says: /KUBE_CLAIMS_REUSE must be one of "false", "true", not "yes"/ },
  { mistake: 'reusing a cluster and keeping it for a person at once', env: { KUBE_CLAIMS_REUSE: 'true', KUBE_CLAIMS_KEEP: 'on-failure' }, says: /KUBE_CLAIMS_REUSE keeps the cluster for the next run, KUBE_CLAIMS_KEEP for a person to look at; set one of them/ },
  { mistake: 'reusing a throwaway cluster beside an existing one', env: { KUBE_CLAIMS_KUBECONFIG: silent, KUBE_CLAIMS_REUSE: 'true' }, says: /KUBE_CLAIMS_REUSE shapes the cluster a run starts; with KUBE_CLAIMS_KUBECONFIG no cluster is started/ },
  { mistake: 'an image registry written as a URL', env: { KUBE_CLAIMS_KUBECONFIG: silent, KUBE_CLAIMS_IMAGE_REGISTRY: 'https://registry.example.com/' }, says: /KUBE_CLAIMS_IMAGE_REGISTRY must be a registry and optional path as in an image name .*not "https:\/\/registry\.example\.com\/"/ },
  { mistake: 'an image registry for a cluster the run starts', env: { KUBE_CLAIMS_IMAGE_REGISTRY: 'registry.example.com' }, says: /KUBE_CLAIMS_IMAGE_REGISTRY names where an existing cluster \(KUBE_CLAIMS_KUBECONFIG\) finds the book's images; a cluster the run starts pulls through KUBE_CLAIMS_REGISTRY_MIRROR or KUBE_CLAIMS_REGISTRIES_YAML instead/ },
  { mistake: 'a context without a kubeconfig', env: { KUBE_CLAIMS_CONTEXT: 'a' }, says: /KUBE_CLAIMS_CONTEXT names a context of KUBE_CLAIMS_KUBECONFIG, which is not set/ },
  { mistake: 'a node image that is not there', env: { KUBE_CLAIMS_IMAGES: 'offline', KUBE_CLAIMS_NODE_IMAGE: 'kube-claims/node:v0.0.0-missing' }, says: /offline mode needs the image kube-claims\/node:v0\.0\.0-missing, which is not present; build it with: / },
  {
    // The node starts (and is removed): the run fails after vitest's workers started beside the boot.
    mistake: 'a boot timeout too short for the node',
    env: { KUBE_CLAIMS_IMAGES: 'offline', KUBE_CLAIMS_BOOT_TIMEOUT: '3' },
    says: /could not start the cluster for k8s-\S+: Log message "Node controller sync successful" not received after 3000ms/,
    lacks: async () => {
      const image = `kube-claims/node:v${supportedVersions[0]!.kubernetes}`;
      const present = await execa('docker', ['image', 'inspect', image], { reject: false });
      return present.exitCode === 0 ? undefined : `the offline node image ${image} is not here (bash scripts/build/images.sh)`;
    },
  },
  {
    mistake: 'a catalogue entry with an invalid field',
    edit: (root) => editFile(root, 'claims/ch02.yaml', (t) => t.replace(/(- id: pod-wraps-containers\n(?:    .*\n)*?    section: )"2\.1"/, '$1"two point one"')),
    says: /claims\/ch02\.yaml: claim "pod-wraps-containers" \(#1\): section: must be a section number such as "2\.1"/,
  },
  {
    mistake: 'a test naming a claim id the catalogue does not have',
    edit: (root) => editFile(root, 'suites/2.1-how-kubernetes-runs-containers.test.ts', (t) => t.replace("claim('pod-wraps-containers'", "claim('pod-wrap-containers'")),
    says: /suites\/2\.1-how-kubernetes-runs-containers\.test\.ts:\d+: claim id "pod-wrap-containers" is not in claims\/ch02\.yaml; did you mean "pod-wraps-containers"\?/,
  },
  {
    mistake: 'a test in the suites without a claim id',
    edit: (root) => writeFileSync(join(root, 'suites/2.9-extra.test.ts'), "import { test } from 'vitest';\n\ntest('pods are nice', () => {});\n"),
    says: /suites\/2\.9-extra\.test\.ts:3: a test without a claim id; write it as claim\('<id>', \.\.\.\) with an id from claims\/ch02\.yaml/,
  },
];

/** A copy of the project (its own files; node_modules linked) to make one mistake in. */
function projectCopy(): string {
  const root = scratchDir('project');
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  const skip = new Set(['node_modules', 'reports', '.git'].map((d) => join(projectRoot, d)));
  cpSync(projectRoot, root, { recursive: true, filter: (src) => !skip.has(src.replace(/\/$/, '')) });
  symlinkSync(join(projectRoot, 'node_modules'), join(root, 'node_modules'));
  return root;
}

/** The environment without this run's own settings, so that each row has only its one mistake. */
function settingsFree(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] =>
    e[1] !== undefined && (!e[0].startsWith('KUBE_CLAIMS_') || e[0] === 'KUBE_CLAIMS_CACHE') && e[0] !== 'DOCKER_HOST'));
}

/**
 * vitest's processes whose environment holds MARKER (its workers inherit the run's), as `PID args`.
 * The run's watchdog (scripts/host/watchdog.sh) outlives it on purpose, for its last sweeps.
 */
function vitestProcessesMarked(marker: string): string[] {
  if (notLinux) return [];
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((pid) => {
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker)) return [];
      const args = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').trim();
      return args.includes('vitest') ? [`${pid} ${args}`] : [];
    } catch {
      return [];
    }
  });
}

describe('bad input', () => {
  // One row at a time: each starts a vitest of its own, and a cluster run may share the machine.
  test.for(rows)('$mistake: one line, exit code 2, no stack trace', { timeout: 150_000 }, async ({ env, edit, says, lacks }, { skip }) => {
    const lacking = await lacks?.();
    if (lacking) skip(lacking);
    let root = projectRoot;
    if (edit) edit((root = projectCopy()));
    // The run's processes carry this mark: none may outlive it (a worker waiting for a cluster that never came).
    const marker = `BAD_INPUT_RUN=${randomUUID()}`;
    const run = await execa(join(root, 'node_modules/.bin/vitest'), ['run', '--project', 'k8s-*'], {
      cwd: root,
      env: { ...settingsFree(process.env), ...env, CI: 'true', FORCE_COLOR: '0', BAD_INPUT_RUN: marker.split('=')[1]! }, extendEnv: false, reject: false, all: true, timeout: 120_000,
    });
    // A worker notices its run's end within a moment; a few seconds at most.
    let left = vitestProcessesMarked(marker);
    for (let waited = 0; left.length && waited < 5_000; waited += 250) {
      await delay(250);
      left = vitestProcessesMarked(marker);
    }
    expect(left, 'vitest processes left running after the run ended').toEqual([]);
    expect(run.exitCode, run.all).toBe(2);
    expect(run.all).toMatch(says);
    const errorLines = run.all!.split('\n').filter((l) => /error|must be|unknown|cannot|needs|does not/i.test(l));
    expect(errorLines, run.all).toHaveLength(1);
    expect(run.all, 'a stack trace').not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
    expect(run.all).not.toMatch(/No test files found/);
  });
});
