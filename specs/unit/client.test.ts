import { describe, it, expect } from '@jest/globals';
import path from 'node:path';
import { loadKubeConfig, makeKube } from '../../src/kube/client.js';
import { kubeconfigPath } from '../../src/cluster/flags.js';
import { NetcheckError, classifyError } from '../../src/kube/errors.js';
import { kubeconfigYaml, startFakeApiServer, withTempDir, writeTemp } from './fake-apiserver.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NetcheckError);
    return classifyError(err).code;
  }
  throw new Error('expected a throw');
}

describe('kube client', () => {
  it('picks explicit path, then first $KUBECONFIG entry, then ~/.kube/config', () => {
    expect(kubeconfigPath({ kubeconfig: '/a' }, { KUBECONFIG: '/b' })).toBe('/a');
    expect(kubeconfigPath({}, { KUBECONFIG: `/b${path.delimiter}/c` })).toBe('/b');
    expect(kubeconfigPath({}, {})).toMatch(/\.kube[/\\]config$/);
  });

  it('KUBECONFIG_MISSING when the file does not exist', () => {
    expect(codeOf(() => loadKubeConfig({ kubeconfig: '/nonexistent/kubeconfig' }))).toBe('KUBECONFIG_MISSING');
  });

  it('MALFORMED_YAML for unparsable or structurally broken kubeconfig', () =>
    withTempDir(async (dir) => {
      const bad = await writeTemp(dir, 'bad', 'clusters: [\n');
      expect(codeOf(() => loadKubeConfig({ kubeconfig: bad }))).toBe('MALFORMED_YAML');
      const noServer = await writeTemp(dir, 'noserver', 'clusters:\n- name: x\n  cluster: {}\n');
      expect(codeOf(() => loadKubeConfig({ kubeconfig: noServer }))).toBe('MALFORMED_YAML');
    }));

  it('CONTEXT_UNKNOWN names the missing context and the known ones', () =>
    withTempDir(async (dir) => {
      const file = await writeTemp(dir, 'kc', kubeconfigYaml('http://127.0.0.1:1', 'kind-a'));
      expect(() => loadKubeConfig({ kubeconfig: file, context: 'kind-b' })).toThrow(/context "kind-b" not in .* \(known: kind-a\)/);
      expect(codeOf(() => loadKubeConfig({ kubeconfig: file, context: 'kind-b' }))).toBe('CONTEXT_UNKNOWN');
    }));

  it('builds typed clients that call the API with object params and return bodies', async () => {
    const srv = await startFakeApiServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'ns1' }, status: { podIP: '10.244.1.7' }, path: req.url }));
    });
    try {
      await withTempDir(async (dir) => {
        const file = await writeTemp(dir, 'kc', kubeconfigYaml(srv.url, 'kind-a'));
        const kube = makeKube({ kubeconfig: file, context: 'kind-a' });
        expect(kube.context).toBe('kind-a');
        const pod = await kube.core.readNamespacedPod({ name: 'web', namespace: 'ns1' });
        expect(pod.status?.podIP).toBe('10.244.1.7');
        expect(kube.apps).toBeDefined();
        expect(kube.discovery).toBeDefined();
      });
    } finally {
      await srv.close();
    }
  });
});
