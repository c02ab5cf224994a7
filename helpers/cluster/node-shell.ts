// Commands inside a node's container, with the image's own tools (ctr, crictl, kubectl), as a
// person at the node would run them. For the scripts that check a node image (scripts/ci/smoke.ts,
// scripts/ci/side-by-side.ts); the tests reach nodes through helpers/fixtures/node.ts.
import { getContainerRuntimeClient } from 'testcontainers';
import { setTimeout as delay } from 'node:timers/promises';
import { NOT_SENT } from '../verbs/kubectl.js';
import { readSettings } from '../settings.js';

export interface NodeShell {
  /** Runs COMMAND in the node; its stdout, or an error with the exit code and output. */
  exec(command: string[]): Promise<string>;
  /** Runs COMMAND in the node; its exit code and output, whatever they are. */
  run(command: string[]): Promise<{ exitCode: number; stdout: string; output: string }>;
}

/** How long a command that sent nothing is run again, before time scaling (KUBE_CLAIMS_TIME_SCALE). */
const NOT_SENT_ALLOWANCE_MS = 60_000;

export async function nodeShell(containerId: string, say: (line: string) => void, timeScale = readSettings().timeScale): Promise<NodeShell> {
  const runtime = await getContainerRuntimeClient();
  const container = runtime.container.getById(containerId);
  const run = (command: string[]) => runtime.container.exec(container, command);
  return {
    run,
    exec: async (command) => {
      let res = await run(command);
      // kubectl sent nothing (an emulated server missed Go's 10 s TLS handshake limit: stop 32's
      // CI; three times in a row, 30 s, with two clusters in the VM on a new machine): run it
      // again, for as long as its allowance (scaled) lasts, a moment apart. Nothing was sent, so
      // nothing is done twice.
      const until = Date.now() + NOT_SENT_ALLOWANCE_MS * timeScale;
      for (let pause = 1_000; res.exitCode !== 0 && NOT_SENT.test(res.output) && Date.now() + pause < until; pause = Math.min(pause * 2, 10_000)) {
        say(`in the node, \`${command.join(' ').slice(0, 80)}\` sent nothing (${res.output.trim().split('\n')[0]}); running it again in ${pause / 1000} s`);
        await delay(pause);
        res = await run(command);
      }
      if (res.exitCode !== 0) throw new Error(`in the node, \`${command.join(' ')}\` exited ${res.exitCode}:\n${res.output}`);
      return res.stdout;
    },
  };
}
