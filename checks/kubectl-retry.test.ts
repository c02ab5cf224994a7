// kubectl is run again only when it sent nothing to the API server, or the server refused a read
// before doing anything (helpers/verbs/kubectl.ts, NOT_SENT): never after a failure the cluster
// answered, which is a test's result.
import { describe, expect, test } from 'vitest';
import { NOT_SENT } from '../helpers/verbs/kubectl.js';
import { TOO_LARGE_RV } from '../helpers/verbs/api-client.js';

describe('kubectl is retried only when it sent nothing, or a read was refused before anything was done', () => {
  test.each([
    ['a TLS handshake past Go\'s limit', 'Unable to connect to the server: net/http: TLS handshake timeout'],
    ['a refused connection', 'Unable to connect to the server: dial tcp 127.0.0.1:6443: connect: connection refused'],
    // Seen in the cgroup v2 VM (emulated CPU), kubectl apply on a cluster booted moments before.
    ['the OpenAPI document not fetched in time', [
      'E1202 05:48:47.909456    3205 request.go:1198] "Unexpected error when reading response body" err="context deadline exceeded (Client.Timeout or context cancellation while reading body)"',
      'error: error validating "/tmp/kube-claims-5mEO3D/manifests-nlgSHD/two-containers.yaml": error validating data: failed to download openapi: Get "https://localhost:32769/openapi/v2?timeout=32s": context deadline exceeded (Client.Timeout exceeded while awaiting headers); if you choose to ignore these errors, turn validation off with --validate=false',
    ].join('\n')],
    // Seen on 1.34.4 (kine v0.14.11, as k3s v1.34.4 bundles it): kubectl get all in a new namespace.
    ['a read refused as too large a resource version', 'Error from server (Timeout): Timeout: Too large resource version: 0, current: 826'],
    ['a create an admission plugin\'s read refused so', 'Error from server (Forbidden): pods "just-run" is forbidden: Timeout: Too large resource version: 0, current: 474'],
  ])('%s', (_what, stderr) => {
    expect(NOT_SENT.test(stderr)).toBe(true);
  });

  test.each([
    ['a manifest the API server refused', 'The Pod "web" is invalid: spec.containers[0].image: Required value'],
    ['a manifest that fails validation', 'error: error validating "pod.yaml": error validating data: ValidationError(Pod.spec): unknown field "containerz" in io.k8s.api.core.v1.PodSpec; if you choose to ignore these errors, turn validation off with --validate=false'],
    ['an object that is not there', 'Error from server (NotFound): pods "web" not found'],
    ['a server that answered too slowly', 'Error from server (Timeout): the server was unable to return a response in the time allotted'],
    ['a create that RBAC refused', 'Error from server (Forbidden): pods "web" is forbidden: User "reader" cannot create resource "pods" in API group "" in the namespace "default"'],
  ])('not after %s', (_what, stderr) => {
    expect(NOT_SENT.test(stderr)).toBe(false);
  });
});

describe('API clients send a read again only when it was refused before anything was done', () => {
  test('a 504 Too large resource version (seen on 1.34.4, kine v0.14.11)', () => {
    expect(TOO_LARGE_RV.test('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Timeout: Too large resource version: 0, current: 1432","reason":"Timeout","details":{"causes":[{"reason":"ResourceVersionTooLarge","message":"Too large resource version"}]},"code":504}')).toBe(true);
  });
  test('a 403 from an admission plugin\'s read of that kind', () => {
    expect(TOO_LARGE_RV.test('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \\"just-run\\" is forbidden: Timeout: Too large resource version: 0, current: 474","reason":"Forbidden","details":{"name":"just-run","kind":"pods"},"code":403}')).toBe(true);
  });
  test('not another 504', () => {
    expect(TOO_LARGE_RV.test('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server was unable to return a response in the time allotted, but may still be processing the request","reason":"Timeout","code":504}')).toBe(false);
  });
});
