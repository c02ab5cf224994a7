// The claims catalogue (claims/ch02.yaml): its schema, and the lookups `claim()` (helpers/fixtures.ts) uses.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import semver from 'semver';
import { z } from 'zod';
import { projectRoot, SettingError } from './settings.js';

/** Annotation types a claim's test writes and the claims reporter reads. */
export const NOTE = 'kube-claims';
export const DIFFERS = 'kube-claims:differs';
export const CORRECTS_NOTES = 'kube-claims:corrects-notes';

const range = z.string().refine((r) => semver.validRange(r) !== null, 'must be a semver range such as ">=1.35" or "<1.36"');
const text = z.string().min(1, 'must not be empty');

/** Versions on which the cluster does not behave as the book says, and why. */
const difference = z.strictObject({ kubernetes: range, why: text });
export type Difference = z.infer<typeof difference>;

/** One possible result of a claim's check: what happened, the values seen, and how it differs from the book. */
const outcome = z.strictObject({
  kubernetes: range,
  /** What happened, in words: it goes into the report. */
  when: text,
  /** The values the test reports, by name; the test's `seen` must equal them. */
  seen: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  /** Why this result is not what the book says; absent: it is. */
  differs: text.optional(),
});
export type Outcome = z.infer<typeof outcome>;

/** What a claim needs of its cluster beyond one node (helpers/context.ts, Feature). */
const feature = z.enum(['two-nodes', 'own-nodes', 'disruptive']);

const catalogueClaimSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be lower-case words joined by dashes'),
  section: z.string().regex(/^\d+\.\d+$/, 'must be a section number such as "2.1"'),
  /** What the book (or the reader's notes) says. */
  claim: text,
  /** The behaviour the test checks, as a sentence: the test's title after the id. */
  title: text,
  observe: text,
  /** Semver range of Kubernetes versions the claim applies to (absent: all). */
  kubernetes: range.optional(),
  /** A cluster feature the claim needs. */
  needs: z.union([feature, z.array(feature)]).optional(),
  conditions: z.array(z.strictObject({ type: text, kubernetes: range.optional() })).optional(),
  /** describe-fields: the fields `kubectl describe pod` must show. */
  fields: z.array(text).optional(),
  /**
   * What the cluster may do, when more than one result is possible (a race the test cannot
   * control): the test reports what it saw and it must equal one of these, on its version.
   */
  outcomes: z.array(outcome).optional(),
  differs: z.array(difference).optional(),
  /**
   * Why the reader's notes are wrong where the test shows them wrong on every version: a
   * passing test is reported "corrects the notes" with this reason (or "differs" on a version
   * the cluster differs from the book).
   */
  correctsNotes: text.optional(),
});
export type CatalogueClaim = z.infer<typeof catalogueClaimSchema>;

const catalogueSchema = z.strictObject({
  chapter: z.number().int().positive(),
  title: text,
  claims: z.array(catalogueClaimSchema).min(1),
}).superRefine((c, ctx) => {
  const seen = new Set<string>();
  c.claims.forEach((entry, i) => {
    if (seen.has(entry.id)) ctx.addIssue({ code: 'custom', path: ['claims', i, 'id'], message: `"${entry.id}" appears twice` });
    seen.add(entry.id);
    if (entry.outcomes && entry.differs) {
      ctx.addIssue({ code: 'custom', path: ['claims', i, 'differs'], message: 'a claim with outcomes states its differences in them (outcomes[].differs), not in differs' });
    }
    // A race decides which outcome a claim with outcomes shows, so no one correction holds on every run.
    if (entry.outcomes && entry.correctsNotes) {
      ctx.addIssue({ code: 'custom', path: ['claims', i, 'correctsNotes'], message: 'a claim with outcomes says how each result relates to the book in them (outcomes[].when, outcomes[].differs), not in correctsNotes' });
    }
  });
});
export type Catalogue = z.infer<typeof catalogueSchema>;

/** The catalogue file, relative to the project root. */
export const CATALOGUE_FILE = 'claims/ch02.yaml';

let loaded: Catalogue | undefined;

/**
 * The catalogue, read and validated once. A mistake in it is a SettingError naming the entry
 * and field (`claims/ch02.yaml: claim "pod-has-ip" (#3): section: must be ...`).
 */
export function catalogue(): Catalogue {
  if (loaded) return loaded;
  const file = join(projectRoot, CATALOGUE_FILE);
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SettingError(`${CATALOGUE_FILE} cannot be read as YAML: ${String((err as Error).message).split('\n')[0]}`);
  }
  return (loaded = checkCatalogue(raw));
}

/** `raw` (the catalogue file as parsed YAML) validated; a mistake is a SettingError as `catalogue()` describes. */
export function checkCatalogue(raw: unknown): Catalogue {
  const result = catalogueSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const [, index, ...rest] = issue.path;
    const entry = typeof index === 'number' ? (raw as { claims: { id?: unknown }[] }).claims[index] : undefined;
    const where = entry ? `claim ${typeof entry.id === 'string' ? `"${entry.id}" ` : ''}(#${(index as number) + 1}): ${rest.join('.') || 'entry'}` : issue.path.join('.') || 'top level';
    const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more)` : '';
    throw new SettingError(`${CATALOGUE_FILE}: ${where}: ${issue.message}${more}; fix the entry (fields: see the comment at the top of the file)`);
  }
  return result.data;
}

/** The catalogue entry for `id`; an id that is not in the catalogue is an error. */
export function catalogueClaim(id: string): CatalogueClaim {
  const found = catalogue().claims.find((c) => c.id === id);
  if (!found) {
    throw new Error(`claim id "${id}" is not in claims/ch02.yaml; known ids: ${catalogue().claims.map((c) => c.id).join(', ')}`);
  }
  return found;
}

/** The catalogue's stated difference from the book on `version`, if any. */
export function differenceOn(c: CatalogueClaim, version: string): Difference | undefined {
  return c.differs?.find((d) => semver.satisfies(version, d.kubernetes));
}

/** The outcomes the catalogue allows for `c` on `version`. */
export function outcomesOn(c: CatalogueClaim, version: string): Outcome[] {
  return (c.outcomes ?? []).filter((o) => semver.satisfies(version, o.kubernetes));
}

/** Why each feature may be missing, said when a claim that needs it is skipped. */
const MISSING: Record<z.infer<typeof feature>, (nodes: number) => string> = {
  'two-nodes': (nodes) => `needs a cluster with two nodes; this run's cluster has ${nodes} schedulable node${nodes === 1 ? '' : 's'} (KUBE_CLAIMS_NODES=2 starts two)`,
  'own-nodes': () => 'adds a node of its own and then loses it: runs only on a cluster the run starts, never removing a node it did not start',
  disruptive: () => "removes a container behind Kubernetes' back: on an existing cluster it runs only with KUBE_CLAIMS_ALLOW_DISRUPTIVE=true",
};

/** Why a claim does not apply to this cluster (its version, what it can show), or undefined when it does. */
export function notApplicable(c: { kubernetes?: string; needs?: string | string[] }, version: string, features: string[] = [], nodes = 1): string | undefined {
  if (c.kubernetes && !semver.satisfies(version, c.kubernetes)) {
    return `applies to Kubernetes ${c.kubernetes}; this cluster is ${version}`;
  }
  const needs = (typeof c.needs === 'string' ? [c.needs] : c.needs ?? []) as (keyof typeof MISSING)[];
  const missing = needs.find((n) => !features.includes(n));
  return missing && MISSING[missing](nodes);
}

