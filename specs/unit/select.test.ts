// Selection from the catalogue (--only / --skip): by id or id prefix, title substring, layer or tag.
import { describe, it, expect } from '@jest/globals';
import { CATALOGUE } from '../../src/catalogue/index.js';
import { knownTags, selectChecks, splitTerms, unknownTerms } from '../../src/catalogue/select.js';

const ids = (only: string[], skip: string[] = []) => selectChecks(CATALOGUE, { only, skip }).map((c) => c.id);

describe('check selection', () => {
  it('selects by layer, tag, id prefix and title substring; --skip wins', () => {
    expect(ids(['dns']).every((id) => id.startsWith('dns.') || id.startsWith('coredns.'))).toBe(true);
    expect(ids(['dns'])).toContain('dns.matrix-udp');
    expect(ids(['udp'])).toContain('dns.matrix-udp');
    expect(ids(['dns.matrix-udp'])).toEqual(['dns.matrix-udp']);
    // an id prefix selects the check and its per-family variants (pod-ip.cross-node.ipv6 …)
    expect(ids(['pod-ip.cross-node'])).toEqual(['pod-ip.cross-node', 'pod-ip.cross-node.ipv4', 'pod-ip.cross-node.ipv6', 'pod-ip.cross-node.ipv6.negative']);
    expect(ids(['NO NAT']).filter((id) => !/\.ipv[46]$/.test(id))).toEqual(['pod-ip.no-nat-same-node', 'pod-ip.no-nat-cross-node']);
    expect(ids(['nat']).filter((id) => !/\.ipv[46]$/.test(id))).toEqual(['pod-ip.no-nat-same-node', 'pod-ip.no-nat-cross-node', 'pod-ip.masquerade.negative']);
    expect(ids(['nat', 'ipv6'])).toContain('pod-ip.no-nat-cross-node.ipv6');
    expect(ids(['pod-ip'], ['negative-control']).some((id) => id.endsWith('.negative'))).toBe(false);
    expect(ids([], ['negative-control']).length).toBe(CATALOGUE.filter((c) => !c.tags.includes('negative-control') && !c.optIn).length);
  });
  it('a layer or tag name selects by layer, tag and id, never by title: --skip policy keeps the traffic-policy Service checks', () => {
    const kept = ids([], ['policy']);
    // make check passes --skip policy on a CNI without a NetworkPolicy engine; these titles say "externalTrafficPolicy"/"internalTrafficPolicy"
    for (const id of ['service.nodeport.local', 'service.nodeport.local.negative', 'service.internal-traffic-local', 'service.internal-traffic-local.negative'])
      expect([id, kept.includes(id)]).toEqual([id, true]);
    expect(CATALOGUE.filter((c) => c.layer === 'policy' && kept.includes(c.id)).map((c) => c.id)).toEqual([]);
    expect(kept.length).toBe(CATALOGUE.filter((c) => c.layer !== 'policy' && !c.tags.includes('policy') && !c.optIn).length);
    // a term that is no layer or tag still matches titles
    expect(ids(['externalTrafficPolicy'])).toEqual(['service.nodeport.local', 'service.nodeport.local.negative']);
  });
  it('the disruption layer is opt-in: only an --only term other than its layer selects it', () => {
    const dis = ['disruption.restarts', 'disruption.cut.negative'];
    expect(ids([]).filter((id) => dis.includes(id))).toEqual([]);
    expect(ids(['service']).filter((id) => dis.includes(id))).toEqual([]);
    expect(ids(['datapath']).filter((id) => dis.includes(id))).toEqual([]);
    expect(ids(['disruption'])).toEqual(dis);
    expect(ids(['disruption'], ['negative-control'])).toEqual(['disruption.restarts']);
  });
  it('every negative control names a check it controls, and shares its layer', () => {
    for (const c of CATALOGUE.filter((x) => x.tags.includes('negative-control'))) {
      const positive = CATALOGUE.find((x) => x.id === c.controls);
      expect([c.id, positive?.layer]).toEqual([c.id, c.layer]);
    }
  });
  it('reports terms that select nothing, lists tags, splits flag values', () => {
    expect(unknownTerms(CATALOGUE, ['dns', 'nothing-like-this'])).toEqual(['nothing-like-this']);
    expect(knownTags(CATALOGUE)).toEqual(expect.arrayContaining(['dns', 'negative-control', 'pod-ip', 'service', 'nodes', 'coredns']));
    expect(splitTerms(['dns,udp', ' service ', ''])).toEqual(['dns', 'udp', 'service']);
  });
  it('every check has a unique id, a layer and a title', () => {
    expect(new Set(CATALOGUE.map((c) => c.id)).size).toBe(CATALOGUE.length);
    expect(CATALOGUE.every((c) => c.title && c.layer && typeof c.verify === 'function')).toBe(true);
  });
});
