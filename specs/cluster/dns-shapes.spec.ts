// DNS on shapes other than ours (#15 item 4), live, with objects this spec creates and deletes:
// - the cluster DNS Service under another name: a second Service selecting the CoreDNS pods, which a
//   probe pod is pointed at (dnsPolicy None); the Service is found from that pod's nameserver;
// - an upstream forwarder that cannot be reached: a CoreDNS pod of the cluster's own image serving
//   the cluster domain (NXDOMAIN for every name there) and forwarding every other name to a loopback
//   port where nothing listens (SERVFAIL), as an air-gapped cluster with the stock Corefile does. The
//   old `dig +search` probe of the bare cross-namespace name fails there; the suffix probe passes.
// Nothing leaves our own containers: the forwarder is 127.0.0.1 inside the CoreDNS pod.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { jestConnection, jestTarget } from '../support/netcheck.js';
import type { Kube } from '../../src/kube/client.js';
import { execInPod } from '../../src/kube/exec.js';
import { newRunId, runLabels } from '../../src/util/labels.js';
import { waitPodsReady } from '../../src/workload/pods.js';
import { pollUntil } from '../../src/util/poll.js';
import { findDnsService, readDnsInputs } from '../../src/cluster/dns-service.js';
import { domainFromResolvConf } from '../../src/cluster/facts.js';
import { digProbe, parseDig, parseSuffixAsks, suffixProbe } from '../../src/probes/dns.js';
import { verifyDig, type DnsCell } from '../../src/verdicts/dns-matrix.js';

const runId = newRunId();
const labels = runLabels(runId);
const ns = `knc-${runId}-dns`;
const altName = `knc-dns-${runId}`;
const DOMAIN = 'cluster.local';
let kube: Kube;
let corednsImage = '';

/** What the live probes printed, kept for the unit tests' fixtures (reports/jest/dns-shapes/). */
const capture = (file: string, text: string) => {
  fs.mkdirSync(path.join('reports', 'jest', 'dns-shapes'), { recursive: true });
  fs.writeFileSync(path.join('reports', 'jest', 'dns-shapes', file), text);
};
const exec = (pod: string, command: string[], timeoutMs = 30_000) => execInPod({ kc: kube.kc, namespace: ns, pod, command, timeoutMs });

