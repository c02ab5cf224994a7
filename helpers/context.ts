// What globalSetup hands to every test file (structured-cloneable only).
import type { JoinSpec } from './cluster.js';
import type { FixtureImages } from './images.js';
import type { ResolvedMode } from './settings.js';

/** In the run's tmpDir: the namespaces tests kept (KUBE_CLAIMS_KEEP), one per line. */
export const KEPT_NAMESPACES = 'kept-namespaces';

export interface ClusterInfo {
  version: string;
  image: string;
  mode: ResolvedMode;
  kubeconfig: string;
  /** A file holding the kubeconfig, for kubectl; removed when the run ends. */
  kubeconfigPath: string;
  /** The run's folder for temporary files (under it, each test's own); removed when the run ends. */
  tmpDir: string;
  /** Every node's container by node name, for node-level steps (crictl) where a pod runs. */
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

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterInfo;
  }
}
