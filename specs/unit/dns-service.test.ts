// The cluster DNS Service is the one behind the nameserver pods use, whatever its name and namespace
// (#15 item 4). Inputs: the Services and DaemonSets listed from the live default cluster
// (fixtures/services-all-default-cluster.json, daemonsets-all-default-cluster.json: `kubectl get
// svc|ds -A -o json`) and a probe pod's captured resolv.conf; the NodeLocal DNSCache DaemonSets and
// Corefiles are the upstream manifests' (kubernetes cluster/addons/dns/nodelocaldns and Kubespray's
// nodelocaldns template) with their documented values filled in — no node-cache image is available
// offline, so they are not captured.
import { describe, it, expect } from '@jest/globals';
import type { V1DaemonSet, V1Service } from '@kubernetes/client-node';
import { applyDnsService, findDnsService, nodeCacheCandidates, toCandidate, type DnsInputs, type NodeCache } from '../../src/cluster/dns-service.js';
import { domainFromResolvConf, type ClusterFacts } from '../../src/cluster/facts.js';
import { fixtureText } from './fixture-files.js';

const services: V1Service[] = (JSON.parse(fixtureText('services-all-default-cluster.json')) as { items: V1Service[] }).items;
const daemonSets: V1DaemonSet[] = (JSON.parse(fixtureText('daemonsets-all-default-cluster.json')) as { items: V1DaemonSet[] }).items;
const nameserver = domainFromResolvConf(fixtureText('resolv-conf-probe.txt'), 'knc-fixtures').nameserver;
const captured: DnsInputs = { services: services.map(toCandidate), caches: [] };

const svc = (namespace: string, name: string, ip: string, selector: Record<string, string> = { 'k8s-app': 'kube-dns' }) =>
  toCandidate({ metadata: { namespace, name }, spec: { clusterIP: ip, clusterIPs: [ip], selector, ports: [{ port: 53, protocol: 'UDP' }] } });
const nodeCacheDs = (namespace: string, name: string, args: string[], configMap: string): V1DaemonSet => ({
  metadata: { namespace, name },
  spec: {
    selector: {},
    template: { spec: { hostNetwork: true, containers: [{ name: 'node-cache', args }], volumes: [{ name: 'config-volume', configMap: { name: configMap } }] } },
  },
});
const cache = (d: V1DaemonSet, corefile: string): NodeCache => {
  const [c] = nodeCacheCandidates([d]);
  return { namespace: c.namespace, name: c.name, args: c.args, configs: { [c.configMaps[0]]: corefile } };
};

// kubernetes/cluster/addons/dns/nodelocaldns/nodelocaldns.yaml, __PILLAR__LOCAL__DNS__=169.254.20.10, __PILLAR__DNS__SERVER__=10.96.0.10
// (iptables mode: the cache also binds the kube-dns ClusterIP); __PILLAR__CLUSTER__DNS__ is filled in at run time by the cache itself
const UPSTREAM_COREFILE = `cluster.local:53 {
    errors
    cache {
            success 9984 30
            denial 9984 5
    }
    reload
    loop
    bind 169.254.20.10 10.96.0.10
    forward . __PILLAR__CLUSTER__DNS__ {
            force_tcp
    }
    prometheus :9253
    health 169.254.20.10:8080
    }
.:53 {
    errors
    cache 30
    reload
    loop
    bind 169.254.20.10 10.96.0.10
    forward . __PILLAR__UPSTREAM__SERVERS__
    prometheus :9253
    }
`;
const upstreamDs = (localip: string) =>
  nodeCacheDs('kube-system', 'node-local-dns', ['-localip', localip, '-conf', '/etc/Corefile', '-upstreamsvc', 'kube-dns-upstream'], 'node-local-dns');
const withUpstreamSvc = [...captured.services, svc('kube-system', 'kube-dns-upstream', '10.96.140.7')];

