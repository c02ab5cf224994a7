// Manifests live as YAML files under manifests/, written as a reader of the book would write
// them (with the book's image names). Before they are applied, the book's images are mapped
// to this run's fixture images, so the same files serve online and offline runs.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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

/**
 * Resolved manifests as files (for `kubectl apply -f FILE`) and as URLs (the book applies
 * from a URL), in a temporary directory and a local HTTP server that `close()` removes.
 */
export class ManifestFiles {
  private dir?: string;
  private server?: Server;

  constructor(private readonly images: FixtureImages, private readonly tmpRoot = tmpdir()) {}

  /** A file holding the resolved manifest `name`. */
  file(name: string): string {
    this.dir ??= mkdtempSync(join(this.tmpRoot, 'manifests-'));
    const path = join(this.dir, name);
    // Some live in folders, as the book's do (lab/pod.yaml).
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, resolvedManifest(name, this.images));
    return path;
  }

  /** A URL on a local HTTP server that serves the resolved manifest `name`. */
  async url(name: string): Promise<string> {
    if (!this.server) {
      this.server = createServer((req, res) => {
        try {
          const body = resolvedManifest(decodeURIComponent((req.url ?? '/').slice(1)), this.images);
          res.writeHead(200, { 'content-type': 'application/yaml' }).end(body);
        } catch {
          res.writeHead(404).end();
        }
      });
      await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    }
    const addr = this.server.address();
    if (!addr || typeof addr === 'string') throw new Error('manifest server has no port');
    return `http://127.0.0.1:${addr.port}/${name}`;
  }

  async close(): Promise<void> {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
