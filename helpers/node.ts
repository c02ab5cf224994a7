// Node-level access the Kubernetes way, on any cluster: a node debugger Pod (`kubectl debug
// node/NAME --profile=sysadmin`: privileged, the host's PID and network, the node's root at
// /host), and commands run in it with `chroot /host` (the book's `docker container ...` steps
// become crictl there). The same on a throwaway k3s cluster, kind, kubeadm or a managed cloud;
// where the user may not run such a Pod, the claims that need it are skipped with the reason.
import type { Kubectl } from './kubectl.js';
import { step } from './steps.js';
import { waitUntil, GiveUp } from './wait.js';
import type { Api } from './fixtures.js';
import { summary } from './pods.js';

/** How long crictl waits for the node's runtime (its own default is 2 s). */
export const CRICTL_TIMEOUT = '60s';

export interface NodeShell {
  readonly node: string;
  /** Run a command on the node (chroot into its root); throws with its output on a non-zero exit. */
  exec(command: string[]): Promise<string>;
  /** crictl against the runtime the node's kubelet uses; its stdout (with stderr after it, if asked). */
  crictl(args: string[], opts?: { withStderr?: boolean }): Promise<string>;
  /** crictl with JSON output, parsed. */
  crictlJson<T = any>(args: string[]): Promise<T>;
}

/** The user may not run a node debugger Pod here (RBAC, Pod Security, a policy): the claim is skipped. */
export class NodeAccessDenied extends Error {}

/** Why the API or kubectl refused a node debugger Pod, if it was a refusal rather than a fault. */
const REFUSAL = /forbidden|violates PodSecurity|denied the request|admission webhook/i;

/**
 * A shell on `node`: a debugger Pod in `kubectl`'s namespace, started on first use. The
 * runtime's endpoint is the one the node's kubelet is configured with (its configz), so crictl
 * needs no configuration of its own on the node.
 */
export function nodeShell(opts: { node: string; kubectl: Kubectl; api: Api; namespace: string; image: string; mayRefuse: boolean }): NodeShell {
  const { node, kubectl } = opts;
  let ready: Promise<{ pod: string; endpoint?: string }> | undefined;
  const open = () => (ready ??= step(`start a node debugger Pod on ${node} (kubectl debug node/${node} --profile=sysadmin)`, async () => {
    // The Pod's command ends at once on TERM, so that deleting it is quick (a shell as PID 1 ignores
    // signals it has no handler for).
    const res = await kubectl(['debug', `node/${node}`, '--profile=sysadmin', `--image=${opts.image}`, '--', 'sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'], { reject: false });
    if (res.exitCode !== 0) {
      const why = (res.stderr || res.stdout).split('\n')[0];
      if (opts.mayRefuse && REFUSAL.test(res.stderr)) throw new NodeAccessDenied(`node-level steps need a node debugger Pod (kubectl debug node/... --profile=sysadmin), which this cluster refused: ${why}`);
      throw new Error(`kubectl debug node/${node} failed (exit ${res.exitCode}): ${why}`);
    }
    const pod = /Creating debugging pod (\S+)/.exec(res.stdout + res.stderr)?.[1];
    if (!pod) throw new Error(`kubectl debug node/${node} did not name its Pod: ${res.stdout} ${res.stderr}`);
    let seen = 'not read yet';
    await waitUntil(`node debugger Pod ${pod} Running on ${node}`, 60_000, async () => {
      const p = await opts.api.core.readNamespacedPod({ name: pod, namespace: opts.namespace });
      seen = summary(p);
      const waiting = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      if (waiting && /ErrImagePull|ImagePullBackOff|InvalidImageName|CreateContainerConfigError/.test(waiting)) {
        throw new GiveUp(`the node debugger Pod cannot start: ${waiting} (${opts.image})`);
      }
      return p.status?.phase === 'Running';
    }, () => seen);
    // The kubelet's configured runtime endpoint; without the right to read it, crictl's own configuration.
    const configz = await kubectl(['get', '--raw', `/api/v1/nodes/${node}/proxy/configz`], { reject: false });
    const endpoint = configz.exitCode === 0 ? JSON.parse(configz.stdout).kubeletconfig?.containerRuntimeEndpoint as string | undefined : undefined;
    return { pod, endpoint };
  }));
  const exec = async (command: string[]) => {
    const { pod } = await open();
    return step(`on node ${node}: ${command.join(' ')}`, async () => {
      const res = await kubectl(['exec', pod, '--', 'chroot', '/host', ...command], { reject: false });
      if (res.exitCode !== 0) throw new Error(`on node ${node}, \`${command.join(' ')}\` exited ${res.exitCode}:\n${res.stderr || res.stdout}`);
      return res.stdout;
    });
  };
  const crictl = async (args: string[], { withStderr = false } = {}) => {
    const { endpoint } = await open();
    // The kubelet's endpoint, and no configuration file (whose absence crictl warns about on
    // stderr). crictl gives up on the runtime after 2 s by default; a busy node (importing
    // images just after boot, or emulated) answers later, and a person would simply wait.
    const command = ['crictl', ...(endpoint ? ['--config=/dev/null', `--runtime-endpoint=${endpoint}`, `--image-endpoint=${endpoint}`] : []), `--timeout=${CRICTL_TIMEOUT}`, ...args];
    return exec(withStderr ? ['sh', '-c', '"$@" 2>&1', 'sh', ...command] : command);
  };
  return {
    node,
    exec,
    crictl,
    crictlJson: async (args) => JSON.parse(await crictl([...args, '-o', 'json'])),
  };
}
