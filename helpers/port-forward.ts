// `kubectl port-forward` as a reader runs it, on a free local port, always ended afterwards.
import { createServer } from 'node:net';
import { execa, type ResultPromise } from 'execa';
import { GiveUp, waitUntil } from './wait.js';

export interface Forward {
  port: number;
  url: string;
  /** GET a path through the forward; the first request is retried while the tunnel settles. */
  get(path?: string): Promise<string>;
  stop(): Promise<void>;
}

export class PortInUseError extends GiveUp {}

/** A local TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export async function startPortForward(opts: {
  kubectl: string;
  kubeconfig: string;
  namespace: string;
  target: string;
  remotePort: number;
  localPort?: number;
  timeoutMs?: number;
}): Promise<Forward> {
  const port = opts.localPort ?? (await freePort());
  const proc: ResultPromise = execa(
    opts.kubectl,
    ['--kubeconfig', opts.kubeconfig, '-n', opts.namespace, 'port-forward', '--address', '127.0.0.1', opts.target, `${port}:${opts.remotePort}`],
    { reject: false, buffer: true, cleanup: true, forceKillAfterDelay: 2_000 },
  );
  let output = '';
  proc.stdout?.on('data', (d) => (output += d));
  proc.stderr?.on('data', (d) => (output += d));
  let exited = false;
  void proc.finally(() => (exited = true));

  const stop = async () => {
    if (!exited) proc.kill('SIGTERM');
    await proc;
  };
  try {
    await waitUntil(`kubectl port-forward ${opts.target} ${port}:${opts.remotePort} to listen`, opts.timeoutMs ?? 30_000, () => {
      if (exited) {
        if (/address already in use|unable to listen/i.test(output)) {
          throw new PortInUseError(`local port ${port} is already in use; kubectl port-forward said: ${output.trim()}`);
        }
        throw new GiveUp(`kubectl port-forward exited: ${output.trim()}`);
      }
      return output.includes(`Forwarding from 127.0.0.1:${port}`);
    }, () => output.trim() || 'no output yet');
  } catch (err) {
    await stop();
    throw err;
  }

  const url = `http://127.0.0.1:${port}`;
  return {
    port,
    url,
    stop,
    async get(path = '/') {
      let body = '';
      await waitUntil(`GET ${url}${path} through the port-forward`, 15_000, async () => {
        const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5_000) });
        body = await res.text();
        return res.ok;
      });
      return body;
    },
  };
}
