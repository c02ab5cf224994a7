// The "corrects the notes" state, from the catalogue field to every report: the schema, the
// state a passing test gets from its annotations, the Markdown, JSON and JUnit, and merging.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { catalogue, checkCatalogue, CORRECTS_NOTES, DIFFERS, NOTE } from '../helpers/fixtures/claims.js';
import { passedResult } from '../helpers/report/claims-reporter.js';
import { scratchDir } from './scratch.js';
import { buildReport, type ClaimsReport, mergeReports, type Outcome, writeReports } from '../helpers/report/report.js';

const correction = 'The notes list Ready as a phase after Running; phases are Pending, Running, Succeeded, Failed, Unknown, and Ready is a condition';
const version = '1.37.2';

/** A one-claim catalogue with `extra` fields on its claim. */
const withClaim = (extra: Record<string, unknown>) => ({
  chapter: 2,
  title: 'Running containers',
  notes: { file: 'claims/notes/ch02.ko.md', statements: [{ section: '2.1', quote: '여러 단계의 상태', gloss: 'phases', claims: ['pod-phases'] }] },
  claims: [{ id: 'pod-phases', section: '2.1', claim: 'Pending, Running, Ready', title: 'a Pod is Pending before Running', observe: 'watch events', ...extra }],
});

describe('correctsNotes in the catalogue', () => {
  test('is accepted; a difference stated for a version alone is refused (one is reported only where the test saw it)', () => {
    expect(checkCatalogue(withClaim({ correctsNotes: correction })).claims[0]!.correctsNotes).toBe(correction);
    expect(() => checkCatalogue(withClaim({ correctsNotes: correction, differs: [{ kubernetes: '<1.31', why: 'older' }] }))).toThrow(/differs/);
  });

  test('is refused empty, misspelt, or with outcomes, in one line naming the claim and field', () => {
    expect(() => checkCatalogue(withClaim({ correctsNotes: '' }))).toThrow(/^claims\/ch02\.yaml: claim "pod-phases" \(#1\): correctsNotes: must not be empty;/);
    expect(() => checkCatalogue(withClaim({ correctNotes: correction }))).toThrow(/^claims\/ch02\.yaml: claim "pod-phases" \(#1\): entry: Unrecognized key: "correctNotes";/);
    const outcomes = [{ kubernetes: '*', when: 'it raced', seen: { restarts: 1 } }];
    expect(() => checkCatalogue(withClaim({ correctsNotes: correction, outcomes }))).toThrow(
      /^claims\/ch02\.yaml: claim "pod-phases" \(#1\): correctsNotes: a claim with outcomes says how each result relates to the book in them/,
    );
  });
});

describe('the state of a passing test', () => {
  const correct = { type: CORRECTS_NOTES, message: correction };
  test('is "corrects the notes" with the catalogue\'s reason, then notes on the version', () => {
    expect(passedResult([correct])).toEqual({ state: 'corrects the notes', reason: correction });
    expect(passedResult([correct, { type: NOTE, message: 'took 2 s' }])).toEqual({ state: 'corrects the notes', reason: `${correction}; took 2 s` });
  });

  test('is "differs" with its own reason where the version differs, and "passed" with neither', () => {
    expect(passedResult([{ type: DIFFERS, message: 'no replacement' }, correct])).toEqual({ state: 'differs', reason: 'no replacement' });
    expect(passedResult([{ type: 'other', message: 'x' }])).toEqual({ state: 'passed', reason: undefined });
  });
});

describe('the reports', () => {
  // Real ids: the report has a row for every claim of the catalogue.
  const [corrects, differs] = catalogue().claims.map((c) => c.id);
  const report = buildReport({
    [version]: {
      [corrects!]: { state: 'corrects the notes', reason: correction, durationMs: 1200 },
      [differs!]: { state: 'differs', reason: 'no replacement' },
    },
  });

  test('Markdown, JSON and JUnit show the state and its reason', () => {
    const dir = scratchDir('report');
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const md = writeReports(report, dir);
    expect(md).toContain(`Kubernetes ${version}: 0 passed, 1 differ, 1 correct the notes, 0 failed, 0 skipped,`);
    expect(md).toContain(`| ${corrects} | `);
    expect(md).toContain(`📝 corrects the notes (1.2 s): ${correction} |`);

    const json = JSON.parse(readFileSync(join(dir, 'claims.json'), 'utf8')) as ClaimsReport;
    expect(json.claims.find((c) => c.id === corrects)!.results[version]).toEqual({ state: 'corrects the notes', reason: correction, durationMs: 1200 });

    const junit = readFileSync(join(dir, `junit-${version}.xml`), 'utf8');
    const testCase = junit.match(new RegExp(`<testcase [^>]*name="${corrects}: [\\s\\S]*?</testcase>`))?.[0];
    expect(testCase).toContain('<property name="kube-claims.state" value="corrects the notes"/>');
    expect(testCase).toContain(`<system-out><![CDATA[corrects the notes: ${correction}]]></system-out>`);
    expect(testCase).not.toMatch(/<failure|<skipped/);
  });

  test('merging keeps the worse: failed > differs > corrects the notes > passed > skipped > not covered', () => {
    const order: Outcome[] = ['failed', 'differs', 'corrects the notes', 'passed', 'skipped', 'not covered'];
    const job = (state: Outcome) => buildReport({ [version]: { [corrects!]: { state } } });
    const merged = (states: Outcome[]) => mergeReports(states.map(job)).claims.find((c) => c.id === corrects)!.results[version]!.state;
    for (const [i, worse] of order.entries()) {
      for (const better of order.slice(i + 1)) {
        for (const jobs of [[worse, better], [better, worse]]) expect(merged(jobs), jobs.join(' then ')).toBe(worse);
      }
    }
  });
});
