// The field paths that failure messages name: read from real API objects' shapes.
import { describe, expect, test } from 'vitest';
import { check, describeExpectation, field, isAbsent, mismatches, oneOf, readyIsTrue, valueAt } from '../helpers/verbs/conditions.js';

const pod = {
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'ns', ownerReferences: [{ kind: 'ReplicaSet', controller: true }] },
  status: {
    phase: 'Pending',
    conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False' }],
    containerStatuses: [{ name: 'a', restartCount: 0 }, { name: 'b', restartCount: 2 }],
  },
};

describe('field paths', () => {
  test('a path reads fields, indexes, [key=value] items and [*] lists', () => {
    expect(valueAt(pod, 'status.phase')).toBe('Pending');
    expect(valueAt(pod, 'status.containerStatuses[1].name')).toBe('b');
    expect(valueAt(pod, 'status.conditions[type=Ready].status')).toBe('False');
    expect(valueAt(pod, 'metadata.ownerReferences[controller=true].kind')).toBe('ReplicaSet');
    expect(valueAt(pod, 'status.containerStatuses[*].restartCount')).toEqual([0, 2]);
    expect(valueAt(pod, 'spec.nodeName')).toBeUndefined();
  });

  test('a mismatch names the path, the expected value and the value seen', () => {
    expect(mismatches(pod, [readyIsTrue, field('status.phase', 'Pending')])).toEqual([
      'status.conditions[type=Ready].status: expected "True", seen "False"',
    ]);
    expect(mismatches(pod, [field('spec.nodeName', 'node-1')])).toEqual(['spec.nodeName: expected "node-1", seen nothing']);
    expect(mismatches(pod, [field('metadata.ownerReferences', isAbsent)])).toEqual([
      'metadata.ownerReferences: expected nothing, seen [{"kind":"ReplicaSet","controller":true}]',
    ]);
    expect(mismatches(pod, [field('status.phase', oneOf('Running', 'Succeeded'))])).toEqual([
      'status.phase: expected one of "Running", "Succeeded", seen "Pending"',
    ]);
    expect(mismatches(pod, [field('status.containerStatuses[*].restartCount', check('one above 0', (n: number[]) => n.some((x) => x > 0)))])).toEqual([]);
    expect(describeExpectation(readyIsTrue)).toBe('status.conditions[type=Ready].status is "True"');
  });
});
