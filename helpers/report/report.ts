// The claims report: one row per catalogued claim, one column per Kubernetes version.
// Written by the vitest reporter after each run, and merged across CI jobs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import junitReportBuilder, { type Builder } from 'junit-report-builder';
import { catalogue } from '../fixtures/claims.js';
import type { Step } from '../fixtures/steps.js';
import { buildNotesReport, renderNotesMarkdown } from './notes.js';
import { renderHtml } from './html.js';

/**
 * passed: the cluster behaves as the book says; differs: it does not on this version, as the
 * catalogue explains (the test checked the actual behaviour); corrects the notes: the test
 * showed the reader's notes wrong, as the catalogue explains (`correctsNotes`); failed: none of
 * these; skipped: the claim does not apply here (the reason says why); not covered: no test ran
 * for it.
 */
export type Outcome = 'passed' | 'differs' | 'corrects the notes' | 'failed' | 'skipped' | 'not covered';

export interface ClaimResult {
  state: Outcome;
  durationMs?: number;
  /** Why it was skipped, differs or corrects the notes, the first line of the failure, or a note on this version. */
  reason?: string;
  title?: string;
  /** The test's steps: kubectl commands, waits, node commands and named steps, in order. */
  steps?: Step[];
  /** A failed test's describe, events and logs of its namespace. */
  diagnostics?: string;
  /** CPU seconds of the test's kubectl processes, where measured (`npm run bench`). */
  kubectlCpuS?: number;
}

/** What ran for one Kubernetes version. */
export interface RunInfo {
  nodeImage: string;
  mode: string;
  kubectl: string;
  /** Nodes in the cluster, and the component settings the run changed from k3s's defaults. */
  nodes?: number;
  settings?: string[];
  /**
   * The CPU seconds of the vitest workers that ran this version's tests (Linux): how many, before
   * their first tests (loading vitest, the harness and the suites), in all, and their children's
   * (kubectl). The main vitest process (global setup, the reporter) is not in it.
   */
  workersCpu?: { workers: number; loadS: number; ownS: number; childrenS: number };
}

export interface ClaimsReport {
  generatedAt: string;
  versions: string[];
  /** Per version: the node image, image mode and kubectl version used. */
  runs?: Record<string, RunInfo>;
  claims: { id: string; section: string; claim: string; results: Record<string, ClaimResult> }[];
}

/** Build the report from results keyed by version, then claim id. Unknown ids are an error. */
export function buildReport(results: Record<string, Record<string, ClaimResult>>, runs?: Record<string, RunInfo>): ClaimsReport {
  const versions = Object.keys(results).sort(compareVersions);
  for (const [version, byId] of Object.entries(results)) {
    for (const id of Object.keys(byId)) {
      if (!catalogue().claims.some((c) => c.id === id)) throw new Error(`result for unknown claim id "${id}" on ${version}`);
    }
  }
  return {
    generatedAt: new Date().toISOString(),
    versions,
    runs,
    claims: catalogue().claims.map((c) => ({
      id: c.id,
      section: c.section,
      claim: c.claim,
      results: Object.fromEntries(versions.map((v) => [v, results[v]?.[c.id] ?? { state: 'not covered' as const }])),
    })),
  };
}

/** How bad a result is, when two jobs report one claim on one version. */
const SEVERITY: Record<Outcome, number> = { failed: 5, differs: 4, 'corrects the notes': 3, passed: 2, skipped: 1, 'not covered': 0 };

/** Several reports (one per CI job) as one; for a claim two jobs checked, the worse result. */
export function mergeReports(reports: ClaimsReport[]): ClaimsReport {
  const results: Record<string, Record<string, ClaimResult>> = {};
  const runs: Record<string, RunInfo> = {};
  for (const r of reports) {
    Object.assign(runs, r.runs ?? {});
    for (const v of r.versions) {
      const byId = (results[v] ??= {});
      for (const c of r.claims) {
        const next = c.results[v];
        if (!next || next.state === 'not covered') continue;
        const prev = byId[c.id];
        if (!prev || SEVERITY[next.state] > SEVERITY[prev.state]) byId[c.id] = next;
      }
    }
  }
  return buildReport(results, runs);
}

export function summaryLine(report: ClaimsReport, version: string): string {
  const count = (s: Outcome) => report.claims.filter((c) => c.results[version]?.state === s).length;
  return `Kubernetes ${version}: ${count('passed')} passed, ${count('differs')} differ, ${count('corrects the notes')} correct the notes, ${count('failed')} failed, ${count('skipped')} skipped, ${count('not covered')} not covered (of ${report.claims.length} claims)`;
}

