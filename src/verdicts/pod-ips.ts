// Verdict on pod IP allocation: Ready, one distinct IP each, inside the pod range, distinct nodes.
import type { V1Pod } from '@kubernetes/client-node';
import { inCidr } from '../util/cidr.js';
import { isReady } from '../workload/pods.js';
import { CheckFailure } from './failure.js';

/** Pod-range membership is judged only when the range is known; distinct nodes only when asked (several schedulable nodes). */
export function verifyPodIPs(check: string, pods: V1Pod[], podSubnets: string[], opts: { distinctNodes: boolean } = { distinctNodes: true }): CheckFailure[] {
  const fail = (to: string, expected: string, seen: string) => new CheckFailure({ check, from: 'the API', to, expected, seen });
  const failures: CheckFailure[] = [];
  const ips = new Set<string>();
  const nodes = new Set<string>();
  for (const p of pods) {
    const name = p.metadata?.name ?? '?';
    const ip = p.status?.podIP ?? '';
    if (!isReady(p)) failures.push(fail(name, 'Running and Ready', `${p.status?.phase}`));
    if (!ip) failures.push(fail(name, 'a pod IP', 'none'));
    else if (podSubnets.length && !podSubnets.some((c) => inCidr(ip, c)))
      failures.push(fail(name, `an IP inside the pod range ${podSubnets.join(',')}`, `${ip} (outside the pod range)`));
    if (ip && ips.has(ip)) failures.push(fail(name, 'its own IP', `${ip}, already held by another pod`));
    ips.add(ip);
    nodes.add(p.spec?.nodeName ?? '');
  }
  if (!pods.length) failures.push(fail('run=my-nginx', 'Ready pods', 'none'));
  if (opts.distinctNodes && nodes.size !== pods.length)
    failures.push(fail('run=my-nginx', `${pods.length} pods on ${pods.length} distinct nodes`, [...nodes].join(',')));
  return failures;
}
