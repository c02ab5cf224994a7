// The reader's notes, checked: each statement of the notes (claims/ch02.yaml, notes) in the
// notes' order, with what the claims that check it found on each version. Written as
// reports/notes.md beside the claims table, and shown in reports/index.html.
import { catalogue, normalizeNotes, notesText } from '../fixtures/claims.js';
import type { ClaimResult, ClaimsReport } from './report.js';

/**
 * holds: every claim that checks it passed; wrong: a claim showed the notes wrong (the reason
 * says what the cluster showed); differs: the cluster did otherwise on this version; failed: a
 * check failed, so it is not known; skipped and not covered: nothing checked it here;
 * cannot be checked: no test can (the reason says why).
 */
export type Verdict = 'holds' | 'wrong' | 'differs' | 'failed' | 'skipped' | 'not covered' | 'cannot be checked';
export const VERDICTS: Verdict[] = ['holds', 'wrong', 'differs', 'failed', 'skipped', 'not covered', 'cannot be checked'];

/** A line of kubectl's output that proves a result, and the command that printed it. */
export interface Shown {
  claim: string;
  command: string;
  line: string;
}

export interface StatementVerdict {
  verdict: Verdict;
  /** What the cluster showed: the reasons of the claims that decided the verdict. */
  detail?: string;
  /** Lines of kubectl's output that prove it (the claims' `shows`). */
  shown?: Shown[];
}

export interface NotesReportStatement {
  section: string;
  quote: string;
  gloss: string;
  /** The claims that check it (empty when none can). */
  claims: string[];
  /** Why no test can check it. */
  unchecked?: string;
  /** Per version (the report's columns). */
  verdicts: Record<string, StatementVerdict>;
}

export interface NotesReport {
  /** The notes' file, relative to the project root. */
  file: string;
  versions: string[];
  /** Per version, statements by verdict. */
  counts: Record<string, Record<Verdict, number>>;
  statements: NotesReportStatement[];
}

/** The first line of a claim's kubectl output that its `shows` pattern matches, with the command. */
function shownBy(id: string, result: ClaimResult | undefined): Shown | undefined {
  const pattern = catalogue().claims.find((c) => c.id === id)?.shows;
  if (!pattern || !result?.steps) return undefined;
  const re = new RegExp(pattern);
  for (const step of result.steps) {
    const line = step.output?.split('\n').find((l) => re.test(l));
    if (line !== undefined) return { claim: id, command: step.name, line };
  }
  return undefined;
}

function verdictOf(ids: string[], results: Record<string, ClaimResult | undefined>): StatementVerdict {
  const states = ids.map((id) => ({ id, r: results[id] }));
  const having = (state: ClaimResult['state']) => states.filter((s) => s.r?.state === state);
  const detail = (list: { id: string; r?: ClaimResult }[]) => list.map((s) => `${s.id}: ${s.r?.reason ?? s.r?.state}`).join(' · ');
  const shown = (list: { id: string; r?: ClaimResult }[]) => list.map((s) => shownBy(s.id, s.r)).filter((x): x is Shown => !!x);
  for (const [state, verdict] of [['failed', 'failed'], ['corrects the notes', 'wrong'], ['differs', 'differs']] as const) {
    const list = having(state);
    if (list.length) {
      const lines = shown(list);
      return { verdict, detail: detail(list), ...(lines.length ? { shown: lines } : {}) };
    }
  }
  const passed = having('passed');
  if (passed.length) {
    const skipped = having('skipped');
    const lines = shown(passed);
    return {
      verdict: 'holds',
      ...(skipped.length ? { detail: `not checked here: ${detail(skipped)}` } : {}),
      ...(lines.length ? { shown: lines } : {}),
    };
  }
  const skipped = having('skipped');
  if (skipped.length) return { verdict: 'skipped', detail: detail(skipped) };
  return { verdict: 'not covered' };
}

/** The notes' statements in the notes' order, each with its verdict on every version of `report`. */
export function buildNotesReport(report: ClaimsReport): NotesReport {
  const { file, statements } = catalogue().notes;
  const text = normalizeNotes(notesText());
  const ordered = [...statements].sort((a, b) => text.indexOf(normalizeNotes(a.quote).trim()) - text.indexOf(normalizeNotes(b.quote).trim()));
  const byId = new Map(report.claims.map((c) => [c.id, c]));
  const out = ordered.map((s): NotesReportStatement => ({
    section: s.section,
    quote: s.quote,
    gloss: s.gloss,
    claims: s.claims ?? [],
    ...(s.unchecked ? { unchecked: s.unchecked } : {}),
    verdicts: Object.fromEntries(report.versions.map((v) => [v, s.unchecked
      ? { verdict: 'cannot be checked' as const, detail: s.unchecked }
      : verdictOf(s.claims!, Object.fromEntries(s.claims!.map((id) => [id, byId.get(id)?.results[v]])))])),
  }));
  const counts = Object.fromEntries(report.versions.map((v) => [v,
    Object.fromEntries(VERDICTS.map((k) => [k, out.filter((s) => s.verdicts[v]!.verdict === k).length])) as Record<Verdict, number>]));
  return { file, versions: report.versions, counts, statements: out };
}

const MARK: Record<Verdict, string> = {
  holds: '✅ holds', wrong: '📝 the notes are wrong', differs: '🔶 differs', failed: '❌ not known (a check failed)',
  skipped: '⏭️ not checked here', 'not covered': '⚪ not covered', 'cannot be checked': '💬 cannot be checked',
};

export function countsLine(nr: NotesReport, version: string): string {
  const c = nr.counts[version]!;
  return `${nr.statements.length} statements: ${c.holds} hold, ${c.wrong} wrong, ${c.differs} differ, ${c.failed} not known (a check failed), ${c.skipped + c['not covered']} not checked here, ${c['cannot be checked']} cannot be checked`;
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

/** reports/notes.md: the notes in their order, each statement with its verdict per version. */
export function renderNotesMarkdown(nr: NotesReport): string {
  const lines = [
    `# The reader's notes, checked`,
    '',
    `The notes (\`${nr.file}\`), statement by statement and in their order: each quoted, glossed in English, and what the cluster showed.`,
    '',
    ...nr.versions.map((v) => `- Kubernetes ${v}: ${countsLine(nr, v)}`),
  ];
  let section = '';
  for (const s of nr.statements) {
    if (s.section !== section) {
      section = s.section;
      lines.push('', `## ${section === String(catalogue().chapter) ? `Chapter ${section}, before 2.1` : section}`, '');
    }
    const one = nr.versions.length === 1;
    const verdicts = nr.versions.map((v) => (one ? MARK[s.verdicts[v]!.verdict] : `${v}: ${MARK[s.verdicts[v]!.verdict]}`)).join(' · ');
    const claims = s.claims.length ? ` · ${s.claims.map((id) => `\`${id}\``).join(', ')}` : '';
    lines.push(`- **${verdicts}** · ${oneLine(s.quote)}  `, `  *${oneLine(s.gloss)}*${claims}`);
    for (const v of nr.versions) {
      const sv = s.verdicts[v]!;
      const on = one ? '' : ` (${v})`;
      if (sv.detail && sv.verdict !== 'holds') lines.push(`  - ${sv.verdict === 'cannot be checked' ? 'Why' : 'What the cluster showed'}${on}: ${oneLine(sv.detail)}`);
      for (const x of sv.shown ?? []) lines.push(`  - \`${x.line.trim()}\` (\`${x.command.slice(0, 100)}\`)${on}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
