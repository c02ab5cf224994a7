// The claims catalogue (claims/ch02.yaml) and `claim()`, which turns one claim into a test.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import semver from 'semver';

export interface CatalogueClaim {
  id: string;
  section: string;
  claim: string;
  observe: string;
  /** Semver range of Kubernetes versions the claim applies to (absent: all). */
  kubernetes?: string;
  /** A cluster feature the claim needs, such as `two-nodes`. */
  needs?: string;
  conditions?: { type: string; kubernetes?: string }[];
  /** describe-fields: the fields `kubectl describe pod` must show. */
  fields?: string[];
  /** container-replaced: RESTARTS after the container is removed, by Kubernetes version. */
  restartsAfterRemoval?: { kubernetes: string; restarts: number; why?: string }[];
}

export interface Catalogue {
  chapter: number;
  title: string;
  claims: CatalogueClaim[];
}

export const catalogue: Catalogue = parse(readFileSync(new URL('../claims/ch02.yaml', import.meta.url), 'utf8'));

/** The catalogue entry for `id`; an id that is not in the catalogue is an error. */
export function catalogueClaim(id: string): CatalogueClaim {
  const found = catalogue.claims.find((c) => c.id === id);
  if (!found) {
    throw new Error(`claim id "${id}" is not in claims/ch02.yaml; known ids: ${catalogue.claims.map((c) => c.id).join(', ')}`);
  }
  return found;
}

/** Why a claim does not apply to this cluster, or undefined when it does. */
export function notApplicable(c: { kubernetes?: string; needs?: string }, version: string, features: string[] = []): string | undefined {
  if (c.kubernetes && !semver.satisfies(version, c.kubernetes)) {
    return `applies to Kubernetes ${c.kubernetes}; this cluster is ${version}`;
  }
  if (c.needs && !features.includes(c.needs)) return `needs a cluster with ${c.needs}; this run's cluster has one node`;
  return undefined;
}

/** The entry of a versioned expectation list that applies to `version`. */
export function forVersion<T extends { kubernetes: string }>(rows: T[] | undefined, version: string, what: string): T {
  const row = rows?.find((r) => semver.satisfies(version, r.kubernetes));
  if (!row) throw new Error(`the catalogue states no expectation of ${what} for Kubernetes ${version}`);
  return row;
}
