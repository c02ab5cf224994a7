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

/** The tarballs scripts/build-fixtures.sh writes, to preload into an offline node. */
export function fixtureTarballs(): { name: string; source: string }[] {
  return ['hello-ch02.tar', 'whoami-ch02.tar'].map((name) => ({ name, source: join(cacheDir, 'images', name) }));
}
