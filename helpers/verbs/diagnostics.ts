// What a person needs when a claim fails: describe, recent events and container logs of
// every pod in the test's namespace.
import type { Kubectl } from './kubectl.js';

export async function namespaceDiagnostics(kubectl: Kubectl, namespace: string): Promise<string> {
  const section = (title: string, body: string) => `----- ${title} -----\n${body.trim() || '(nothing)'}\n`;
  const out: string[] = [];
  const safe = async (args: string[]) => {
    const r = await kubectl(args, { reject: false, timeoutMs: 20_000 });
    return r.exitCode === 0 ? r.stdout : `${r.stderr}`;
  };
  out.push(section(`kubectl get all,endpointslices -n ${namespace}`, await safe(['get', 'all,endpointslices', '-o', 'wide'])));
  out.push(section('kubectl describe pods', await safe(['describe', 'pods'])));
  out.push(section('events (oldest first)', await safe(['get', 'events', '--sort-by=.lastTimestamp'])));
  const pods = await kubectl.json<{ items: any[] }>(['get', 'pods'], { reject: false }).catch(() => ({ items: [] }));
  for (const pod of pods.items) {
    for (const status of pod.status?.containerStatuses ?? []) {
      const name = `${pod.metadata.name}/${status.name}`;
      out.push(section(`logs ${name}`, await safe(['logs', pod.metadata.name, '-c', status.name, '--tail=50'])));
      if (status.restartCount > 0) {
        out.push(section(`logs ${name} (previous)`, await safe(['logs', pod.metadata.name, '-c', status.name, '--previous', '--tail=50'])));
      }
    }
  }
  return out.join('\n');
}
