// A command in a real pseudo-terminal, as a person at a keyboard runs it: the platform's
// `script` allocates the pty (so `kubectl exec -it` sees a terminal), the test types and reads.
// Linux has util-linux's `script`, macOS and the BSDs have BSD's; they take different arguments.
import { execa, execaSync, type ResultPromise } from 'execa';
import { waitUntil } from './wait.js';

export type ScriptFlavour = 'util-linux' | 'bsd';

/** From `script --version`: util-linux's names itself; BSD's has no such option (usage, exit 1). */
export function scriptFlavour(versionOutput: string): ScriptFlavour {
  return /util-linux/.test(versionOutput) ? 'util-linux' : 'bsd';
}

/**
 * The program and arguments that run `command` (program and arguments) in a new pty through
 * `script`, its output to stdout as it comes (the typescript file is /dev/null), ending with the
 * command's exit status.
 */
export function scriptCommand(flavour: ScriptFlavour, command: string[]): [string, string[]] {
  if (flavour === 'bsd') {
    // -q: no start/done lines; then the file and the command as arguments. BSD's script writes
    // to stdout as it reads (no -f; its -t only times the file's flushes) and exits with the
    // command's status (no -e: macOS's older script has none). Node's stdin "pipe" is a socket,
    // and BSD's script stops at a socket's answer to tcgetattr (macOS: "tcgetattr/ioctl:
    // Operation not supported on socket"), so `cat` passes the keystrokes on through a real
    // pipe; `exec` keeps script this process (its exit status, its signals).
    return ['bash', ['-c', 'exec script "$@" < <(exec cat)', 'bash', '-q', '/dev/null', ...command]];
  }
  const line = command.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  // -q: no start/done lines; -f: flush as it comes; -e: exit with the command's status; -c: one
  // shell line. Its stdin stays Node's socket, which util-linux's script takes as "not a tty"
  // (given a pipe instead, it waits for the pipe's end after the command has ended).
  return ['script', ['-q', '-f', '-e', '-c', line, '/dev/null']];
}

let flavour: ScriptFlavour | undefined;
function thisScript(): ScriptFlavour {
  if (flavour) return flavour;
  const probe = execaSync('script', ['--version'], { reject: false, all: true });
  if ((probe as { code?: string }).code === 'ENOENT') throw new Error('a terminal needs `script` (util-linux on Linux; part of macOS and the BSDs), and there is none on PATH');
  return (flavour = scriptFlavour(probe.all ?? ''));
}

export class Terminal {
  private output = '';
  private exited = false;

  private constructor(private readonly proc: ResultPromise<{ stdin: 'pipe'; reject: false }>) {
    proc.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    void proc.finally(() => (this.exited = true));
  }

  /** Start `command` (program and arguments) in a new pseudo-terminal. */
  static open(command: string[], env: Record<string, string> = {}): Terminal {
    const [file, args] = scriptCommand(thisScript(), command);
    const proc = execa(file, args, {
      stdin: 'pipe', reject: false, env: { ...env, TERM: 'dumb' }, forceKillAfterDelay: 2_000, cleanup: true,
    });
    return new Terminal(proc);
  }

  /** Everything the terminal showed so far (echoed keystrokes included). */
  get screen(): string {
    return this.output;
  }

  /** Type text, as keystrokes. */
  type(text: string): void {
    this.proc.stdin?.write(text);
  }

  /** Wait until the screen matches `pattern`; returns the match. */
  async waitFor(pattern: RegExp, what: string, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    let match: RegExpMatchArray | null = null;
    await waitUntil(`the terminal to show ${what}`, timeoutMs, () => {
      match = this.output.match(pattern);
      if (!match && this.exited) throw new Error(`the command ended first; screen: ${JSON.stringify(this.output.slice(-300))}`);
      return match !== null;
    }, () => `screen ends with ${JSON.stringify(this.output.slice(-300))}`, 100);
    return match!;
  }

  /** Wait for the command to end (bounded); returns its exit code. */
  async exitCode(timeoutMs = 30_000): Promise<number> {
    await waitUntil('the terminal command to end', timeoutMs, () => this.exited, () => `screen ends with ${JSON.stringify(this.output.slice(-300))}`, 100);
    return (await this.proc).exitCode ?? -1;
  }

  /** End it, if still running. */
  async close(): Promise<void> {
    if (!this.exited) this.proc.kill('SIGTERM');
    this.proc.stdin?.end();
    await this.proc;
  }
}
