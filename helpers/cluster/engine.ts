// The container engine the harness talks to: testcontainers' runtime client, found the way
// testcontainers finds it (TESTCONTAINERS_HOST_OVERRIDE, ~/.testcontainers.properties,
// DOCKER_HOST, the default sockets). Where a synchronous call cannot be avoided (removing
// nodes on Ctrl-C, when vitest may exit before async work finishes) and in the detached
// watchdog, the docker CLI is pointed at that same engine with DOCKER_HOST.
import { spawnSync } from 'node:child_process';
import type Dockerode from 'dockerode';
import { type ContainerRuntimeClient, getContainerRuntimeClient } from 'testcontainers';
import { RUN_LABEL } from '../facts.mjs';
import { SettingError } from '../settings.js';

let engine: { client: ContainerRuntimeClient; dockerode: Dockerode; cliEnv: NodeJS.ProcessEnv } | undefined;

/** The engine, once: a clear error when there is none. */
export async function containerEngine() {
  if (engine) return engine;
  let client: ContainerRuntimeClient;
  try {
    client = await getContainerRuntimeClient();
  } catch (err) {
    throw new SettingError(`the Docker engine is not reachable (${String((err as Error)?.message ?? err).split('\n')[0]}); start Docker, or run: bash scripts/host/docker-engine.sh`);
  }
  const dockerode = (client.container as unknown as { dockerode: Dockerode }).dockerode;
  const modem = dockerode.modem as unknown as { socketPath?: string; host?: string; port?: number | string; protocol?: string };
  const host = modem.socketPath ? `unix://${modem.socketPath}` : modem.host ? `tcp://${modem.host}:${modem.port ?? 2375}` : undefined;
  // The CLI keeps its own TLS settings (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) if the user set them.
  const cliEnv = { ...process.env, ...(host ? { DOCKER_HOST: host, DOCKER_CONTEXT: undefined } : {}) };
  engine = { client, dockerode, cliEnv };
  return engine;
}

/** The docker CLI against the engine the harness uses, synchronously (see above). */
export function dockerSync(env: NodeJS.ProcessEnv, args: string[]): string {
  return spawnSync('docker', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).stdout ?? '';
}

/** Remove containers (with their anonymous volumes) at once, without a graceful stop. */
export function removeContainersSync(env: NodeJS.ProcessEnv, ids: string[]): void {
  if (ids.length) dockerSync(env, ['rm', '-f', '-v', ...ids]);
}

/** Containers labelled with this run (or, without `run`, any run): id and run label. */
export async function labelledContainers(run?: string): Promise<{ id: string; run: string }[]> {
  const { dockerode } = await containerEngine();
  const list = await dockerode.listContainers({ all: true, filters: { label: [run ? `${RUN_LABEL}=${run}` : RUN_LABEL] } });
  return list.map((c) => ({ id: c.Id, run: c.Labels[RUN_LABEL] ?? '' }));
}
