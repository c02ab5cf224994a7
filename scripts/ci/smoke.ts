// Smoke check of a node image, started by the harness's own code (startCluster, as `npm test`
// starts it): wait for the node, check the node's tools answer with no flags, run a pod from
// the local hello image, fetch its page by pod IP, then from another Pod (on another node when
// there are two) through a Service, by its name and by its ClusterIP (kube-proxy and CoreDNS as
// a k3s server runs them), then give a Pod a volume claimed with no StorageClass (local-path's
// default, as on a k3s server) and find what it wrote under the node's storage folder, then
// remove everything.
//   usage: npx tsx scripts/ci/smoke.ts [KUBERNETES_VERSION] [IMAGE]     (KUBE_CLAIMS_NODES: 1 or 2)
// Prints "boot: N s" (container start to node Ready). Exits non-zero with the reason on failure.
import { getContainerRuntimeClient } from 'testcontainers';
import { startCluster, type StartedCluster } from '../../helpers/cluster/cluster.js';
import { CRICTL_TIMEOUT } from '../../helpers/fixtures/node.js';
import { readSettings, resolveVersion, SettingError } from '../../helpers/settings.js';
import { nodeShell } from '../../helpers/cluster/node-shell.js';

const say = (line: string) => process.stderr.write(`[kube-claims] ${line}\n`);
let cluster: StartedCluster | undefined;
const stop = () => {
  cluster?.stop();
  cluster = undefined;
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: removing the node`);
    stop();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

async function main(): Promise<void> {
  const [wanted, image] = process.argv.slice(2);
  const settings = readSettings();
  const version = wanted ? resolveVersion(wanted) : settings.versions[0]!;
  try {
    await getContainerRuntimeClient();
  } catch (err) {
    throw new SettingError(`the Docker engine is not reachable (${String((err as Error).message).split('\n')[0]}); start Docker, or run: bash scripts/host/docker-engine.sh`);
  }
  cluster = await startCluster({
    version, mode: 'offline', image, runId: `${process.pid}-smoke`, nodes: settings.nodes, bootTimeoutMs: settings.bootTimeoutSeconds * 1000, log: say,
  });
  // Inside the node's container (the image's own tools, as a person at the node would use them).
  const runtime = await getContainerRuntimeClient();
  const container = runtime.container.getById(cluster.containerId);
  const node = await nodeShell(cluster.containerId, say);
  // The node's own tools answer with no endpoint or config flags, as in rancher/k3s. crictl gets its RPC timeout only:
  // right after boot the runtime may be busy importing the add-on images (2 s is its default).
  for (const tool of [['ctr', 'version'], ['crictl', `--timeout=${CRICTL_TIMEOUT}`, 'info'], ['kubectl', 'get', 'nodes']]) await node.exec(tool);
  if (!(await node.exec(['ctr', 'images', 'ls', '-q'])).includes('pause')) {
    throw new Error('ctr with no flags does not list the node\'s (k8s.io) images');
  }
  say('ctr, crictl and kubectl work inside the node with no endpoint or config flags');
  await node.exec(['kubectl', 'run', 'hello', `--image=${cluster.images.hello}`]);
  await node.exec(['kubectl', 'wait', '--for=condition=Ready', 'pod/hello', `--timeout=${120 * settings.timeScale}s`]);
  const ip = (await node.exec(['kubectl', 'get', 'pod', 'hello', '-o', 'jsonpath={.status.podIP}'])).trim();
  if (!ip) throw new Error('pod hello has no IP');
  const page = await node.exec(['bash', '-c', `exec 3<>/dev/tcp/${ip}/80; printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3`]);
  if (!page.includes('<html')) throw new Error(`http://${ip}/ did not serve the page: ${page.slice(0, 300)}`);
  say(`pod hello Running and Ready at ${ip}; its page is served`);

  // Through a Service, from a Pod on another node when there is one: by name (CoreDNS at
  // 10.43.0.10, the search path the kubelet writes) and by ClusterIP (kube-proxy's rules).
  await node.exec(['kubectl', 'expose', 'pod', 'hello', '--name=hello-svc', '--port=80']);
  const helloNode = (await node.exec(['kubectl', 'get', 'pod', 'hello', '-o', 'jsonpath={.spec.nodeName}'])).trim();
  const other = Object.keys(cluster.nodeContainers).find((n) => n !== helloNode) ?? helloNode;
  await node.exec(['kubectl', 'run', 'client', `--image=${cluster.images.hello}`, `--overrides={"spec":{"nodeName":"${other}"}}`]);
  // Time limits stretch with KUBE_CLAIMS_TIME_SCALE (an emulated CPU), as the tests' do.
  await node.exec(['kubectl', 'wait', '--for=condition=Ready', 'pod/client', `--timeout=${120 * settings.timeScale}s`]);
  const clusterIP = (await node.exec(['kubectl', 'get', 'service', 'hello-svc', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  for (const [how, host] of [['its name', 'hello-svc'], ['its ClusterIP', clusterIP]] as const) {
    const path = `/smoke-${how === 'its name' ? 'name' : 'ip'}-${Date.now()}`;
    // The Service's endpoints are programmed a moment after the Pod is Ready: a bounded retry.
    let said = '';
    const limit = 60 * settings.timeScale;
    for (const deadline = Date.now() + limit * 1000; ;) {
      const res = await runtime.container.exec(container, ['kubectl', 'exec', 'client', '--', 'wget', '-q', '-O', '-', `http://${host}${path}`]);
      // The page does not exist (404), so the request's line in hello's log is the proof it got there.
      said = res.output.trim();
      const log = await node.exec(['kubectl', 'logs', 'hello']);
      if (log.includes(`"GET ${path} HTTP/1.1"`)) break;
      if (Date.now() > deadline) throw new Error(`a request from pod client (node ${other}) to http://${host}${path} (the Service by ${how}) did not reach pod hello within ${limit} s; wget said: ${said.slice(0, 300)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  say(`pod client on node ${other} reached pod hello (node ${helloNode}) through Service hello-svc by its name and by its ClusterIP ${clusterIP}`);

  // Dynamic storage as a k3s server gives it: a claim that names no StorageClass gets local-path's
  // default, whose volume is a folder under the node's storage folder, made by the helper Pod (a
  // local volume: k3s's StorageClass says defaultVolumeType local).
  const manifest = `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Mi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  containers:
  - name: writer
    image: ${cluster.images.hello}
    command: [sh, -c, 'echo written-by-writer > /data/file && exec sleep 3600']
    volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
`;
  await node.exec(['bash', '-c', `kubectl apply -f - <<'YAML'\n${manifest}YAML`]);
  await node.exec(['kubectl', 'wait', '--for=condition=Ready', 'pod/writer', `--timeout=${180 * settings.timeScale}s`]);
  const claim = (await node.exec(['kubectl', 'get', 'pvc', 'data', '-o', 'jsonpath={.spec.storageClassName} {.status.phase} {.spec.volumeName}'])).trim().split(' ');
  if (claim[0] !== 'local-path' || claim[1] !== 'Bound' || !claim[2]) throw new Error(`claim data: storage class, phase and volume are "${claim.join(' ')}", not "local-path Bound pvc-..."`);
  const volumePath = (await node.exec(['kubectl', 'get', 'pv', claim[2], '-o', 'jsonpath={.spec.local.path}'])).trim();
  if (!volumePath.startsWith('/var/lib/rancher/k3s/storage/pvc-')) throw new Error(`volume ${claim[2]} is at "${volumePath}", not under /var/lib/rancher/k3s/storage/`);
  const writerNode = (await node.exec(['kubectl', 'get', 'pod', 'writer', '-o', 'jsonpath={.spec.nodeName}'])).trim();
  const onDisk = await runtime.container.exec(runtime.container.getById(cluster.nodeContainers[writerNode] ?? cluster.containerId), ['cat', `${volumePath}/file`]);
  if (onDisk.stdout.trim() !== 'written-by-writer') throw new Error(`${volumePath}/file on node ${writerNode} holds "${onDisk.output.trim()}", not what pod writer wrote`);
  say(`pod writer's claim got a local-path volume at ${volumePath} on node ${writerNode}, holding what it wrote`);
  process.stdout.write(`boot: ${cluster.bootSeconds.toFixed(1)} s\n`);
}

try {
  await main();
} catch (err) {
  say(`smoke check FAILED: ${err instanceof SettingError ? err.message : String((err as Error)?.message ?? err)}`);
  if (cluster) say(`last node log lines:\n${(await cluster.logTail(40).catch(() => '')).replace(/^/gm, '    ')}`);
  process.exitCode = err instanceof SettingError ? 2 : 1;
} finally {
  stop();
}
