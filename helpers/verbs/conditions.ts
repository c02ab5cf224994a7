// Expectations on fields of API objects, named by their path as `kubectl explain` and
// `-o jsonpath` name them, so that a failed wait or assertion says which field, what was
// expected and what was seen: `status.conditions[type=Ready].status: expected "True", seen "False"`.
import { expect } from 'vitest';

/** A test of a field's value, with a few words saying what it wants. */
export interface Check {
  test: (value: unknown) => boolean;
  wants: string;
}
/** An expected value (compared as JSON), or a Check. */
export type Expected = unknown;

/** One expectation: the field at `path` has the expected value. */
export interface FieldExpectation {
  path: string;
  expected: Expected;
}

/** `field('status.phase', 'Running')`, `field('spec.nodeName', isSet)`. */
export function field(path: string, expected: Expected): FieldExpectation {
  return { path, expected };
}

/** A Check from a few words and a test: `check('above 0', (n) => n > 0)`. */
export function check(wants: string, test: (value: any) => boolean): Check {
  return { wants, test };
}

/** Expects any value but undefined, null or "". */
export const isSet: Check = { test: (v) => v !== undefined && v !== null && v !== '', wants: 'a value' };
/** Expects the field to be absent (or an empty list). */
export const isAbsent: Check = { test: (v) => v === undefined || v === null || (Array.isArray(v) && v.length === 0), wants: 'nothing' };

/** The Ready condition of a Pod or Node is True. */
export const readyIsTrue = field('status.conditions[type=Ready].status', 'True');

/**
 * The value at a path: dots between fields, `[N]` for an index, `[key=value]` for the list
 * item whose `key` is `value` (as upstream's and Chainsaw's messages write conditions), `[*]`
 * for the rest of the path in every item (a list of values).
 */
export function valueAt(object: unknown, path: string): unknown {
  return at(object, path.match(/[^.[\]]+|\[[^\]]*\]/g) ?? []);
}

function at(value: any, parts: string[]): unknown {
  const [part, ...rest] = parts;
  if (part === undefined) return value;
  if (value === undefined || value === null) return undefined;
  if (part === '[*]') return Array.isArray(value) ? value.map((item) => at(item, rest)) : undefined;
  if (!part.startsWith('[')) return at(value[part], rest);
  const inner = part.slice(1, -1);
  const eq = inner.indexOf('=');
  if (eq < 0) return at(value[Number(inner)], rest);
  return at(Array.isArray(value) ? value.find((item) => String(item?.[inner.slice(0, eq)]) === inner.slice(eq + 1)) : undefined, rest);
}

/** Expects one of the given values. */
export function oneOf(...values: unknown[]): Check {
  return { test: (v) => values.some((x) => JSON.stringify(x) === JSON.stringify(v)), wants: `one of ${values.map((v) => JSON.stringify(v)).join(', ')}` };
}

function wants(expected: Expected): string {
  return isTest(expected) ? expected.wants : JSON.stringify(expected);
}

function isTest(expected: Expected): expected is Check {
  return typeof expected === 'object' && expected !== null && typeof (expected as { test?: unknown }).test === 'function';
}

function holds(value: unknown, expected: Expected): boolean {
  return isTest(expected) ? expected.test(value) : JSON.stringify(value) === JSON.stringify(expected);
}

/** `status.phase is "Running"`: an expectation in words, for what a wait awaits. */
export function describeExpectation({ path, expected }: FieldExpectation): string {
  return `${path} is ${wants(expected)}`;
}

/** The expectations the object does not meet, each as `path: expected X, seen Y`. */
export function mismatches(object: unknown, expectations: FieldExpectation[]): string[] {
  return expectations.flatMap(({ path, expected }) => {
    const value = valueAt(object, path);
    return holds(value, expected) ? [] : [`${path}: expected ${wants(expected)}, seen ${value === undefined ? 'nothing' : JSON.stringify(value)}`];
  });
}

/** Assert fields of an API object; the failure names each field that differs. */
export function expectFields(object: unknown, expectations: FieldExpectation[], what = objectName(object)): void {
  const wrong = mismatches(object, expectations);
  expect(wrong, `${what}: ${wrong.join('; ')}`).toEqual([]);
}

/** `Pod ns/name`, from the object's own kind and metadata. */
export function objectName(object: unknown): string {
  const o = object as { kind?: string; metadata?: { name?: string; namespace?: string } } | undefined;
  const name = [o?.metadata?.namespace, o?.metadata?.name].filter(Boolean).join('/');
  return `${o?.kind ?? 'object'} ${name || '(unnamed)'}`;
}
