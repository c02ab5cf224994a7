// The project files that a run of some claims and scripts reads: the suite files that hold the
// claims (chosen as vitest.config.ts chooses them), every module they, vitest's config, its global
// setup, its reporter and the given scripts import (esbuild's bundle graph, static and literal
// dynamic imports), and the data the harness reads at run time (the catalogue, manifests, the
// version table, the shell scripts it copies into Pods) with what fixes the packages. A verdict
// kept for these inputs (scripts/ci/cgroup-v2-check.sh) is reused only while every one is unchanged.
//   usage: npx tsx scripts/ci/inputs.ts CLAIMS_PATTERN [SCRIPT...]   (paths relative to the project, sorted)
import { readdirSync } from 'node:fs';
import { relative } from 'node:path';
import { build } from 'esbuild';
import { projectRoot } from '../../helpers/settings.js';
import { suiteFilesSelecting } from '../../helpers/fixtures/claims.js';

const [pattern, ...scripts] = process.argv.slice(2);
if (!pattern) {
  process.stderr.write('[kube-claims] usage: npx tsx scripts/ci/inputs.ts CLAIMS_PATTERN [SCRIPT...]\n');
  process.exit(2);
}
process.chdir(projectRoot);
const suites = suiteFilesSelecting(pattern, readdirSync('suites').filter((f) => f.endsWith('.test.ts')).map((f) => `suites/${f}`));
if (!suites) {
  process.stderr.write(`[kube-claims] no suite file holds a claim matching "${pattern}"\n`);
  process.exit(2);
}
const entryPoints = [...suites, 'vitest.config.ts', 'helpers/cluster/global-setup.ts', 'helpers/report/claims-reporter.ts', ...scripts];
// packages: 'external': node_modules are fixed by package-lock.json, listed below.
const { metafile } = await build({ entryPoints, bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent', outdir: '/nonexistent' });
const data = (dir: string, keep: (f: string) => boolean) => readdirSync(dir, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile()).map((e) => relative(projectRoot, `${e.parentPath}/${e.name}`)).filter(keep);
const files = new Set([
  ...Object.keys(metafile.inputs),
  ...data('claims', () => true),
  ...data('manifests', () => true),
  ...data('helpers', (f) => !/\.(ts|mjs)$/.test(f)),
  'images/versions.json', 'package.json', 'package-lock.json', 'tsconfig.json',
]);
process.stdout.write(`${[...files].sort().join('\n')}\n`);
