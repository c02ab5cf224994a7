// The benchmark: N full runs of the chapter (`npm test`'s vitest, the claim projects only),
// each measured from outside: wall time, boot (node container start to the first test),
// test phase, teardown, per-claim durations, CPU seconds of the node versus the test process,
// and the node's peak memory. Prints medians with min and max, writes a JSON file so that two
// commits can be compared. Not a test: nothing fails on speed.
//   usage: npm run bench -- [--runs N] [--out FILE] [--idle SECONDS]   (settings as for npm test, e.g. KUBE_CLAIMS_K8S_VERSION)
//   --idle: first, a cluster of the same settings that does nothing (add-ons up) for SECONDS: the
//   node's idle CPU, the floor under every run (idle CPU per second times the wall time).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { get as httpsGet } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { execa } from 'execa';
import type { ClaimsReport } from '../helpers/report/report.js';
import { projectRoot } from '../helpers/settings.js';
import { containerEngine, labelledContainers } from '../helpers/cluster/engine.js';
import { waitForAddons } from '../helpers/cluster/addons.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const OPTIONS = ['--runs', '--out', '--idle'];
const unknown = args.filter((a, i) => !(OPTIONS.includes(a) || OPTIONS.includes(args[i - 1] ?? '')));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown argument ${unknown[0]} (usage: npm run bench -- [--runs N] [--out FILE] [--idle SECONDS]; the version comes from KUBE_CLAIMS_K8S_VERSION)\n`);
  process.exit(2);
}
const runs = Number(option('runs', '3'));
const out = option('out', join(projectRoot, 'reports', 'bench.json'));
const idleS = Number(option('idle', '0'));
if (!Number.isInteger(idleS) || idleS < 0) {
  process.stderr.write(`bench: --idle must be a whole number of seconds, not "${option('idle', '')}"\n`);
  process.exit(2);
}
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write(`bench: --runs must be a whole number of 1 or more, not "${option('runs', '')}"\n`);
  process.exit(2);
}

interface Run {
  wallS: number;
  bootS: number;
  testsS: number;
  teardownS: number;
  testProcessCpuS: number;
  nodeCpuS: number;
  nodePeakMemMiB: number;
  exitCode: number;
  claims: Record<string, number>;
  /** Where the tests' time went: step kind -> count and summed seconds (all tests of the run). */
  breakdown: Record<string, { count: number; seconds: number }>;
  /** CPU seconds of each process alive in the node outside Pods (by command name), last sample before teardown. */
  nodeProcessCpuS: Record<string, number>;
  /** The node's CPU by what used it, at the last sample before teardown (sampleNode). */
  nodeCpuSplit?: NodeSample['split'];
  /** The test process's CPU by kind (the report's workersCpu, and kubectl measured call by call). */
  harnessCpu?: { workers: number; loadS: number; workersTestsS: number; kubectlS: number; kubectlCalls: number; otherChildrenS: number; mainS: number };
  /** CPU seconds of each claim's kubectl processes. */
  claimKubectlCpuS: Record<string, number>;
  /** CPU seconds of the node's processes that ended during the tests (BSD process accounting), by command. */
  nodeEndedCpuS: Record<string, number>;
  /** API requests the server answered, by verb and resource, last sample before teardown. */
  apiRequests: Record<string, number>;
}

/**
 * What the node's CPU went to, read from inside the node at one moment: the node's cgroup in all,
 * its Pods' cgroup (kubepods: every container that ran, the ended ones too), and each process
 * alive then, in a Pod or not. The node's CPU outside Pods less its processes alive then is what
 * processes that started and ended used there: runc, the CNI plugins, iptables, the shims of
 * ended Pods, commands run in the node.
 */
const NODE_CPU_SCRIPT = `
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  echo "total $(sed -n 's/^usage_usec //p' /sys/fs/cgroup/cpu.stat)000"
  echo "pods $(sed -n 's/^usage_usec //p' /sys/fs/cgroup/kubepods/cpu.stat 2>/dev/null)000"
