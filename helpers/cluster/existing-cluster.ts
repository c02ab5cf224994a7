// An existing cluster (KUBE_CLAIMS_KUBECONFIG): no cluster is started. The run checks that it
// can be used (the file, the context, the server, the right to make namespaces), works only in
// namespaces it makes and labels with its run id, and removes them at the end; the watchdog
// removes them if the run is killed.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import semver from 'semver';
import type { ClusterInfo, Feature } from './context.js';
import { debugImage, RUN_LABEL, supportedVersions } from '../facts.mjs';
import { bookImagesIn, inRegistry } from './images.js';
import { chooseKubectl } from '../verbs/kubectl.js';
import { SettingError } from '../settings.js';

/** How long the server may take to answer the run's first requests. */
const ANSWER_TIMEOUT_MS = 15_000;


export interface ExistingClusterOptions {
  kubeconfig: string;
  context?: string;
  allowDisruptive: boolean;
  /** KUBE_CLAIMS_IMAGE_REGISTRY: where the nodes find the run's images under their Docker Hub names. */
  imageRegistry?: string;
  /** KUBE_CLAIMS_KUBECTL with {minor} filled in for the server's version, if set. */
  kubectlFor: (version: string) => string | undefined;
  runId: string;
  tmpDir: string;
  log: (line: string) => void;
}

