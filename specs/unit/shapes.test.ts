// Common healthy cluster shapes that must not read as failures: a single node.
import { describe, it, expect } from '@jest/globals';
import { CATALOGUE } from '../../src/catalogue/index.js';
import { shapeNotApplicable } from '../../src/catalogue/common.js';
import type { NodeFacts } from '../../src/cluster/facts.js';

const node = (name: string, controlPlane = false): NodeFacts => ({ name, internalIP: '172.18.0.2', podCIDRs: ['10.244.0.0/24'], controlPlane, tainted: false });

describe('single-node clusters: the cross-node checks are not applicable, with the reason', () => {
  const crossNode = CATALOGUE.filter((c) => c.tags.includes('cross-node'));
  it('the cross-node checks are the pod-ip and MTU ones', () => {
    expect(crossNode.map((c) => c.id).sort()).toEqual(expect.arrayContaining(['mtu.df-cross-node', 'mtu.payload-cross-node', 'pod-ip.cross-node', 'pod-ip.no-nat-cross-node']));
  });
  it('one node (an untainted control plane, as single-node kind, minikube and k3s have): n/a naming the node', () => {
    const env = { nodes: [node('knc-single-control-plane', true)] };
    for (const c of crossNode) expect(shapeNotApplicable(c, env)).toBe('the cluster has a single node (knc-single-control-plane): no two nodes to probe across');
    for (const c of CATALOGUE.filter((x) => !x.tags.includes('cross-node'))) expect(shapeNotApplicable(c, env)).toBeUndefined();
  });
  it('two nodes or more: nothing is skipped for the shape', () => {
    const env = { nodes: [node('cp', true), node('w1')] };
    for (const c of CATALOGUE) expect(shapeNotApplicable(c, env)).toBeUndefined();
  });
});
