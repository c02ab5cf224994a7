// The claims catalogue (claims/ch02.yaml) and `claim()`, which turns one claim into a test.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import semver from 'semver';

/** Annotation types a claim's test writes and the claims reporter reads. */
export const NOTE = 'kube-claims';
export const DIFFERS = 'kube-claims:differs';

/** Versions on which the cluster does not behave as the book says, and why. */
export interface Difference {
  kubernetes: string;
  why: string;
}

export interface CatalogueClaim {
  id: string;
  section: string;
  /** What the book (or the reader's notes) says. */
  claim: string;
  /** The behaviour the test checks, as a sentence: the test's title after the id. */
  title: string;
  observe: string;
  /** Semver range of Kubernetes versions the claim applies to (absent: all). */
  kubernetes?: string;
  /** A cluster feature the claim needs, such as `two-nodes`. */
  needs?: string;
  conditions?: { type: string; kubernetes?: string }[];
  /** describe-fields: the fields `kubectl describe pod` must show. */
  fields?: string[];
  /** container-replaced: RESTARTS after the container is removed, by Kubernetes version. */
  restartsAfterRemoval?: { kubernetes: string; restarts: number }[];
  /** container-replaced-never: what follows the removal, by Kubernetes version. */
  afterRemoval?: { kubernetes: string; replaced: boolean; phase: string; restarts: number; reason: string; status: string }[];
  differs?: Difference[];
}

export interface Catalogue {
  chapter: number;
  title: string;
  claims: CatalogueClaim[];
}

export const catalogue: Catalogue = checkCatalogue(parse(readFileSync(new URL('../claims/ch02.yaml', import.meta.url), 'utf8')));

/** Every entry has its text fields and a unique id; a mistake names the entry. */
function checkCatalogue(c: Catalogue): Catalogue {
  const seen = new Set<string>();
  for (const [i, entry] of (c?.claims ?? []).entries()) {
    for (const field of ['id', 'section', 'claim', 'title', 'observe'] as const) {
      if (typeof entry[field] !== 'string' || entry[field] === '') {
        throw new Error(`claims/ch02.yaml: claim #${i + 1} (${entry.id ?? 'no id'}) has no "${field}"`);
      }
    }
    if (seen.has(entry.id)) throw new Error(`claims/ch02.yaml: claim id "${entry.id}" appears twice`);
    seen.add(entry.id);
    for (const d of entry.differs ?? []) {
      if (!semver.validRange(d.kubernetes) || !d.why) throw new Error(`claims/ch02.yaml: ${entry.id}: each "differs" row needs a version range and a why`);
    }
  }
  return c;
}

/** The catalogue entry for `id`; an id that is not in the catalogue is an error. */
export function catalogueClaim(id: string): CatalogueClaim {
  const found = catalogue.claims.find((c) => c.id === id);
  if (!found) {
    throw new Error(`claim id "${id}" is not in claims/ch02.yaml; known ids: ${catalogue.claims.map((c) => c.id).join(', ')}`);
  }
  return found;
}

/** The catalogue's stated difference from the book on `version`, if any. */
export function differenceOn(c: CatalogueClaim, version: string): Difference | undefined {
  return c.differs?.find((d) => semver.satisfies(version, d.kubernetes));
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