/** Load the user's kubeconfig and pick the context; each mistake is one line (SettingError). */
export function loadKubeconfig(path: string, context?: string): k8s.KubeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SettingError(`KUBE_CLAIMS_KUBECONFIG=${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  const config = new k8s.KubeConfig();
  try {
    config.loadFromString(text);
    // Certificate and key files are named relative to the kubeconfig, as kubectl reads them.
    config.makePathsAbsolute(dirname(resolve(path)));
  } catch (err) {
    throw new SettingError(`KUBE_CLAIMS_KUBECONFIG=${path} is not a kubeconfig: ${(err as Error).message.split('\n')[0]}`);
  }
  const names = config.getContexts().map((c) => c.name);
  if (names.length === 0) throw new SettingError(`KUBE_CLAIMS_KUBECONFIG=${path} has no contexts`);
  const wanted = context ?? config.getCurrentContext();
  if (!wanted) throw new SettingError(`KUBE_CLAIMS_KUBECONFIG=${path} has no current context; name one with KUBE_CLAIMS_CONTEXT (it has: ${names.join(', ')})`);
  if (!names.includes(wanted)) {
    throw new SettingError(`${context ? 'KUBE_CLAIMS_CONTEXT' : 'the current context'} "${wanted}" is not in ${path} (it has: ${names.join(', ')})`);
  }
  config.setCurrentContext(wanted);
  return config;
}

/** `promise`, or a rejection once ANSWER_TIMEOUT_MS has passed (the timer does not hold the process). */
export function withTimeout<T>(what: string, promise: Promise<T>): Promise<T> {
  const signal = AbortSignal.timeout(ANSWER_TIMEOUT_MS);
  const timeout = new Promise<never>((_, reject) => signal.addEventListener('abort', () =>
    reject(new Error(`no answer within ${ANSWER_TIMEOUT_MS / 1000}s (${what})`)), { once: true }));
  return Promise.race([promise, timeout]);
}

/** A request's failure in a few words: the HTTP status and the server's message, or the network error. */
function reason(err: unknown): string {
  const e = err as { code?: number | string; body?: unknown; message?: string; cause?: { code?: string } };
  if (typeof e.code === 'number') {
    let message = '';
    try {
      message = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body as { message?: string })?.message ?? '';
    } catch { /* not JSON */ }
    return `HTTP ${e.code}${message ? `: ${message}` : ''}`;
  }
  // node-fetch: "request to URL failed, reason: connect ECONNREFUSED 127.0.0.1:9".
  const first = e.message?.split('\n')[0];
  return (first && /reason: (.*)$/.exec(first)?.[1]) ?? first ?? String(err);
}

/** A node Pods may be scheduled on: Ready, not cordoned, no NoSchedule or NoExecute taint. */
function schedulable(node: k8s.V1Node): boolean {
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  const tainted = node.spec?.taints?.some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
  return Boolean(ready) && !node.spec?.unschedulable && !tainted;
}

/** Connect to the user's cluster and describe it for the test files. */
export async function connectExistingCluster(opts: ExistingClusterOptions): Promise<ClusterInfo> {
  const config = loadKubeconfig(opts.kubeconfig, opts.context);
  const context = config.getCurrentContext();
  const server = config.getCurrentCluster()?.server ?? '(no server)';
  const where = `the cluster of context "${context}" (${server})`;

  let gitVersion: string;
  try {
    gitVersion = (await withTimeout('GET /version', config.makeApiClient(k8s.VersionApi).getCode())).gitVersion;
  } catch (err) {
    throw new SettingError(`${where} does not answer: ${reason(err)}`);
  }
  // k3s, EKS and GKE add suffixes (v1.31.4+k3s1, v1.30.5-eks-ce1d5eb); the catalogue's ranges want x.y.z.
  const version = semver.coerce(gitVersion)?.version;
  if (!version) throw new SettingError(`${where} reports the version "${gitVersion}", which is not a Kubernetes version`);

  const review = await withTimeout('a SelfSubjectAccessReview', config.makeApiClient(k8s.AuthorizationV1Api).createSelfSubjectAccessReview({
    body: { spec: { resourceAttributes: { verb: 'create', resource: 'namespaces' } } },
  })).catch((err) => {
    throw new SettingError(`${where} did not say whether this user may create namespaces: ${reason(err)}`);
  });
  if (!review.status?.allowed) {
    throw new SettingError(`the user of context "${context}" may not create namespaces in ${server}, and every claim runs in a namespace of its own; ask for that right (RBAC), or use another context${review.status?.reason ? ` (${review.status.reason})` : ''}`);
  }

  const nodes = await config.makeApiClient(k8s.CoreV1Api).listNode()
    .then((list) => list.items.filter(schedulable).map((n) => n.metadata!.name!))
    .catch((err) => {
      opts.log(`cannot list the nodes (${reason(err)}): the claims that need two nodes are skipped`);
      return [] as string[];
    });

  const kubeconfigPath = join(opts.tmpDir, 'kubeconfig');
  const kubeconfig = config.exportConfig();
  writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });
  const kubectl = await chooseKubectl({ serverVersion: version, override: opts.kubectlFor(version) });

  const features: Feature[] = [];
  if (nodes.length >= 2) features.push('two-nodes');
  if (opts.allowDisruptive) features.push('disruptive');
  opts.log(`existing cluster: context "${context}", ${server}, Kubernetes ${gitVersion}, ${nodes.length} schedulable node(s)`);
  opts.log(`kubectl: ${kubectl.path} (${kubectl.version}; ${kubectl.why})`);
  const images = bookImagesIn(opts.imageRegistry);
  const debugger_ = inRegistry(debugImage(supportedVersions[0]!), opts.imageRegistry);
  opts.log(opts.imageRegistry
    ? `images: the nodes pull ${images.hello}, ${images.whoami} and ${debugger_} (KUBE_CLAIMS_IMAGE_REGISTRY)`
    : `images: the nodes pull the book's kiamol/* and ${debugger_} from Docker Hub (KUBE_CLAIMS_IMAGE_REGISTRY names another registry)`);
  opts.log(`the run works only in namespaces labelled ${RUN_LABEL}=${opts.runId}, removed at the end; claims that disrupt a cluster ${opts.allowDisruptive ? 'run (KUBE_CLAIMS_ALLOW_DISRUPTIVE=true)' : 'are skipped (KUBE_CLAIMS_ALLOW_DISRUPTIVE=true runs them)'}`);
  return {
    provider: 'existing',
    column: `${version} (${context})`,
    runId: opts.runId,
    version,
    nodes,
    features,
    debugImage: debugger_,
    image: `existing cluster "${context}" (${server}, ${gitVersion})`,
    mode: 'online',
    kubeconfig,
    kubeconfigPath,
    tmpDir: opts.tmpDir,
    nodeContainers: {},
    settings: [],
    kubectl: kubectl.path,
    kubectlVersion: kubectl.version,
    images,
  };
}

/**
 * Delete the run's namespaces (labelled with its id) and, with `waitSeconds`, wait for them to
 * go. Synchronous, so that it also runs on Ctrl-C before the process exits.
 */
export function removeRunNamespaces(kubectl: string, kubeconfigPath: string, runId: string, waitSeconds = 0): string {
  const args = ['--kubeconfig', kubeconfigPath, 'delete', 'namespaces', '-l', `${RUN_LABEL}=${runId}`, '--ignore-not-found'];
  return execFileSync(kubectl, waitSeconds > 0 ? [...args, `--timeout=${waitSeconds}s`] : [...args, '--wait=false'], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: (waitSeconds + 30) * 1000,
  });
}
