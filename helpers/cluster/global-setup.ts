// vitest globalSetup, once per project (one project per Kubernetes version): start the
// cluster, hand its kubeconfig to every test file, stop it at the end, also on Ctrl-C.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { removeLeftovers, startCluster, type StartedCluster, writeKeptRecord } from './cluster.js';
import { keepForReuse, releaseReusable, type ReusableInfo, reuseKeyFor, startedClusterInfo, takeReusable } from './reuse.js';
import { bindKubectl, checkKubectl, chooseKubectl } from '../verbs/kubectl.js';
import { waitForManifestValidation } from '../verbs/cluster-waits.js';
import { cacheDir, exitOnSettingError, keptDir, kubectlFor, projectRoot, readSettings, resolveVersion, SettingError, type Settings, type VersionRow } from '../settings.js';
import { connectExistingCluster, removeRunNamespaces } from './existing-cluster.js';
import { RUN_LABEL } from '../facts.mjs';
import { containerEngine } from './engine.js';
import { resolveImageMode } from './image-mode.js';
import { checkSuites } from '../fixtures/suite-check.js';
import { type ClusterInfo, KEPT_NAMESPACES } from './context.js';

function say(line: string) {
  process.stderr.write(`[kube-claims] ${line}\n`);
}

export default async function setup(project: TestProject) {
  try {
    return await startForProject(project);
  } catch (err) {
    setupFailed(project, err);
  }
}

/** Any setup failure (the boot's too): one clear line and exit code 2, no stack trace (that goes to a log). */
function setupFailed(project: TestProject, err: unknown): never {
  if (err instanceof SettingError) exitOnSettingError(err);
  const log = join(cacheDir, 'logs', 'setup-error.log');
  mkdirSync(dirname(log), { recursive: true });
  writeFileSync(log, `${new Date().toISOString()} ${project.name}\n${(err as Error)?.message ?? err}\n\n${(err as Error)?.stack ?? ''}\n`);
  say(`error: could not start the cluster for ${project.name}: ${firstLine(err)} (details: ${log})`);
  process.exit(2);
}

const firstLine = (err: unknown) => String((err as Error)?.message ?? err).split('\n')[0];

/**
 * A cluster the claims run on, once it is up: what test files get, and how to leave. Two
 * providers: a throwaway k3s cluster the run starts (testcontainers), and an existing cluster
 * given by a kubeconfig. `stop` is synchronous: on Ctrl-C vitest may exit before async teardown.
 */
interface ProvidedCluster {
  /** The cluster's description, once it is up. */
  up: Promise<ClusterInfo>;
  /** Whether it comes up after setup returns (booting, or a reused one being checked): vitest's workers start beside it. */
  boots: boolean;
  /** Remove what the run made: the cluster it started, or its namespaces in the user's cluster. */
  stop(): void;
  /** KUBE_CLAIMS_KEEP: leave it for a person to look at, and say how to remove it. */
  keep(mode: string): void;
}

