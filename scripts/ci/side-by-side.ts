// Two clusters side by side on one Docker host, as two runs on one machine start them: cluster
// A boots and runs pod hello-a; then cluster B boots beside it (A running, not booting: no wait
// here depends on another boot's pace) and runs pod hello-b. Each cluster sees its own pod only,
// each pod serves its page, and removing B leaves A's pod running with no restart; then A goes.
// What it checks is the node image on this host's cgroups (the cgroup v2 check runs it in a VM):
// two kubelets beside each other that do not touch each other's pods.
//   usage: npx tsx scripts/ci/side-by-side.ts [KUBERNETES_VERSION]   (KUBE_CLAIMS_NODE_IMAGE: another node image)
// Prints "boot A: N s", "boot B: N s" and "time scale: X" (the allowances' stretch it ended with).
// With KUBE_CLAIMS_REUSE=true, cluster A is kept (on success) for the next run to reuse.
// Exits non-zero with the reason on failure.
import { startCluster, type StartedCluster } from '../../helpers/cluster/cluster.js';
import { nodeShell, type NodeShell } from '../../helpers/cluster/node-shell.js';
import { keepForReuse, releaseReusable, reuseKeyFor, startedClusterInfo } from '../../helpers/cluster/reuse.js';
import { readSettings, resolveVersion, SettingError } from '../../helpers/settings.js';

// Each line says when it happened (seconds since the start): under emulation a step takes minutes.
const began = Date.now();
const say = (line: string) => process.stderr.write(`[kube-claims] side by side (${Math.round((Date.now() - began) / 1000)} s): ${line}\n`);
const clusters: StartedCluster[] = [];
const stopAll = () => {
  for (const c of clusters.splice(0)) c.stop();
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: removing the nodes`);
    stopAll();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

/** A boot's expected length at time scale 1 (the host's boots: 12 to 20 s); the pace is measured against it. */
const EXPECTED_BOOT_SECONDS = 60;

interface Side { name: 'A' | 'B'; runId: string; cluster: StartedCluster; node: NodeShell; pod: string }

async function main(): Promise<void> {
  const settings = readSettings();
  const version = process.argv[2] ? resolveVersion(process.argv[2]) : settings.versions[0]!;
  // Every allowance after a boot stretches with that boot's pace: a boot slower than a minute
  // (scaled) means the machine is that much slower now, and so is each step after it. Under
  // emulation the same boot took 255 s one hour and 711 s the next (2026-12-07), and then a fixed
  // allowance ran out while the API server was still only slow.
  let timeScale = settings.timeScale;
  const paceFrom = (bootSeconds: number) => { timeScale = Math.max(timeScale, bootSeconds / EXPECTED_BOOT_SECONDS); };

  const start = async (name: 'A' | 'B'): Promise<Side> => {
    const runId = `${process.pid}-side-${name.toLowerCase()}`;
    const cluster = await startCluster({
      version, mode: 'offline', image: settings.nodeImage, runId, nodes: 1,
      bootTimeoutMs: settings.bootTimeoutSeconds * 1000 * (timeScale / settings.timeScale), log: (l) => say(`${name}: ${l}`),
    });
    clusters.push(cluster);
    paceFrom(cluster.bootSeconds);
    const node = await nodeShell(cluster.containerId, (l) => say(`${name}: ${l}`), timeScale);
    const pod = `hello-${name.toLowerCase()}`;
    say(`${name}: kubectl run ${pod}`);
    await node.exec(['kubectl', 'run', pod, `--image=${cluster.images.hello}`]);
    await node.exec(['kubectl', 'wait', '--for=condition=Ready', `pod/${pod}`, `--timeout=${Math.ceil(120 * timeScale)}s`]);
    process.stdout.write(`boot ${name}: ${cluster.bootSeconds.toFixed(1)} s\ntime scale: ${timeScale.toFixed(1)}\n`);
    say(`cluster ${name} booted in ${cluster.bootSeconds.toFixed(1)} s; pod ${pod} is Ready`);
    return { name, runId, cluster, node, pod };
  };
  // What each cluster shows: its pods (every namespace but kube-system), and each pod's page.
  const check = async (side: Side, other?: Side) => {
    const pods = (await side.node.exec(['kubectl', 'get', 'pods', '-A', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}={.status.phase},{.status.containerStatuses[0].restartCount}{"\\n"}{end}']))
      .trim().split('\n').filter((l) => !l.startsWith('kube-system/'));
    const want = `default/${side.pod}=Running,0`;
    if (pods.length !== 1 || pods[0] !== want) {
      throw new Error(`cluster ${side.name} lists ${JSON.stringify(pods)} outside kube-system, not only "${want}"${other ? ` (cluster ${other.name} runs beside it)` : ''}`);
    }
    const ip = (await side.node.exec(['kubectl', 'get', 'pod', side.pod, '-o', 'jsonpath={.status.podIP}'])).trim();
    const page = await side.node.exec(['bash', '-c', `exec 3<>/dev/tcp/${ip}/80; printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3`]);
    if (!page.includes('<html')) throw new Error(`pod ${side.pod} at http://${ip}/ (cluster ${side.name}) did not serve its page: ${page.slice(0, 300)}`);
  };

  const a = await start('A');
  const b = await start('B');
  say('checking what each cluster shows');
  await check(a, b);
  await check(b, a);
  say(`both running: each cluster lists only its own pod, Running with no restart, and each page is served`);
  clusters.splice(clusters.indexOf(b.cluster), 1);
  b.cluster.stop();
  say('cluster B removed');
  await check(a);
  say('pod hello-a in cluster A still Running, with no restart, serving its page');
  if (settings.reuse) {
    // KUBE_CLAIMS_REUSE=true: cluster A stays for the next run whose cluster would be the same
    // (offline, one node, this node image): the cgroup v2 check's suite runs on it rather than
    // booting a third cluster (a boot of 230 to 500 s under emulation).
    const key = await reuseKeyFor({ version, mode: 'offline', nodeImage: settings.nodeImage, nodes: 1 });
    keepForReuse(key, a.runId, a.cluster, startedClusterInfo(a.cluster, version, 'offline'));
    releaseReusable(a.runId);
    clusters.splice(clusters.indexOf(a.cluster), 1);
    say(`cluster A stays for the next run (KUBE_CLAIMS_REUSE); remove it with: bash scripts/remove-kept.sh ${a.runId}`);
  }
}

try {
  await main();
} catch (err) {
  say(`FAILED: ${err instanceof SettingError ? err.message : String((err as Error)?.message ?? err)}`);
  for (const c of clusters) say(`last node log lines of ${c.containerId.slice(0, 12)}:\n${(await c.logTail(40).catch(() => '')).replace(/^/gm, '    ')}`);
  process.exitCode = err instanceof SettingError ? 2 : 1;
} finally {
  stopAll();
}
