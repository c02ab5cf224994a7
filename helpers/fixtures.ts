// The test fixtures, in the manner of Playwright's: a test asks for { ns, kubectl, api, nodeOf }
// and gets a fresh namespace, a kubectl bound to it, typed API clients and the node's shell.
// Only what a test asks for is built. Setup and cleanup live here and nowhere else.
import * as k8s from '@kubernetes/client-node';
import { expect, inject, test as base, type TestContext } from 'vitest';
import type { ClusterInfo } from './context.js';
import { CATALOGUE_FILE, catalogueClaim, CORRECTS_NOTES, differenceOn, DIFFERS, NOTE, notApplicable, outcomesOn, type CatalogueClaim, type Outcome } from './claims.js';
import { newRecorder, orderedSteps, recording, step, type Recorder, type Step } from './steps.js';
import { namespaceDiagnostics } from './diagnostics.js';
import { bindKubectl, type Kubectl } from './kubectl.js';
import { ManifestFiles } from './manifests.js';
import { NodeAccessDenied, nodeShell, type NodeShell } from './node.js';
import { RUN_LABEL } from './facts.mjs';
import { startAgent, type StartedAgent } from './cluster.js';
import { readyIsTrue } from './conditions.js';
import { waitForDefaultServiceAccount, waitForNode } from './cluster-waits.js';
import { startPortForward, type Forward } from './port-forward.js';
import { readSettings, type Settings } from './settings.js';
import { appendFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { KEPT_NAMESPACES } from './context.js';

export interface Api {
  config: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  discovery: k8s.DiscoveryV1Api;
}

export interface Fixtures {
  cluster: ClusterInfo;
  api: Api;
  ns: string;
  kubectl: Kubectl;
  /** Commands on the node a pod runs on (crictl there). */
  nodeOf: (pod: k8s.V1Pod) => NodeShell;
  /**
   * Join a node of this test's own to the cluster (clusters of several nodes); it is Ready
   * when this returns, and removed, with its Node object, after the test.
   */
  addNode: (opts?: { labels?: string[]; taints?: string[] }) => Promise<StartedAgent>;
  /** Start `kubectl port-forward TARGET LOCAL:REMOTE` in the test's namespace; ended after the test. */
  forward: (target: string, remotePort: number, localPort?: number) => Promise<Forward>;
  /** The repo's manifests with this run's images, as files and URLs; removed after the test. */
  manifests: ManifestFiles;
  /** Make another namespace for this test (beside `ns`); deleted after the test. */
  otherNamespace: () => Promise<string>;
  /** The test's steps (kubectl commands, waits, node commands, named steps), for the report. */
  steps: Recorder;
}

function makeApi(cluster: ClusterInfo): Api {
  const config = new k8s.KubeConfig();
  config.loadFromString(cluster.kubeconfig);
  return {
    config,
    core: config.makeApiClient(k8s.CoreV1Api),
    apps: config.makeApiClient(k8s.AppsV1Api),
    discovery: config.makeApiClient(k8s.DiscoveryV1Api),
  };
}

/** The run's settings, read once per worker (not once per test). */
let cachedSettings: Settings | undefined;
const settings = () => (cachedSettings ??= readSettings());

/** A fresh namespace named after the test, once its default ServiceAccount exists. */
async function createTestNamespace(api: Api, cluster: ClusterInfo, prefix: string): Promise<string> {
  const slug = prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40);
  // Labelled with the run's id: the end of the run (and the watchdog) removes them by it.
  const created = await api.core.createNamespace({
    body: { metadata: { generateName: `${slug}-`, labels: { 'kube-claims/test': 'true', [RUN_LABEL]: cluster.runId } } },
  });
  const name = created.metadata!.name!;
  await waitForDefaultServiceAccount(api.core, name);
  return name;
}