else
  echo "total $(cat /sys/fs/cgroup/cpuacct/cpuacct.usage)"
  echo "pods $(cat /sys/fs/cgroup/cpuacct/kubepods/cpuacct.usage 2>/dev/null)"
fi
pods=" $(grep -l kubepods /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3 | tr '\\n' ' ') "
ps -eo pid=,times=,comm= | awk -v pods="$pods" '{ $1 = index(pods, " " $1 " ") ? "pod" : "node"; print }'`;

interface NodeSample {
  /** CPU seconds of each process alive in the node outside Pods (by command name). */
  cpu: Record<string, number>;
  /** The node's CPU split: in all, in Pods, its processes alive outside Pods, and the rest (short-lived). */
  split: { totalS: number; podsS: number; liveS: number; shortLivedS: number };
  /** API requests the server answered, by verb and resource. */
  requests: Record<string, number>;
}

/**
 * The API server's /metrics, read from the host with the node's own admin credentials: no process
 * in the node. (A `kubectl get --raw /metrics` in the node every 5 s cost the node about 8
 * CPU-seconds a run, which the bench counted as the claims'.)
 */
async function metricsReader(nodeId: string): Promise<() => Promise<string>> {
  const { client, dockerode } = await containerEngine();
  const admin = await client.container.exec(client.container.getById(nodeId), ['cat', '/etc/rancher/k3s/k3s.yaml']);
  if (admin.exitCode !== 0) throw new Error(`no admin kubeconfig in node ${nodeId.slice(0, 12)} yet`);
  const config = new KubeConfig();
  config.loadFromString(admin.stdout);
  const cluster = config.getCurrentCluster(), user = config.getCurrentUser();
  const port = (await dockerode.getContainer(nodeId).inspect()).NetworkSettings.Ports['6443/tcp']?.[0]?.HostPort;
  if (!cluster?.caData || !user?.certData || !user.keyData || !port) throw new Error(`node ${nodeId.slice(0, 12)}: no client certificate or published API port`);
  const b64 = (s: string) => Buffer.from(s, 'base64');
  // The harness names the engine's host in the server's certificate (helpers/cluster/cluster.ts).
  const options = { host: client.info.containerRuntime.host, port: Number(port), path: '/metrics', ca: b64(cluster.caData), cert: b64(user.certData), key: b64(user.keyData), timeout: 10_000 };
  return () => new Promise((resolve, reject) => {
    const req = httpsGet(options, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET /metrics: ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('GET /metrics: no answer in 10 s'))).on('error', reject);
  });
}

/** The node's CPU by what used it (sampled from inside the node) and the API server's request counts. */
async function sampleNode(nodeId: string, readMetrics: () => Promise<string>): Promise<NodeSample | undefined> {
  try {
    const { client } = await containerEngine();
    const node = client.container.getById(nodeId);
    const ps = await client.container.exec(node, ['sh', '-c', NODE_CPU_SCRIPT]);
    const metrics = { stdout: await readMetrics() };
    if (ps.exitCode !== 0) return undefined;
    const cpu: Record<string, number> = {};
    let totalS = 0, podsS = 0, liveS = 0;
    for (const line of ps.stdout.trim().split('\n')) {
      const [kind, value, ...name] = line.trim().split(/\s+/);
      if (kind === 'total') totalS = Number(value) / 1e9;
      else if (kind === 'pods') podsS = Number(value) / 1e9 || 0;
      else if (kind === 'node' && name.length) {
        const k = name.join(' ');
        cpu[k] = (cpu[k] ?? 0) + Number(value);
        liveS += Number(value);
      }
    }
    const requests: Record<string, number> = {};
    for (const line of metrics.stdout.split('\n')) {
      if (!line.startsWith('apiserver_request_total{')) continue;
      const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(line)?.[1] ?? '';
      const key = `${label('verb')} ${label('resource')}${label('subresource') ? `/${label('subresource')}` : ''}`;
      requests[key] = (requests[key] ?? 0) + Number(line.split(' ').at(-1));
    }
    const r = (x: number) => +x.toFixed(2);
    return { cpu, split: { totalS: r(totalS), podsS: r(podsS), liveS: r(liveS), shortLivedS: r(totalS - podsS - liveS) }, requests };
  } catch {
    return undefined;
  }
}

/** The kind of a recorded step, by its name (helpers/fixtures/steps.ts records every one). */
const KINDS: [string, RegExp][] = [
  ['namespace: create (with its ServiceAccount wait)', /^create (the test|another) namespace/],
  ['  of which: ServiceAccount wait', /^wait for ServiceAccount default/],
  ['namespace: clean (its workloads; not waited for)', /^clean the test namespace/],
  ['kubectl port-forward set-up', /^kubectl port-forward/],
  ['kubectl exec', /^kubectl exec/],
  ['kubectl: other commands', /^kubectl /],
  ['wait: pods (scheduling, start, readiness)', /^wait for (pod |\d+ Ready pod)/],
  ['wait: other (controllers, events, logs, watches)', /^wait for /],
  ['node commands (crictl)', /^on the node:/],
  ['named steps', /./],
];

function breakdownOf(report: ClaimsReport, version: string): Run['breakdown'] {
  const out: Run['breakdown'] = {};
  for (const c of report.claims) {
    for (const st of c.results[version]?.steps ?? []) {
      const kind = KINDS.find(([, re]) => re.test(st.name))![0];
      const k = (out[kind] ??= { count: 0, seconds: 0 });
      k.count += 1;
      k.seconds += st.ms / 1000;
    }
  }
  return out;
}

/** CPU seconds and peak memory of a container, from its cgroup (v1 or v2), or undefined once gone. */
function containerUsage(id: string): { cpuS: number; peakMiB: number } | undefined {
  const v2 = `/sys/fs/cgroup/system.slice/docker-${id}.scope`;
  try {
    if (existsSync(v2)) {
      const usec = Number(/usage_usec (\d+)/.exec(readFileSync(`${v2}/cpu.stat`, 'utf8'))![1]);
      const peak = existsSync(`${v2}/memory.peak`) ? Number(readFileSync(`${v2}/memory.peak`, 'utf8')) : 0;
      return { cpuS: usec / 1e6, peakMiB: peak / 2 ** 20 };
    }
    const ns = Number(readFileSync(`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, 'utf8'));
    const peak = Number(readFileSync(`/sys/fs/cgroup/memory/docker/${id}/memory.max_usage_in_bytes`, 'utf8'));
    return { cpuS: ns / 1e9, peakMiB: peak / 2 ** 20 };
  } catch {
    return undefined;
  }
}

