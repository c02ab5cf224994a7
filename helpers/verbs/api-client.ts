// API clients (client-node) that send a request again when the API server refused a read as
// 'Too large resource version' (HTTP 504, reason Timeout, which the API's conventions let
// clients retry), or a create that an admission plugin's own read refused so (HTTP 403, with
// the same words; nothing was stored): kine before v0.14.13, which k3s releases up to 1.34
// bundle, can answer so when it lists an empty prefix (relisting it at the current revision).
// Any other answer is the caller's.
import { Agent } from 'node:https';
import * as k8s from '@kubernetes/client-node';

/** The API server's words for that refusal; kubectl prints them too (NOT_SENT in kubectl.ts). */
export const TOO_LARGE_RV_WORDS = 'Timeout: Too large resource version: ';
/** The message of the refusal (a Status body): nothing was read or changed. */
export const TOO_LARGE_RV = new RegExp(String.raw`"message":"((?:[^"\\]|\\.)* is forbidden: )?${TOO_LARGE_RV_WORDS}\d+, current: \d+"`);
const ATTEMPTS = 3;

const fetchLibrary = new k8s.IsomorphicFetchHttpLibrary();
const retrying = k8s.wrapHttpLibrary({
  async send(request) {
    for (let attempt = 1; ; attempt++) {
      const response = await fetchLibrary.send(request).toPromise();
      if (![403, 504].includes(response.httpStatusCode) || attempt === ATTEMPTS) return response;
      const text = await response.body.text();
      // The body was read: hand the caller a response that can be read again.
      if (!TOO_LARGE_RV.test(text)) return new k8s.ResponseContext(response.httpStatusCode, response.headers, new k8s.SelfDecodingBody(Promise.resolve(Buffer.from(text))));
    }
  },
});

/**
 * The kubeconfig's authentication, over connections that are kept and used again. client-node
 * gives every request a new https.Agent, so each request opened a TCP connection and made a TLS
 * handshake (a client certificate checked, a key exchange on both sides): CPU for the test process
 * and the API server alike. The agent it makes (its CA, certificate, key, server name) is made
 * once more with keep-alive, and shared; a proxy's agent is left as it is.
 */
const keptAlive = new WeakMap<k8s.KubeConfig, Agent>();
function keepAliveAuth(config: k8s.KubeConfig): k8s.SecurityAuthentication {
  return {
    getName: () => 'kubeconfig, connections kept',
    async applySecurityAuthentication(context) {
      await config.applySecurityAuthentication(context);
      const made = context.getAgent();
      if (!(made instanceof Agent) || made.constructor !== Agent) return;
      let agent = keptAlive.get(config);
      // An idle connection is closed after 30 s, before the API server's own limit (90 s), so
      // that a request never goes out on a connection the server is closing.
      if (!agent) keptAlive.set(config, agent = new Agent({ ...made.options, keepAlive: true, timeout: 30_000 }));
      context.setAgent(agent);
    },
  };
}

/** `config.makeApiClient(type)`, with the retry above, over kept connections. */
export function apiClient<T>(config: k8s.KubeConfig, type: new (configuration: k8s.Configuration) => T): T {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  return new type(k8s.createConfiguration({
    baseServer: new k8s.ServerConfiguration(cluster.server, {}),
    authMethods: { default: keepAliveAuth(config) },
    httpApi: retrying,
  }));
}
