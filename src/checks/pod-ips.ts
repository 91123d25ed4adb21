// Verdict on pod IP allocation: Ready, one distinct IP each, inside the pod CIDR, distinct nodes.
import type { V1Pod } from '@kubernetes/client-node';
import { inCidr } from '../net/cidr.js';
import { isReady } from '../fixtures/pods.js';
import { CheckFailure } from './failure.js';

export function verifyPodIPs(check: string, pods: V1Pod[], podSubnets: string[]): CheckFailure[] {
  const fail = (to: string, expected: string, seen: string) => new CheckFailure({ check, from: 'the API', to, expected, seen });
  const failures: CheckFailure[] = [];
  const ips = new Set<string>();
  const nodes = new Set<string>();
  for (const p of pods) {
    const name = p.metadata?.name ?? '?';
    const ip = p.status?.podIP ?? '';
    if (!isReady(p)) failures.push(fail(name, 'Running and Ready', `${p.status?.phase}`));
    if (!ip) failures.push(fail(name, 'a pod IP', 'none'));
    else if (!podSubnets.some((c) => inCidr(ip, c))) failures.push(fail(name, `an IP inside the pod CIDR ${podSubnets.join(',')}`, `${ip} (outside the pod CIDR)`));
    if (ip && ips.has(ip)) failures.push(fail(name, 'its own IP', `${ip}, already held by another pod`));
    ips.add(ip);
    nodes.add(p.spec?.nodeName ?? '');
  }
  if (nodes.size !== pods.length) failures.push(fail('run=my-nginx', `${pods.length} pods on ${pods.length} distinct nodes`, [...nodes].join(',')));
  return failures;
}