/**
 * BSD process accounting in the node's PID namespace (acct(2), through the host's python3 and
 * nsenter; the kernel writes a record for every process of that namespace, and of the Pods'
 * namespaces below it, when it ends): the CPU of the processes that started and ended, by command.
 * Returns a function that stops it and reads the records, or undefined where it cannot start.
 */
async function processAccounting(nodeId: string, file: string): Promise<((untilMs: number) => Promise<Record<string, number>>) | undefined> {
  const { dockerode } = await containerEngine();
  const pid = (await dockerode.getContainer(nodeId).inspect()).State.Pid;
  const acct = (path: string | null) => execa('nsenter', ['-t', String(pid), '-p', '--', 'python3', '-c',
    'import ctypes, sys; p = sys.argv[1] if len(sys.argv) > 1 else None; sys.exit(ctypes.CDLL(None).acct(p.encode() if p else None) != 0)',
    ...(path ? [path] : [])], { reject: false });
  writeFileSync(file, '');   // acct(2) appends to a file that exists
  if ((await acct(file)).exitCode !== 0) return undefined;
  return async (untilMs) => {
    await acct(null);
    const byCommand: Record<string, number> = {};
    // struct acct_v3 (64 bytes): ac_btime at 24 (start, seconds since 1970), ac_etime at 28
    // (elapsed, a float in ticks of 1/100 s), ac_utime and ac_stime at 32 and 34 as comp_t (13-bit
    // mantissa, 3-bit base-8 exponent, ticks), ac_comm at 48 (16 bytes, NUL-ended). Only processes
    // that ended before `untilMs` count: the node's removal ends the rest, long-lived ones too.
    const comp = (v: number) => (v & 0x1fff) << (((v >> 13) & 7) * 3);
    const data = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
    for (let o = 0; o + 64 <= data.length; o += 64) {
      if (data[o + 1] !== 3) continue;
      if ((data.readUInt32LE(o + 24) + data.readFloatLE(o + 28) / 100) * 1000 > untilMs) continue;
      const comm = data.subarray(o + 48, o + 64).toString('latin1').replace(/\0.*$/s, '');
      byCommand[comm] = (byCommand[comm] ?? 0) + (comp(data.readUInt16LE(o + 32)) + comp(data.readUInt16LE(o + 34))) / 100;
    }
    rmSync(file, { force: true });
    return Object.fromEntries(Object.entries(byCommand).map(([k, v]) => [k, +v.toFixed(2)]));
  };
}

