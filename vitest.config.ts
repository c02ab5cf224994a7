import { defineConfig } from 'vitest/config';
import { readdirSync } from 'node:fs';
import { exitOnSettingError, readSettings, type Settings } from './helpers/settings.js';
import { suiteFilesSelecting, testNamePattern } from './helpers/fixtures/claims.js';

let settings: Settings;
try {
  settings = readSettings();
} catch (err) {
  exitOnSettingError(err);
}

// `-t PATTERN` that selects claims: only the suite files that hold them are loaded, and the
// harness's own checks (whose titles are not claims) are left out; `--project checks` runs them.
const SUITES = 'suites/**/*.test.ts';
const pattern = testNamePattern(process.argv);
// (The suites are one folder, one file per section of the chapter.)
const suiteFiles = () => readdirSync('suites').filter((f) => f.endsWith('.test.ts')).map((f) => `suites/${f}`);
const claimFiles = pattern === undefined ? undefined : suiteFilesSelecting(pattern, suiteFiles());

export default defineConfig({
  test: {
    // One project per Kubernetes version; each starts its own cluster in globalSetup.
    projects: [
      // An existing cluster (KUBE_CLAIMS_KUBECONFIG) is one project; its version is the server's.
      ...(settings.existing ? ['existing'] : settings.versions.map((v) => v.kubernetes)).map((name) => ({
        extends: true as const,
        test: {
          name: `k8s-${name}`, include: claimFiles ?? [SUITES], globalSetup: ['helpers/cluster/global-setup.ts'],
          // A worker keeps its modules from one suite file to the next (vitest, client-node and the
          // harness load once per worker, not once per file). The files share nothing else: each
          // test has its own namespace, and the fixtures are test- or worker-scoped.
          isolate: false,
        },
      })),
      // The harness's own checks (bad input, ...): no cluster.
      ...(claimFiles ? [] : [{ extends: true as const, test: { name: 'checks', include: ['checks/**/*.test.ts'] } }]),
    ],
    // Files share the cluster; each test gets its own namespace. KUBE_CLAIMS_WORKERS and
    // KUBE_CLAIMS_CONCURRENCY set how many files, and tests per file, run at once.
    fileParallelism: true,
    maxWorkers: settings.workers,
    maxConcurrency: settings.concurrency,
    testTimeout: 180_000 * settings.timeScale,
    hookTimeout: 300_000 * settings.timeScale,
    // Show console output (the diagnostics) only for tests that failed.
    silent: 'passed-only',
    reporters: ['default', './helpers/report/claims-reporter.ts'],
    // Transformed TypeScript kept on disk (node_modules/.experimental-vitest-cache) from one run
    // to the next, keyed by each file's content: a run whose files did not change transforms nothing.
    experimental: { fsModuleCache: true },
  },
});
