// Which kubectl a run may use: the cluster's own only where the node image's platform is this
// machine's (GOOS/GOARCH, as `docker image inspect` names it), and KUBE_CLAIMS_KUBECTL's {minor}.
import { describe, expect, test } from 'vitest';
import { hostPlatform } from '../helpers/verbs/kubectl.js';
import { kubectlFor, resolveVersion } from '../helpers/settings.js';

describe('the cluster\'s own kubectl', () => {
  test.each([
    ['linux', 'x64', 'linux/amd64'],
    ['linux', 'arm64', 'linux/arm64'],
    ['darwin', 'arm64', 'darwin/arm64'],
    ['darwin', 'x64', 'darwin/amd64'],
    ['win32', 'x64', 'windows/amd64'],
    ['linux', 'ppc64', 'linux/ppc64le'],
    ['linux', 's390x', 'linux/s390x'],
  ])('Node\'s %s/%s is %s', (platform, arch, goPlatform) => {
    expect(hostPlatform(platform, arch)).toBe(goPlatform);
  });

  test('a linux/arm64 image runs on arm64 Linux, not on an arm64 Mac', () => {
    expect(hostPlatform('linux', 'arm64')).toBe('linux/arm64');
    expect(hostPlatform('darwin', 'arm64')).not.toBe('linux/arm64');
  });
});

describe('KUBE_CLAIMS_KUBECTL', () => {
  test('{minor} is the version\'s major.minor', () => {
    expect(kubectlFor('/opt/k/kubectl-{minor}', resolveVersion('1.36'))).toBe('/opt/k/kubectl-1.36');
    expect(kubectlFor('/opt/k/{minor}/kubectl', resolveVersion('1.30.14'))).toBe('/opt/k/1.30/kubectl');
  });

  test('without {minor}, one kubectl for every version', () => {
    expect(kubectlFor('/usr/local/bin/kubectl', resolveVersion('1.37'))).toBe('/usr/local/bin/kubectl');
  });
});