async function oneRun(n: number): Promise<Run> {
  const started = Date.now();
  const at: Record<string, number> = {};
  let nodeId: string | undefined;
  let usage = { cpuS: 0, peakMiB: 0 };
  let sample: Awaited<ReturnType<typeof sampleNode>>;
  let readMetrics: (() => Promise<string>) | undefined;
  let metricsError: string | undefined;
  let sampledAt = 0;
  // Process accounting from the first sample to the last (the start of teardown).
  const acctFile = join(tmpdir(), `kube-claims-bench-${process.pid}-${n}.acct`);
  let stopAccounting: Awaited<ReturnType<typeof processAccounting>>;
  let accountingStarted = false;
  let endedByCommand: Record<string, number> | undefined;
  // bash's `times` reports the CPU of every process the run started and waited for.
  // KUBE_CLAIMS_MEASURE_CPU: each kubectl's CPU, charged to its step (helpers/verbs/kubectl.ts).
  const proc = execa('bash', ['-c', 'npx vitest run --project "k8s-*"; rc=$?; times >&2; exit $rc'], {
    cwd: projectRoot, env: { FORCE_COLOR: '0', KUBE_CLAIMS_MEASURE_CPU: '1' }, reject: false, all: true,
  });
  proc.all?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      const now = Date.now();
      if (line.includes('[kube-claims] starting ')) at.start ??= now;
      if (line.includes('[kube-claims] kubectl: ')) at.tests ??= now;
      if (line.includes('[kube-claims] stopping cluster')) at.teardown ??= now;
    }
  });
  let done = false;
  void proc.finally(() => (done = true));
  while (!done) {
    if (!nodeId && at.start) {
      nodeId = (await labelledContainers().catch(() => []))[0]?.id;
    }
    const u = nodeId ? containerUsage(nodeId) : undefined;
    if (u) usage = { cpuS: Math.max(usage.cpuS, u.cpuS), peakMiB: Math.max(usage.peakMiB, u.peakMiB) };
    // Every 5 s until teardown starts (each sample costs the node a shell and ps, and the API server its /metrics).
    if (nodeId && u && !at.teardown && Date.now() - sampledAt > 5_000) {
      sampledAt = Date.now();
      readMetrics ??= await metricsReader(nodeId).catch((err: Error) => {
        metricsError ??= err.message;
        return undefined;
      });
      if (readMetrics) sample = (await sampleNode(nodeId, readMetrics)) ?? sample;
      if (!accountingStarted) {
        accountingStarted = true;
        stopAccounting = await processAccounting(nodeId, acctFile).catch(() => undefined);
        if (!stopAccounting) process.stderr.write('[bench] process accounting could not start in the node (needs nsenter, python3 and root); processes that ended are not named\n');
      }
    }
    if (at.teardown && stopAccounting && !endedByCommand) endedByCommand = await stopAccounting(at.teardown).catch(() => ({}));
    await delay(250);
  }
  if (stopAccounting && !endedByCommand) endedByCommand = await stopAccounting(at.teardown ?? Date.now()).catch(() => ({}));
  rmSync(acctFile, { force: true });
  if (!readMetrics) process.stderr.write(`[bench] run ${n}: the API server's /metrics could not be read from the host (${metricsError ?? 'no node found'}); API requests are not counted\n`);
  const result = await proc;
  const ended = Date.now();
  const times = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(result.all ?? '');
  const report: ClaimsReport = JSON.parse(readFileSync(join(projectRoot, 'reports', 'claims.json'), 'utf8'));
  const version = report.versions[0]!;
  const claims = Object.fromEntries(report.claims
    .filter((c) => c.results[version]?.durationMs)
    .map((c) => [c.id, c.results[version]!.durationMs! / 1000]));
  const claimKubectlCpuS = Object.fromEntries(report.claims
    .filter((c) => c.results[version]?.kubectlCpuS)
    .map((c) => [c.id, c.results[version]!.kubectlCpuS!]));
  const testProcessCpuS = times ? Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]) : NaN;
  const workers = report.runs?.[version]?.workersCpu;
  const kubectlS = Object.values(claimKubectlCpuS).reduce((a, b) => a + b, 0);
  const kubectlCalls = report.claims.flatMap((c) => c.results[version]?.steps ?? []).filter((st) => st.cpuMs !== undefined).length;
  const round = (x: number) => +x.toFixed(2);
  const run: Run = {
    wallS: (ended - started) / 1000,
    bootS: ((at.tests ?? ended) - (at.start ?? started)) / 1000,
    testsS: ((at.teardown ?? ended) - (at.tests ?? started)) / 1000,
    teardownS: (ended - (at.teardown ?? ended)) / 1000,
    testProcessCpuS,
    nodeCpuS: usage.cpuS,
    nodePeakMemMiB: usage.peakMiB,
    exitCode: result.exitCode ?? -1,
    claims,
    breakdown: breakdownOf(report, version),
    nodeProcessCpuS: sample?.cpu ?? {},
    nodeCpuSplit: sample?.split,
    harnessCpu: workers && {
      workers: workers.workers,
      loadS: workers.loadS,
      workersTestsS: round(workers.ownS - workers.loadS),
      kubectlS: round(kubectlS),
      kubectlCalls,
      otherChildrenS: round(workers.childrenS - kubectlS),
      mainS: round(testProcessCpuS - workers.ownS - workers.childrenS),
    },
    claimKubectlCpuS,
    apiRequests: sample?.requests ?? {},
    nodeEndedCpuS: endedByCommand ?? {},
  };
  // A run that failed says which claims, so that its figures are read knowing it (the report is overwritten by the next run).
  const failed = report.claims.filter((c) => c.results[version]?.state === 'failed').map((c) => c.id);
  if (run.exitCode !== 0) process.stderr.write(`[bench] run ${n}: exit ${run.exitCode}; failed claims: ${failed.join(', ') || 'none (a harness check, a hook or the run itself; see its output)'}\n`);
  process.stderr.write(`[bench] run ${n}/${runs}: wall ${run.wallS.toFixed(1)} s, boot ${run.bootS.toFixed(1)} s, tests ${run.testsS.toFixed(1)} s, teardown ${run.teardownS.toFixed(1)} s, CPU node ${run.nodeCpuS.toFixed(1)} s / test process ${run.testProcessCpuS.toFixed(1)} s, node peak ${run.nodePeakMemMiB.toFixed(0)} MiB, exit ${run.exitCode}\n`);
  return run;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length / 2;
  const median = s.length % 2 ? s[Math.floor(mid)]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median: +median.toFixed(2), min: +s[0]!.toFixed(2), max: +s.at(-1)!.toFixed(2) };
};

