// Bad input gets one clear line and exit code 2, never a stack trace. Each row runs the real
// command (this project's vitest, as `npm test` does, with one setting wrong); no cluster starts.
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import { projectRoot } from '../helpers/settings.js';

const rows: { mistake: string; env: Record<string, string>; says: RegExp }[] = [
  { mistake: 'an unknown Kubernetes version', env: { KUBE_CLAIMS_K8S_VERSION: '1.20' }, says: /unknown Kubernetes version "1\.20" \(KUBE_CLAIMS_K8S_VERSION\); known: \d/ },
  { mistake: 'an unknown image mode', env: { KUBE_CLAIMS_IMAGES: 'sometimes' }, says: /KUBE_CLAIMS_IMAGES must be "auto", "online" or "offline", not "sometimes"/ },
  { mistake: 'a repeat count that is not a whole number of 1 or more', env: { KUBE_CLAIMS_REPEAT: '-3' }, says: /KUBE_CLAIMS_REPEAT must be a whole number of 1 or more, not "-3"/ },
  { mistake: 'a worker count that is not a whole number of 1 or more', env: { KUBE_CLAIMS_WORKERS: 'many' }, says: /KUBE_CLAIMS_WORKERS must be a whole number of 1 or more, not "many"/ },
  { mistake: 'a registry mirror that is not a registry address', env: { KUBE_CLAIMS_REGISTRY_MIRROR: 'ftp://mirror' }, says: /KUBE_CLAIMS_REGISTRY_MIRROR must be a registry address/ },
  { mistake: 'a registries.yaml that cannot be read', env: { KUBE_CLAIMS_REGISTRIES_YAML: '/nonexistent/registries.yaml' }, says: /KUBE_CLAIMS_REGISTRIES_YAML=\/nonexistent\/registries\.yaml cannot be read \(ENOENT\)/ },
  { mistake: 'a Docker engine that does not answer', env: { DOCKER_HOST: 'tcp://127.0.0.1:9' }, says: /the Docker engine is not reachable .*start Docker, or run: bash scripts\/docker-engine\.sh/ },
  { mistake: 'a kubectl that does not run', env: { KUBE_CLAIMS_IMAGES: 'offline', KUBE_CLAIMS_KUBECTL: '/nonexistent/kubectl' }, says: /KUBE_CLAIMS_KUBECTL=\/nonexistent\/kubectl does not run/ },
  { mistake: 'a node image that is not there', env: { KUBE_CLAIMS_IMAGES: 'offline', KUBE_CLAIMS_NODE_IMAGE: 'kube-claims/node:v0.0.0-missing' }, says: /offline mode needs the image kube-claims\/node:v0\.0\.0-missing, which is not present; build it with: / },
];

/** The environment without this run's own settings, so that each row has only its one mistake. */
function settingsFree(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] =>
    e[1] !== undefined && (!e[0].startsWith('KUBE_CLAIMS_') || e[0] === 'KUBE_CLAIMS_CACHE') && e[0] !== 'DOCKER_HOST'));
}

describe('bad input', () => {
  // One row at a time: each starts a vitest of its own, and a cluster run may share the machine.
  test.each(rows)('$mistake: one line, exit code 2, no stack trace', async ({ env, says }) => {
    const run = await execa(join(projectRoot, 'node_modules/.bin/vitest'), ['run', '--project', 'k8s-*'], {
      cwd: projectRoot,
      env: { ...settingsFree(process.env), ...env, CI: 'true', FORCE_COLOR: '0' }, extendEnv: false, reject: false, all: true, timeout: 120_000,
    });
    expect(run.exitCode, run.all).toBe(2);
    expect(run.all).toMatch(says);
    const errorLines = run.all!.split('\n').filter((l) => /error|must be|unknown|cannot|needs|does not/i.test(l));
    expect(errorLines, run.all).toHaveLength(1);
    expect(run.all, 'a stack trace').not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
    expect(run.all).not.toMatch(/No test files found/);
  }, 150_000);
});
