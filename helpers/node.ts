// Node-level access: commands inside the node's container (the book's `docker container ...`
// steps become crictl there), through testcontainers' container runtime client.
import { getContainerRuntimeClient } from 'testcontainers';
import { step } from './steps.js';

/** How long crictl waits for the node's runtime (its own default is 2 s). */
export const CRICTL_TIMEOUT = '60s';

export interface NodeShell {
  /** Run a command in the node container; throws with its output on a non-zero exit. */
  exec(command: string[]): Promise<string>;
  /** crictl with JSON output, parsed. */
  crictlJson<T = any>(args: string[]): Promise<T>;
}

export function nodeShell(containerId: string): NodeShell {
  const exec = (command: string[]) => step(`on the node: ${command.join(' ')}`, () => execOnNode(command));
  const execOnNode = async (command: string[]) => {
    const client = await getContainerRuntimeClient();
    const container = client.container.getById(containerId);
    const res = await client.container.exec(container, command);
    if (res.exitCode !== 0) {
      throw new Error(`on the node, \`${command.join(' ')}\` exited ${res.exitCode}:\n${res.output}`);
    }
    return res.stdout;
  };
  return {
    exec,
    // crictl gives up on the runtime after 2 s by default; a busy node (importing images just
    // after boot, or emulated) answers later, and a person would simply wait.
    crictlJson: async (args) => JSON.parse(await exec(['crictl', `--timeout=${CRICTL_TIMEOUT}`, ...args, '-o', 'json'])),
  };
}
