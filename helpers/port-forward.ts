// `kubectl port-forward` as a reader runs it, on a free local port, always ended afterwards.
//
// Since Kubernetes 1.23, kubectl ends the whole forward ("lost connection to pod") when a
// connection to the pod's port is refused, which is what an app that listens a moment after its
// container starts does (the book's ASP.NET whoami; its Pod has no readiness probe, so it is
// Ready before it answers). A reader would run the command again; so does `get`, on the same
// local port, until the app answers or its time is up.
import { createServer } from 'node:net';
import { execa, type ResultPromise } from 'execa';
import { GiveUp, waitUntil } from './wait.js';

export interface Forward {
  port: number;
  url: string;
  /**
   * GET a path through the forward, retried until it answers 2xx: while the tunnel settles, and
   * while the app does not listen yet (kubectl, ended by a refused connection, is started again).
   */
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

/** One kubectl port-forward process and what it printed. */
interface Tunnel {
  proc: ResultPromise;
  output: () => string;
  exited: () => boolean;
}

/** The last few lines kubectl printed, on one line, for messages. */
const tail = (output: string) => output.trim().split('\n').slice(-3).join(' | ') || 'no output';

export async function startPortForward(opts: {
  kubectl: string;
  kubeconfig: string;
  namespace: string;
  target: string;
  remotePort: number;
  localPort?: number;
  timeoutMs?: number;
  /** How long `get` tries, restarts of kubectl included. */
  getTimeoutMs?: number;
}): Promise<Forward> {
  const port = opts.localPort ?? (await freePort());
  const command = `kubectl port-forward ${opts.target} ${port}:${opts.remotePort}`;
  // Every kubectl started, until it has ended: stop() ends them all, and none starts after it.
  const live = new Set<ResultPromise>();
  let stopped = false;

  const spawn = (): Tunnel => {
    const proc: ResultPromise = execa(
      opts.kubectl,
      ['--kubeconfig', opts.kubeconfig, '-n', opts.namespace, 'port-forward', '--address', '127.0.0.1', opts.target, `${port}:${opts.remotePort}`],
      { reject: false, buffer: true, cleanup: true, forceKillAfterDelay: 2_000 },
    );
    let output = '';
    proc.stdout?.on('data', (d) => (output += d));
    proc.stderr?.on('data', (d) => (output += d));
    let exited = false;
    live.add(proc);
    void proc.finally(() => {
      exited = true;
      live.delete(proc);
    });
    return { proc, output: () => output, exited: () => exited };
  };

  const end = async (t: Tunnel) => {
    if (!t.exited()) t.proc.kill('SIGTERM');
    await t.proc;
  };

  /** Start kubectl and wait until it listens; on failure it is ended and the error says why. */
  const launch = async (): Promise<Tunnel> => {
    if (stopped) throw new GiveUp(`${command} was stopped`);
    const t = spawn();
    try {
      await waitUntil(`${command} to listen`, opts.timeoutMs ?? 30_000, () => {
        if (stopped) throw new GiveUp(`${command} was stopped`);
        if (t.exited()) {
          if (/address already in use|unable to listen/i.test(t.output())) {
            throw new PortInUseError(`local port ${port} is already in use; kubectl port-forward said: ${t.output().trim()}`);
          }
          throw new GiveUp(`kubectl port-forward exited: ${t.output().trim()}`);
        }
        return t.output().includes(`Forwarding from 127.0.0.1:${port}`);
      }, () => t.output().trim() || 'no output yet');
    } catch (err) {
      await end(t);
      throw err;
    }
    return t;
  };

  let current = await launch();
  // One restart at a time, shared by concurrent gets (a second kubectl on the port would fail).
  let restarting: Promise<Tunnel> | undefined;
  let restarts = 0;
  let lastEnd = '';

  /** The running forward: the current one, or a new one when kubectl has ended. */
  const running = async (): Promise<Tunnel> => {
    if (!current.exited()) return current;
    restarting ??= (async () => {
      const ended = current;
      await ended.proc;
      lastEnd = `kubectl ended (${tail(ended.output())})`;
      try {
        current = await launch();
        restarts++;
        return current;
      } catch (err) {
        // A forward that cannot start again yet (the pod just replaced, say) is retried by the
        // caller's wait; only a taken port or stop() end it.
        if (err instanceof PortInUseError || stopped) throw err;
        throw new Error(`${lastEnd}; starting it again failed: ${(err as Error).message}`);
      } finally {
        restarting = undefined;
      }
    })();
    return restarting;
  };

  const stop = async () => {
    stopped = true;
    await Promise.all([...live].map((proc) => {
      proc.kill('SIGTERM');
      return proc;
    }));
  };

  const url = `http://127.0.0.1:${port}`;
  return {
    port,
    url,
    stop,
    async get(path = '/') {
      let body = '';
      let seen = 'nothing yet';
      const what = `GET ${url}${path} through ${command}, started again when kubectl ends`;
      await waitUntil(what, opts.getTimeoutMs ?? 30_000, async () => {
        const t = await running();
        try {
          const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5_000) });
          body = await res.text();
          seen = `HTTP ${res.status}`;
          return res.ok;
        } catch (err) {
          const cause = (err as { cause?: { code?: string; message?: string } }).cause;
          seen = `${(err as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ''}`;
          return false;
        } finally {
          if (t.exited()) seen += `; kubectl ended (${tail(t.output())})`;
        }
      }, () => `${seen}${restarts ? `; kubectl started again ${restarts} time(s), last after: ${lastEnd}` : ''}`);
      return body;
    },
  };
}
