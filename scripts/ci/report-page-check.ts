// Checks reports/index.html in a real browser (Debian's chromium, headless, driven by
// playwright-core): the page's script runs without errors and without any network request, and
// the counts it shows (computed by the page from its embedded data) are those of claims.json and
// of the notes' verdicts (buildNotesReport). Saves a full-page screenshot as REPORTS_DIR/index.png.
//   usage: npx tsx scripts/ci/report-page-check.ts [REPORTS_DIR]     (npm run report:check; default: reports)
//   KUBE_CLAIMS_CHROMIUM   the browser (default /usr/bin/chromium, installed with apt-get if missing)
// Exit codes: 0 the page shows the data; 1 it does not (one line per mismatch or problem);
// 2 it could not be checked (no reports, no browser), with one line saying why.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ClaimsReport, Outcome } from '../../helpers/report/report.js';
import { buildNotesReport, VERDICTS } from '../../helpers/report/notes.js';
import { projectRoot } from '../../helpers/settings.js';

const STATES: Outcome[] = ['passed', 'differs', 'corrects the notes', 'failed', 'skipped', 'not covered'];
const TAG = 'report page check';

/** The check cannot run: said in one line, exit code 2. */
class CannotCheck extends Error {}

interface Shown { version: string; key: string; text: string }
interface PageFacts { ready: boolean; states: Shown[]; verdicts: Shown[]; rows: number; statements: number }

const firstLine = (err: unknown) => String((err as Error)?.message ?? err).split('\n')[0]!;

function readReport(dir: string): ClaimsReport {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CannotCheck(`${dir}: no such directory (run the suite, or pass the directory of its reports)`);
  for (const f of ['claims.json', 'index.html']) {
    if (!existsSync(join(dir, f))) throw new CannotCheck(`${join(dir, f)}: no such file (the suite writes it with the reports)`);
  }
  let report: ClaimsReport;
  try {
    report = JSON.parse(readFileSync(join(dir, 'claims.json'), 'utf8')) as ClaimsReport;
  } catch (err) {
    throw new CannotCheck(`${join(dir, 'claims.json')} is not JSON: ${firstLine(err)}`);
  }
  if (!Array.isArray(report?.versions) || !Array.isArray(report?.claims)) throw new CannotCheck(`${join(dir, 'claims.json')} is not a claims report (no versions or claims)`);
  return report;
}

