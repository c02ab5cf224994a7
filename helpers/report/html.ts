// reports/index.html: one self-contained page of a run. No network at all: the styles and the
// script are inline, the data is embedded as JSON, and the page opens from the file system.
// The page's script builds everything that shows results (summary counts, the matrix, the notes
// view, the claim details) from the embedded data at load time, so the page shows what the data
// says; scripts/ci/report-page-check.ts checks that in a real browser (the counts carry
// data-version/data-state and data-notes-version/data-verdict attributes for it).
import { catalogue } from '../fixtures/claims.js';
import type { ClaimsReport } from './report.js';
import type { NotesReport } from './notes.js';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** JSON for a `<script type="application/json">`: no `<`, so no `</script>` or `<!--` can end it. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export function renderHtml(report: ClaimsReport, notes: NotesReport): string {
  const { chapter, title } = catalogue();
  const heading = `Chapter ${chapter} claims: ${title}`;
  const data = {
    chapter,
    title,
    generatedAt: report.generatedAt,
    versions: report.versions,
    runs: report.runs ?? {},
    claims: report.claims,
    // The statements only: the page counts verdicts itself.
    notes: { file: notes.file, statements: notes.statements },
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(heading)} (kube-claims)</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(heading)}</h1>
<p class="meta" id="meta">Generated <time datetime="${escapeHtml(report.generatedAt)}">${escapeHtml(report.generatedAt.replace('T', ' ').replace(/(:\d\d)(\.\d+)?Z$/, '$1 UTC'))}</time></p>
<div id="summary"></div>
</header>
<div id="bar"></div>
<main>
<noscript><p class="empty">This page is drawn by its script from the data embedded in it: allow JavaScript to see the report (claims.md and notes.md hold the same as text).</p></noscript>
<section id="matrix-view"></section>
<section id="notes-view" hidden></section>
</main>
<div id="backdrop" hidden></div>
<aside id="detail" hidden aria-live="polite"></aside>
<script type="application/json" id="kc-data">${scriptJson(data)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const STYLE = String.raw`
*{box-sizing:border-box}
[hidden]{display:none!important}
html{color-scheme:light}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK KR","Malgun Gothic","Apple SD Gothic Neo","Helvetica Neue",Arial,sans-serif;color:#1f2328;background:#fff}
code,pre,.mono,.sname,.shown,.id{font-family:ui-monospace,SFMono-Regular,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
header{padding:14px 24px 12px;border-bottom:1px solid #d0d7de;background:#f6f8fa}
h1{font-size:20px;margin:0 0 2px}
.meta{color:#59636e;margin:0 0 10px}
#summary{display:flex;flex-wrap:wrap;gap:12px}
.run{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:10px 12px;flex:1 1 380px;max-width:720px}
.run h2{font-size:15px;margin:0 0 6px}
.runinfo{margin:6px 0 0;color:#59636e;font-size:12.5px}
.runinfo code{color:#1f2328;background:#f6f8fa;padding:0 3px;border-radius:3px;word-break:break-all}
.stack{display:flex;height:8px;border-radius:4px;overflow:hidden;margin:0 0 8px;background:#eaeef2}
.stack span{display:block;background:var(--c)}
.counts{display:flex;flex-wrap:wrap;gap:4px}
.st-passed,.vd-holds{--c:#1a7f37;--bg:#dafbe1}
.st-differs,.vd-differs{--c:#9a6700;--bg:#fff1c2}
.st-corrects-the-notes,.vd-wrong{--c:#0550ae;--bg:#ddf4ff}
.st-failed,.vd-failed{--c:#cf222e;--bg:#ffebe9}
.st-skipped,.vd-skipped{--c:#57606a;--bg:#e6e9ed}
.st-not-covered,.vd-not-covered{--c:#8c959f;--bg:#f6f8fa}
.vd-cannot-be-checked{--c:#8250df;--bg:#f5efff}
.chip{display:inline-flex;align-items:baseline;gap:4px;padding:1px 8px;border-radius:999px;background:var(--bg);color:var(--c);font-size:12px;border:1px solid color-mix(in srgb,var(--c) 35%,transparent);white-space:nowrap}
.chip b{font-size:13px}
#bar{position:sticky;top:0;z-index:5;background:#fff;border-bottom:1px solid #d0d7de;padding:8px 24px;display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center}
.tabs{display:flex;gap:0}
.tabs button{font:inherit;border:1px solid #d0d7de;background:#f6f8fa;padding:4px 12px;cursor:pointer;color:#1f2328}
.tabs button:first-child{border-radius:6px 0 0 6px}.tabs button:last-child{border-radius:0 6px 6px 0;border-left:0}
.tabs button[aria-pressed=true]{background:#1f2328;color:#fff;border-color:#1f2328}
.fgroup{display:flex;flex-wrap:wrap;gap:4px;align-items:center}
.fgroup>span{color:#59636e;font-size:12px;margin-right:2px}
.fchip{display:inline-flex;align-items:center;gap:3px;padding:1px 7px 1px 4px;border-radius:999px;font-size:12px;cursor:pointer;user-select:none;background:var(--bg,#f6f8fa);color:var(--c,#1f2328);border:1px solid color-mix(in srgb,var(--c,#59636e) 35%,transparent)}
.fchip input{margin:0;accent-color:var(--c,#1f2328)}
.fchip:has(input:not(:checked)){opacity:.45}
#search{font:inherit;font-size:13px;padding:3px 8px;border:1px solid #d0d7de;border-radius:6px;width:200px}
#shown{color:#59636e;font-size:12px;margin-left:auto}
main{padding:12px 24px 40px}
table.matrix{border-collapse:separate;border-spacing:0;width:100%}
.matrix th{position:sticky;top:var(--bar-h,48px);z-index:2;background:#f6f8fa;text-align:left;font-size:12px;color:#59636e;padding:6px 8px;border-bottom:1px solid #d0d7de;white-space:nowrap}
.matrix td{padding:5px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
.matrix tbody tr{cursor:pointer}
.matrix tbody tr:hover td:not(.cell){background:#f6f8fa}
.matrix tbody tr:hover td.cell{box-shadow:inset 0 0 0 1px color-mix(in srgb,var(--c) 50%,transparent)}
.matrix .id{white-space:nowrap}
.matrix .sec{color:#59636e;white-space:nowrap}
.matrix .claim{min-width:260px;max-width:520px}
.cell{background:var(--bg);min-width:150px;max-width:300px;border-left:2px solid #fff}
.cell .lbl{color:var(--c);font-weight:600;font-size:12.5px}
.cell .dur{color:#59636e;font-size:11.5px;margin-left:6px}
.cell .why{font-size:11.5px;color:#3d444d;display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical;overflow:hidden}
.empty{color:#59636e;padding:24px 0}
.ncounts{border:1px solid #d0d7de;border-radius:8px;padding:8px 12px;background:#f6f8fa;margin:4px 0 12px}
.ncounts .nrow{display:flex;flex-wrap:wrap;gap:4px;align-items:baseline;margin:3px 0}
.ncounts .nrow>.v{font-weight:600;margin-right:4px}
.nfile{color:#59636e;font-size:12.5px;margin:0 0 4px}
h2.nsec{font-size:16px;margin:18px 0 6px;padding-bottom:3px;border-bottom:1px solid #d0d7de}
.stmt{border:1px solid #d0d7de;border-radius:8px;padding:10px 14px;margin:8px 0;background:#fff;scroll-margin-top:calc(var(--bar-h,48px) + 8px)}
.stmt:target{box-shadow:0 0 0 3px #54aeff66}.stmt.flash{animation:flash 1.5s}@keyframes flash{from,to{box-shadow:0 0 0 3px #54aeff66}}
.stmt blockquote{margin:0;padding:1px 10px;border-left:3px solid #afb8c1;white-space:pre-wrap;font-size:15px}
.gloss{color:#3d444d;font-style:italic;margin:5px 0 3px}
.by{margin:0 0 6px;font-size:12.5px;color:#59636e}
.by a{font-family:ui-monospace,SFMono-Regular,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px}
table.verdicts{border-collapse:separate;border-spacing:0 3px;width:100%}
.verdicts th{text-align:left;font-weight:500;color:#59636e;font-size:12px;white-space:nowrap;padding:2px 10px 2px 0;vertical-align:top;width:1%}
.verdicts td.vd{white-space:nowrap;padding:1px 4px 1px 0;vertical-align:top;width:1%}
.verdicts td.vd .chip{font-weight:600}
.verdicts td.vdetail{padding:2px 10px;font-size:12.5px;vertical-align:top}
.vdetail .detail{color:#3d444d}
.shown{margin-top:2px;color:#59636e;overflow-wrap:anywhere}
.shown code.line{color:#1f2328;background:#f6f8fa;border:1px solid #eaeef2;padding:0 4px;border-radius:3px;white-space:pre-wrap}
#backdrop{position:fixed;inset:0;background:rgba(31,35,40,.35);z-index:20}
#detail{position:fixed;top:0;right:0;bottom:0;width:min(1000px,94vw);background:#fff;z-index:21;overflow:auto;box-shadow:-4px 0 24px rgba(0,0,0,.2);padding:14px 24px 40px}
#detail .close{position:sticky;top:0;float:right;font:inherit;font-size:20px;line-height:1;border:1px solid #d0d7de;background:#fff;border-radius:6px;padding:2px 9px;cursor:pointer}
#detail h2{font-size:18px;margin:0 0 2px}
#detail .dclaim{margin:2px 0 6px}
#detail .dnotes{font-size:12.5px;color:#59636e;margin:0 0 8px}
.ver{border:1px solid #d0d7de;border-radius:8px;padding:10px 14px;margin:12px 0}
.ver h3{font-size:15px;margin:0 0 4px;display:flex;gap:8px;align-items:baseline;flex-wrap:wrap}
.ver .ttitle{color:#59636e;margin:0 0 4px;font-size:12.5px}
.ver .reason{margin:4px 0 8px;padding:4px 8px;background:var(--bg);border-left:3px solid var(--c);border-radius:0 4px 4px 0;white-space:pre-wrap;overflow-wrap:anywhere}
.tl{margin-top:6px}
.tl .axis,.tl .srow{display:grid;grid-template-columns:minmax(0,40%) minmax(0,1fr) 60px;gap:8px;align-items:center}
.tl .axis{font-size:11px;color:#59636e;border-bottom:1px solid #eaeef2;padding-bottom:2px;margin-bottom:2px}
.tl .ticks{display:flex;justify-content:space-between}
.step{padding:1px 0;border-bottom:1px dashed #f0f2f4}
.sname{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.track{position:relative;height:12px;background:#f6f8fa;border-radius:2px}
.sbar{position:absolute;top:1px;bottom:1px;background:#7d8ca3;border-radius:2px;min-width:2px}
.sms{text-align:right;font-size:11.5px;color:#59636e}
.step.bad .sbar{background:#cf222e}
.step.bad .sname{color:#cf222e;font-weight:600}
.serr{color:#cf222e;font-size:12px;margin:0 0 2px;overflow-wrap:anywhere}
details>summary{cursor:pointer;font-size:12px;color:#59636e}
details.out{margin:0 0 3px 12px}
pre{background:#f6f8fa;border:1px solid #eaeef2;border-radius:6px;padding:8px;overflow:auto;max-height:480px;margin:4px 0;white-space:pre}
details.diag{margin-top:8px}
details.diag>summary{color:#cf222e;font-weight:600}
.nosteps{color:#59636e;font-size:12.5px}
body.modal{overflow:hidden}
`;

// The page's script. Plain ES2020 in a String.raw template: no backticks and no template
// placeholders in it. Every text goes through textContent (createTextNode), never innerHTML.
const SCRIPT = String.raw`
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('kc-data').textContent);
  var STATES = ['passed', 'differs', 'corrects the notes', 'failed', 'skipped', 'not covered'];
  var VERDICTS = ['holds', 'wrong', 'differs', 'failed', 'skipped', 'not covered', 'cannot be checked'];
  // As countsLine (helpers/report/notes.ts) words them, one count per verdict.
  var VERDICT_COUNT = { holds: 'hold', wrong: 'wrong', differs: 'differ', failed: 'not known (a check failed)', skipped: 'not checked here (skipped)', 'not covered': 'not covered', 'cannot be checked': 'cannot be checked' };
  var VERDICT_TEXT = { holds: 'holds', wrong: 'the notes are wrong', differs: 'differs', failed: 'not known (a check failed)', skipped: 'not checked here', 'not covered': 'not covered', 'cannot be checked': 'cannot be checked' };
  var versions = D.versions || [];
  var claims = D.claims || [];
  var statements = (D.notes && D.notes.statements) || [];
  var byId = {};
  claims.forEach(function (c) { byId[c.id] = c; });
  var NONE = { state: 'not covered' };

  function slug(s) { return String(s).toLowerCase().replace(/[^a-z0-9]+/g, '-'); }
  function add(el, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { add(el, x); }); return; }
    el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
  function h(tag, props) {
    var el = document.createElement(tag);
    if (props) Object.keys(props).forEach(function (k) {
      var v = props[k];
      if (v === undefined || v === null || v === false) return;
      if (k === 'text') el.textContent = String(v);
      else if (k === 'class') el.className = v;
      else if (k === 'style') Object.keys(v).forEach(function (s) { el.style[s] = v[s]; });
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    });
    for (var i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }
  function secs(ms) {
    if (ms === undefined || ms === null) return '';
    var s = ms / 1000;
    if (s < 60) return (s < 10 ? s.toFixed(1) : s.toFixed(0)) + ' s';
    var m = Math.floor(s / 60);
    return m + ' min ' + Math.round(s - m * 60) + ' s';
  }
  function pct(x) { return (Math.max(0, Math.min(1, x)) * 100).toFixed(3) + '%'; }
  function result(c, v) { return (c.results && c.results[v]) || NONE; }
  function verdictOf(s, v) { return (s.verdicts && s.verdicts[v]) || { verdict: 'not covered' }; }
  function claimHref(id, v) { return '#claim/' + encodeURIComponent(id) + (v ? '/' + encodeURIComponent(v) : ''); }
  function sectionName(sec) { return sec === String(D.chapter) ? 'Chapter ' + sec : 'Section ' + sec; }
  function bySectionNumber(a, b) {
    var pa = a.split('.').map(Number), pb = b.split('.').map(Number);
    for (var i = 0; i < Math.max(pa.length, pb.length); i++) {
      var d = (pa[i] === undefined ? -1 : pa[i]) - (pb[i] === undefined ? -1 : pb[i]);
      if (d) return d;
    }
    return 0;
  }

  // The counts, from the data.
  var claimCounts = {}, noteCounts = {};
  versions.forEach(function (v) {
    var c = {}, n = {};
    STATES.forEach(function (s) { c[s] = 0; });
    VERDICTS.forEach(function (k) { n[k] = 0; });
    claims.forEach(function (cl) { var st = result(cl, v).state; if (st in c) c[st]++; });
    statements.forEach(function (s) { var k = verdictOf(s, v).verdict; if (k in n) n[k]++; });
    claimCounts[v] = c;
    noteCounts[v] = n;
  });

  // Header: per version, the counts by state and what ran.
  var meta = document.getElementById('meta');
  add(meta, [' · ' + claims.length + ' claims on ' + versions.length + (versions.length === 1 ? ' version' : ' versions'), ' · notes: ', h('code', { text: (D.notes && D.notes.file) || '' })]);
  var summary = document.getElementById('summary');
  versions.forEach(function (v) {
    var c = claimCounts[v], run = D.runs && D.runs[v];
    var info = null;
    if (run) {
      var where = String(run.nodeImage || '').indexOf('existing cluster') === 0 ? [run.nodeImage] : ['node image ', h('code', { text: run.nodeImage })];
      info = h('p', { class: 'runinfo' }, where, ' · images ', h('b', { text: run.mode }), ' · kubectl ', h('code', { text: run.kubectl }),
        run.nodes ? ' · ' + run.nodes + (run.nodes === 1 ? ' node' : ' nodes') : null,
        run.settings && run.settings.length ? [' · settings: ', run.settings.map(function (x, i) { return [i ? ', ' : '', h('code', { text: x })]; })] : null);
    }
    summary.appendChild(h('div', { class: 'run' },
      h('h2', { text: 'Kubernetes ' + v }),
      h('div', { class: 'stack', 'aria-hidden': 'true' }, STATES.filter(function (s) { return c[s]; }).map(function (s) {
        return h('span', { class: 'st-' + slug(s), title: s + ': ' + c[s], style: { flexGrow: String(c[s]) } });
      })),
      h('div', { class: 'counts' }, STATES.map(function (s) {
        return h('span', { class: 'chip st-' + slug(s) }, h('b', { 'data-version': v, 'data-state': s, text: String(c[s]) }), s);
      })),
      info));
  });

  // The bar: view, filters, search.
  var view = 'matrix';
  var stateOn = {}, verdictOn = {}, sectionOn = {};
  STATES.forEach(function (s) { stateOn[s] = true; });
  VERDICTS.forEach(function (k) { verdictOn[k] = true; });
  var sections = [];
  claims.concat(statements).forEach(function (x) { if (sections.indexOf(x.section) < 0) sections.push(x.section); });
  sections.sort(bySectionNumber);
  sections.forEach(function (s) { sectionOn[s] = true; });
  function fchip(label, cls, on, key) {
    return h('label', { class: 'fchip ' + cls, title: 'show ' + label }, h('input', { type: 'checkbox', checked: true, onchange: function (e) { on[key] = e.target.checked; applyFilters(); } }), label);
  }
  var tabMatrix = h('button', { type: 'button', onclick: function () { location.hash = '#matrix'; } }, 'Claims matrix (' + claims.length + ')');
  var tabNotes = h('button', { type: 'button', onclick: function () { location.hash = '#notes'; } }, 'Reader\'s notes (' + statements.length + ')');
  var fStates = h('div', { class: 'fgroup' }, h('span', { text: 'states' }), STATES.map(function (s) { return fchip(s, 'st-' + slug(s), stateOn, s); }));
  var fVerdicts = h('div', { class: 'fgroup', hidden: true }, h('span', { text: 'verdicts' }), VERDICTS.map(function (k) { return fchip(VERDICT_TEXT[k], 'vd-' + slug(k), verdictOn, k); }));
  var fSections = h('div', { class: 'fgroup' }, h('span', { text: 'sections' }), sections.map(function (s) { return fchip(s, '', sectionOn, s); }));
  var search = h('input', { id: 'search', type: 'search', placeholder: 'search ids, claims, notes', oninput: function () { applyFilters(); } });
  var shown = h('span', { id: 'shown' });
  var bar = document.getElementById('bar');
  add(bar, [h('div', { class: 'tabs' }, tabMatrix, tabNotes), fStates, fVerdicts, fSections, search, shown]);
  function barHeight() { document.documentElement.style.setProperty('--bar-h', bar.offsetHeight + 'px'); }
  window.addEventListener('resize', barHeight);

  // The matrix: claims by version.
  var rows = claims.map(function (c) {
    var tr = h('tr', { onclick: function () { location.hash = claimHref(c.id); } },
      h('td', { class: 'id' }, h('a', { href: claimHref(c.id), text: c.id, onclick: function (e) { e.stopPropagation(); } })),
      h('td', { class: 'sec', text: c.section }),
      h('td', { class: 'claim', text: c.claim }),
      versions.map(function (v) {
        var r = result(c, v);
        var tip = 'Kubernetes ' + v + ': ' + r.state + (r.durationMs !== undefined ? ' (' + secs(r.durationMs) + ')' : '') + (r.reason ? ': ' + r.reason : '');
        return h('td', { class: 'cell st-' + slug(r.state), title: tip, onclick: function (e) { e.stopPropagation(); location.hash = claimHref(c.id, v); } },
          h('span', { class: 'lbl', text: r.state }),
          r.durationMs !== undefined ? h('span', { class: 'dur', text: secs(r.durationMs) }) : null,
          r.reason ? h('div', { class: 'why', text: r.reason }) : null);
      }));
    return { c: c, tr: tr, text: (c.id + ' ' + c.section + ' ' + c.claim).toLowerCase() };
  });
  var matrixEmpty = h('p', { class: 'empty', hidden: true, text: 'No claim matches the filters.' });
  add(document.getElementById('matrix-view'), [
    h('table', { class: 'matrix' },
      h('thead', null, h('tr', null, h('th', { text: 'id' }), h('th', { text: '§' }), h('th', { text: 'claim' }), versions.map(function (v) { return h('th', { text: 'Kubernetes ' + v }); }))),
      h('tbody', null, rows.map(function (r) { return r.tr; }))),
    matrixEmpty]);

  // The notes: statements in order, grouped by section.
  var notesView = document.getElementById('notes-view');
  add(notesView, [
    h('p', { class: 'nfile' }, 'The reader\'s notes (', h('code', { text: (D.notes && D.notes.file) || '' }), '), statement by statement, in their order, with what the cluster showed.'),
    h('div', { class: 'ncounts' }, versions.map(function (v) {
      return h('div', { class: 'nrow' }, h('span', { class: 'v', text: 'Kubernetes ' + v + ':' }), statements.length + ' statements:',
        VERDICTS.map(function (k) { return h('span', { class: 'chip vd-' + slug(k) }, h('b', { 'data-notes-version': v, 'data-verdict': k, text: String(noteCounts[v][k]) }), VERDICT_COUNT[k]); }));
    }))]);
  var groups = [];
  statements.forEach(function (s, i) {
    var g = groups[groups.length - 1];
    if (!g || g.section !== s.section) {
      g = { section: s.section, head: h('h2', { class: 'nsec', text: sectionName(s.section) }), items: [] };
      groups.push(g);
      notesView.appendChild(g.head);
    }
    var claimsOf = s.claims || [];
    var el = h('article', { class: 'stmt', id: 'note-' + i },
      h('blockquote', { lang: 'ko', text: s.quote }),
      h('p', { class: 'gloss', text: s.gloss }),
      claimsOf.length
        ? h('p', { class: 'by' }, 'checked by ', claimsOf.map(function (id, j) { return [j ? ', ' : '', h('a', { href: claimHref(id), text: id })]; }))
        : h('p', { class: 'by' }, 'no test can check it: ', s.unchecked || ''),
      h('table', { class: 'verdicts' }, h('tbody', null, versions.map(function (v) {
        var sv = verdictOf(s, v);
        var detail = sv.detail && sv.verdict !== 'cannot be checked' ? h('div', { class: 'detail', text: sv.detail }) : null;
        return h('tr', null,
          h('th', { text: v }),
          h('td', { class: 'vd' }, h('span', { class: 'chip vd-' + slug(sv.verdict), text: VERDICT_TEXT[sv.verdict] || sv.verdict })),
          h('td', { class: 'vdetail' }, detail, (sv.shown || []).map(function (x) {
            return h('div', { class: 'shown' }, h('code', { class: 'line', text: String(x.line).trim() }), '  $ ' + x.command + '  (', h('a', { href: claimHref(x.claim, v), text: x.claim }), ')');
          })));
      }))));
    g.items.push({ s: s, el: el, text: (s.quote + ' ' + s.gloss + ' ' + claimsOf.join(' ') + ' ' + (s.unchecked || '')).toLowerCase() });
    notesView.appendChild(el);
  });
  var notesEmpty = h('p', { class: 'empty', hidden: true, text: 'No statement matches the filters.' });
  notesView.appendChild(notesEmpty);

  function applyFilters() {
    var q = search.value.trim().toLowerCase();
    var nClaims = 0, nNotes = 0;
    rows.forEach(function (r) {
      var show = sectionOn[r.c.section] !== false && (!q || r.text.indexOf(q) >= 0) &&
        (versions.length === 0 || versions.some(function (v) { return stateOn[result(r.c, v).state] !== false; }));
      r.tr.hidden = !show;
      if (show) nClaims++;
    });
    groups.forEach(function (g) {
      var any = false;
      g.items.forEach(function (it) {
        var show = sectionOn[it.s.section] !== false && (!q || it.text.indexOf(q) >= 0) &&
          (versions.length === 0 || versions.some(function (v) { return verdictOn[verdictOf(it.s, v).verdict] !== false; }));
        it.el.hidden = !show;
        if (show) { any = true; nNotes++; }
      });
      g.head.hidden = !any;
    });
    matrixEmpty.hidden = nClaims > 0;
    notesEmpty.hidden = nNotes > 0;
    shown.textContent = view === 'matrix' ? 'showing ' + nClaims + ' of ' + claims.length + ' claims' : 'showing ' + nNotes + ' of ' + statements.length + ' statements';
  }

  // A claim's detail: per version its state, reason, steps as a timeline, outputs, diagnostics.
  var detail = document.getElementById('detail');
  var backdrop = document.getElementById('backdrop');
  backdrop.addEventListener('click', closeDetail);
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape' && !detail.hidden) closeDetail(); });
  function closeDetail() { location.hash = '#' + view; }
  function timeline(r) {
    var steps = (r.steps || []).slice().sort(function (a, b) { return a.at - b.at; });
    if (!steps.length) return h('p', { class: 'nosteps', text: 'No steps recorded.' });
    var total = Math.max(1, r.durationMs || 0, Math.max.apply(null, steps.map(function (s) { return s.at + s.ms; })));
    return h('div', { class: 'tl' },
      h('div', { class: 'axis' }, h('span', { text: steps.length + (steps.length === 1 ? ' step' : ' steps') }),
        h('span', { class: 'ticks' }, ['0 s', secs(total / 4), secs(total / 2), secs(total * 3 / 4), secs(total)].map(function (t) { return h('span', { text: t }); })),
        h('span', { class: 'sms', text: 'took' })),
      steps.map(function (s) {
        var left = s.at / total;
        var tip = s.name + '\nstarted at ' + secs(s.at) + ', took ' + secs(s.ms) + (s.ok ? '' : '\nfailed: ' + (s.error || ''));
        var lines = s.output ? s.output.split('\n').length : 0;
        return h('div', { class: 'step' + (s.ok ? '' : ' bad') },
          h('div', { class: 'srow', title: tip },
            h('span', { class: 'sname', text: s.name }),
            h('span', { class: 'track' }, h('span', { class: 'sbar', style: { left: pct(left), width: pct(Math.min(s.ms / total, 1 - left)) } })),
            h('span', { class: 'sms', text: secs(s.ms) })),
          s.error ? h('div', { class: 'serr', text: 'failed: ' + s.error }) : null,
          s.output ? h('details', { class: 'out' }, h('summary', { text: 'output (' + lines + (lines === 1 ? ' line)' : ' lines)') }), h('pre', { text: s.output })) : null);
      }));
  }
  function showDetail(id, focus) {
    var c = byId[id];
    detail.textContent = '';
    add(detail, h('button', { type: 'button', class: 'close', title: 'close (Esc)', 'aria-label': 'close', onclick: closeDetail }, '\u00d7'));
    if (!c) {
      add(detail, h('p', { class: 'empty', text: 'No claim "' + id + '" in this report.' }));
    } else {
      var cited = [];
      statements.forEach(function (s, i) { if ((s.claims || []).indexOf(id) >= 0) cited.push(i); });
      add(detail, [
        h('h2', { class: 'mono', text: c.id }),
        h('p', { class: 'dclaim' }, h('b', { text: '§ ' + c.section + ' ' }), c.claim),
        cited.length ? h('p', { class: 'dnotes' }, 'checks the notes\' ', cited.map(function (i, j) {
          return [j ? ', ' : '', h('a', { href: '#note/' + i, lang: 'ko', text: '\u201c' + statements[i].quote.split('\n')[0].slice(0, 60) + '\u201d' })];
        })) : null,
        versions.map(function (v) {
          var r = result(c, v);
          return h('section', { class: 'ver st-' + slug(r.state), id: 'ver-' + slug(v) },
            h('h3', null, 'Kubernetes ' + v, h('span', { class: 'chip st-' + slug(r.state), text: r.state }), r.durationMs !== undefined ? h('span', { class: 'sms', text: secs(r.durationMs) }) : null),
            r.title ? h('p', { class: 'ttitle', text: 'test: ' + r.title }) : null,
            r.reason ? h('div', { class: 'reason', text: r.reason }) : null,
            r.state === 'not covered' && !(r.steps && r.steps.length) ? h('p', { class: 'nosteps', text: 'No test ran for it on this version.' }) : timeline(r),
            r.diagnostics ? h('details', { class: 'diag' }, h('summary', { text: 'diagnostics (describe, events, logs)' }), h('pre', { text: r.diagnostics })) : null);
        })]);
    }
    detail.hidden = false;
    backdrop.hidden = false;
    document.body.classList.add('modal');
    var target = focus && document.getElementById('ver-' + slug(focus));
    if (target && versions.length > 1) target.scrollIntoView(); else detail.scrollTop = 0;
  }
  function setView(v) {
    view = v;
    document.getElementById('matrix-view').hidden = v !== 'matrix';
    notesView.hidden = v !== 'notes';
    fStates.hidden = v !== 'matrix';
    fVerdicts.hidden = v !== 'notes';
    tabMatrix.setAttribute('aria-pressed', String(v === 'matrix'));
    tabNotes.setAttribute('aria-pressed', String(v === 'notes'));
    applyFilters();
    barHeight();
  }
  function route() {
    var parts;
    try { parts = location.hash.replace(/^#/, '').split('/').map(decodeURIComponent); } catch (e) { parts = []; }
    if (parts[0] === 'claim' && parts[1]) {
      showDetail(parts[1], parts[2]);
      return;
    }
    detail.hidden = true;
    backdrop.hidden = true;
    document.body.classList.remove('modal');
    if (parts[0] === 'note') {
      setView('notes');
      var el = document.getElementById('note-' + parts[1]);
      if (el) {
        el.scrollIntoView({ block: 'center' });
        // A CSS animation marks the statement; its end removes the mark.
        el.addEventListener('animationend', function () { el.classList.remove('flash'); }, { once: true });
        el.classList.add('flash');
      }
    } else if (parts[0] !== 'claim') {
      setView(parts[0] === 'notes' ? 'notes' : 'matrix');
    }
  }
  window.addEventListener('hashchange', route);
  setView('matrix');
  route();
  document.documentElement.setAttribute('data-ready', '1');
})();
`;
