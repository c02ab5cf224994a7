// vitest reporter: after the run, map every test back to its claim id (the title's prefix)
// and write the claims report for every Kubernetes version (one vitest project each).
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import { buildReport, type ClaimResult, type RunInfo, summaryLine, writeReports } from './report.js';
import { NODE_PULL_FAILED } from '../cluster/pull-failure.js';
import { isBooting } from '../cluster/context.js';
import { projectRoot } from '../settings.js';
import { catalogue, CORRECTS_NOTES, DIFFERS, NOTE, testNamePattern } from '../fixtures/claims.js';
import type { ClaimMeta, WorkerCpu } from '../fixtures/fixtures.js';

export default class ClaimsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const results: Record<string, Record<string, ClaimResult>> = {};
    const diagnostics: string[] = [];
    const runs: Record<string, RunInfo> = {};
    const workersOf: Record<string, Map<number, WorkerCpu>> = {};
    for (const mod of testModules) {
      // Only the per-version projects check claims (not the harness's own checks).
      if (!mod.project.name.startsWith('k8s-')) continue;
      // Global setup provides the whole description once the cluster is up.
      const provided = mod.project.getProvidedContext().cluster;
      const cluster = provided && !isBooting(provided) ? provided : undefined;
      // A column per cluster: its version, and for an existing cluster its context.
      const version = cluster?.column ?? mod.project.name.replace(/^k8s-/, '');
      if (cluster) runs[version] = {
        nodeImage: cluster.image, mode: cluster.mode, kubectl: cluster.kubectlVersion,
        nodes: cluster.nodes.length, settings: cluster.settings,
      };
      const byId = (results[version] ??= {});
      const workers = (workersOf[version] ??= new Map<number, WorkerCpu>());
      for (const test of mod.children.allTests()) {
        const id = test.name.split(':')[0]!;
        const r = test.result();
        const annotations = test.annotations();
        const { steps, diagnostics: shown, kubectlCpuMs, worker } = test.meta() as ClaimMeta;
        if (worker && worker.ownMs >= (workers.get(worker.pid)?.ownMs ?? -1)) workers.set(worker.pid, worker);
        if (r.state === 'failed' && shown) {
          diagnostics.push(`===== ${test.name.split(':')[0]} failed on Kubernetes ${version}; what the cluster showed =====\n${shown.trimEnd()}\n`);
        }
        const failedStep = steps?.find((x) => !x.ok);
        const passed = passedResult(annotations);
        const state = r.state === 'pending' ? 'skipped' : r.state === 'passed' ? passed.state : r.state;
        // Repeated rounds (KUBE_CLAIMS_REPEAT): a failure in any round is the claim's result.
        if (byId[id]?.state === 'failed') continue;
        byId[id] = {
          state,
          title: test.name,
          durationMs: Math.round(test.diagnostic()?.duration ?? 0),
          ...(kubectlCpuMs ? { kubectlCpuS: kubectlCpuMs / 1000 } : {}),
          steps,
          ...(r.state === 'failed' && shown ? { diagnostics: shown } : {}),
          reason: r.state === 'skipped' ? r.note
            : r.state === 'failed' ? `${r.errors?.[0]?.message?.split('\n')[0]}${failedStep ? ` (in step: ${failedStep.name})` : ''}`
            : passed.reason,
        };
      }
    }
    if (Object.keys(results).length === 0) return;
    for (const [version, workers] of Object.entries(workersOf)) {
      const sum = (pick: (w: WorkerCpu) => number) => +([...workers.values()].reduce((a, w) => a + pick(w), 0) / 1000).toFixed(2);
      if (runs[version] && workers.size) {
        runs[version]!.workersCpu = { workers: workers.size, loadS: sum((w) => w.loadMs), ownS: sum((w) => w.ownMs), childrenS: sum((w) => w.childrenMs) };
      }
    }
    // `-t PATTERN` loads only the suite files that hold matching claims (vitest.config.ts): the
    // claims it leaves out are skipped, as vitest skips unmatched tests, not "not covered".
    const pattern = testNamePattern(process.argv);
    const re = pattern === undefined ? undefined : (() => { try { return new RegExp(pattern); } catch { return undefined; } })();
    if (re) {
      for (const byId of Object.values(results)) {
        for (const c of catalogue().claims) {
          if (!byId[c.id] && !re.test(`${c.id}: ${c.title}`)) byId[c.id] = { state: 'skipped', reason: `not selected (-t ${pattern})` };
        }
      }
    }
    // Each failed test's diagnostics, under its own name (not mixed into other tests' output).
    if (diagnostics.length) process.stdout.write(`\n${diagnostics.join('\n')}\n`);
    const dir = join(projectRoot, 'reports');
    const report = buildReport(results, runs);
    const md = writeReports(report, dir);
    for (const v of report.versions) process.stdout.write(`[kube-claims] ${summaryLine(report, v)}\n`);
    process.stdout.write(`[kube-claims] report: ${join(dir, 'claims.md')}\n`);
    // Claims ended by a pull the node could not make: one line for the run, not one per claim.
    const pullFailures = Object.values(results).flatMap((byId) => Object.entries(byId))
      .filter(([, r]) => r.state === 'failed' && r.reason?.startsWith(NODE_PULL_FAILED));
    if (pullFailures.length) {
      process.stdout.write(`[kube-claims] ${pullFailures.length} claim(s) ended at once because ${pullFailures[0]![1].reason!.replace(/ \(in step: .*\)$/, '')} (${pullFailures.map(([id]) => id).join(', ')})\n`);
    }
    if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, md);
  }
}

/**
 * A passed test's state and reason, from the annotations `claim()` wrote: a difference from the
 * book on this version outranks a correction of the notes; notes on the version follow.
 */
export function passedResult(annotations: ReadonlyArray<{ type: string; message: string }>): Pick<ClaimResult, 'state' | 'reason'> {
  const of = (type: string) => annotations.filter((a) => a.type === type).map((a) => a.message);
  const [differs, corrections, notes] = [of(DIFFERS), of(CORRECTS_NOTES), of(NOTE)];
  const state = differs.length > 0 ? 'differs' : corrections.length > 0 ? 'corrects the notes' : 'passed';
  return { state, reason: [...(differs.length > 0 ? differs : corrections), ...notes].join('; ') || undefined };
}