/** Debian's chromium: KUBE_CLAIMS_CHROMIUM, or /usr/bin/chromium, installed with apt-get if missing. */
async function browserPath(): Promise<string> {
  const given = process.env.KUBE_CLAIMS_CHROMIUM;
  if (given) {
    if (!existsSync(given)) throw new CannotCheck(`KUBE_CLAIMS_CHROMIUM=${given}: no such file`);
    return given;
  }
  const path = '/usr/bin/chromium';
  // The notes are Korean: without a Hangul font the screenshot shows boxes (the counts do not
  // depend on it). Debian's fonts-nanum (10 MB) is installed beside the browser.
  const hangul = (await execa('fc-list', [':lang=ko', 'family'], { reject: false })).stdout.trim() !== '';
  const missing = [...(existsSync(path) ? [] : ['chromium']), ...(hangul ? [] : ['fonts-nanum'])];
  if (missing.length === 0) return path;
  if (!existsSync(path) || existsSync('/usr/bin/apt-get')) {
    process.stderr.write(`[kube-claims] ${TAG}: installing Debian's ${missing.join(' and ')} (apt-get)\n`);
    await execa('bash', ['-c', `source scripts/lib.sh && kc_apt_install ${missing.join(' ')}`], { cwd: projectRoot, reject: false, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  if (!existsSync(path)) throw new CannotCheck(`no browser: ${path} is missing and apt-get could not install chromium (set KUBE_CLAIMS_CHROMIUM to a Chromium)`);
  return path;
}

/** Every count the page shows, read once its script has finished. */
async function readPage(page: Page): Promise<PageFacts> {
  const ready = await page.waitForSelector('html[data-ready="1"]', { state: 'attached', timeout: 15_000 }).then(() => true, () => false);
  // A string, not a function: tsx's transforms must not reach into the page.
  return page.evaluate<PageFacts>(`(() => {
    const read = (sel, a, b) => Array.from(document.querySelectorAll(sel), (e) => ({ version: e.getAttribute(a), key: e.getAttribute(b), text: (e.textContent || '').trim() }));
    return {
      ready: ${ready},
      states: read('[data-version][data-state]', 'data-version', 'data-state'),
      verdicts: read('[data-notes-version][data-verdict]', 'data-notes-version', 'data-verdict'),
      rows: document.querySelectorAll('table.matrix tbody tr').length,
      statements: document.querySelectorAll('#notes-view article.stmt').length,
    };
  })()`);
}

/** One line per count the page shows wrong, or not at all, or shows for a version or key the data has not. */
function compare(what: string, shown: Shown[], expected: Record<string, Record<string, number>>, keys: readonly string[]): string[] {
  const out: string[] = [];
  for (const [version, byKey] of Object.entries(expected)) {
    for (const key of keys) {
      const want = byKey[key] ?? 0;
      const on = shown.filter((s) => s.version === version && s.key === key);
      if (on.length === 0) out.push(`Kubernetes ${version}, ${what} "${key}": page shows no count, data ${want}`);
      for (const s of on) if (s.text !== String(want)) out.push(`Kubernetes ${version}, ${what} "${key}": page ${JSON.stringify(s.text)}, data ${want}`);
    }
  }
  for (const s of shown) {
    if (!(s.version in expected) || !keys.includes(s.key)) out.push(`Kubernetes ${s.version}, ${what} "${s.key}": page ${JSON.stringify(s.text)}, not in the data`);
  }
  return out;
}

/** Open one claim's detail (the one with most steps) and see its timeline has a bar per step. */
async function checkDetail(page: Page, report: ClaimsReport): Promise<string[]> {
  let best: { id: string; version: string; steps: number } | undefined;
  for (const c of report.claims) {
    for (const [version, r] of Object.entries(c.results)) {
      const n = r.steps?.length ?? 0;
      if (n > (best?.steps ?? 0)) best = { id: c.id, version, steps: n };
    }
  }
  if (!best) return [];
  await page.evaluate(`location.hash = ${JSON.stringify(`#claim/${encodeURIComponent(best.id)}/${encodeURIComponent(best.version)}`)}`);
  const opened = await page.waitForSelector('#detail:not([hidden])', { timeout: 5_000 }).then(() => true, () => false);
  if (!opened) return [`claim ${best.id}: its detail did not open`];
  const bars = await page.evaluate<number>(`document.querySelectorAll(${JSON.stringify(`#ver-${best.version.toLowerCase().replace(/[^a-z0-9]+/g, '-')} .step .sbar`)}).length`);
  await page.evaluate(`location.hash = '#matrix'`);
  return bars === best.steps ? [] : [`claim ${best.id} on ${best.version}: detail shows ${bars} step bars, data has ${best.steps} steps`];
}

async function main(): Promise<number> {
  const began = performance.now();
  const dir = resolve(process.argv[2] ?? 'reports');
  const shownDir = relative(process.cwd(), dir).startsWith('..') ? dir : relative(process.cwd(), dir) || '.';
  const report = readReport(dir);
  const expectedStates = Object.fromEntries(report.versions.map((v) => [v,
    Object.fromEntries(STATES.map((s) => [s, report.claims.filter((c) => c.results[v]?.state === s).length]))]));
  let notesCounts: Record<string, Record<string, number>>;
  let statements: number;
  try {
    const notes = buildNotesReport(report);
    notesCounts = notes.counts;
    statements = notes.statements.length;
  } catch (err) {
    throw new CannotCheck(`the notes' verdicts cannot be computed: ${firstLine(err)}`);
  }

  const executablePath = await browserPath();
  const problems: string[] = [];
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath, headless: true, timeout: 60_000, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] })
      .catch((err: unknown) => { throw new CannotCheck(`${executablePath} did not start: ${firstLine(err)}`); });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, serviceWorkers: 'block' });
    // Only the file itself may load: anything else is refused and reported.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      return /^(file|data|about|blob):/.test(url) ? route.continue() : route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    page.on('request', (req) => { if (!/^(file|data|about|blob):/.test(req.url())) problems.push(`the page made a network request: ${req.method()} ${req.url()}`); });
    page.on('websocket', (ws) => problems.push(`the page opened a WebSocket: ${ws.url()}`));
    page.on('pageerror', (err) => problems.push(`the page's script raised: ${firstLine(err)}`));
    page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console error: ${msg.text().split('\n')[0]}`); });

    await page.goto(pathToFileURL(join(dir, 'index.html')).href, { waitUntil: 'load', timeout: 30_000 });
    const facts = await readPage(page);
    await page.screenshot({ path: join(dir, 'index.png'), fullPage: true, timeout: 60_000 });
    if (!facts.ready) problems.push(`the page's script did not finish (html[data-ready] never set)`);
    problems.push(...compare('state', facts.states, expectedStates, STATES));
    problems.push(...compare('notes verdict', facts.verdicts, notesCounts, VERDICTS));
    if (facts.rows !== report.claims.length) problems.push(`matrix: page shows ${facts.rows} rows, data has ${report.claims.length} claims`);
    if (facts.statements !== statements) problems.push(`notes: page shows ${facts.statements} statements, data has ${statements}`);
    if (facts.ready) problems.push(...await checkDetail(page, report));
  } finally {
    await browser?.close();
  }

  const took = `${((performance.now() - began) / 1000).toFixed(1)} s`;
  const screenshot = join(shownDir, 'index.png');
  if (problems.length) {
    for (const p of [...new Set(problems)]) process.stderr.write(`${TAG}: ${p}\n`);
    process.stderr.write(`${TAG}: FAILED: ${join(shownDir, 'index.html')}: ${new Set(problems).size} problem(s) (screenshot ${screenshot}; ${took})\n`);
    return 1;
  }
  const counts = report.versions.length * (STATES.length + VERDICTS.length);
  console.log(`${TAG}: ok: ${join(shownDir, 'index.html')} shows claims.json's counts (${counts} counts on ${report.versions.length} version(s); ${report.claims.length} claims, ${statements} statements), no script errors, no network; screenshot ${screenshot} (${took})`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  // One line, never a stack trace: what could not be checked, or what went wrong.
  process.stderr.write(`${TAG}: ${err instanceof CannotCheck ? err.message : `error: ${firstLine(err)}`}\n`);
  process.exitCode = 2;
}
