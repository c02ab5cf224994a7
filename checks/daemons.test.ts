// The scripts' daemons (dockerd, the registry) are started by kc_daemon (scripts/lib.sh) while a
// script may hold the build lock on a descriptor: a daemon that inherited it held the lock for
// its whole life, and every later scripts/build/images.sh waited forever (CI's cgroup v2 step hit the
// 90-minute limit on it). A daemon keeps only stdin, stdout and stderr.
import { readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect, test } from 'vitest';
import { notLinux, scratchDir } from './scratch.js';

test.skipIf(notLinux !== undefined)(`a daemon started while the build lock is held keeps no descriptor but 0-2, so the lock is free once the script ends${notLinux ? ` (skipped: ${notLinux})` : ''}`, async () => {
  const dir = scratchDir('daemon');
  const lock = join(dir, 'build.lock');
  let pid = 0;
  try {
    const script = `
      source scripts/lib.sh
      exec 9>"$1"; flock -n 9
      kc_daemon "$2" sleep 60
      echo $!`;
    const { stdout } = await execa('bash', ['-c', script, 'bash', lock, join(dir, 'daemon.log')], { cwd: join(import.meta.dirname, '..') });
    pid = Number(stdout.trim().split('\n').pop());
    expect(pid, `the pid kc_daemon left in $!: ${stdout}`).toBeGreaterThan(0);
    // An inherited descriptor stays for the daemon's life; one its program opens as it starts
    // (CI saw sleep's locale file as fd 3, right after kc_daemon returned) goes: so poll, bounded.
    const above2 = () => readdirSync(`/proc/${pid}/fd`).filter((fd) => Number(fd) > 2)
      .map((fd) => { try { return `${fd} -> ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`; } catch { return `${fd} (closed)`; } })
      .filter((fd) => !fd.endsWith('(closed)'));
    let fds = above2();
    for (const until = Date.now() + 5_000; fds.length > 0 && Date.now() < until; fds = above2()) await new Promise((r) => setTimeout(r, 50));
    expect(fds, 'descriptors above 2 in the daemon, 5 s after it started').toEqual([]);
    // The script has ended: nobody else may hold the lock now.
    const free = await execa('flock', ['-n', lock, 'true'], { reject: false });
    expect(free.exitCode, 'flock -n on the build lock after the script ended (1: still held)').toBe(0);
  } finally {
    if (pid) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
