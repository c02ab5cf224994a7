// Temporary folders for the harness's own checks, under one folder per check file that an outside
// watchdog (scripts/host/watchdog.sh, as the cluster runs use) removes when the file's process ends,
// however it ends: a run killed with SIGKILL runs no afterAll, and left kube-claims-kubectls-*
// and kube-claims-kubeconfigs-* behind. Normal ends remove it here as well.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { projectRoot } from '../helpers/settings.js';

let root: string | undefined;

/** A new folder named PREFIX-XXXXXX inside this check file's watched folder. */
export function scratchDir(prefix: string): string {
  if (!root) {
    const dir = mkdtempSync(join(tmpdir(), 'kube-claims-checks-'));
    root = dir;
    const run = `${process.pid}-checks-${Date.now()}`;
    // Its output goes to the cache's log (watchdog.sh's own); it outlives this process on purpose.
    spawn('bash', [join(projectRoot, 'scripts/host/watchdog.sh'), String(process.pid), run, dir], { detached: true, stdio: 'ignore' }).unref();
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
  }
  return mkdtempSync(join(root, `${prefix}-`));
}

/**
 * The platform the checks take this machine for: process.platform, or KUBE_CLAIMS_CHECKS_PLATFORM
 * (to show that checks needing Linux are skipped elsewhere, on a Linux machine).
 */
export const checksPlatform = process.env.KUBE_CLAIMS_CHECKS_PLATFORM || process.platform;
/** Why a check needing Linux (/proc, setsid, flock) is skipped, or undefined on Linux. */
export const notLinux = checksPlatform === 'linux' ? undefined : `needs Linux (/proc, setsid, flock); this is ${checksPlatform}`;