function probePod(name: string, nameserver: string): V1Pod {
  return {
    metadata: { name, namespace: ns, labels: { ...labels, 'app.kubernetes.io/component': name } },
    spec: {
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534 },
      dnsPolicy: 'None',
      dnsConfig: { nameservers: [nameserver], searches: [`${ns}.svc.${DOMAIN}`, `svc.${DOMAIN}`, DOMAIN], options: [{ name: 'ndots', value: '5' }] },
      containers: [{ name: 'probe', image: jestTarget().images.probe, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
    },
  };
}

beforeAll(async () => {
  kube = (await jestConnection()).kube;
  await kube.core.createNamespace({ body: { metadata: { name: ns, labels } } });
  const coredns = (await kube.core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items[0];
  corednsImage = coredns?.spec?.containers[0].image ?? '';
}, 60_000);

afterAll(async () => {
  await kube?.core.deleteNamespacedService({ name: altName, namespace: 'kube-system' }).catch(() => undefined);
  await kube?.core.deleteNamespace({ name: ns }).catch(() => undefined);
}, 60_000);

describe('the cluster DNS Service under another name', () => {
  test('a probe pod pointed at a second Service over the CoreDNS pods: that Service is found from its nameserver, and it answers', async () => {
    const kd = await kube.core.readNamespacedService({ name: 'kube-dns', namespace: 'kube-system' });
    const alt = await kube.core.createNamespacedService({
      namespace: 'kube-system',
      body: {
        metadata: { name: altName, labels },
        spec: { selector: kd.spec!.selector, ports: [53, 53].map((port, i) => ({ name: `dns-${i}`, port, protocol: i ? 'TCP' : 'UDP' })) },
      },
    });
    const altIP = alt.spec!.clusterIP!;
    await kube.core.createNamespacedPod({ namespace: ns, body: probePod('alt', altIP) });
    await waitPodsReady(kube, ns, 'app.kubernetes.io/component=alt', { count: 1 });
    const rc = await exec('alt', ['cat', '/etc/resolv.conf']);
    const nameserver = domainFromResolvConf(rc.stdout, ns).nameserver;
    expect(nameserver).toBe(altIP);
    const found = findDnsService(nameserver, await readDnsInputs(kube));
    expect(found).toMatchObject({ service: { namespace: 'kube-system', name: altName, clusterIPs: [altIP] } });
    // the Service found answers the pod (its Endpoints are the CoreDNS pods): the cluster's own names, from that address —
    // once the nodes' proxy rules for the Service this test just created are in (until then kube-proxy rejects it:
    // REFUSED-CONNECTION), a change this test made, waited for with a deadline; then the answer must be NOERROR from it
    const r = await pollUntil({
      what: `dig @${altIP} kubernetes.default.svc.${DOMAIN} answered by the new Service`,
      timeoutMs: 30_000,
      intervalMs: 500,
      probe: async () => parseDig((await exec('alt', digProbe('x', `kubernetes.default.svc.${DOMAIN}`, { server: altIP, timeoutS: 3 }).argv)).stdout),
      done: (d) => d.status !== 'REFUSED-CONNECTION',
      describe: (d) => `${d.status} from ${d.server ?? 'no server'}`,
    });
    expect({ status: r.status, server: r.server }).toEqual({ status: 'NOERROR', server: altIP });
  }, 180_000);
});

describe('an upstream forwarder that cannot be reached', () => {
  const corefile = [
    `${DOMAIN}:53 {`,
    '    errors',
    `    template ANY ANY ${DOMAIN} {`,
    '        rcode NXDOMAIN',
    '    }',
    '}',
    '.:53 {',
    '    errors',
    '    forward . 127.0.0.1:5399',
    '}',
    '',
  ].join('\n');
  let dnsIP = '';
  beforeAll(async () => {
    await kube.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'corefile', labels }, data: { Corefile: corefile } } });
    await kube.core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'dns', labels: { ...labels, 'app.kubernetes.io/component': 'dns' } },
        spec: {
          terminationGracePeriodSeconds: 0,
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'coredns',
              image: corednsImage,
              imagePullPolicy: 'IfNotPresent',
              args: ['-conf', '/etc/coredns/Corefile', '-dns.port', '53'],
              securityContext: { capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } },
              volumeMounts: [{ name: 'c', mountPath: '/etc/coredns' }],
            },
          ],
          volumes: [{ name: 'c', configMap: { name: 'corefile' } }],
        },
      },
    });
    const [p] = await waitPodsReady(kube, ns, 'app.kubernetes.io/component=dns', { count: 1 });
    dnsIP = p.status!.podIP!;
    await kube.core.createNamespacedPod({ namespace: ns, body: probePod('asker', dnsIP) });
    await waitPodsReady(kube, ns, 'app.kubernetes.io/component=asker', { count: 1 });
  }, 180_000);

  // the bare name of a Service in another namespace, as the matrix asks it from this pod's namespace
  const cell: DnsCell = {
    id: 'bare',
    name: 'my-nginx',
    form: 'svc',
    fromNamespace: ns,
    target: { service: 'my-nginx', namespace: 'elsewhere', clusterIP: '10.96.7.7' },
    expect: 'NXDOMAIN',
  };

  test('the old probe (dig +search) does not reach NXDOMAIN: it ends on the forwarder', async () => {
    const out = await exec('asker', digProbe('old', 'my-nginx', { search: true }).argv);
    const r = parseDig(out.stdout);
    expect(r.status).not.toBe('NXDOMAIN');
    expect(verifyDig(cell, r, [dnsIP], 'dig udp', 'dig +search my-nginx')?.ctx).toMatchObject({
      expected: 'NXDOMAIN',
      seen: expect.stringMatching(/^(SERVFAIL|TIMEOUT)/),
    });
    capture('dig-bare-search-unreachable-forwarder.txt', out.stdout);
  }, 60_000);

  test('the suffix probe (each search suffix, +nosearch / absolute) gets NXDOMAIN under every suffix, from the cluster DNS', async () => {
    const suffixes = [`${ns}.svc.${DOMAIN}`, `svc.${DOMAIN}`, DOMAIN];
    for (const via of ['udp', 'tcp', 'libc'] as const) {
      const out = await exec('asker', suffixProbe('new', 'my-nginx', suffixes, via).argv);
      capture(`suffixes-bare-unreachable-forwarder-${via}.txt`, out.stdout);
      const blocks = parseSuffixAsks(out.stdout);
      expect(blocks.map((b) => b.name)).toEqual(suffixes.map((x) => `my-nginx.${x}.`));
      for (const b of blocks) {
        if (via === 'libc') expect(b.exitCode).toBe(2);
        else expect({ via, status: parseDig(b.output).status, server: parseDig(b.output).server }).toEqual({ via, status: 'NXDOMAIN', server: dnsIP });
      }
    }
  }, 90_000);
});
