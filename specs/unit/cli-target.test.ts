// Which cluster a command talks to: --kubeconfig / KNC_KUBECONFIG / --context plumbing, images, and
// that the managed cluster's kubeconfig is never the user's file.
import { describe, it, expect } from '@jest/globals';
import path from 'node:path';
import { contextFor, loadKubeConfig } from '../../src/kube/client.js';
import { anyCluster, existingCluster } from '../../src/cluster/flags.js';
import { kindKubeconfig, scriptEnv } from '../../src/cluster/kind.js';
import { DEFAULT_IMAGES, managedTarget, preferNodeImages, userTarget } from '../../src/cluster/resolve.js';
import { kubeconfigYaml, withTempDir, writeTemp } from './fake-apiserver.js';

describe('target cluster', () => {
  it('--kubeconfig, else $KNC_KUBECONFIG, else (with --context only) $KUBECONFIG; none means the kind cluster', () => {
    expect(existingCluster({ kubeconfig: 'kc', context: 'c' }, { KNC_KUBECONFIG: '/env' })).toEqual({ kubeconfig: path.resolve('kc'), context: 'c' });
    expect(existingCluster({}, { KNC_KUBECONFIG: '/env', KNC_CONTEXT: 'ec' })).toEqual({ kubeconfig: '/env', context: 'ec' });
    expect(existingCluster({ kubeconfig: '/f' }, { KNC_CONTEXT: 'ec' })).toEqual({ kubeconfig: '/f', context: undefined });
    expect(existingCluster({ context: 'c' }, { KUBECONFIG: '/u/kc' })).toEqual({ kubeconfig: '/u/kc', context: 'c' });
    expect(existingCluster({}, { KUBECONFIG: '/u/kc' })).toBeUndefined();
    expect(anyCluster({}, { KNC_CACHE: '/cache', KNC_CLUSTER: 'x' })).toEqual({ kubeconfig: '/cache/kubeconfig-x' });
    expect(kindKubeconfig({})).toBe('/var/cache/kube-netcheck/kubeconfig-kube-netcheck');
  });

  it('a user cluster gets public images unless told otherwise; the managed one the images cluster-up loaded', () => {
    expect(userTarget({ kubeconfig: '/k' }, {})!.images).toEqual(DEFAULT_IMAGES);
    expect(userTarget({ kubeconfig: '/k' }, {})!.defaulted).toEqual(['nginx', 'probe']);
    expect(userTarget({ kubeconfig: '/k', probeImage: 'p:1' }, { KNC_NGINX_IMAGE: 'n:2' })!).toMatchObject({ images: { nginx: 'n:2', probe: 'p:1' }, defaulted: [] });
    expect(userTarget({}, {})).toBeUndefined();
    const m = managedTarget({ cluster: 'c', kubeconfig: '/cache/kubeconfig-c', nginxImage: 'kn', probeImage: 'kp', offline: true, cni: 'kube-router', shape: 'alt' }, {});
    expect(m).toEqual({ kubeconfig: '/cache/kubeconfig-c', managed: { cluster: 'c', cni: 'kube-router', shape: 'alt' }, images: { nginx: 'kn', probe: 'kp' } });
  });

  it('images nobody named: the offline ones when every node holds them (nothing pulled), else the public default', () => {
    const t = userTarget({ kubeconfig: '/k' }, {})!;
    const node = (...n: string[]) => ['registry.k8s.io/pause:3.10.1', ...n];
    const both = ['kube-netcheck.local/nginx:trixie-r1', 'kube-netcheck.local/probe:trixie-r1'];
    expect(preferNodeImages(t, [node(...both), node(...both)]).images).toEqual({ nginx: both[0], probe: both[1] });
    // held by one node only: not used (a pod on the other node would have to pull it)
    expect(preferNodeImages(t, [node(...both), node(both[0])]).images).toEqual({ nginx: both[0], probe: DEFAULT_IMAGES.probe });
    // named by the user: kept as named
    const named = userTarget({ kubeconfig: '/k', nginxImage: 'nginx:9' }, {})!;
    expect(preferNodeImages(named, [node(...both)]).images).toEqual({ nginx: 'nginx:9', probe: both[1] });
    expect(preferNodeImages(userTarget({ kubeconfig: '/k' }, { KNC_PROBE_IMAGE: 'p:1' })!, [node(...both)]).images.probe).toBe('p:1');
  });

  it('the scripts get kube-netcheck choices as KNC_* variables and nothing else changes', () => {
    const e = scriptEnv({ cni: 'kube-router', cniManifest: 'x.yaml', shape: 'alt', nodeImage: 'n' }, { PATH: '/bin', KNC_KUBECONFIG: '/user/kc' });
    expect([e.KNC_CNI, e.KNC_CNI_MANIFEST, e.KNC_SHAPE, e.KNC_NODE_IMAGE, e.PATH, e.KNC_KUBECONFIG]).toEqual(['kube-router', path.resolve('x.yaml'), 'alt', 'n', '/bin', '/user/kc']);
  });
});

describe('KNC_CONTEXT reaches every makeKube of a run', () => {
  it('applies to the run\'s kubeconfig ($KNC_KUBECONFIG) only; an explicit context wins', () => {
    const env = { KNC_KUBECONFIG: '/run/kc', KNC_CONTEXT: 'kind-b' };
    expect(contextFor({}, '/run/kc', env)).toBe('kind-b');
    expect(contextFor({}, '/run/../run/kc', env)).toBe('kind-b');
    expect(contextFor({ context: 'kind-c' }, '/run/kc', env)).toBe('kind-c');
    expect(contextFor({}, '/other/kc', env)).toBeUndefined();
    expect(contextFor({}, '/run/kc', { KNC_KUBECONFIG: '/run/kc' })).toBeUndefined();
  });

  it('loadKubeConfig picks it up from the environment', () =>
    withTempDir(async (dir) => {
      const file = await writeTemp(dir, 'kc', kubeconfigYaml('http://127.0.0.1:1', 'kind-a').replace('contexts:\n', 'contexts:\n- name: kind-b\n  context:\n    cluster: kind-a\n    user: kind-a\n'));
      const saved = { kc: process.env.KNC_KUBECONFIG, ctx: process.env.KNC_CONTEXT };
      try {
        process.env.KNC_KUBECONFIG = file;
        process.env.KNC_CONTEXT = 'kind-b';
        expect(loadKubeConfig({ kubeconfig: file }).getCurrentContext()).toBe('kind-b');
        expect(loadKubeConfig({ kubeconfig: file, context: 'kind-a' }).getCurrentContext()).toBe('kind-a');
      } finally {
        for (const [k, v] of [['KNC_KUBECONFIG', saved.kc], ['KNC_CONTEXT', saved.ctx]] as const) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }
    }));
});