async function startForProject(project: TestProject) {
  const settings = readSettings();
  // The catalogue and the tests that name its claims, before anything starts.
  await checkSuites((await project.globTestFiles()).testFiles);
  const runId = `${process.pid}-${Date.now()}`;
  say(`parallelism: ${settings.workers} test files at once, ${settings.concurrency} tests per file (KUBE_CLAIMS_WORKERS, KUBE_CLAIMS_CONCURRENCY)`);
  // The run's temporary files (kubeconfig, manifests, copies) live under one folder.
  const tmp = mkdtempSync(join(tmpdir(), 'kube-claims-'));
  let cluster: ProvidedCluster | undefined;
  const stopCluster = () => {
    const c = cluster;
    cluster = undefined;
    try {
      c?.stop();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: ${settings.existing ? "removing the run's namespaces" : 'stopping the cluster'} before exit`);
    stopCluster();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', stopCluster);
  // A cluster that boots is described in this file when it is up; the workers wait for it.
  let booted: Promise<void> | undefined;
  try {
    cluster = settings.existing
      ? await existingProvider(settings, settings.existing, runId, tmp)
      : await throwawayProvider(settings, resolveVersion(project.name.replace(/^k8s-/, '')), runId, tmp);
    if (cluster.boots) {
      const file = join(tmp, 'cluster.json');
      // The boot's own bounds (the cluster's start, then kubectl's validation) end it first.
      project.provide('cluster', { booting: { file, timeoutMs: (2 * settings.bootTimeoutSeconds + 60) * 1000 } });
      booted = cluster.up.then((info) => {
        writeJsonAtomically(file, info);
        // The reporter (this process) reads the whole description.
        project.provide('cluster', info);
      }, (err) => {
        writeJsonAtomically(file, { error: firstLine(err) });
        setupFailed(project, err);
      });
    } else {
      project.provide('cluster', await cluster.up);
    }
  } catch (err) {
    stopCluster();
    throw err;
  }

  return async () => {
    await booted;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', stopCluster);
    if (cluster && (settings.keep === 'always' || (settings.keep === 'on-failure' && existsSync(join(tmp, KEPT_NAMESPACES))))) {
      cluster.keep(settings.keep);
      cluster = undefined;
    }
    stopCluster();
  };
}

/** Written under another name, then renamed: a reader sees all of it or nothing. */
function writeJsonAtomically(file: string, value: unknown): void {
  writeFileSync(`${file}.part`, JSON.stringify(value));
  renameSync(`${file}.part`, file);
}

/** The watchdog, outside this process: removes what the run made if it dies without cleaning up. */
function startWatchdog(runId: string, tmp: string, env: NodeJS.ProcessEnv, namespacesOf?: { kubectl: string; kubeconfig: string }) {
  const args = [join(projectRoot, 'scripts/host/watchdog.sh'), String(process.pid), runId, tmp, keptDir(), ...(namespacesOf ? [namespacesOf.kubectl, namespacesOf.kubeconfig] : [])];
  spawn('bash', args, { detached: true, stdio: 'ignore', env }).unref();
}

/** A throwaway k3s cluster in containers, one per Kubernetes version (kept for the next run with KUBE_CLAIMS_REUSE). */
async function throwawayProvider(settings: Settings, version: VersionRow, runId: string, tmp: string): Promise<ProvidedCluster> {
  // A cluster that may be kept must outlive this process, which testcontainers' reaper (Ryuk)
  // would not let it; the watchdog removes what is not kept.
  if (settings.keep !== 'never' || settings.reuse) process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  // Every version's kubectl before the first cluster boots ({minor} names one per version).
  if (settings.kubectl) for (const v of settings.versions) await checkKubectl(settings.kubectl, v);
  // KUBE_CLAIMS_IMAGES=auto pulls, or builds, before the tests start (minutes, said as they go).
  const mode = await resolveImageMode(settings.mode, version, settings.nodeImage, say);
  let cluster: StartedCluster | undefined;
  let reuse: string | undefined;
  // The run whose label the cluster's containers carry (an earlier one, when reused).
  let clusterRun = runId;
  const stop = () => {
    if (reuse) {
      // Kept for the next run: only this run's hold on it ends (its tests removed their namespaces).
      releaseReusable(clusterRun);
      say(`cluster ${version.kubernetes} stays for the next run (KUBE_CLAIMS_REUSE); remove it with: bash ${join(projectRoot, 'scripts/remove-kept.sh')} ${clusterRun}`);
      cluster = undefined;
      return;
    }
    const c = cluster;
    cluster = undefined;
    if (!c) return;
    say(`stopping cluster ${c.version} (${c.containerId.slice(0, 12)})`);
    c.stop();
  };
  /** The cluster's description once it is up, reused or booted: beside vitest's start of its workers. */
  const describe = async (): Promise<ClusterInfo> => {
    const engine = await containerEngine();
    await removeLeftovers(say);
    say(`Kubernetes ${version.kubernetes}, images: ${mode}${settings.mode === 'auto' ? ' (chosen by KUBE_CLAIMS_IMAGES=auto)' : ' (KUBE_CLAIMS_IMAGES)'}${settings.registriesYaml ? ', with registry mirrors (registries.yaml)' : ''}`);
    startWatchdog(runId, tmp, engine.cliEnv);
    reuse = settings.reuse
      ? await reuseKeyFor({ version, mode, nodeImage: settings.nodeImage, nodes: settings.nodes, registriesYaml: settings.registriesYaml })
      : undefined;
    const reused = reuse ? await takeReusable(reuse, say) : undefined;
    let own: ReusableInfo;
    if (reused) {
      own = reused.info;
      clusterRun = reused.clusterRun;
      say(`reusing cluster ${version.kubernetes} (KUBE_CLAIMS_REUSE; started by run ${clusterRun}): ${own.nodes.length} node(s) Ready`);
    } else {
      cluster = await startCluster({
        version, mode, image: settings.nodeImage, registriesYaml: settings.registriesYaml, runId, nodes: settings.nodes, bootTimeoutMs: settings.bootTimeoutSeconds * 1000, log: say,
      });
      own = startedClusterInfo(cluster, version, mode);
      if (reuse) keepForReuse(reuse, runId, cluster, own);
    }
    try {
      const kubeconfigPath = join(tmp, 'kubeconfig');
      writeFileSync(kubeconfigPath, own.kubeconfig, { mode: 0o600 });
      const serverContainer = Object.values(own.nodeContainers)[0]!;
      const imageId = (await engine.dockerode.getContainer(serverContainer).inspect()).Image;
      const kubectl = await chooseKubectl({
        serverVersion: version.kubernetes,
        override: settings.kubectl && kubectlFor(settings.kubectl, version),
        containerId: serverContainer,
        imageId,
      });
      say(`kubectl: ${kubectl.path} (${kubectl.version}; ${kubectl.why})`);
      if (!reused) {
        const begun = Date.now();
        await waitForManifestValidation(bindKubectl(kubectl.path, kubeconfigPath), settings.bootTimeoutSeconds * 1000);
        const took = (Date.now() - begun) / 1000;
        if (took > 5) say(`kubectl validates manifests after ${took.toFixed(1)}s more (the API server built its OpenAPI documents)`);
      }
      return {
        ...own,
        provider: 'k3s',
        column: version.kubernetes,
        runId,
        kubeconfigPath,
        tmpDir: tmp,
        kubectl: kubectl.path,
        kubectlVersion: kubectl.version,
      };
    } catch (err) {
      stop();
      throw err;
    }
  };
  return {
    up: describe(),
    boots: true,
    stop,
    keep: (keep) => {
      if (cluster) keepCluster(cluster, runId, tmp, keep);
      cluster = undefined;
    },
  };
}

/** The user's own cluster (KUBE_CLAIMS_KUBECONFIG): nothing is started; the run's namespaces are removed at the end. */
async function existingProvider(settings: Settings, existing: NonNullable<Settings['existing']>, runId: string, tmp: string): Promise<ProvidedCluster> {
  const info = await connectExistingCluster({
    ...existing,
    kubectlFor: (version) => settings.kubectl && kubectlFor(settings.kubectl, version),
    runId,
    tmpDir: tmp,
    log: say,
  });
  startWatchdog(runId, tmp, process.env, { kubectl: info.kubectl, kubeconfig: info.kubeconfigPath });
  let removed = false;
  return {
    up: Promise.resolve(info),
    boots: false,
    stop: () => {
      if (removed) return;
      removed = true;
      say(`removing the run's namespaces (${RUN_LABEL}=${runId}) from ${info.image}`);
      try {
        const out = removeRunNamespaces(info.kubectl, info.kubeconfigPath, runId, NAMESPACE_REMOVAL_SECONDS);
        say(`removed: ${out.trim().split('\n').filter(Boolean).length} namespace(s)`);
      } catch (err) {
        say(`the run's namespaces were not all gone after ${NAMESPACE_REMOVAL_SECONDS}s (they are deleting; see: kubectl get namespaces -l ${RUN_LABEL}=${runId}): ${String((err as Error).message).split('\n')[0]}`);
      }
    },
    keep: (keep) => {
      removed = true;
      const dir = writeKeptRecord(runId, { kubeconfig: info.kubeconfig });
      say(`KUBE_CLAIMS_KEEP=${keep}: kept the run's namespaces in ${info.image}: kubectl get namespaces -l ${RUN_LABEL}=${runId}`);
      say(`  remove them: kubectl delete namespaces -l ${RUN_LABEL}=${runId}; rm -r ${dir}`);
    },
  };
}

