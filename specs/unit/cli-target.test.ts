// Which cluster the CLI talks to, and what it hands Jest: KNC_KUBECONFIG / KNC_CONTEXT plumbing.
import { describe, it, expect } from '@jest/globals';
import path from 'node:path';
import { contextFor, loadKubeConfig } from '../../src/kube/client.js';
import { anyCluster, existingCluster, kindKubeconfig } from '../../src/cli/target.js';
import { jestEnv } from '../../src/cli/run.js';
import { kubeconfigYaml, withTempDir, writeTemp } from './fake-apiserver.js';

describe('CLI target cluster', () => {
  it('--kubeconfig, else $KNC_KUBECONFIG, else (with --context only) $KUBECONFIG; none means the kind cluster', () => {
    expect(existingCluster({ kubeconfig: 'kc', context: 'c' }, { KNC_KUBECONFIG: '/env' })).toEqual({ kubeconfig: path.resolve('kc'), context: 'c' });
    expect(existingCluster({}, { KNC_KUBECONFIG: '/env', KNC_CONTEXT: 'ec' })).toEqual({ kubeconfig: '/env', context: 'ec' });
    expect(existingCluster({ kubeconfig: '/f' }, { KNC_CONTEXT: 'ec' })).toEqual({ kubeconfig: '/f', context: undefined });
    expect(existingCluster({ context: 'c' }, { KUBECONFIG: '/u/kc' })).toEqual({ kubeconfig: '/u/kc', context: 'c' });
    expect(existingCluster({}, { KUBECONFIG: '/u/kc' })).toBeUndefined();
    expect(anyCluster({}, { KNC_CACHE: '/cache', KNC_CLUSTER: 'x' })).toEqual({ kubeconfig: '/cache/kubeconfig-x' });
    expect(kindKubeconfig({})).toBe('/var/cache/kube-netcheck/kubeconfig-kube-netcheck');
  });

  it('Jest gets KNC_KUBECONFIG/KNC_CONTEXT only for an existing cluster, never stale ones', () => {
    const base = { only: [], skip: [], keep: false };
    const kind = jestEnv(base, { KNC_CONTEXT: 'stale', PATH: '/bin' });
    expect([kind.KNC_KUBECONFIG, kind.KNC_CONTEXT, kind.KEEP_CLUSTER, kind.PATH]).toEqual([undefined, undefined, undefined, '/bin']);
    const mine = jestEnv({ ...base, kubeconfig: '/k', keep: true, reportDir: 'r' }, { KNC_CONTEXT: 'stale' });
    expect([mine.KNC_KUBECONFIG, mine.KNC_CONTEXT, mine.KEEP_CLUSTER, mine.KNC_REPORT_DIR]).toEqual(['/k', undefined, '1', path.resolve('r')]);
    expect(jestEnv({ ...base, kubeconfig: '/k', context: 'c' }, {}).KNC_CONTEXT).toBe('c');
  });

  it('image flags become the env the global setup and cluster-up.sh read', () => {
    const e = jestEnv({ only: [], skip: [], keep: false, nginxImage: 'nginx:1.27', probeImage: 'p:1', nodeImage: 'kindest/node:v1.34.4' }, {});
    expect([e.KNC_NGINX_IMAGE, e.KNC_PROBE_IMAGE, e.KNC_NODE_IMAGE]).toEqual(['nginx:1.27', 'p:1', 'kindest/node:v1.34.4']);
    expect(jestEnv({ only: [], skip: [], keep: false }, { KNC_PROBE_IMAGE: 'from-env' }).KNC_PROBE_IMAGE).toBe('from-env');
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
