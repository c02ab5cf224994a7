import { defineConfig } from 'vitest/config';
import { exitOnSettingError, readSettings, type Settings } from './helpers/settings.js';

let settings: Settings;
try {
  settings = readSettings();
} catch (err) {
  exitOnSettingError(err);
}

export default defineConfig({
  test: {
    // One project per Kubernetes version; each starts its own cluster in globalSetup.
    projects: [
      // An existing cluster (KUBE_CLAIMS_KUBECONFIG) is one project; its version is the server's.
      ...(settings.existing ? ['existing'] : settings.versions.map((v) => v.kubernetes)).map((name) => ({
        extends: true as const,
        test: { name: `k8s-${name}`, include: ['suites/**/*.test.ts'], globalSetup: ['helpers/cluster/global-setup.ts'] },
      })),
      // The harness's own checks (bad input, ...): no cluster.
      { extends: true as const, test: { name: 'checks', include: ['checks/**/*.test.ts'] } },
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
  },
});
