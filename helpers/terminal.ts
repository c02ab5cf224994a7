// A command in a real pseudo-terminal, as a person at a keyboard runs it: util-linux `script`
// allocates the pty (so `kubectl exec -it` sees a terminal), the test types and reads.
import { execa, type ResultPromise } from 'execa';
import { waitUntil } from './wait.js';

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
    const line = command.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    // -q: no start/done lines; -f: flush as it comes; -e: exit with the command's status.
    const proc = execa('script', ['-q', '-f', '-e', '-c', line, '/dev/null'], {
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
