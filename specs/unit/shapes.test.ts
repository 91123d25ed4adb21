// Common healthy cluster shapes that must not read as failures: a single node; and the choice of
// images on a cluster `cluster up` built (its marker) against the public defaults.
import { describe, it, expect } from '@jest/globals';
import type { V1Node } from '@kubernetes/client-node';
import { CATALOGUE } from '../../src/catalogue/index.js';
import { shapeNotApplicable } from '../../src/catalogue/common.js';
import type { NodeFacts } from '../../src/cluster/facts.js';
import { DEFAULT_IMAGES, IMAGES_MARKER, nodeImageNames, preferNodeImages, userTarget } from '../../src/cluster/resolve.js';
import { mirrorImage, registryProblem } from '../../src/cluster/registry.js';
import { gradeFlags } from '../../src/cli/grade-usage.js';

const node = (name: string, controlPlane = false): NodeFacts => ({ name, internalIP: '172.18.0.2', podCIDRs: ['10.244.0.0/24'], controlPlane, tainted: false });

describe('single-node clusters: the cross-node checks are not applicable, with the reason', () => {
  const crossNode = CATALOGUE.filter((c) => c.tags.includes('cross-node'));
  it('the cross-node checks are the pod-ip and MTU ones', () => {
    expect(crossNode.map((c) => c.id).sort()).toEqual(
      expect.arrayContaining(['mtu.df-cross-node', 'mtu.payload-cross-node', 'pod-ip.cross-node', 'pod-ip.no-nat-cross-node']),
    );
  });
  it('one node (an untainted control plane, as single-node kind, minikube and k3s have): n/a naming the node', () => {
    const env = { nodes: [node('knc-single-control-plane', true)] };
    for (const c of crossNode)
      expect(shapeNotApplicable(c, env)).toBe('the cluster has a single node (knc-single-control-plane): no two nodes to probe across');
    for (const c of CATALOGUE.filter((x) => !x.tags.includes('cross-node'))) expect(shapeNotApplicable(c, env)).toBeUndefined();
  });
  it('two nodes or more: nothing is skipped for the shape', () => {
    const env = { nodes: [node('cp', true), node('w1')] };
    for (const c of CATALOGUE) expect(shapeNotApplicable(c, env)).toBeUndefined();
  });
});

describe('hostNetwork pods forbidden: the node-view checks are not applicable, naming the API refusal', () => {
  // the words of a live refusal (specs/selftest/hostnetwork-forbidden.spec.ts), as errorLine gives them
  const refused =
    "API 422 Invalid: pods \"node-view-0-kube-netcheck-control-plane\" is forbidden: ValidatingAdmissionPolicy 'knc-no-hostnetwork-r7m3cyt6' with binding 'knc-no-hostnetwork-r7m3cyt6' denied request: hostNetwork pods are forbidden here";
  const nodeView = CATALOGUE.filter((c) => c.tags.includes('node-view'));
  it('the checks that ask from the node views carry the tag', () => {
    expect(nodeView.map((c) => c.id)).toEqual(
      expect.arrayContaining([
        'pod-ip.from-node',
        'pod-ip.to-node',
        'service.from-nodes',
        'service.virtual-ip',
        'service.nodeport.from-nodes',
        'service.nodeport.local',
      ]),
    );
    expect(nodeView.map((c) => c.id)).not.toEqual(expect.arrayContaining(['service.from-pods']));
  });
  it('refused: each of them n/a with the reason; the others not', () => {
    const env = { nodes: [node('cp', true), node('w1')], nodeViewsRefused: refused };
    for (const c of nodeView) expect(shapeNotApplicable(c, env)).toBe(`node views (hostNetwork pods) are forbidden on this cluster: ${refused}`);
    for (const c of CATALOGUE.filter((x) => !x.tags.includes('node-view'))) expect(shapeNotApplicable(c, env)).toBeUndefined();
  });
});

