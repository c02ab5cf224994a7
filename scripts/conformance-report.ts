// Reads the Ginkgo JSON reports of scripts/conformance.sh.
//   specs DRY_RUN_JSON   the specs a dry run selected, one per line (container texts and the It's text)
//   suite DRY_RUN_JSON   the suite's description (Ginkgo matches --focus against "<suite> <spec>")
//   summary RUN_DIR      a table of every spec (state, duration, first lines of a failure), counts
//                        and medians; exits 1 unless every selected spec passed
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface SpecReport {
  LeafNodeType: string;
  LeafNodeText: string;
  ContainerHierarchyTexts?: string[] | null;
  State: string;
  RunTime?: number;
  Failure?: { Message?: string; Location?: { FileName?: string; LineNumber?: number } };
}
interface SuiteReport { SuiteDescription: string; SpecReports?: SpecReport[] | null }

const read = (path: string): SuiteReport[] => JSON.parse(readFileSync(path, 'utf8')) as SuiteReport[];
const text = (s: SpecReport) => [...(s.ContainerHierarchyTexts ?? []).filter(Boolean), s.LeafNodeText].join(' ');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function specs(path: string): void {
  const names = read(path).flatMap((suite) => (suite.SpecReports ?? [])
    .filter((s) => s.LeafNodeType === 'It' && !['skipped', 'pending'].includes(s.State))
    .map(text));
  if (names.length) console.log([...names].sort().join('\n'));
}

function summary(dir: string): number {
  const rows = readFileSync(join(dir, 'runs.tsv'), 'utf8').split('\n').filter(Boolean).map((line) => {
    const [id, rc, wall, spec] = line.split('\t') as [string, string, string, string];
    let state = rc === 'not-run' ? 'not run (time budget)' : 'no report';
    let seconds = 0;
    let failure = '';
    const report = join(dir, 'json', `${id}.json`);
    if (existsSync(report)) {
      for (const s of read(report).flatMap((suite) => suite.SpecReports ?? [])) {
        if (s.LeafNodeType === 'It' && s.State !== 'skipped') {
          state = s.State;
          seconds = (s.RunTime ?? 0) / 1e9;
          if (s.Failure?.Message) failure = `${s.Failure.Message.trim()} [${(s.Failure.Location?.FileName ?? '').split('/').pop()}:${s.Failure.Location?.LineNumber ?? ''}]`;
        } else if (/BeforeSuite/.test(s.LeafNodeType) && s.State !== 'passed') {
          state = `suite set-up ${s.State}`;
          failure = s.Failure?.Message ?? '';
        }
      }
    }
    return { id, state, seconds, wall: Number(wall), spec, failure };
  });
  console.log('| # | result | spec s | process s | spec |\n|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.id} | ${r.state} | ${r.seconds.toFixed(1)} | ${r.wall} | ${r.spec} |`);
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  const ran = rows.filter((r) => r.seconds > 0);
  console.log(`\n${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')} of ${rows.length} specs`);
  console.log(`median spec ${median(ran.map((r) => r.seconds)).toFixed(1)} s; median process ${median(ran.map((r) => r.wall)).toFixed(1)} s; run ${readFileSync(join(dir, 'wall_s'), 'utf8').trim()} s wall`);
  for (const r of rows.filter((x) => x.state !== 'passed')) {
    console.log(`\n--- [${r.id}] ${r.state}: ${r.spec}`);
    console.log(r.failure.split('\n').slice(0, 12).map((l) => `    ${l}`).join('\n'));
  }
  return rows.every((r) => r.state === 'passed') ? 0 : 1;
}

const [command, path] = process.argv.slice(2);
if (command === 'specs' && path) specs(path);
else if (command === 'suite' && path) console.log(read(path)[0]?.SuiteDescription ?? '');
else if (command === 'summary' && path) process.exitCode = summary(path);
else {
  console.error('usage: conformance-report.ts specs|suite DRY_RUN_JSON | summary RUN_DIR');
  process.exitCode = 2;
}
