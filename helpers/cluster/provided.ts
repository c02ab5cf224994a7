// In a test worker: the cluster global setup provides. A cluster the run starts is still booting
// when the workers start (they load their modules meanwhile); its description arrives in a file.
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { inject } from 'vitest';
import { type ClusterInfo, isBooting } from './context.js';

/** How often a worker looks for the booted cluster's description. */
const LOOK_EVERY_MS = 50;

let info: ClusterInfo | undefined;

/**
 * The cluster, once it is up: at once when global setup provided it whole, otherwise when its
 * description is written (or why the boot failed; global setup then ends the run).
 */
export async function clusterUp(): Promise<ClusterInfo> {
  if (info) return info;
  const provided = inject('cluster');
  if (!isBooting(provided)) return (info = provided);
  const { file, timeoutMs } = provided.booting;
  const deadline = Date.now() + timeoutMs;
  const parent = process.ppid;
  while (!existsSync(file)) {
    // The run ended while this worker waited (a failed boot: global setup said why and exited).
    if (process.ppid !== parent) process.exit(2);
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for the cluster to boot (global setup writes ${file} when it is up)`);
    await delay(LOOK_EVERY_MS);
  }
  const read = JSON.parse(readFileSync(file, 'utf8')) as ClusterInfo | { error: string };
  if ('error' in read) throw new Error(`the cluster did not start: ${read.error}`);
  return (info = read);
}

/** The cluster, in code that runs after clusterUp() resolved (fixtures, claims, verbs). */
export function theCluster(): ClusterInfo {
  if (!info) throw new Error('the cluster is not up yet: await clusterUp() first (helpers/fixtures/fixtures.ts does, when it loads)');
  return info;
}
