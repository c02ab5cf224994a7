// With KUBE_CLAIMS_MEASURE_CPU=1 (the bench), each kubectl runs under a bash that reports its CPU
// (helpers/verbs/kubectl.ts): what kubectl prints, reads and exits with must be what it would be
// without the bash, its CPU must reach the step, and a timeout must end kubectl itself.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bindKubectl } from '../helpers/verbs/kubectl.js';
import { newRecorder, recording } from '../helpers/fixtures/steps.js';

const dir = mkdtempSync(join(tmpdir(), 'kube-claims-kubectl-cpu-'));
// A stand-in for kubectl: burns some CPU, echoes its input and arguments, and exits as asked.
const fake = join(dir, 'kubectl');
writeFileSync(fake, `#!/bin/bash
case " $* " in *" sleep "*) echo $$ > "${dir}/pid"; exec sleep 30 ;; esac
i=0; while [ $i -lt 200000 ]; do i=$((i + 1)); done
case " $* " in *" -f - "*) echo "read: $(cat)" ;; esac
echo "args: $*"; echo "err line" >&2
exit "\${FAKE_EXIT:-0}"
`);
chmodSync(fake, 0o755);

describe('kubectl measured call by call (KUBE_CLAIMS_MEASURE_CPU=1) behaves as kubectl alone', () => {
  beforeAll(() => { process.env.KUBE_CLAIMS_MEASURE_CPU = '1'; });
  afterAll(() => { delete process.env.KUBE_CLAIMS_MEASURE_CPU; rmSync(dir, { recursive: true, force: true }); });

  test('its output, input and exit code are kept, and its CPU reaches the step and the test', async () => {
    const rec = newRecorder();
    const kubectl = bindKubectl(fake, '/dev/null', 'ns1');
    const res = await recording(rec, () => kubectl(['apply', '-f', '-'], { input: 'hello', reject: false }));
    expect(res.stdout).toBe('read: hello\nargs: --kubeconfig /dev/null --namespace ns1 apply -f -');
    expect(res.stderr).toBe('err line');
    expect(res.exitCode).toBe(0);
    expect(rec.steps[0]!.cpuMs).toBeGreaterThan(50);
    // The step keeps whole milliseconds; the recorder, the sum of what was charged.
    expect(Math.round(rec.cpuMs)).toBe(rec.steps[0]!.cpuMs);
    process.env.FAKE_EXIT = '3';
    const failed = await recording(rec, () => kubectl(['get', 'pods'], { reject: false })).finally(() => delete process.env.FAKE_EXIT);
    expect(failed.exitCode).toBe(3);
  });

  test('a timeout ends kubectl, not only the bash that measures it', async () => {
    const kubectl = bindKubectl(fake, '/dev/null');
    await expect(kubectl(['sleep'], { timeoutMs: 1_000 })).rejects.toThrow(/timed out/);
    const pid = (await execa('cat', [join(dir, 'pid')])).stdout.trim();
    const alive = await execa('kill', ['-0', pid], { reject: false });
    expect(alive.exitCode, `kubectl (pid ${pid}) still runs after its timeout`).not.toBe(0);
  });
});
