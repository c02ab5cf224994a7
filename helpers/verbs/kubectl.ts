// kubectl as a reader runs it: the real binary through execa, against the run's cluster.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import { cacheDir, kubectlFor, SettingError, type VersionRow } from '../settings.js';
import { boundedTimeout, chargeCpu, step } from '../fixtures/steps.js';
import { TOO_LARGE_RV_WORDS } from './api-client.js';
import { builtKubectlPath } from '../facts.mjs';

export interface KubectlResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface KubectlOptions {
  /** Namespace for this call; defaults to the bound one. */
  namespace?: string;
  /** Resolve with a non-zero exit code instead of throwing. */
  reject?: boolean;
  input?: string;
  timeoutMs?: number;
  /** Keep the output's final newline (CRLF or LF), for byte-exact comparisons. */
  raw?: boolean;
}

/** A kubectl that keeps running (`get --watch`, ...) until stopped. */
export interface BackgroundKubectl {
  /** stdout and stderr so far. */
  readonly output: string;
  stop(): Promise<void>;
}

export type Kubectl = ((args: string[], opts?: KubectlOptions) => Promise<KubectlResult>) & {
  /** Run with `-o json` and parse the output. */
  json: <T = any>(args: string[], opts?: KubectlOptions) => Promise<T>;
  /** Start a long-running kubectl (e.g. `get pods --watch`); the caller stops it. */
  background: (args: string[]) => BackgroundKubectl;
  readonly binary: string;
};

/**
 * kubectl's words when it sent nothing: it could not reach the API server at all, or `apply` /
 * `create` could not fetch the OpenAPI document it validates a manifest against before sending
 * it (an emulated server built it past client-go's 32 s discovery limit). And the one answer
 * that did nothing: a read refused as 'Too large resource version' (a Timeout, which the API's
 * conventions let clients retry; kine before v0.14.13, which k3s releases up to 1.34 bundle,
 * can answer so when it lists an empty prefix: TOO_LARGE_RV), or a create that an admission
 * plugin's own read of that kind refused.
 */
export const NOT_SENT = new RegExp([
  /^Unable to connect to the server: (net\/http: TLS handshake timeout|dial tcp \S+: (connect: connection refused|i\/o timeout))/.source,
  /^error: error validating "[^"\n]*": error validating data: failed to download openapi: /.source,
  // (Refused by an admission plugin's own read, a create is Forbidden with the same words: nothing was stored.)
  String.raw`^Error from server \((Timeout|Forbidden)\): (\S+ "[^"]*" is forbidden: )?${TOO_LARGE_RV_WORDS}`,
].join('|'), 'm');

/** `-o json` or `-o yaml`: output for the test to parse, not what a reader looks at (the report leaves it out). */
function machineOutput(args: string[]): boolean {
  return args.some((a, i) => /^(-o|--output)=(json|yaml)$/.test(a) || ((a === '-o' || a === '--output') && /^(json|yaml)$/.test(args[i + 1] ?? '')));
}

/**
 * With KUBE_CLAIMS_MEASURE_CPU=1 (set by `npm run bench`), each kubectl runs under a bash that
 * waits for it and reports its children's CPU (`times`, last line: user and system) on fd 3; the
 * CPU is charged to the step and the test (chargeCpu). A stop (timeout) reaches kubectl too. It
 * costs a bash per call, so only the bench asks for it.
 */
const measureCpu = () => process.env.KUBE_CLAIMS_MEASURE_CPU === '1';

/**
 * kubectl's environment: the kubeconfig, and Go's garbage collector run less often (GOGC=400,
 * unless you set GOGC). A kubectl call lives well under a second, and its start alone (every
 * API group's types registered) went through several collections at Go's default of 100: with
 * 400, the same calls used about a fifth less CPU (docs/benchmarks.md). What kubectl does and
 * prints is the same.
 */
export function kubectlEnv(kubeconfig: string): Record<string, string> {
  return { KUBECONFIG: kubeconfig, GOGC: process.env.GOGC ?? '400' };
}
const TIMED = `"$0" "$@" <&0 3>&- & pid=$!; trap 'kill "$pid" 2>/dev/null' TERM
while :; do wait "$pid"; rc=$?; kill -0 "$pid" 2>/dev/null || break; done; times >&3; exit "$rc"`;