/**
 * Whether a test's namespaces are deleted after it: always in the user's own cluster; in a
 * throwaway one only when it may outlive the run (KUBE_CLAIMS_KEEP), else they go with it.
 */
const deleteNamespaces = (cluster: ClusterInfo) => cluster.provider === 'existing' || settings().keep !== 'never';

/**
 * After a test: stop what runs in its namespace (controllers first, so that nothing comes
 * back; pods without a graceful end). The namespace itself is deleted only when the cluster
 * may outlive the run (KUBE_CLAIMS_KEEP): otherwise it goes with the cluster, and the namespace
 * controller's sweep of every resource type (about 50 requests per namespace) is saved.
 */
async function cleanTestNamespace(api: Api, name: string, deleteNamespace: boolean): Promise<void> {
  await api.apps.deleteCollectionNamespacedDeployment({ namespace: name, propagationPolicy: 'Orphan' });
  await api.apps.deleteCollectionNamespacedReplicaSet({ namespace: name, propagationPolicy: 'Orphan' });
  await api.core.deleteCollectionNamespacedPod({ namespace: name, gracePeriodSeconds: 0 });
  // Not waited for: no claim depends on it (waiting cost every test about 5 s).
  if (deleteNamespace) await api.core.deleteNamespace({ name });
}

/** What the claims reporter reads from a test's meta (vitest refuses annotations once a test has failed). */
export interface ClaimMeta {
  steps?: Step[];
  /** On failure: describe, events and logs of the test's namespace. */
  diagnostics?: string;
}

/** Time kept back from a test's timeout: its waits end first, with their own message. */
const WAIT_RESERVE_MS = 5_000;

