// KUBE_CLAIMS_IMAGES=auto falls back to the offline images only when no registry can be
// reached; every other failed pull is one line saying what to do. The messages are as the
// Docker engine returns them through dockerode ("(HTTP code N) ... - <the engine's message> ");
// those marked "seen" came from this project's registry-less machine (Docker 20.10): its DNS, a
// closed port, and a registry on localhost answering as Docker Hub does (429 TOOMANYREQUESTS,
// 401 UNAUTHORIZED, 403 DENIED, 404 MANIFEST_UNKNOWN); the others are moby's and Docker Hub's texts.
import { describe, expect, test } from 'vitest';
import { classifyPullFailure, NODE_PULL_FAILED, pullFailureAdvice, type PullFailureKind } from '../helpers/cluster/pull-failure.js';
import { nodePullAdvice } from '../helpers/verbs/pulls.js';

const seen: [string, PullFailureKind][] = [
  // No registry can be reached: no name resolution, nothing listening, no route (the first two seen).
  ['(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host ', 'unreachable'],
  ['(HTTP code 500) server error - Get "http://localhost:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused ', 'unreachable'],
  ['(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 192.168.65.7:53: server misbehaving ', 'unreachable'],
  ['(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: Temporary failure in name resolution ', 'unreachable'],
  ['(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 127.0.0.53:53: read udp 127.0.0.1:46043->127.0.0.53:53: i/o timeout ', 'unreachable'],
  ['(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": dial tcp [2600:1f18:2148:bc00:6d61:9fd5:42f8:7c67]:443: connect: network is unreachable ', 'unreachable'],
  ['(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": dial tcp 54.236.113.205:443: connect: no route to host ', 'unreachable'],
  ['(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": proxyconnect tcp: dial tcp 10.0.0.1:3128: connect: connection refused ', 'unreachable'],
  ['getaddrinfo ENOTFOUND registry-1.docker.io', 'unreachable'],
  ['getaddrinfo EAI_AGAIN registry-1.docker.io', 'unreachable'],
  // Seen: a local registry refusing as Docker Hub does.
  ['(HTTP code 500) server error - toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit ', 'rate-limit'],
  ['(HTTP code 500) server error - unauthorized ', 'auth'],
  ['(HTTP code 500) server error - denied ', 'auth'],
  ['(HTTP code 500) server error - manifest unknown ', 'not-found'],
  // Docker Hub's pull limit (HTTP 429 from the registry, passed on by the engine).
  ['(HTTP code 429) unexpected - toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit ', 'rate-limit'],
  ['(HTTP code 500) server error - Head "https://registry-1.docker.io/v2/rancher/k3s/manifests/v1.37.2-k3s1": 429 Too Many Requests ', 'rate-limit'],
  // Credentials refused, or a repository this account may not pull.
  ['(HTTP code 500) server error - Head "https://registry-1.docker.io/v2/rancher/k3s/manifests/v1.37.2-k3s1": unauthorized: incorrect username or password ', 'auth'],
  ['(HTTP code 401) unexpected - Get "https://registry-1.docker.io/v2/": unauthorized: authentication required ', 'auth'],
  ["(HTTP code 404) unexpected - pull access denied for rancher/k3s, repository does not exist or may require 'docker login': denied: requested access to the resource is denied ", 'auth'],
  ['(HTTP code 403) unexpected - Get "https://mirror.example.com/v2/": Forbidden ', 'auth'],
  // A tag the registry does not have.
  ['(HTTP code 404) unexpected - manifest for rancher/k3s:v1.37.2-k3s1 not found: manifest unknown: manifest unknown ', 'not-found'],
  // A registry that was found but did not answer in time.
  ['(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers) ', 'timeout'],
  ['(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": net/http: TLS handshake timeout ', 'timeout'],
  ['(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": dial tcp 54.236.113.205:443: i/o timeout ', 'timeout'],
  ['(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": context deadline exceeded ', 'timeout'],
  // Anything else is said as it is.
  ['the pull ended without the image (its progress stream reported an error)', 'other'],
  ['(HTTP code 500) server error - unexpected EOF ', 'other'],
];

describe('a failed pull in auto mode', () => {
  test.each(seen)('%s: %s', (message, kind) => {
    expect(classifyPullFailure(message)).toBe(kind);
  });

  test.each(['rate-limit', 'auth', 'not-found', 'timeout', 'other'] as const)('%s is one line naming the image and what to do', (kind) => {
    const line = pullFailureAdvice(kind, 'rancher/k3s:v1.37.2-k3s1', 'the detail');
    expect(line).not.toContain('\n');
    expect(line).toContain('rancher/k3s:v1.37.2-k3s1');
    expect(line).toContain('(the detail)');
    expect(line).toContain('KUBE_CLAIMS_IMAGES=offline');
  });
});

// In a node, the kubelet reports containerd's words as the container's waiting message
// (ErrImagePull). Those marked "seen" came from a node pulling through a mirror that answered 429.
describe('a pull the node cannot make', () => {
  const image = 'kiamol/ch02-hello-kiamol';
  const cases: [string, RegExp][] = [
    ['failed to pull and unpack image "docker.io/kiamol/ch02-hello-kiamol:latest": failed to resolve reference "docker.io/kiamol/ch02-hello-kiamol:latest": unexpected status from HEAD request to http://172.17.0.1:5999/v2/kiamol/ch02-hello-kiamol/manifests/latest?ns=docker.io: 429 Too Many Requests', /pull limit is reached .*KUBE_CLAIMS_REGISTRY_MIRROR/],
    ['failed to pull and unpack image "docker.io/kiamol/ch02-hello-kiamol:latest": failed to resolve reference "docker.io/kiamol/ch02-hello-kiamol:latest": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed', /refused access .*KUBE_CLAIMS_REGISTRIES_YAML/],
    ['failed to pull and unpack image "docker.io/kiamol/ch02-hello-kiamol:latest": failed to resolve reference "docker.io/kiamol/ch02-hello-kiamol:latest": docker.io/kiamol/ch02-hello-kiamol:latest: not found', /does not have it/],
    ['failed to pull and unpack image "docker.io/kiamol/ch02-hello-kiamol:latest": failed to resolve reference "docker.io/kiamol/ch02-hello-kiamol:latest": failed to do request: Head "https://registry-1.docker.io/v2/kiamol/ch02-hello-kiamol/manifests/latest": dial tcp: lookup registry-1.docker.io on 10.43.0.10:53: no such host', /no registry could be reached from the node/],
  ];
  test.each(cases)('%s: one line with what to do', (message, advice) => {
    const line = nodePullAdvice(image, message, false);
    expect(line.startsWith(`${NODE_PULL_FAILED} ${image}`)).toBe(true);
    expect(line).toMatch(advice);
    expect(line).not.toContain('\n');
  });
  test('on a cluster you already have, it names the setting for a registry the nodes can reach', () => {
    expect(nodePullAdvice(image, 'failed to pull: 429 Too Many Requests', true)).toMatch(/name a registry your nodes can reach that holds the book's images \(KUBE_CLAIMS_IMAGE_REGISTRY/);
  });
});