/** The CPU milliseconds in `times`' last line ("0m0.050s 0m0.010s"), if any. */
function timedCpuMs(fd3: unknown): number | undefined {
  const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(String(fd3 ?? ''));
  return m ? (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000 : undefined;
}

export function bindKubectl(binary: string, kubeconfig: string, namespace?: string): Kubectl {
  const run = (args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> =>
    step(`kubectl ${args.join(' ')}`, () => runKubectl(args, opts), (r) => (machineOutput(args) ? undefined : [r.stdout, r.stderr].filter(Boolean).join('\n')));
  const runKubectl = async (args: string[], opts: KubectlOptions): Promise<KubectlResult> => {
    const ns = opts.namespace ?? namespace;
    const full = ['--kubeconfig', kubeconfig, ...(ns ? ['--namespace', ns] : []), ...args];
    const bound = boundedTimeout(opts.timeoutMs ?? 120_000);
    const deadline = Date.now() + bound.ms;
    const attempt = async () => {
      const options = {
        reject: false,
        input: opts.input,
        timeout: Math.max(1, deadline - Date.now()),
        env: kubectlEnv(kubeconfig),
        stripFinalNewline: !opts.raw,
      } as const;
      if (!measureCpu()) return execa(binary, full, options);
      const res = await execa('bash', ['-c', TIMED, binary, ...full], { ...options, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
      const cpu = timedCpuMs(res.stdio[3]);
      if (cpu !== undefined) chargeCpu(cpu);
      return res;
    };
    let res = await attempt();
    // kubectl sent nothing (a busy or emulated server missed Go's 10 s TLS handshake limit,
    // refused the connection, or was too slow with the OpenAPI document a manifest is validated
    // against): a person would run it again, and so does this, within the same time limit. Any
    // other failure is the result.
    for (let tries = 1; tries < 3 && res.exitCode !== 0 && !res.timedOut && NOT_SENT.test(res.stderr) && deadline - Date.now() > 1_000; tries++) {
      res = await attempt();
    }
    const result = { stdout: res.stdout, stderr: res.stderr, exitCode: res.exitCode ?? -1 };
    if (result.exitCode !== 0 && opts.reject !== false) {
      const why = res.timedOut ? `timed out after ${Math.round(bound.ms / 100) / 10}s${bound.cut ? " (the rest of the test's time)" : ''}` : `exit ${result.exitCode}`;
      throw new Error(`kubectl ${args.join(' ')} failed (${why}):\n${result.stderr || result.stdout}`);
    }
    return result;
  };
  const kubectl = run as Kubectl;
  kubectl.json = async (args, opts) => JSON.parse((await run([...args, '-o', 'json'], opts)).stdout);
  kubectl.background = (args) => {
    const proc = execa(binary, ['--kubeconfig', kubeconfig, ...(namespace ? ['--namespace', namespace] : []), ...args], {
      reject: false, env: kubectlEnv(kubeconfig), cleanup: true, forceKillAfterDelay: 2_000,
    });
    let output = '';
    proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    return {
      get output() { return output; },
      async stop() { proc.kill('SIGTERM'); await proc; },
    };
  };
  Object.defineProperty(kubectl, 'binary', { value: binary });
  return kubectl;
}

export interface KubectlChoice {
  path: string;
  version: string;
  why: string;
}

async function clientVersion(binary: string): Promise<{ minor: number; git: string } | undefined> {
  const res = await execa(binary, ['version', '--client', '-o', 'json'], { reject: false });
  if (res.exitCode !== 0) return undefined;
  const v = JSON.parse(res.stdout).clientVersion;
  return { minor: Number.parseInt(v.minor, 10), git: v.gitVersion };
}

/** KUBE_CLAIMS_KUBECTL, with {minor} filled in for `version`, must run; checked before a cluster boots. */
export async function checkKubectl(setting: string, version: VersionRow): Promise<void> {
  const path = kubectlFor(setting, version);
  if (!(await clientVersion(path).catch(() => undefined))) {
    const which = path === setting ? '' : ` gives ${path} for Kubernetes ${version.kubernetes}, which`;
    throw new SettingError(`KUBE_CLAIMS_KUBECTL=${setting}${which} does not run (kubectl version --client failed); set it to a kubectl binary, or unset it`);
  }
}

/**
 * This machine as Go names platforms (GOOS/GOARCH), as an image's Os/Architecture does. Node's
 * names are mapped where Go's differ; Node's ppc64 is little-endian (Node has no big-endian build).
 */
export function hostPlatform(platform: string = process.platform, arch: string = process.arch): string {
  const goos: Record<string, string> = { win32: 'windows' };
  const goarch: Record<string, string> = { x64: 'amd64', ia32: '386', ppc64: 'ppc64le', mipsel: 'mipsle' };
  return `${goos[platform] ?? platform}/${goarch[arch] ?? arch}`;
}

/**
 * The user's kubectl when it is within one minor version of the server (kubectl's own skew
 * policy); otherwise the cluster's own, copied out of the node image once and cached by image,
 * where the image's platform is this machine's (rancher/k3s is multi-arch: linux/arm64 Linux
 * gets an arm64 kubectl; a Mac gets a Linux one, which cannot run there).
 */
export async function chooseKubectl(opts: {
  serverVersion: string;
  /** KUBE_CLAIMS_KUBECTL with {minor} filled in. */
  override?: string;
  /** The server node's container and image, where the run started the cluster (its own kubectl). */
  containerId?: string;
  imageId?: string;
}): Promise<KubectlChoice> {
  const serverMinor = Number.parseInt(opts.serverVersion.split('.')[1] ?? '', 10);
  if (opts.override) {
    const v = await clientVersion(opts.override);
    if (!v) throw new SettingError(`KUBE_CLAIMS_KUBECTL=${opts.override} does not run (kubectl version --client failed)`);
    return { path: opts.override, version: v.git, why: 'set by KUBE_CLAIMS_KUBECTL' };
  }
  const user = await clientVersion('kubectl').catch(() => undefined);
  if (user && Math.abs(user.minor - serverMinor) <= 1) {
    const which = await execa('sh', ['-c', 'command -v kubectl']);
    return { path: which.stdout.trim(), version: user.git, why: `yours, within one minor of the server ${opts.serverVersion}` };
  }
  const yours = user ? `yours is ${user.git}, more than one minor from the server ${opts.serverVersion}` : 'there is no kubectl on PATH';
  // A standalone kubectl of the server's version, built with the offline images: it starts for
  // less CPU than the node's multi-call binary, and says the same.
  const built = builtKubectlPath(cacheDir, opts.serverVersion);
  if (existsSync(built)) {
    const v = await clientVersion(built);
    if (v && v.minor === serverMinor) return { path: built, version: v.git, why: `built with the offline images: ${yours}` };
  }
  const needed = `kubectl ${opts.serverVersion.split('.').slice(0, 2).join('.')} (or one minor either side) is needed`;
  if (!opts.containerId || !opts.imageId) {
    throw new SettingError(`${needed}: ${yours}; install it (kubernetes.io/docs/tasks/tools), or set KUBE_CLAIMS_KUBECTL to one`);
  }
  // Imported here: only global setup copies a kubectl, and testcontainers is slow to load in every test file.
  const { containerEngine } = await import('../cluster/engine.js');
  const { client, dockerode } = await containerEngine();
  const image = await dockerode.getImage(opts.imageId).inspect();
  const imagePlatform = `${image.Os}/${image.Architecture}`;
  if (imagePlatform !== hostPlatform()) {
    throw new SettingError(
      `${needed}: ${yours}, and the cluster's own is ${imagePlatform}, which cannot run on this ${hostPlatform()} machine; install it (kubernetes.io/docs/tasks/tools), or set KUBE_CLAIMS_KUBECTL to one (for several versions: a path with {minor}, e.g. ~/bin/kubectl-{minor} for ~/bin/kubectl-1.37)`,
    );
  }
  const dir = join(cacheDir, 'kubectl', opts.imageId.replace(/^sha256:/, '').slice(0, 16));
  const path = join(dir, 'kubectl');
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    // kubectl in the image is a link to a multi-call binary that acts by the name it runs as.
    const node = client.container.getById(opts.containerId);
    const inImage = (await client.container.exec(node, ['sh', '-c', 'readlink -f "$(command -v kubectl)"'])).stdout.trim();
    // The engine hands files out as a tar stream; written under its own name, then renamed.
    const archive = await dockerode.getContainer(opts.containerId).getArchive({ path: inImage });
    await execa('tar', ['-x', '-C', dir], { input: archive as unknown as Readable });
    renameSync(join(dir, basename(inImage)), path);
  }
  const own = await clientVersion(path);
  if (!own) throw new Error(`the kubectl copied from the node image (${path}) does not run`);
  const why = user
    ? `the cluster's own: yours is ${user.git}, more than one minor from the server`
    : "the cluster's own: no kubectl on PATH";
  return { path, version: own.git, why };
}