describe("the image choice reads the cluster's own marker, never a too-early snapshot of node image lists", () => {
  const n = (images: string[], marker?: string): V1Node => ({
    metadata: { name: 'n', annotations: marker ? { [IMAGES_MARKER]: marker } : {} },
    status: { images: [{ names: images }] },
  });
  const OFFLINE = 'kube-netcheck.local/probe:trixie-r1,kube-netcheck.local/nginx:trixie-r1';
  const user = { kubeconfig: '/k', images: { ...DEFAULT_IMAGES }, defaulted: ['nginx' as const, 'probe' as const] };
  it('12 s after `cluster up`: the marker names the loaded images while the kubelets do not list them yet', () => {
    const seen = nodeImageNames([n([], OFFLINE), n(['registry.k8s.io/pause:3.10.1'], OFFLINE)]);
    expect(seen.pending).toBe(false);
    expect(preferNodeImages(user, seen.names).images).toEqual({ nginx: 'kube-netcheck.local/nginx:trixie-r1', probe: 'kube-netcheck.local/probe:trixie-r1' });
  });
  it('while `cluster up` still loads them: pending (the run waits), not the public images', () => {
    expect(nodeImageNames([n([], 'loading'), n([], OFFLINE)])).toEqual({ names: [], pending: true });
  });
  it('no marker (a cluster kube-netcheck did not build): the node image lists, else the public defaults (agnhost)', () => {
    const seen = nodeImageNames([n(['nginx:1.27']), n(['nginx:1.27'])]);
    expect(preferNodeImages(user, seen.names).images).toEqual({ nginx: 'nginx:1.27', probe: 'registry.k8s.io/e2e-test-images/agnhost:2.56' });
  });
});

describe('--registry: one mirror for every image', () => {
  it('replaces the registry host and keeps the path; Docker Hub names get their implicit library/ path', () => {
    expect(mirrorImage('registry.k8s.io/e2e-test-images/agnhost:2.56', 'mirror.corp:5000/k8s')).toBe('mirror.corp:5000/k8s/e2e-test-images/agnhost:2.56');
    expect(mirrorImage('nginx:1.27', 'mirror.corp')).toBe('mirror.corp/library/nginx:1.27');
    expect(mirrorImage('bitnami/nginx:1', 'mirror.corp/')).toBe('mirror.corp/bitnami/nginx:1');
    expect(mirrorImage('kube-netcheck.local/probe:trixie-r1', 'mirror.corp')).toBe('mirror.corp/probe:trixie-r1');
    expect(mirrorImage('localhost:5000/x:1', 'm.io')).toBe('m.io/x:1');
  });
  it('a run on a cluster kube-netcheck did not build asks the mirror for both images', () => {
    const t = userTarget({ kubeconfig: '/k', registry: 'mirror.corp' }, {});
    expect(t!.images).toEqual({ nginx: 'mirror.corp/library/nginx:1.27', probe: 'mirror.corp/e2e-test-images/agnhost:2.56' });
    expect(userTarget({ kubeconfig: '/k' }, { KNC_REGISTRY: 'm.io' })!.images.probe).toBe('m.io/e2e-test-images/agnhost:2.56');
  });
  it('grade takes --registry too (else KNC_REGISTRY), checked as run checks it', () => {
    expect(gradeFlags({ namespace: 'alice', registry: 'mirror.corp:5000/k8s' }).registry).toBe('mirror.corp:5000/k8s');
    expect(gradeFlags({ namespace: 'alice' }).registry).toBeUndefined();
    expect(() => gradeFlags({ namespace: 'alice', registry: 'https://mirror.corp' })).toThrow(/--registry "https:\/\/mirror.corp": .*without a scheme/);
  });
  it('a registry with a scheme or spaces is bad input', () => {
    expect(registryProblem('https://mirror.corp')).toMatch(/without a scheme/);
    expect(registryProblem('mirror corp')).toBeDefined();
    expect(registryProblem('mirror.corp:5000/k8s')).toBeUndefined();
  });
});