export const test = base.extend<Fixtures>({
  // Every test, first, so that it is torn down last: after a timeout too, the steps reach the
  // report. Waits and kubectl calls end by the test's deadline (its timeout, less a reserve).
  steps: [async ({ task }, use) => {
    const recorder = newRecorder(task.timeout ? task.timeout - WAIT_RESERVE_MS : undefined, settings().timeScale);
    await use(recorder);
    // Task meta reaches the reporter with the test's result.
    (task.meta as ClaimMeta).steps = orderedSteps(recorder);
  }, { auto: true }],
  // One per worker: the cluster's description, and API clients made once.
  cluster: [async ({}, use) => use(inject('cluster')), { scope: 'worker' }],
  api: [async ({ cluster }, use) => use(makeApi(cluster)), { scope: 'worker' }],
  ns: async ({ api, task, cluster, steps }, use) => {
    const name = await recording(steps, () => step('create the test namespace (and wait for its ServiceAccount)', () =>
      createTestNamespace(api, cluster, task.name.split(':')[0]!)));
    await use(name);
    // The test has ended (a timeout too): on failure, what a person needs to see, attached to
    // the test itself; the claims reporter prints it under the test's name and writes it to the report.
    const failed = task.result?.state === 'fail';
    if (failed) {
      const kubectl = bindKubectl(cluster.kubectl, cluster.kubeconfigPath, name);
      (task.meta as ClaimMeta).diagnostics = await namespaceDiagnostics(kubectl, name).catch((e) => `diagnostics failed: ${e}`);
    }
    const { keep } = settings();
    if (keep === 'always' || (keep === 'on-failure' && failed)) {
      // Left for a person to inspect; the run keeps the cluster too (helpers/global-setup.ts).
      appendFileSync(join(cluster.tmpDir, KEPT_NAMESPACES), `${name}\t${task.name}\n`);
      return;
    }
    await recording(steps, () => step('clean the test namespace', () => cleanTestNamespace(api, name, deleteNamespaces(cluster))));
  },
  otherNamespace: async ({ api, task, cluster }, use) => {
    const made: string[] = [];
    await use(async () => {
      const name = await createTestNamespace(api, cluster, `${task.name.split(':')[0]!}-other`);
      made.push(name);
      return name;
    });
    await Promise.all(made.map((name) => cleanTestNamespace(api, name, deleteNamespaces(cluster))));
  },
  // Annotated: vitest cannot infer the parameters of a fixture whose value is a function.
  kubectl: async ({ cluster, ns }: { cluster: ClusterInfo; ns: string }, use: (k: Kubectl) => Promise<void>) =>
    use(bindKubectl(cluster.kubectl, cluster.kubeconfigPath, ns)),
  // Node debugger Pods live in a namespace of their own (not the test's, whose Pods the test counts),
  // made on first use, one Pod per node, and cleaned after the test like the test's namespace.
  nodeOf: async ({ cluster, api, task }: { cluster: ClusterInfo; api: Api; task: TestContext['task'] }, use: (f: Fixtures['nodeOf']) => Promise<void>) => {
    let namespace: Promise<string> | undefined;
    const shells = new Map<string, NodeShell>();
    await use((pod) => {
      const node = pod.spec?.nodeName;
      if (!node) throw new Error(`pod ${pod.metadata?.name} has no node yet (spec.nodeName is empty)`);
      if (!shells.has(node)) {
        namespace ??= createTestNamespace(api, cluster, `${task.name.split(':')[0]!}-node`);
        const lazy = (async () => {
          const ns = await namespace!;
          return nodeShell({ node, kubectl: bindKubectl(cluster.kubectl, cluster.kubeconfigPath, ns), api, namespace: ns, image: cluster.debugImage, mayRefuse: cluster.provider === 'existing' });
        })();
        shells.set(node, {
          node,
          exec: async (command) => (await lazy).exec(command),
          crictl: async (args, opts) => (await lazy).crictl(args, opts),
          crictlJson: async (args) => (await lazy).crictlJson(args),
        });
      }
      return shells.get(node)!;
    });
    if (namespace) await cleanTestNamespace(api, await namespace, deleteNamespaces(cluster));
  },
  addNode: async ({ cluster, api }: { cluster: ClusterInfo; api: Api }, use: (f: Fixtures['addNode']) => Promise<void>) => {
    const added: StartedAgent[] = [];
    await use(async (opts) => {
      if (!cluster.join) throw new Error('adding a node needs a cluster of several nodes (KUBE_CLAIMS_NODES=2)');
      const agent = await step('start a node that joins the cluster', () => startAgent(cluster.join!, opts));
      added.push(agent);
      await waitForNode(api.core, agent.nodeName, [readyIsTrue]);
      return agent;
    });
    for (const agent of added) {
      agent.remove();
      await api.core.deleteNode({ name: agent.nodeName }).catch(() => {});
    }
  },
  manifests: async ({ cluster }, use) => {
    const files = new ManifestFiles(cluster.images, cluster.tmpDir);
    await use(files);
    await files.close();
  },
  forward: async ({ cluster, ns }: { cluster: ClusterInfo; ns: string }, use: (f: Fixtures['forward']) => Promise<void>) => {
    const started: Forward[] = [];
    await use(async (target, remotePort, localPort) => {
      const f = await step(`kubectl port-forward ${target} ${localPort ?? ''}:${remotePort}`, () => startPortForward({
        kubectl: cluster.kubectl, kubeconfig: cluster.kubeconfigPath, namespace: ns, target, remotePort, localPort,
      }));
      started.push(f);
      return f;
    });
    await Promise.all(started.map((f) => f.stop()));
  },
});

