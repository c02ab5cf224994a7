// vitest globalSetup, once per project (one project per Kubernetes version): start the
// cluster, hand its kubeconfig to every test file, stop it at the end, also on Ctrl-C.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import type { TestProject } from 'vitest/node';
import { removeLeftovers, startCluster, type StartedCluster } from './cluster.js';
import { checkKubectl, chooseKubectl } from './kubectl.js';
import { cacheDir, projectRoot, readSettings, resolveVersion, SettingError } from './settings.js';
import { resolveImageMode } from './image-mode.js';
import type { ClusterInfo } from './context.js';

function say(line: string) {
  process.stderr.write(`[kube-claims] ${line}\n`);
}

export default async function setup(project: TestProject) {
  try {
    return await startForProject(project);
  } catch (err) {
    // Any setup failure: one clear line and exit code 2, no stack trace (that goes to a log).
    if (err instanceof SettingError) {
      say(`error: ${err.message}`);
    } else {
      const log = join(cacheDir, 'logs', 'setup-error.log');
      mkdirSync(dirname(log), { recursive: true });
      writeFileSync(log, `${new Date().toISOString()} ${project.name}\n${(err as Error)?.stack ?? err}\n`);
      say(`error: could not start the cluster for ${project.name}: ${String((err as Error)?.message ?? err).split('\n')[0]} (details: ${log})`);
    }
    process.exit(2);
  }
}

async function startForProject(project: TestProject) {
  const settings = readSettings();
  const version = resolveVersion(project.name.replace(/^k8s-/, ''));
  const docker = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { reject: false });
  if (docker.exitCode !== 0) {
    throw new SettingError(`the Docker engine is not reachable (docker info: ${docker.stderr.trim().split('\n')[0]}); start Docker, or run: bash scripts/docker-engine.sh`);
  }
  if (settings.kubectl) await checkKubectl(settings.kubectl);
  const mode = await resolveImageMode(settings.mode, version, settings.nodeImage, say);
  if (mode === 'offline' && process.env.TESTCONTAINERS_RYUK_DISABLED === undefined) {
    // Ryuk's image comes from a registry; offline, kube-claims removes its own containers.
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  }
  await removeLeftovers(say);

  const runId = `${process.pid}-${Date.now()}`;
  say(`parallelism: ${settings.workers} test files at once, ${settings.concurrency} tests per file (KUBE_CLAIMS_WORKERS, KUBE_CLAIMS_CONCURRENCY)`);
  say(`Kubernetes ${version.kubernetes}, images: ${mode}${settings.mode === 'auto' ? ' (chosen by KUBE_CLAIMS_IMAGES=auto)' : ' (KUBE_CLAIMS_IMAGES)'}${settings.registriesYaml ? ', with registry mirrors (registries.yaml)' : ''}`);
  let cluster: StartedCluster | undefined;
  // The run's temporary files (kubeconfig, manifests, copies) live under one folder.
  const tmp = mkdtempSync(join(tmpdir(), 'kube-claims-'));
  // Outside this process: removes the run's containers and files if it dies without cleaning up.
  spawn('bash', [join(projectRoot, 'scripts/watchdog.sh'), String(process.pid), runId, tmp], { detached: true, stdio: 'ignore' }).unref();
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
      version, mode, image: settings.nodeImage, registriesYaml: settings.registriesYaml, runId, log: say,
    });
    const kubeconfigPath = join(tmp, 'kubeconfig');
    writeFileSync(kubeconfigPath, cluster.kubeconfig, { mode: 0o600 });
    const imageId = (await execa('docker', ['inspect', '-f', '{{.Image}}', cluster.containerId])).stdout.trim();
    const kubectl = await chooseKubectl({
      serverVersion: version.kubernetes,
      override: settings.kubectl,
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
      containerId: cluster.containerId,
      kubectl: kubectl.path,
      kubectlVersion: kubectl.version,
      images: cluster.images,
      bootSeconds: cluster.bootSeconds,
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
    stopCluster();
  };
}

