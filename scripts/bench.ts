// The benchmark: N full runs of the chapter (`npm test`'s vitest, the claim projects only),
// each measured from outside: wall time, boot (node container start to the first test),
// test phase, teardown, per-claim durations, CPU seconds of the node versus the test process,
// and the node's peak memory. Prints medians with min and max, writes a JSON file so that two
// commits can be compared. Not a test: nothing fails on speed.
//   usage: npm run bench -- [--runs N] [--out FILE] [--idle SECONDS]   (settings as for npm test, e.g. KUBE_CLAIMS_K8S_VERSION)
//   --idle: first, a cluster of the same settings that does nothing (add-ons up) for SECONDS: the
//   node's idle CPU, the floor under every run (idle CPU per second times the wall time).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { execa } from 'execa';
import type { ClaimsReport } from '../helpers/report/report.js';
import { projectRoot } from '../helpers/settings.js';
import { containerEngine, labelledContainers } from '../helpers/cluster/engine.js';

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
  /** CPU seconds of each process in the node (by command name), last sample before teardown. */
  nodeProcessCpuS: Record<string, number>;
  /** API requests the server answered, by verb and resource, last sample before teardown. */
  apiRequests: Record<string, number>;
}

/** The node's processes' CPU seconds and the API server's request counts (sampled from inside the node). */
async function sampleNode(nodeId: string): Promise<{ cpu: Record<string, number>; requests: Record<string, number> } | undefined> {
  try {
    const { client } = await containerEngine();
    const node = client.container.getById(nodeId);
    const ps = await client.container.exec(node, ['ps', '-eo', 'comm=,times=']);
    const metrics = await client.container.exec(node, ['kubectl', 'get', '--raw', '/metrics']);
    if (ps.exitCode !== 0 || metrics.exitCode !== 0) return undefined;
    const cpu: Record<string, number> = {};
    for (const line of ps.stdout.trim().split('\n')) {
      const m = /^(.*\S)\s+(\d+)$/.exec(line.trim());
      if (m) cpu[m[1]!] = (cpu[m[1]!] ?? 0) + Number(m[2]);
    }
    const requests: Record<string, number> = {};
    for (const line of metrics.stdout.split('\n')) {
      if (!line.startsWith('apiserver_request_total{')) continue;
      const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(line)?.[1] ?? '';
      const key = `${label('verb')} ${label('resource')}${label('subresource') ? `/${label('subresource')}` : ''}`;
      requests[key] = (requests[key] ?? 0) + Number(line.split(' ').at(-1));
    }
    return { cpu, requests };
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

async function oneRun(n: number): Promise<Run> {
  const started = Date.now();
  const at: Record<string, number> = {};
  let nodeId: string | undefined;
  let usage = { cpuS: 0, peakMiB: 0 };
  let sample: Awaited<ReturnType<typeof sampleNode>>;
  let sampledAt = 0;
  // bash's `times` reports the CPU of every process the run started and waited for.
  const proc = execa('bash', ['-c', 'npx vitest run --project "k8s-*"; rc=$?; times >&2; exit $rc'], {
    cwd: projectRoot, env: { FORCE_COLOR: '0' }, reject: false, all: true,
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
    // Every 5 s until teardown starts (each sample costs the node one kubectl call).
    if (nodeId && u && !at.teardown && Date.now() - sampledAt > 5_000) {
      sampledAt = Date.now();
      sample = (await sampleNode(nodeId)) ?? sample;
    }
    await delay(250);
  }
  const result = await proc;
  const ended = Date.now();
  const times = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(result.all ?? '');
  const report: ClaimsReport = JSON.parse(readFileSync(join(projectRoot, 'reports', 'claims.json'), 'utf8'));
  const version = report.versions[0]!;
  const claims = Object.fromEntries(report.claims
    .filter((c) => c.results[version]?.durationMs)
    .map((c) => [c.id, c.results[version]!.durationMs! / 1000]));
  const run: Run = {
    wallS: (ended - started) / 1000,
    bootS: ((at.tests ?? ended) - (at.start ?? started)) / 1000,
    testsS: ((at.teardown ?? ended) - (at.tests ?? started)) / 1000,
    teardownS: (ended - (at.teardown ?? ended)) / 1000,
    testProcessCpuS: times ? Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]) : NaN,
    nodeCpuS: usage.cpuS,
    nodePeakMemMiB: usage.peakMiB,
    exitCode: result.exitCode ?? -1,
    claims,
    breakdown: breakdownOf(report, version),
    nodeProcessCpuS: sample?.cpu ?? {},
    apiRequests: sample?.requests ?? {},
  };
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
 * the same settings), its add-ons rolled out, then `seconds` of its cgroup's CPU; removed after.
 */
async function idleCpuPerSecond(seconds: number): Promise<number> {
  const started = await execa('npx', ['tsx', 'scripts/start-cluster.ts'], { cwd: projectRoot, reject: false, stderr: 'inherit' });
  const [runId, kubeconfig, kubectl] = started.stdout.trim().split('\n');
  if (started.exitCode !== 0 || !kubectl) throw new Error('bench: --idle could not start a cluster (scripts/start-cluster.ts)');
  try {
    await execa(kubectl, ['--kubeconfig', kubeconfig!, '-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', 'deployment/local-path-provisioner', '--timeout=180s']);
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
const procCpu = medianOf((r) => r.nodeProcessCpuS);
console.log(`\nnode processes, CPU seconds (5 s before teardown at most): ${top(procCpu, 8).map(([k, v]) => `${k} ${v}`).join(', ')}`);
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
