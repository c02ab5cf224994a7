// What a failed pull means, in words, with no dependencies of its own: the run's start
// (image-mode.ts), the tests' waits (helpers/verbs/pulls.ts, loaded by every test file's worker)
// and the report all read it.

/** How a claim ended by a pull its node could not make begins (helpers/verbs/pulls.ts); the run names it once. */
export const NODE_PULL_FAILED = 'the node cannot pull';

/** Why a pull failed, from the engine's message: only `unreachable` falls back to offline. */
export type PullFailureKind = 'unreachable' | 'rate-limit' | 'auth' | 'not-found' | 'timeout' | 'other';

/**
 * The kind of a failed pull, from the message the Docker engine returns (through dockerode:
 * "(HTTP code 500) server error - Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup
 * registry-1.docker.io on 10.255.255.53:53: no such host"). The registry's answers come first:
 * a message that names one was not cut off by the network.
 */
export function classifyPullFailure(message: string): PullFailureKind {
  const m = message.toLowerCase();
  const status = Number(/^\(http code (\d+)\)/.exec(m)?.[1]);
  if (status === 429 || /toomanyrequests|too many requests|pull rate limit/.test(m)) return 'rate-limit';
  if (status === 401 || status === 403 || /unauthorized|authentication required|denied|forbidden|incorrect username or password/.test(m)) return 'auth';
  // (containerd, in a node: 'failed to resolve reference "docker.io/x:1": docker.io/x:1: not found'.)
  if (/manifest unknown|not found: manifest|name unknown|no such manifest|: not found$/.test(m.trim())) return 'not-found';
  // No name resolution (Go's resolver: "no such host", "server misbehaving", "Temporary failure
  // in name resolution", or a DNS server that never answers: "lookup HOST ...: i/o timeout"),
  // nothing listening, or no route: no registry can be reached from here.
  if (/dial tcp: lookup |no such host|server misbehaving|name resolution|enotfound|eai_again/.test(m)) return 'unreachable';
  if (/connection refused|network is unreachable|no route to host|econnrefused|enetunreach|ehostunreach/.test(m)) return 'unreachable';
  if (/timeout|timed out|deadline exceeded|client\.timeout/.test(m)) return 'timeout';
  return 'other';
}

/** What a failed pull means and what to do, in one line (the `unreachable` kind is not an error). */
export function pullFailureAdvice(kind: Exclude<PullFailureKind, 'unreachable'>, image: string, detail: string): string {
  const offline = 'or set KUBE_CLAIMS_IMAGES=offline to use images built on this machine';
  switch (kind) {
    case 'rate-limit':
      return `${image} cannot be pulled: Docker Hub's limit of pulls for this address is reached (${detail}); log in with \`docker login\` for a higher limit, wait for it to reset (6 hours), ${offline} (docs/settings.md: Pull limits)`;
    case 'auth':
      return `${image} cannot be pulled: the registry refused access (${detail}); check your \`docker login\` (or \`docker logout\` to pull anonymously), ${offline}`;
    case 'not-found':
      return `${image} is not in the registry (${detail}); choose a version k3s has published (KUBE_CLAIMS_K8S_VERSION), ${offline}`;
    case 'timeout':
      return `pulling ${image} timed out (${detail}); a registry was found but did not answer in time: try again, check the network or proxy, ${offline}`;
    case 'other':
      return `${image} cannot be pulled (${detail}); see what \`docker pull ${image}\` says, ${offline}`;
  }
}
