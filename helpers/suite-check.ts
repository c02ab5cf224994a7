// Before any cluster starts: every test in the suites is a claim of the catalogue. Read from
// the test files' syntax (TypeScript's parser), so a mistake costs a second, not a boot.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import ts from 'typescript';
import { catalogue, CATALOGUE_FILE } from './claims.js';
import { projectRoot, SettingError } from './settings.js';

/** Throws a SettingError for the first test that has no claim id, or an id not in the catalogue. */
export function checkSuites(files: string[]): void {
  const ids = new Set(catalogue().claims.map((c) => c.id));
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const where = (node: ts.Node) => `${relative(projectRoot, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const callee = node.expression;
        const root = ts.isPropertyAccessExpression(callee) ? callee.expression : callee;
        if (ts.isIdentifier(callee) && callee.text === 'claim') {
          const [id] = node.arguments;
          if (!id || !ts.isStringLiteralLike(id)) {
            throw new SettingError(`${where(node)}: claim() needs the claim id as a literal string first, such as claim('pod-has-ip', ...)`);
          }
          if (!ids.has(id.text)) {
            const near = closest(id.text, [...ids]);
            throw new SettingError(`${where(node)}: claim id "${id.text}" is not in ${CATALOGUE_FILE}${near ? `; did you mean "${near}"?` : '; add it there first'}`);
          }
        } else if (ts.isIdentifier(root) && (root.text === 'test' || root.text === 'it')) {
          throw new SettingError(`${where(node)}: a test without a claim id; write it as claim('<id>', ...) with an id from ${CATALOGUE_FILE}`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
}

/** The known id nearest to a mistyped one (edit distance at most a third of its length). */
function closest(wrong: string, known: string[]): string | undefined {
  const distance = (a: string, b: string) => {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const next = [i];
      for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      row = next;
    }
    return row[b.length]!;
  };
  const [best] = known.map((k) => ({ k, d: distance(wrong, k) })).sort((x, y) => x.d - y.d);
  return best && best.d <= Math.ceil(wrong.length / 3) ? best.k : undefined;
}