const cell = (r: ClaimResult | undefined) => {
  if (!r) return '';
  const slowest = [...(r.steps ?? [])].sort((a, b) => b.ms - a.ms)[0];
  const secs = r.durationMs !== undefined
    ? ` (${(r.durationMs / 1000).toFixed(1)} s${slowest ? `; slowest step ${(slowest.ms / 1000).toFixed(1)} s: ${slowest.name.slice(0, 60).replace(/\|/g, "\\|")}` : ''})`
    : '';
  const mark = {
    passed: '✅ passed', differs: '🔶 differs', 'corrects the notes': '📝 corrects the notes', failed: '❌ failed', skipped: '⏭️ skipped', 'not covered': '⚪ not covered',
  }[r.state];
  const why = r.reason ? `: ${r.reason.replace(/\|/g, '\\|').replace(/\n/g, ' ')}` : '';
  return `${mark}${secs}${why}`;
};

export function renderMarkdown(report: ClaimsReport): string {
  const lines = [
    `# Chapter ${catalogue().chapter} claims: ${catalogue().title}`,
    '',
    ...report.versions.map((v) => `- ${summaryLine(report, v)}`),
    '',
    ...report.versions.filter((v) => report.runs?.[v]).map((v) => {
      const run = report.runs![v]!;
      const nodes = run.nodes && run.nodes > 1 ? `${run.nodes} nodes, ` : '';
      const settings = run.settings?.length ? `; cluster settings: ${run.settings.map((x) => `\`${x}\``).join(', ')}` : '';
      // An existing cluster's "node image" names the cluster (helpers/cluster/existing-cluster.ts).
      const where = run.nodeImage.startsWith('existing cluster') ? run.nodeImage : `node image \`${run.nodeImage}\``;
      return `Kubernetes ${v}: ${nodes}${where} (${run.mode} images), kubectl ${run.kubectl}${settings}.`;
    }),
    '',
    `| id | section | claim | ${report.versions.map((v) => `Kubernetes ${v}`).join(' | ')} |`,
    `|---|---|---|${report.versions.map(() => '---').join('|')}|`,
    ...report.claims.map((c) =>
      `| ${c.id} | ${c.section} | ${c.claim.replace(/\|/g, '\\|')} | ${report.versions.map((v) => cell(c.results[v])).join(' | ')} |`),
    '',
    `Generated ${report.generatedAt}.`,
  ];
  return `${lines.join('\n')}\n`;
}

function junitFor(report: ClaimsReport, version: string): string {
  // The package's types describe its CommonJS default export one level too deep.
  const junit = (junitReportBuilder as unknown as Builder).newBuilder();
  const suite = junit.testSuite().name(`kube-claims Kubernetes ${version}`);
  for (const c of report.claims) {
    const r = c.results[version]!;
    const t = suite.testCase().className(`ch02.section-${c.section}`).name(`${c.id}: ${c.claim}`).time((r.durationMs ?? 0) / 1000);
    // JUnit knows no "differs" or "corrects the notes": the case passes (the test checked the
    // stated behaviour) and carries the state and the reason as a property and in its output.
    t.property('kube-claims.state', r.state);
    if (r.state === 'failed') t.failure(r.reason ?? 'failed');
    if (r.state === 'skipped' || r.state === 'not covered') t.skipped();
    const lines = [
      ...(r.reason && r.state !== 'failed' ? [`${r.state}: ${r.reason}`] : []),
      ...(r.steps ?? []).map((x) => `step at ${(x.at / 1000).toFixed(1)} s, ${(x.ms / 1000).toFixed(1)} s, ${x.ok ? 'ok' : `FAILED: ${x.error}`}: ${x.name}`),
    ];
    if (lines.length) t.standardOutput(lines.join('\n'));
  }
  return junit.build();
}

/**
 * Write claims.json, claims.md, notes.md (the reader's notes, checked), index.html (the page of
 * both) and junit-<version>.xml into `dir`; returns the Markdown of the matrix and the notes.
 */
export function writeReports(report: ClaimsReport, dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'claims.json'), `${JSON.stringify(report, null, 2)}\n`);
  const notes = buildNotesReport(report);
  const md = `${renderMarkdown(report)}\n${renderNotesMarkdown(notes)}`;
  writeFileSync(join(dir, 'claims.md'), renderMarkdown(report));
  writeFileSync(join(dir, 'notes.md'), renderNotesMarkdown(notes));
  writeFileSync(join(dir, 'index.html'), renderHtml(report, notes));
  for (const v of report.versions) writeFileSync(join(dir, `junit-${v.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/_$/, '')}.xml`), junitFor(report, v));
  return md;
}

function compareVersions(a: string, b: string): number {
  // A column is a version, or a version and a context ("1.31.4 (kind-kind)").
  const pa = a.split(' ')[0]!.split('.').map(Number);
  const pb = b.split(' ')[0]!.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pb[i] ?? 0) - (pa[i] ?? 0);
  return 0;
}
