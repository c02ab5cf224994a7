// KUBE_CLAIMS_IMAGES=auto (the default): the official images where they can be pulled,
// otherwise the offline images, built here when missing. Says which, and why, in one line.
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { getContainerRuntimeClient, ImageName } from 'testcontainers';
import { imagePresent } from './cluster.js';
import { fixtureTarballs } from './images.js';
import { projectRoot, SettingError, type ImageMode, type ResolvedMode, type VersionRow } from './settings.js';

type Say = (line: string) => void;

/** Pull `image` unless present; the reason it failed, or undefined when it is there. */
async function pullFailure(image: string): Promise<string | undefined> {
  if (await imagePresent(image)) return undefined;
  try {
    const client = await getContainerRuntimeClient();
    await client.image.pull(ImageName.fromString(image));
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n')[0]!.trim().slice(0, 200);
  }
}

/** What this machine lacks to build the offline images (scripts/build-images.sh), if anything. */
async function cannotBuildOffline(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `this is ${process.platform}, and the offline images are built on Linux`;
  const missing: string[] = [];
  for (const tool of ['go', 'gcc', 'apt-get']) {
    if ((await execa('sh', ['-c', `command -v ${tool}`], { reject: false })).exitCode !== 0) missing.push(tool);
  }
  const root = process.getuid?.() === 0 || (await execa('sudo', ['-n', 'true'], { reject: false })).exitCode === 0;
  if (!root) missing.push('root (or sudo without a password)');
  return missing.length ? `it needs ${missing.join(', ')}` : undefined;
}

async function offlineImagesPresent(version: VersionRow): Promise<boolean> {
  return (await imagePresent(`kube-claims/node:v${version.kubernetes}`)) && fixtureTarballs().every((t) => existsSync(t.source));
}

/**
 * The mode a run uses: `online` and `offline` as set; `auto` becomes `online` when the
 * official node image can be pulled, else `offline` (building the images when missing).
 */
export async function resolveImageMode(mode: ImageMode, version: VersionRow, nodeImage: string | undefined, say: Say): Promise<ResolvedMode> {
  if (mode !== 'auto') return mode;
  if (nodeImage) return 'online';
  const failure = await pullFailure(version.k3s);
  if (!failure) {
    say(`images: online (${version.k3s} and the book's kiamol/* images, pulled)`);
    return 'online';
  }
  say(`images: offline: ${version.k3s} cannot be pulled (${failure})`);
  if (!(await offlineImagesPresent(version))) {
    const why = await cannotBuildOffline();
    if (why) {
      throw new SettingError(
        `no registry answers, and the offline images cannot be built here: ${why}. Run where Docker Hub is reachable, or build them on a Linux machine: bash scripts/build-images.sh ${version.kubernetes}`,
      );
    }
    say(`building the offline images for Kubernetes ${version.kubernetes} (a first build takes about ten minutes; later runs reuse it)`);
    const build = await execa('bash', [`${projectRoot}scripts/build-images.sh`, version.kubernetes], { stdout: 'inherit', stderr: 'inherit', reject: false });
    if (build.exitCode !== 0) {
      throw new SettingError(`building the offline images failed (exit ${build.exitCode}); its stages and logs are printed above`);
    }
  }
  return 'offline';
}
