// Our own manifests, read as files: every shell we start as a container's long-running command
// ends on the signals it may be stopped with. A shell as PID 1 ignores a signal it has no
// handler for, and the kubelet stops a container with its image's STOPSIGNAL (QUIT for the
// book's nginx-based hello, as for nginx:1.21-alpine), else TERM: a command that traps neither
// makes every deletion of its Pod wait out the grace period (30 s). `pod-localhost` deletes the
// two-container Pod and times it on the cluster.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { manifestPath } from '../helpers/fixtures/manifests.js';

interface Container { name: string; command?: string[]; args?: string[] }

function shellScripts(file: string): { container: string; script: string }[] {
  const found: { container: string; script: string }[] = [];
  for (const doc of parseAllDocuments(readFileSync(manifestPath(file), 'utf8'))) {
    const obj = doc.toJS();
    const spec = obj?.kind === 'Pod' ? obj.spec : obj?.spec?.template?.spec;
    for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])] as Container[]) {
      const argv = [...(c.command ?? []), ...(c.args ?? [])];
      const i = argv.indexOf('-c');
      if (['sh', '/bin/sh', 'bash'].includes(argv[0] ?? '') && i > 0 && argv[i + 1]) found.push({ container: c.name, script: argv[i + 1]! });
    }
  }
  return found;
}

/** The signals a script's `trap ... SIG...` lines handle. */
export function trappedSignals(script: string): string[] {
  return [...script.matchAll(/trap\s+(?:'[^']*'|"[^"]*"|\S+)((?:\s+[A-Z0-9]+)+)/g)].flatMap((m) => m[1]!.trim().split(/\s+/));
}

describe('manifests/', () => {
  const files = (readdirSync(new URL('../manifests/', import.meta.url), { recursive: true }) as string[]).filter((f) => f.endsWith('.yaml'));

  test.each(files)('%s: every long-running shell command traps QUIT and TERM', (file) => {
    for (const { container, script } of shellScripts(file)) {
      // A script that ends by itself (no loop) needs no trap.
      if (!/\b(while|until)\b/.test(script)) continue;
      const trapped = trappedSignals(script);
      expect(trapped, `${file}: container ${container} runs ${JSON.stringify(script)}`).toEqual(expect.arrayContaining(['QUIT', 'TERM']));
      // A foreground sleep delays the trap until it ends; `sleep N & wait $!` lets it run at once.
      expect(script, `${file}: container ${container}: sleep in the background and wait for it`).not.toMatch(/(^|;|do)\s*sleep\s+[\d.]+\s*;/);
    }
  });

  test('trappedSignals reads the signals of each trap', () => {
    expect(trappedSignals("trap 'exit 0' QUIT TERM INT; while true; do sleep 1 & wait $!; done")).toEqual(['QUIT', 'TERM', 'INT']);
    expect(trappedSignals("trap 'exit 0' TERM; while true; do sleep 1; done")).toEqual(['TERM']);
  });
});
