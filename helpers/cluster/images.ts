// The fixture images of the chapter: the book's (online, pulled by the cluster) or the
// locally built equivalents (offline, preloaded into the node). Tests use only the contract
// at the end of the claims catalogue, so either set passes.
import { join } from 'node:path';
import { cacheDir, type ResolvedMode } from '../settings.js';

export interface FixtureImages {
  /** HTML page on port 80, one log line per request, has sh, wget, hostname, tar. */
  hello: string;
  /** Port 80 answers with a body that contains the container's hostname. */
  whoami: string;
}

export const bookImages: FixtureImages = { hello: 'kiamol/ch02-hello-kiamol', whoami: 'kiamol/ch02-whoami' };
const LOCAL: FixtureImages = { hello: 'kube-claims/hello:ch02', whoami: 'kube-claims/whoami:ch02' };

export function fixtureImages(mode: ResolvedMode): FixtureImages {
  return mode === 'online' ? bookImages : LOCAL;
}

/**
 * An image of Docker Hub (`kiamol/ch02-whoami`, `rancher/mirrored-library-busybox:1.36.1`) as
 * a registry that holds it under its Docker Hub name names it (KUBE_CLAIMS_IMAGE_REGISTRY):
 * `registry.example.com/dockerhub/kiamol/ch02-whoami`. Without a registry, the name itself.
 */
export function inRegistry(image: string, registry: string | undefined): string {
  return registry ? `${registry}/${image}` : image;
}

/** The book's images where an existing cluster finds them (KUBE_CLAIMS_IMAGE_REGISTRY), else Docker Hub's. */
export function bookImagesIn(registry: string | undefined): FixtureImages {
  return { hello: inRegistry(bookImages.hello, registry), whoami: inRegistry(bookImages.whoami, registry) };
}

/** The tarballs scripts/build/fixtures.sh writes, to preload into an offline node. */
export function fixtureTarballs(): { name: string; source: string }[] {
  return ['hello-ch02.tar', 'whoami-ch02.tar'].map((name) => ({ name, source: join(cacheDir, 'images', name) }));
}