/** How long the end of a run waits for its namespaces in an existing cluster to be gone. */
const NAMESPACE_REMOVAL_SECONDS = 120;

/**
 * KUBE_CLAIMS_KEEP: leave the cluster running, its kubeconfig and the kept namespaces under
 * ~/.cache/kube-claims/kept/RUN (which the watchdog and later runs' sweeps respect), and say
 * how to look around and how to remove it all.
 */
function keepCluster(cluster: StartedCluster, runId: string, tmp: string, keep: string): void {
  const kept = existsSync(join(tmp, KEPT_NAMESPACES)) ? readFileSync(join(tmp, KEPT_NAMESPACES), 'utf8') : '';
  const dir = writeKeptRecord(runId, { kubeconfig: cluster.kubeconfig, containerId: cluster.containerId, namespaces: kept });
  const kubeconfig = join(dir, 'kubeconfig');
  const namespaces = kept.split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
  say(`KUBE_CLAIMS_KEEP=${keep}: kept cluster ${cluster.version} (container ${cluster.containerId.slice(0, 12)})${namespaces.length ? ` and the namespaces ${namespaces.join(', ')}` : ''}`);
  say(`  look around:   kubectl --kubeconfig ${kubeconfig} get pods -A${namespaces[0] ? `; kubectl --kubeconfig ${kubeconfig} -n ${namespaces[0]} describe pods` : ''}`);
  say(`  remove it all: bash ${join(projectRoot, 'scripts/remove-kept.sh')} ${runId}`);
}

