// A pull the node cannot make (a rate limit, refused credentials, a missing tag, no registry it
// can reach) ends the claim at once with what to do, instead of a wait that times out after
// minutes; the run then says it once, at the end (claims-reporter). Only the run's own images
// (the book's and the node debugger's) count: a claim that makes a pull fail on purpose uses
// another name.
import type * as k8s from '@kubernetes/client-node';
import { classifyPullFailure, NODE_PULL_FAILED } from '../cluster/pull-failure.js';
import { GiveUp } from './wait.js';
import { theCluster } from '../cluster/provided.js';


let runImages: Set<string> | undefined;
/** The images the run has its nodes pull: the book's (or their stand-ins) and the debugger's. */
function pulledByTheRun(): Set<string> {
  if (!runImages) {
    const cluster = theCluster();
    runImages = new Set([cluster.images.hello, cluster.images.whoami, cluster.debugImage]);
  }
  return runImages;
}

/** What to do about a pull the node's runtime could not make, in one line. */
export function nodePullAdvice(image: string, message: string, existing: boolean): string {
  const detail = message.replace(/\s+/g, ' ').slice(0, 300);
  const where = existing
    ? 'name a registry your nodes can reach that holds the book\'s images (KUBE_CLAIMS_IMAGE_REGISTRY, e.g. a pull-through cache), or give the nodes a mirror in their runtime\'s configuration'
    : 'give the node a mirror (KUBE_CLAIMS_REGISTRY_MIRROR) or credentials (KUBE_CLAIMS_REGISTRIES_YAML), or use images built here (KUBE_CLAIMS_IMAGES=offline)';
  switch (classifyPullFailure(message)) {
    case 'rate-limit':
      return `${NODE_PULL_FAILED} ${image}: the registry's pull limit is reached (${detail}); ${where}, or wait for the limit to reset`;
    case 'auth':
      return `${NODE_PULL_FAILED} ${image}: the registry refused access (${detail}); ${existing ? 'give your nodes credentials for it (an imagePullSecret or the runtime\'s configuration)' : 'put credentials in KUBE_CLAIMS_REGISTRIES_YAML'}`;
    case 'not-found':
      return `${NODE_PULL_FAILED} ${image}: the registry it pulls from does not have it (${detail}); check that the mirror holds the book's images`;
    case 'unreachable':
      return `${NODE_PULL_FAILED} ${image}: no registry could be reached from the node (${detail}); ${where}`;
    case 'timeout':
      return `${NODE_PULL_FAILED} ${image}: the registry did not answer in time (${detail}); ${where}`;
    case 'other':
      return `${NODE_PULL_FAILED} ${image} (${detail}); ${where}`;
  }
}

/**
 * Ends a wait at once (a GiveUp) when a container of `pod` waits on a failed pull of one of the
 * run's images: ErrImagePull or ImagePullBackOff, with the runtime's message.
 */
export function giveUpOnFailedPull(pod: k8s.V1Pod | undefined): void {
  const statuses = [...(pod?.status?.initContainerStatuses ?? []), ...(pod?.status?.containerStatuses ?? [])];
  for (const s of statuses) {
    const waiting = s.state?.waiting;
    if (!waiting || !/^(ErrImagePull|ImagePullBackOff)$/.test(waiting.reason ?? '')) continue;
    const image = [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])].find((c) => c.name === s.name)?.image ?? s.image;
    if (!pulledByTheRun().has(image)) continue;
    throw new GiveUp(nodePullAdvice(image, waiting.message ?? waiting.reason!, theCluster().provider === 'existing'));
  }
}
