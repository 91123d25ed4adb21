// The check catalogue: every check kube-netcheck knows, in report order, and the phases the engine
// walks through. A new check goes into src/catalogue/<layer>.ts and is listed here.
import { NODE_CHECKS } from './nodes.js';
import { POD_IP_CHECKS } from './pod-ips.js';
import { FAMILY_CHECKS } from './families.js';
import { SERVICE_CHECKS, SERVICE_PHASES, steadyServicesSettled } from './services.js';
import { DATAPATH_CHECKS } from './datapath.js';
import { DUAL_STACK_CHECKS, DNS_FAMILY_CHECKS, MTU_FAMILY_CHECKS } from './dual-stack.js';
import { DNS_CHECKS } from './dns.js';
import { MTU_CHECKS } from './mtu.js';
import { POLICY_CHECKS, POLICY_PHASES } from './policy.js';
import { NETPOL_CHECKS, NETPOL_PHASES } from './netpol.js';
import { DISRUPTION_CHECKS, DISRUPTION_PHASES } from './disruption.js';
import type { CheckDef, PhaseDef } from './types.js';

/**
 * The workload as it is first (everything that looks at the nginx pods), then each change the
 * Service checks make, in this order, with the checks that look only at the cluster's own parts
 * (nodes, CoreDNS, name resolution, the Service objects) running beside those changes. The first
 * two NetworkPolicy truth tables (no policy; the first policy that denies, which tells an engine
 * from none) run as a lane beside all of that: their namespaces, pods and policies are their own
 * (x, y, z of the run), and no fault, change or probe of the workload phases touches them. On a
 * cluster without an engine that lane is the whole layer (every later case is then not
 * meaningful) and its enforcement bound no longer adds to the run; on a cluster with one it
 * converges in a few rounds. The later cases come after the Service changes, alone: an engine
 * that sends every new connection to userspace (kube-network-policies with admin policies on)
 * slowed the workload's own probes past their timeouts while the whole layer ran beside them
 * (make test, flannel-vxlan+policy: pod-ip.cross-namespace failed). The policy phases of the
 * workload namespace come last (they end by deleting their policies).
 */
const WORKLOAD_PHASES = ['steady', 'cluster', ...SERVICE_PHASES.map((p) => p.name)];
const BESIDE = 2;
const NETPOL_LANE: PhaseDef[] = NETPOL_PHASES.slice(0, BESIDE).map((p, i) => ({ ...p, lane: 'netpol', ...(i === 0 ? { beside: WORKLOAD_PHASES } : {}) }));

export const PHASES: PhaseDef[] = [
  ...NETPOL_LANE,
  {
    name: 'steady',
    title: 'the workload as it is',
    // the datapath windows ask the run's own Services in the fan-out: their EndpointSlices and every
    // node's rules first, when such a window is selected (the Service holds wait for their own, and
    // so do the later phases' checks: the cluster phase's "no endpoints" Service, asked by its own hold)
    enter: async (env, checks) => (checks.some((c) => c.tags.includes('datapath') && c.probes) ? { servicesSettled: await steadyServicesSettled(env) } : {}),
  },
  {
    name: 'cluster',
    title: 'the cluster as it is: nodes, CoreDNS, name resolution, Service objects',
    beside: SERVICE_PHASES.map((p) => p.name),
  },
  ...SERVICE_PHASES,
  ...NETPOL_PHASES.slice(BESIDE),
  ...POLICY_PHASES,
  // opt-in (--only disruption), last and alone: it deletes the CNI's and kube-proxy's pods
  ...DISRUPTION_PHASES,
];

export const CATALOGUE: readonly CheckDef[] = [
  ...NODE_CHECKS,
  ...DNS_CHECKS.filter((c) => c.layer === 'coredns'),
  ...POD_IP_CHECKS,
  ...FAMILY_CHECKS,
  ...SERVICE_CHECKS,
  ...DUAL_STACK_CHECKS,
  ...DATAPATH_CHECKS,
  ...DNS_CHECKS.filter((c) => c.layer !== 'coredns'),
  ...DNS_FAMILY_CHECKS,
  ...MTU_CHECKS,
  ...MTU_FAMILY_CHECKS,
  ...POLICY_CHECKS,
  ...NETPOL_CHECKS,
  ...DISRUPTION_CHECKS,
];

const ids = new Set<string>();
for (const c of CATALOGUE) {
  if (ids.has(c.id)) throw new Error(`duplicate check id ${c.id}`);
  if (c.controls && !CATALOGUE.some((x) => x.id === c.controls)) throw new Error(`${c.id} controls unknown check ${c.controls}`);
  if (c.phase && !PHASES.some((p) => p.name === c.phase)) throw new Error(`${c.id}: unknown phase ${c.phase}`);
  ids.add(c.id);
}
