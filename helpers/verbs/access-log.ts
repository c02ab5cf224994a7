// The hello app's access log, read only as the fixture contract allows (images/contract.md):
// one line per request, naming the client's IP and the request line. Other lines come first
// (the image's start-up output), so tests look for their own request, never count lines.
import { randomBytes } from 'node:crypto';
import type { Kubectl } from './kubectl.js';
import { waitUntil } from './wait.js';

/** A request path no other request has: the test finds its own access line by it. */
export function markedPath(label: string): string {
  return `/?kube-claims=${label}-${randomBytes(4).toString('hex')}`;
}

const REQUEST_LINE = /"(GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH) (\S+) HTTP\/[\d.]+"/;

/** The access lines of a log: lines that hold an HTTP request line. */
export function accessLines(log: string): string[] {
  return log.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => REQUEST_LINE.test(l));
}

/** The access line of the request for exactly `path`, if the log has one. */
export function accessLineFor(log: string, path: string): string | undefined {
  return accessLines(log).find((l) => REQUEST_LINE.exec(l)?.[2] === path);
}

/**
 * Poll `kubectl logs ARGS...` until the access line of `path` appears; returns that line and
 * the whole log as it was then.
 */
export async function waitForAccessLine(
  kubectl: Kubectl, logsArgs: string[], path: string, timeoutMs = 30_000,
): Promise<{ line: string; log: string }> {
  let log = '';
  let line: string | undefined;
  await waitUntil(`the access line of GET ${path} in kubectl logs ${logsArgs.join(' ')}`, timeoutMs, async () => {
    log = (await kubectl(['logs', ...logsArgs])).stdout;
    line = accessLineFor(log, path);
    return line !== undefined;
  }, () => `${accessLines(log).length} access line(s), last: ${accessLines(log).at(-1) ?? 'none'}`);
  return { line: line!, log };
}