/** What a claim's test gets besides the fixtures. */
export interface ClaimContext {
  claim: CatalogueClaim;
  /** A note on how the claim behaves on this version; it appears in the claims report. */
  note: (text: string) => Promise<void>;
  /**
   * The cluster did not behave as the book says, for this reason: the report shows "differs"
   * (not "passed") for this version. Differences the catalogue states per version are
   * reported without calling this.
   */
  differs: (why: string) => Promise<void>;
  /**
   * What the test saw, for a claim whose catalogue entry lists `outcomes`: it must equal the
   * `seen` of one of them on this version (else the test fails, listing them). The report
   * says which (its `when`), and "differs" with its reason when it has one.
   */
  outcome: (seen: Outcome['seen']) => Promise<Outcome>;
  /** Run `fn` as a named step: its duration and outcome go into the report. */
  step: typeof step;
  /**
   * This cluster cannot show the claim (e.g. it does not route Service IPs): the test ends and
   * the report says "skipped" with the reason. Only for what the cluster lacks, never for a failure.
   */
  skip: (reason: string) => never;
}

/**
 * One test for one claim of the catalogue. The title is the claim id, then the behaviour as
 * the catalogue words it. An unknown id fails the file at collection; a claim that does not
 * apply to this cluster's version is reported skipped with the reason; one whose entry has
 * `correctsNotes` is reported "corrects the notes" when it passes. When the check fails, the
 * namespace's pods are described, with events and logs, and attached to the test.
 * `fn` gets the fixtures it names in its first parameter, and only those.
 */
export function claim(
  id: string,
  fn: (ctx: Fixtures & ClaimContext) => Promise<void>,
  timeoutMs = 180_000,
) {
  const entry = catalogueClaim(id);
  const title = `${id}: ${entry.title}`;
  const version = inject('cluster').version;
  // Features of the actual cluster (its nodes were Ready before any test file started).
  const { nodes, features } = inject('cluster');
  const reason = notApplicable(entry, version, features, nodes.length);
  if (reason) {
    test(title, ({ skip }) => skip(reason));
    return;
  }
  const stated = differenceOn(entry, version);
  const allowed = outcomesOn(entry, version);
  const body = async (context: Fixtures & { annotate: TestContext['annotate']; skip: TestContext['skip'] }) => {
    const note = async (text: string) => void (await context.annotate(text, NOTE));
    const differs = async (why: string) => void (await context.annotate(why, DIFFERS));
    let matched: Outcome | undefined;
    const outcome = async (seen: Outcome['seen']) => {
      expect(allowed.map((o) => o.seen), `what was seen is none of the outcomes ${CATALOGUE_FILE} allows for ${id} on ${version}`).toContainEqual(seen);
      matched = allowed.find((o) => isDeepStrictEqual(o.seen, seen))!;
      await note(matched.when);
      return matched;
    };
    // vitest's own, kept before the context's `skip` is replaced by this one.
    const skipTest = context.skip;
    const skip = (reason: string): never => skipTest(reason);
    try {
      await recording(context.steps, () => fn(Object.assign(context, { note, differs, outcome, step, skip, claim: entry })));
    } catch (err) {
      // The user's cluster refused a node debugger Pod: the claim cannot be shown there.
      if (err instanceof NodeAccessDenied) skipTest(err.message);
      throw err;
    }
    if (allowed.length > 0 && !matched) {
      throw new Error(`${CATALOGUE_FILE} lists outcomes for ${id}, but its test reported none: it must call outcome(seen)`);
    }
    // The test checked the behaviour the catalogue states for this version (or for what it saw).
    const why = matched ? matched.differs : stated?.why;
    if (why) await differs(why);
    // The test showed the notes wrong; the reporter says so unless the version differs.
    if (entry.correctsNotes) await context.annotate(entry.correctsNotes, CORRECTS_NOTES);
  };
  // vitest builds the fixtures that a test function's first parameter names: it reads them
  // from the function's source. `body` passes on what `fn` names, so `fn`'s source is shown.
  body.toString = () => fn.toString();
  // KUBE_CLAIMS_REPEAT=N checks every claim N times on the same cluster (a soak run).
  const { repeat } = settings();
  for (let round = 1; round <= repeat; round++) {
    test.concurrent(repeat > 1 ? `${title} (round ${round}/${repeat})` : title, body, timeoutMs * settings().timeScale);
  }
}