/**
 * The node's CPU while the cluster does nothing: a cluster started apart (scripts/start-cluster.ts,
 * the same settings), its add-ons rolled out (applied in the background after the boot), then `seconds` of its cgroup's CPU; removed after.
 */
async function idleCpuPerSecond(seconds: number): Promise<number> {
  const started = await execa('npx', ['tsx', 'scripts/start-cluster.ts'], { cwd: projectRoot, reject: false, stderr: 'inherit' });
  const [runId, kubeconfig, kubectl] = started.stdout.trim().split('\n');
  if (started.exitCode !== 0 || !kubectl) throw new Error('bench: --idle could not start a cluster (scripts/start-cluster.ts)');
  try {
    await waitForAddons((args) => execa(kubectl, ['--kubeconfig', kubeconfig!, ...args]));
    const id = (await labelledContainers(runId))[0]?.id;
    const before = id ? containerUsage(id) : undefined;
    if (!id || !before) throw new Error(`bench: --idle found no node container of run ${runId}`);
    const t0 = Date.now();
    await delay(seconds * 1000);
    const after = containerUsage(id)!;
    return (after.cpuS - before.cpuS) / ((Date.now() - t0) / 1000);
  } finally {
    await execa('bash', ['scripts/remove-kept.sh', runId!], { cwd: projectRoot, reject: false });
  }
}