describe('the DNS Service from the nameserver pods use', () => {
  it('on the default cluster (captured): kube-system/kube-dns, because its ClusterIP is the probe pod resolv.conf nameserver', () => {
    expect(nameserver).toBe('10.96.0.10');
    const r = findDnsService(nameserver, captured);
    expect('service' in r && r.service).toMatchObject({ namespace: 'kube-system', name: 'kube-dns', clusterIPs: ['10.96.0.10'], selector: 'k8s-app=kube-dns' });
    expect('service' in r && r.how).toContain("ClusterIP is the nameserver 10.96.0.10 of a probe pod's resolv.conf");
  });

  it('whatever its name and namespace: the Service holding the nameserver, not kube-system/kube-dns', () => {
    // the captured list with the DNS Service renamed and moved (e.g. a distribution's dns-system/cluster-dns)
    const moved = captured.services.map((s) => (s.name === 'kube-dns' ? { ...s, namespace: 'dns-system', name: 'cluster-dns' } : s));
    const r = findDnsService('10.96.0.10', { services: moved, caches: [] });
    expect('service' in r && `${r.service.namespace}/${r.service.name}`).toBe('dns-system/cluster-dns');
    // a second Service in front of the same DNS pods, which the pods are pointed at: that one, not kube-dns
    const second = findDnsService('10.96.77.53', { services: [...captured.services, svc('kube-system', 'knc-dns-alt', '10.96.77.53')], caches: [] });
    expect('service' in second && second.service.name).toBe('knc-dns-alt');
  });

  it('a nameserver no Service holds: the reason; the facts then fall back to kube-system/kube-dns, said as assumed', () => {
    const r = findDnsService('172.18.0.1', captured);
    expect('why' in r && r.why).toBe("no Service has the ClusterIP 172.18.0.1, the nameserver of a probe pod's resolv.conf");
    const facts = { dnsServiceIP: '', dnsServiceIPs: [], dnsSelector: '' } as unknown as ClusterFacts;
    expect(applyDnsService(facts, '172.18.0.1', captured)).toBeUndefined();
    expect(facts.dnsService).toEqual({ namespace: 'kube-system', name: 'kube-dns', how: `assumed (the conventional name): ${'why' in r && r.why}` });
    expect(facts.dnsServiceIP).toBe('10.96.0.10');
    const none = applyDnsService(facts, '172.18.0.1', { services: captured.services.filter((s) => s.name !== 'kube-dns'), caches: [] });
    expect(none).toContain('no Service has the ClusterIP 172.18.0.1');
  });

  it('the captured DaemonSets (flannel, kube-proxy) name no link-local address: no node-local cache candidate', () => {
    expect(daemonSets.map((d) => d.metadata!.name).sort()).toEqual(expect.arrayContaining(['kube-flannel-ds', 'kube-proxy']));
    expect(nodeCacheCandidates(daemonSets)).toEqual([]);
  });
});

describe('NodeLocal DNSCache: the upstream Service found from the cache', () => {
  it('iptables mode (upstream manifest, -localip 169.254.20.10,10.96.0.10): the Service at the other address it listens at', () => {
    const r = findDnsService('169.254.20.10', { services: withUpstreamSvc, caches: [cache(upstreamDs('169.254.20.10,10.96.0.10'), UPSTREAM_COREFILE)] });
    expect('service' in r && r.service.name).toBe('kube-dns');
    expect('service' in r && r.how).toBe(
      'pods ask 169.254.20.10; the node-local DNS cache kube-system/node-local-dns there also listens at 10.96.0.10, the ClusterIP of kube-system/kube-dns',
    );
  });

  it('link-local only (-localip 169.254.20.10, Corefile forward filled in at run time): its -upstreamsvc Service', () => {
    const corefile = UPSTREAM_COREFILE.replace(/bind 169\.254\.20\.10 10\.96\.0\.10/g, 'bind 169.254.20.10');
    const r = findDnsService('169.254.20.10', { services: withUpstreamSvc, caches: [cache(upstreamDs('169.254.20.10'), corefile)] });
    expect('service' in r && `${r.service.namespace}/${r.service.name}`).toBe('kube-system/kube-dns-upstream');
    expect('service' in r && r.how).toContain('names kube-system/kube-dns-upstream as its -upstreamsvc');
  });

  it('Kubespray (169.254.25.10, Service kube-system/coredns 10.233.0.3): the Service its Corefile forwards to', () => {
    const ds = nodeCacheDs(
      'kube-system',
      'nodelocaldns',
      ['-localip', '169.254.25.10', '-conf', '/etc/coredns/Corefile', '-upstreamsvc', 'coredns'],
      'nodelocaldns',
    );
    const corefile = 'cluster.local:53 {\n    errors\n    cache 30\n    bind 169.254.25.10\n    forward . 10.233.0.3 {\n      force_tcp\n    }\n}\n';
    const kubespray = [svc('kube-system', 'coredns', '10.233.0.3'), svc('default', 'kubernetes', '10.233.0.1', {})];
    const r = findDnsService('169.254.25.10', { services: kubespray, caches: [cache(ds, corefile)] });
    expect('service' in r && r.how).toBe(
      'pods ask 169.254.25.10; the node-local DNS cache kube-system/nodelocaldns there forwards to 10.233.0.3, the ClusterIP of kube-system/coredns',
    );
    const facts = { dnsServiceIP: '', dnsServiceIPs: [], dnsSelector: '' } as unknown as ClusterFacts;
    applyDnsService(facts, '169.254.25.10', { services: kubespray, caches: [cache(ds, corefile)] });
    expect(facts).toMatchObject({ dnsServiceIP: '10.233.0.3', dnsSelector: 'k8s-app=kube-dns', dnsService: { namespace: 'kube-system', name: 'coredns' } });
  });

  it('a link-local nameserver no DaemonSet names: the reason, not a guess', () => {
    const r = findDnsService('169.254.0.7', { services: withUpstreamSvc, caches: [cache(upstreamDs('169.254.20.10,10.96.0.10'), UPSTREAM_COREFILE)] });
    expect('why' in r && r.why).toBe('pods ask 169.254.0.7 (link-local: a node-local DNS cache), and no DaemonSet names that address in its command or args');
  });

  it('a DaemonSet is a cache candidate only when it names a link-local address', () => {
    expect(nodeCacheCandidates([upstreamDs('169.254.20.10,10.96.0.10')]).map((d) => d.name)).toEqual(['node-local-dns']);
    expect(nodeCacheCandidates([upstreamDs('10.96.0.10')])).toEqual([]);
  });
});
