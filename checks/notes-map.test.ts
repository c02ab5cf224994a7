// The notes' map (claims/ch02.yaml, notes): every statement of the reader's notes is quoted
// under the claims that check it or as not checkable, every claim has its place, and a quote
// finds exactly one place in the notes. The check refuses each kind of gap in one line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { CATALOGUE_FILE, catalogue, checkCatalogue, notesMapGaps, notesUnits } from '../helpers/fixtures/claims.js';
import { projectRoot } from '../helpers/settings.js';

const raw = () => parse(readFileSync(join(projectRoot, CATALOGUE_FILE), 'utf8'));
const notesText = readFileSync(join(projectRoot, catalogue().notes.file), 'utf8');
type Statement = { quote: string; claims?: string[]; unchecked?: string; section: string; gloss: string };

describe("the notes' map", () => {
  test('has no gap: each line of prose and each command block of the notes is in a statement', () => {
    expect(notesUnits(notesText).length).toBeGreaterThan(60);
    expect(notesMapGaps(catalogue().notes.statements, notesText)).toEqual([]);
  });

  test('refuses a line of the notes that no statement quotes, naming the line', () => {
    const statements = (raw().notes.statements as Statement[]).filter((s) => s.quote !== '파드 = 콘서트 기획자');
    expect(notesMapGaps(statements, notesText)).toEqual([
      expect.stringMatching(/^line 167 of the notes \("- 파드 = 콘서트 기획자"\) is in no statement: quote it under the claims that check it, or as unchecked with why$/),
    ]);
  });

  test('refuses a quote found twice in the notes, or not at all', () => {
    const statements: Statement[] = [...raw().notes.statements, { section: '2.1', quote: 'kubectl get pod hello-kiamol', gloss: 'g', claims: ['get-pods-columns'] }];
    expect(notesMapGaps(statements, notesText)).toEqual([expect.stringMatching(/quote "kubectl get pod hello-kiamol" appears 3 times in the notes: quote more of it$/)]);
    const missing: Statement[] = [...raw().notes.statements, { section: '2.1', quote: '파드는 영원하다', gloss: 'g', claims: ['get-pods-columns'] }];
    expect(notesMapGaps(missing, notesText)).toEqual([expect.stringMatching(/quote "파드는 영원하다" is not in the notes$/)]);
  });

  test('refuses a claim with no place in the notes, a statement with neither claims nor why, and an unknown claim', () => {
    const noPlace = raw();
    noPlace.notes.statements = noPlace.notes.statements.filter((s: Statement) => !s.quote.startsWith('2.6'));
    expect(() => checkCatalogue(noPlace)).toThrow(/^claims\/ch02\.yaml: claim "lab-whoami" \(#\d+\): id: "lab-whoami" has no place in the notes: list it under the statement of notes\.statements it checks/);
    const neither = raw();
    delete neither.notes.statements[0].claims;
    expect(() => checkCatalogue(neither)).toThrow(/notes\.statements\.0: needs either claims \(the claims that check it\) or unchecked \(why no test can\), not both/);
    const unknown = raw();
    unknown.notes.statements[0].claims = ['pods-are-forever'];
    expect(() => checkCatalogue(unknown)).toThrow(/"pods-are-forever" is not a claim of the catalogue/);
  });
});
