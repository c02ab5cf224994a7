// What globalSetup hands to every test file (structured-cloneable only).
import type { JoinSpec } from './cluster.js';
import type { FixtureImages } from './images.js';
import type { ResolvedMode } from '../settings.js';

/** In the run's tmpDir: the namespaces tests kept (KUBE_CLAIMS_KEEP), one per line. */
export const KEPT_NAMESPACES = 'kept-namespaces';

/** Which kind of cluster the claims run on: one the run starts and removes, or the user's own. */
export type ProviderName = 'k3s' | 'existing';

/**
 * What a cluster can show, beyond one node of Kubernetes (claims name what they need, `needs`):
 * two-nodes: two or more schedulable nodes; own-nodes: the run may add nodes of its own and
 * lose them (only clusters the run starts); disruptive: the run may remove a container behind
 * Kubernetes' back (clusters the run starts, or the user's with KUBE_CLAIMS_ALLOW_DISRUPTIVE=true).
 */
export type Feature = 'two-nodes' | 'own-nodes' | 'disruptive';

export interface ClusterInfo {
  provider: ProviderName;
  /** The report's column for this cluster: the version, and for an existing cluster its context. */
  column: string;
  /** The run's id (PID-time); its namespaces carry it as the RUN_LABEL label. */
  runId: string;
  /** The server's Kubernetes version as major.minor.patch (what the catalogue's ranges match). */
  version: string;
  /** Node names (schedulable nodes, for claims across nodes). */
  nodes: string[];
  features: Feature[];
  /** The image of the node debugger Pods (kubectl debug node/...), for node-level steps. */
  debugImage: string;
  image: string;
  mode: ResolvedMode;
  kubeconfig: string;
  /** A file holding the kubeconfig, for kubectl; removed when the run ends. */
  kubeconfigPath: string;
  /** The run's folder for temporary files (under it, each test's own); removed when the run ends. */
  tmpDir: string;
  /** Every node's container by node name (clusters the run starts; empty for an existing one). */
  nodeContainers: Record<string, string>;
  /** Component settings the run gave the cluster beyond k3s's defaults (stated in the report). */
  settings: string[];
  /** How to add a node (clusters of several nodes only). */
  join?: JoinSpec;
  kubectl: string;
  /** The kubectl's own version, for the report. */
  kubectlVersion: string;
  images: FixtureImages;
}

/**
 * A cluster the run starts boots while vitest's workers load their modules: global setup
 * provides where the cluster will be described (ClusterInfo as JSON, or `{ error }`), and each
 * worker waits for it before its suite files declare their claims (helpers/cluster/provided.ts).
 */
export interface BootingCluster {
  booting: { file: string; timeoutMs: number };
}

/** Whether what global setup provides is a cluster still booting. */
export function isBooting(provided: ClusterInfo | BootingCluster): provided is BootingCluster {
  return 'booting' in provided;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Once the cluster is up (and in the main process after the boot): ClusterInfo. */
    cluster: ClusterInfo | BootingCluster;
  }
}
