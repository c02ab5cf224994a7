// Manifests live as YAML files under manifests/, written as a reader of the book would write
// them (with the book's image names). Before they are applied, the book's images are mapped
// to this run's fixture images, so the same files serve online and offline runs.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { bookImages, type FixtureImages } from './images.js';

export function manifestPath(name: string): string {
  return new URL(`../manifests/${name}`, import.meta.url).pathname;
}

/** The manifest's text with every container image resolved to this run's fixture images. */
export function resolvedManifest(name: string, images: FixtureImages): string {
  const byBookName = new Map<string, string>([
    [bookImages.hello, images.hello],
    [bookImages.whoami, images.whoami],
  ]);
  const docs = parseAllDocuments(readFileSync(manifestPath(name), 'utf8'));
  return docs
    .map((doc) => {
      const obj = doc.toJS();
      const spec = obj.kind === 'Pod' ? obj.spec : obj.spec?.template?.spec;
      for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
        c.image = byBookName.get(c.image) ?? c.image;
      }
      doc.contents = doc.createNode(obj) as typeof doc.contents;
      return doc.toString();
    })
    .join('---\n');
}
