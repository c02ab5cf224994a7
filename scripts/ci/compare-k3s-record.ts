// The stand-in node against real k3s: a record of each (scripts/ci/node-record.ts) compared field by
// field (the kubelet's configuration, the node's labels, annotations, taints, provider ID,
// addresses, conditions, capacity and node info, describe node's fields, the kube-system Pods,
// the events of a Pod's start). Every difference must be listed, with why, in
// images/k3s/known-differences.yaml; one not listed fails, and so does a listed one no longer
// seen (the list stays true). The k3s record is refreshed by scripts/build/k3s-record.sh.
//   usage: npx tsx scripts/ci/compare-k3s-record.ts K3S_RECORD STAND_IN_RECORD
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { parse } from 'yaml';
import { z } from 'zod';

const say = (line: string) => process.stderr.write(`[kube-claims] stand-in against k3s: ${line}\n`);
const KNOWN = 'images/k3s/known-differences.yaml';
// Each: the record's path, why the two differ there, and (optional) the stand-in versions it applies to.
const known = z.array(z.strictObject({
  path: z.string().min(1),
  why: z.string().min(1),
  standIn: z.string().refine((r) => semver.validRange(r) !== null, 'must be a semver range').optional(),
}));

/** A record as path → value: objects by key, lists of plain values as one value, other lists by index. */
function flatten(x: unknown, at = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (Array.isArray(x) && x.every((v) => typeof v !== 'object' || v === null)) out.set(at, JSON.stringify(x));
  else if (Array.isArray(x)) x.forEach((v, i) => flatten(v, `${at}[${i}]`).forEach((value, key) => out.set(key, value)));
  else if (x && typeof x === 'object') Object.entries(x).forEach(([k, v]) => flatten(v, at ? `${at}.${k}` : k).forEach((value, key) => out.set(key, value)));
  else out.set(at, JSON.stringify(x));
  return out;
}

function main(): number {
  const [k3sFile, standInFile] = process.argv.slice(2);
  if (!k3sFile || !standInFile) {
    say('usage: npx tsx scripts/ci/compare-k3s-record.ts K3S_RECORD STAND_IN_RECORD');
    return 2;
  }
  const read = (file: string) => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`${file}: ${String((err as Error).message).split('\n')[0]}`);
    }
  };
  const [k3s, standIn] = [read(k3sFile), read(standInFile)];
  const parsed = known.safeParse(parse(readFileSync(KNOWN, 'utf8')));
  if (!parsed.success) throw new Error(`${KNOWN}: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
  const standInVersion = semver.coerce(String(standIn.version))?.version ?? '0.0.0';
  const listed = new Map(parsed.data.filter((d) => !d.standIn || semver.satisfies(standInVersion, d.standIn)).map((d) => [d.path, d.why]));
  // Which image each record is of is not a difference.
  const [a, b] = [flatten({ ...k3s, image: undefined }), flatten({ ...standIn, image: undefined })];
  const differing = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
  const unexplained = differing.filter((k) => !listed.has(k));
  const stale = [...listed.keys()].filter((k) => !differing.includes(k));
  for (const k of differing.filter((d) => listed.has(d))) say(`  known  ${k}: k3s ${a.get(k) ?? '(none)'}, stand-in ${b.get(k) ?? '(none)'} (${listed.get(k)})`.slice(0, 400));
  for (const k of unexplained) say(`  NEW    ${k}: k3s ${a.get(k) ?? '(none)'}, stand-in ${b.get(k) ?? '(none)'}`);
  for (const k of stale) say(`  GONE   ${k}: listed in ${KNOWN} but the two now agree; remove it`);
  say(`${k3s.image} (${k3s.version}) against ${standIn.image} (${standIn.version}): ${differing.length} difference(s), ${unexplained.length} not explained, ${stale.length} listed but gone`);
  if (unexplained.length || stale.length) {
    say(`make the stand-in (images/node/k3s and its parts/) do what k3s does, or list the difference with why in ${KNOWN}`);
    return 1;
  }
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  say(`error: ${String((err as Error).message ?? err)}`);
  process.exitCode = 2;
}
