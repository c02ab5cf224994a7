// The Terminal (helpers/fixtures/terminal.ts) on either `script`: util-linux's (Linux) and BSD's (macOS,
// the BSDs) take different arguments. The real run uses this machine's script; run this file
// with a BSD script first on PATH to check that form end to end.
import { describe, expect, test } from 'vitest';
import { scriptCommand, scriptFlavour, Terminal } from '../helpers/fixtures/terminal.js';

describe('which script', () => {
  test('util-linux names itself in --version', () => {
    expect(scriptFlavour('script from util-linux 2.38.1\n')).toBe('util-linux');
  });

  test('BSD script has no --version: its usage (macOS, FreeBSD)', () => {
    expect(scriptFlavour('script: illegal option -- -\nusage: script [-aeFkqr] [-t time] [file [command ...]]\n')).toBe('bsd');
    expect(scriptFlavour('script: illegal option -- -\nusage: script [-aeFfkpqr] [-t time] [file [command ...]]\n       script -p [-deq] [-T fmt] [file]\n')).toBe('bsd');
  });
});

describe('how it is run', () => {
  const command = ['kubectl', 'exec', '-it', 'pod', '--', 'sh', '-c', "echo it's"];

  test('util-linux: the command as one quoted shell line after -c, then the file', () => {
    expect(scriptCommand('util-linux', command)).toEqual(['script', ['-q', '-f', '-e', '-c', String.raw`'kubectl' 'exec' '-it' 'pod' '--' 'sh' '-c' 'echo it'\''s'`, '/dev/null']]);
  });

  test('BSD: the file, then the command as it is (no -f, no -c), its stdin a pipe fed by cat', () => {
    expect(scriptCommand('bsd', command)).toEqual(['bash', ['-c', 'exec script "$@" < <(exec cat)', 'bash', '-q', '/dev/null', ...command]]);
  });
});

test("a command in this machine's script: sees a terminal, reads what is typed, ends with its status", async () => {
  const terminal = Terminal.open(['sh', '-c', 'printf "name? "; read name; [ -t 0 ] && echo "hello-$name-from-a-tty"; exit 3']);
  try {
    await terminal.waitFor(/name\? $/, 'the prompt', 10_000);
    terminal.type('kube\r');
    await terminal.waitFor(/^hello-kube-from-a-tty\r?$/m, 'the answer', 10_000);
    expect(await terminal.exitCode(10_000), terminal.screen).toBe(3);
  } finally {
    await terminal.close();
  }
});
