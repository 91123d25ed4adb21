// How a probe pod is named in maps and in evidence (the fan-outs, the sessions, the checks).
import type { ProbeRef } from './setup.js';

export const label = (r: ProbeRef) => `${r.hostNetwork ? 'node' : 'pod'} ${r.namespace}/${r.pod} on ${r.node}`;
export const key = (r: ProbeRef) => `${r.pod}@${r.namespace}`;