const idle = idleS > 0 ? await idleCpuPerSecond(idleS) : undefined;
if (idle !== undefined) process.stderr.write(`[bench] idle node: ${idle.toFixed(3)} CPU-seconds per second over ${idleS} s\n`);
const results: Run[] = [];
for (let i = 1; i <= runs; i++) results.push(await oneRun(i));
const fields = ['wallS', 'bootS', 'testsS', 'teardownS', 'nodeCpuS', 'testProcessCpuS', 'nodePeakMemMiB'] as const;
const summary = Object.fromEntries(fields.map((f) => [f, stats(results.map((r) => r[f]))]));
const ids = [...new Set(results.flatMap((r) => Object.keys(r.claims)))];
const claims = Object.fromEntries(ids.map((id) => [id, stats(results.map((r) => r.claims[id]).filter((x): x is number => x !== undefined))]));
const commit = (await execa('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectRoot, reject: false })).stdout;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ commit, date: new Date().toISOString(), runs: results.length, ...(idle !== undefined ? { idleNodeCpuPerS: +idle.toFixed(3) } : {}), summary, claims, results }, null, 2)}\n`);
console.log();
for (const f of fields) console.log(`${f.padEnd(16)} median ${summary[f]!.median}  (min ${summary[f]!.min}, max ${summary[f]!.max})`);
// Where the tests' time goes (summed over concurrent tests, so more than the test phase).
console.log('\nstep kind (summed over all tests; median of runs)            count    seconds  per step');
for (const [kind] of KINDS) {
  const rows = results.map((r) => r.breakdown[kind]).filter((x): x is { count: number; seconds: number } => x !== undefined);
  if (!rows.length) continue;
  const count = stats(rows.map((x) => x.count)).median;
  const seconds = stats(rows.map((x) => x.seconds)).median;
  console.log(`${kind.padEnd(60)} ${String(count).padStart(6)} ${seconds.toFixed(1).padStart(10)} ${(seconds / count).toFixed(2).padStart(9)}`);
}
const testSeconds = results.map((r) => Object.values(r.claims).reduce((a, b) => a + b, 0));
console.log(`${'all tests, summed'.padEnd(60)} ${''.padStart(6)} ${stats(testSeconds).median.toFixed(1).padStart(10)}`);
const medianOf = (pick: (r: Run) => Record<string, number>) => {
  const keys = [...new Set(results.flatMap((r) => Object.keys(pick(r))))];
  return Object.fromEntries(keys.map((k) => [k, stats(results.map((r) => pick(r)[k] ?? 0)).median]))
};
const top = (m: Record<string, number>, n: number) => Object.entries(m).sort((a, b) => b[1] - a[1]).slice(0, n);
const median = (pick: (r: Run) => number | undefined) => {
  const xs = results.map(pick).filter((x): x is number => x !== undefined && !Number.isNaN(x));
  return xs.length ? stats(xs).median : NaN;
};
const h = (k: keyof NonNullable<Run['harnessCpu']>) => median((r) => r.harnessCpu?.[k]);
console.log(`\ntest process CPU by kind, seconds (medians): in all ${summary.testProcessCpuS!.median}; ` +
  `vitest's main process (global setup, the cluster's start, the reporter) ${h('mainS')}; ` +
  `${h('workers')} workers loading (vitest, the harness, the suite, before their first test) ${h('loadS')}; ` +
  `the workers' tests (harness code, client-node calls, waits) ${h('workersTestsS')}; ` +
  `kubectl ${h('kubectlS')} in ${h('kubectlCalls')} calls (${(1000 * h('kubectlS') / h('kubectlCalls')).toFixed(0)} ms each); ` +
  `other children (kubectl port-forward and --watch, the measuring bash) ${h('otherChildrenS')}`);
const sp = (k: keyof NodeSample['split']) => median((r) => r.nodeCpuSplit?.[k]);
const procCpu = medianOf((r) => r.nodeProcessCpuS);
console.log(`node CPU by what used it, seconds (medians; the last sample, 5 s before teardown at most): in all ${sp('totalS')}; ` +
  `the Pods' containers ${sp('podsS')}; processes alive outside Pods ${sp('liveS')} (${top(procCpu, 8).map(([k, v]) => `${k} ${v}`).join(', ')}); ` +
  `processes that started and ended outside Pods (runc, CNI plugins, iptables, ended Pods' shims, commands in the node) ${sp('shortLivedS')}`);
const endedCpu = medianOf((r) => r.nodeEndedCpuS);
if (Object.keys(endedCpu).length) {
  const sum = Object.values(endedCpu).reduce((a, b) => a + b, 0);
  console.log(`node processes that ended during the tests, by command (BSD process accounting; in Pods and out; medians): ${sum.toFixed(1)} CPU-seconds; ${top(endedCpu, 12).map(([k, v]) => `${k} ${v}`).join(', ')}`);
}
const claimCpu = medianOf((r) => r.claimKubectlCpuS);
const claimCpuValues = Object.values(claimCpu);
if (claimCpuValues.length) {
  console.log(`kubectl CPU per claim, seconds: median ${stats(claimCpuValues).median} (max ${stats(claimCpuValues).max}); most: ${top(claimCpu, 5).map(([k, v]) => `${k} ${v}`).join(', ')}`);
}
const requests = medianOf((r) => r.apiRequests);
const totalRequests = Object.values(requests).reduce((a, b) => a + b, 0);
console.log(`API requests (incl. the components' own): ${totalRequests}; most: ${top(requests, 10).map(([k, v]) => `${k} ${v}`).join(', ')}`);
const perClaim = Object.values(claims).map((c) => c.median);
console.log(`per-claim median of medians ${stats(perClaim).median} s (min ${stats(perClaim).min}, max ${stats(perClaim).max}); slowest: ${Object.entries(claims).sort((a, b) => b[1].median - a[1].median).slice(0, 3).map(([id, c]) => `${id} ${c.median} s`).join(', ')}`);
if (idle !== undefined) {
  const wall = summary.wallS!.median;
  console.log(`idle node ${idle.toFixed(3)} CPU-s/s: over the median wall (${wall} s) ${(idle * wall).toFixed(1)} of the node's ${summary.nodeCpuS!.median} CPU-seconds are its idle floor; the rest is what the claims made it do`);
}
console.log(`written: ${out}`);
process.exit(results.some((r) => r.exitCode !== 0) ? 1 : 0);
