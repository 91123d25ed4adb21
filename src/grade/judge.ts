// A lab's check → the verdict of its type on what was observed. The seed lab's verdicts (the
// network-model checks' own, src/grade/verdicts.ts) take the check's workload and Service as their
// expectations; the other types are the functions beside them.
import type { LabCheck } from './lab.js';
import {
  evaluate,
  nodePortVerdict,
  objectVerdict,
  podDnsVerdict,
  policyVerdict,
  type CheckId,
  type LabExpectations,
  type Observation,
  type GradeOutcome,
} from './verdicts.js';

/** The names and numbers a check's verdict reads: its workload's and its Service's. */
export function expectFor(c: LabCheck): LabExpectations {
  const w = c.workload ?? c.service?.workload;
  return {
    kind: w?.kind ?? 'Deployment',
    deployment: w?.name ?? '',
    service: c.service?.name ?? '',
    replicas: w?.replicas ?? 1,
    podLabels: w?.labels ?? {},
    containerPort: w?.containerPort ?? 80,
    servicePort: c.service?.port ?? 80,
    serviceType: c.service?.type ?? 'ClusterIP',
  };
}

const SEED: Partial<Record<LabCheck['type'], CheckId>> = {
  exists: 'deployment',
  replicas: 'replicas',
  'pod-labels': 'pod-labels',
  'container-port': 'container-port',
  'service-port': 'service-port',
  'service-selector': 'service-selector',
  endpoints: 'endpoints',
  'pod-http': 'pod-http',
  'service-http': 'service-http',
};
const DNS: Record<NonNullable<LabCheck['form']>, CheckId> = { 'svc.ns': 'dns-svc-ns', 'svc.ns.svc': 'dns-svc-ns-svc', fqdn: 'dns-fqdn' };

export interface Judgement extends GradeOutcome {
  /** Set when the check could not be judged on this cluster (it then counts for nothing, either way). */
  notJudged?: string;
}

/** The verdict on one check; `o` is the namespace's observation with the check's own expectations and probe outputs. */
export function judge(c: LabCheck, o: Observation): Judgement {
  const seed = c.type === 'dns' ? DNS[c.form!] : SEED[c.type];
  if (seed) return evaluate(o, [seed]).get(seed)!;
  switch (c.type) {
    case 'nodeport-http':
      return nodePortVerdict(o);
    case 'dns-pods':
      return podDnsVerdict(o);
    case 'object':
      return objectVerdict(o, c.object!);
    case 'policy':
      return policyVerdict(o, c.policy!);
    default:
      throw new Error(`check ${c.id}: no verdict for type ${c.type}`);
  }
}
