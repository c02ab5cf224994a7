// vitest globalSetup, once per project (one project per Kubernetes version): start the
// cluster, hand its kubeconfig to every test file, stop it at the end, also on Ctrl-C.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { removeLeftovers, startCluster, type StartedCluster } from './cluster.js';
import { checkKubectl, chooseKubectl } from './kubectl.js';
import { cacheDir, exitOnSettingError, keptDir, kubectlFor, projectRoot, readSettings, resolveVersion, SettingError } from './settings.js';
import { containerEngine } from './engine.js';
import { resolveImageMode } from './image-mode.js';
import { checkSuites } from './suite-check.js';
import { type ClusterInfo, KEPT_NAMESPACES } from './context.js';

function say(line: string) {
  process.stderr.write(`[kube-claims] ${line}\n`);
}

export default async function setup(project: TestProject) {
  try {
    return await startForProject(project);
  } catch (err) {
    // Any setup failure: one clear line and exit code 2, no stack trace (that goes to a log).
    if (err instanceof SettingError) exitOnSettingError(err);
    const log = join(cacheDir, 'logs', 'setup-error.log');
    mkdirSync(dirname(log), { recursive: true });
    writeFileSync(log, `${new Date().toISOString()} ${project.name}\n${(err as Error)?.message ?? err}\n\n${(err as Error)?.stack ?? ''}\n`);
    say(`error: could not start the cluster for ${project.name}: ${String((err as Error)?.message ?? err).split('\n')[0]} (details: ${log})`);
    process.exit(2);
  }
}

async function startForProject(project: TestProject) {
  const settings = readSettings();
  const version = resolveVersion(project.name.replace(/^k8s-/, ''));
  // The catalogue and the tests that name its claims, before anything starts.
  checkSuites((await project.globTestFiles()).testFiles);
  const engine = await containerEngine();
  // Every version's kubectl before the first cluster boots ({minor} names one per version).
  if (settings.kubectl) for (const v of settings.versions) await checkKubectl(settings.kubectl, v);
  const mode = await resolveImageMode(settings.mode, version, settings.nodeImage, say);
  await removeLeftovers(say);

  const runId = `${process.pid}-${Date.now()}`;
  say(`parallelism: ${settings.workers} test files at once, ${settings.concurrency} tests per file (KUBE_CLAIMS_WORKERS, KUBE_CLAIMS_CONCURRENCY)`);
  say(`Kubernetes ${version.kubernetes}, images: ${mode}${settings.mode === 'auto' ? ' (chosen by KUBE_CLAIMS_IMAGES=auto)' : ' (KUBE_CLAIMS_IMAGES)'}${settings.registriesYaml ? ', with registry mirrors (registries.yaml)' : ''}`);
  let cluster: StartedCluster | undefined;
  // The run's temporary files (kubeconfig, manifests, copies) live under one folder.
  const tmp = mkdtempSync(join(tmpdir(), 'kube-claims-'));
  // Outside this process: removes the run's containers and files if it dies without cleaning up.
  spawn('bash', [join(projectRoot, 'scripts/watchdog.sh'), String(process.pid), runId, tmp, keptDir()], { detached: true, stdio: 'ignore', env: engine.cliEnv }).unref();
  const stopCluster = () => {
    const c = cluster;
    cluster = undefined;
    rmSync(tmp, { recursive: true, force: true });
    if (!c) return;
    say(`stopping cluster ${c.version} (${c.containerId.slice(0, 12)})`);
    c.stop();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: stopping the cluster before exit`);
    stopCluster();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', stopCluster);

  try {
    cluster = await startCluster({
      version, mode, image: settings.nodeImage, registriesYaml: settings.registriesYaml, runId, nodes: settings.nodes, bootTimeoutMs: settings.bootTimeoutSeconds * 1000, log: say,
    });
    const kubeconfigPath = join(tmp, 'kubeconfig');
    writeFileSync(kubeconfigPath, cluster.kubeconfig, { mode: 0o600 });
    const imageId = (await engine.dockerode.getContainer(cluster.containerId).inspect()).Image;
    const kubectl = await chooseKubectl({
      serverVersion: version.kubernetes,
      override: settings.kubectl && kubectlFor(settings.kubectl, version),
      containerId: cluster.containerId,
      imageId,
    });
    say(`kubectl: ${kubectl.path} (${kubectl.version}; ${kubectl.why})`);
    const info: ClusterInfo = {
      version: version.kubernetes,
      image: cluster.image,
      mode,
      kubeconfig: cluster.kubeconfig,
      kubeconfigPath,
      tmpDir: tmp,
      nodeContainers: cluster.nodeContainers,
      join: cluster.join,
      settings: cluster.settings,
      kubectl: kubectl.path,
      kubectlVersion: kubectl.version,
      images: cluster.images,
    };
    project.provide('cluster', info);
  } catch (err) {
    stopCluster();
    throw err;
  }

  return async () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', stopCluster);
    const keptNamespaces = join(tmp, KEPT_NAMESPACES);
    if (cluster && (settings.keep === 'always' || (settings.keep === 'on-failure' && existsSync(keptNamespaces)))) {
      keepCluster(cluster, runId, tmp, settings.keep);
      cluster = undefined;
    }
    stopCluster();
  };
}

/**
 * KUBE_CLAIMS_KEEP: leave the cluster running, its kubeconfig and the kept namespaces under
 * ~/.cache/kube-claims/kept/RUN (which the watchdog and later runs' sweeps respect), and say
 * how to look around and how to remove it all.
 */
function keepCluster(cluster: StartedCluster, runId: string, tmp: string, keep: string): void {
  const dir = join(keptDir(), runId);
  mkdirSync(dir, { recursive: true });
  const kubeconfig = join(dir, 'kubeconfig');
  copyFileSync(join(tmp, 'kubeconfig'), kubeconfig);
  const kept = existsSync(join(tmp, KEPT_NAMESPACES)) ? readFileSync(join(tmp, KEPT_NAMESPACES), 'utf8') : '';
  writeFileSync(join(dir, 'namespaces'), kept);
  writeFileSync(join(dir, 'container'), `${cluster.containerId}\n`);
  const namespaces = kept.split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
  say(`KUBE_CLAIMS_KEEP=${keep}: kept cluster ${cluster.version} (container ${cluster.containerId.slice(0, 12)})${namespaces.length ? ` and the namespaces ${namespaces.join(', ')}` : ''}`);
  say(`  look around:   kubectl --kubeconfig ${kubeconfig} get pods -A${namespaces[0] ? `; kubectl --kubeconfig ${kubeconfig} -n ${namespaces[0]} describe pods` : ''}`);
  say(`  remove it all: bash ${join(projectRoot, 'scripts/remove-kept.sh')} ${runId}`);
}

