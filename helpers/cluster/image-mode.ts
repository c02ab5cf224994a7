// KUBE_CLAIMS_IMAGES=auto (the default): the official images where they can be pulled,
// otherwise the offline images, built here when missing. Says which, and why, in one line.
// Only a registry that cannot be reached at all leads to the offline images: a pull that
// reached one and was refused (a rate limit, credentials, a missing tag) or timed out ends the
// run with what to do, since building (sudo apt-get, minutes of compiling) would not fix it.
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { getContainerRuntimeClient, ImageName } from 'testcontainers';
import { imagePresent } from './cluster.js';
import { fixtureTarballs } from './images.js';
import { projectRoot, SettingError, type ImageMode, type ResolvedMode, type VersionRow } from '../settings.js';
import { classifyPullFailure, pullFailureAdvice } from './pull-failure.js';

type Say = (line: string) => void;


/** Pull `image` unless present; the engine's message when it failed, or undefined when it is there. */
async function pullFailure(image: string): Promise<string | undefined> {
  if (await imagePresent(image)) return undefined;
  try {
    const client = await getContainerRuntimeClient();
    // testcontainers sends the credentials of `docker login` (~/.docker/config.json).
    await client.image.pull(ImageName.fromString(image));
  } catch (err) {
    return (err as Error).message.split('\n')[0]!.trim();
  }
  // A failure after the pull began is only in its progress stream, which testcontainers does
  // not read for errors: the image is then simply not there.
  return (await imagePresent(image)) ? undefined : 'the pull ended without the image (its progress stream reported an error)';
}

/** What this machine lacks to build the offline images (scripts/build/images.sh), if anything. */
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
 * official node image can be pulled, `offline` when no registry can be reached (building the
 * images when missing), and any other failed pull is a SettingError saying what to do.
 */
export async function resolveImageMode(mode: ImageMode, version: VersionRow, nodeImage: string | undefined, say: Say): Promise<ResolvedMode> {
  if (mode !== 'auto') return mode;
  if (nodeImage) return 'online';
  const failure = await pullFailure(version.k3s);
  if (!failure) {
    say(`images: online (${version.k3s} and the book's kiamol/* images, pulled)`);
    return 'online';
  }
  const detail = failure.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim().slice(0, 200);
  const kind = classifyPullFailure(failure);
  if (kind !== 'unreachable') throw new SettingError(pullFailureAdvice(kind, version.k3s, detail));
  say(`images: offline: no registry can be reached (${detail})`);
  if (!(await offlineImagesPresent(version))) {
    const why = await cannotBuildOffline();
    if (why) {
      throw new SettingError(
        `no registry answers, and the offline images cannot be built here: ${why}. Run where Docker Hub is reachable, or build them on a Linux machine: bash scripts/build/images.sh ${version.kubernetes}`,
      );
    }
    say(`building the offline images for Kubernetes ${version.kubernetes} (a first build takes about ten minutes; later runs reuse it)`);
    const build = await execa('bash', [`${projectRoot}scripts/build/images.sh`, version.kubernetes], { stdout: 'inherit', stderr: 'inherit', reject: false });
    if (build.exitCode !== 0) {
      throw new SettingError(`building the offline images failed (exit ${build.exitCode}); its stages and logs are printed above`);
    }
  }
  return 'offline';
}
