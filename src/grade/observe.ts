// The probe plan of the seed-type HTTP checks: each pod of the workload, the ClusterIP and each
// endpoint address, sampled over the hold window (src/grade/class.ts runs them in the shared probe pods).
import { httpProbe } from '../probes/http.js';
import { digProbe } from '../probes/dns.js';
import { sampled, type SampleOptions } from '../probes/samples.js';
import type { Probe } from '../probes/batch.js';
import { endpointsAddresses } from '../verdicts/endpoints.js';
import { deploymentPods, servicePortOf, type Observation } from './verdicts.js';

export const DEFAULT_PROBE_IMAGE = 'kube-netcheck.local/probe:trixie-r1';
export const DEFAULT_HOLD: SampleOptions = { samples: 5, gapS: 0.5 };

/**
 * The probe plan: HTTP to each of the Deployment's pods, to the ClusterIP and to each endpoint
 * address of the Service, each sampled over the hold window (every sample is judged); dig for each
 * name form.
 */
export function planProbes(
  o: Pick<Observation, 'expect' | 'deployment' | 'replicaSets' | 'pods' | 'service' | 'endpoints' | 'dns'>,
  wanted: { podHttp: boolean; serviceHttp: boolean; dns: boolean },
  hold: SampleOptions = DEFAULT_HOLD,
): { probes: Probe[]; podIds: Map<string, string>; endpointIds: Map<string, string> } {
  const probes: Probe[] = [];
  const podIds = new Map<string, string>();
  const endpointIds = new Map<string, string>();
  if (wanted.podHttp) {
    // the Deployment's own pods only: another pod with the same labels is not asked
    deploymentPods(o)
      .filter((p) => p.status?.podIP)
      .forEach((p, i) => {
        podIds.set(`pod-${i}`, p.metadata!.name!);
        probes.push(sampled(httpProbe(`pod-${i}`, p.status!.podIP!, o.expect.containerPort), hold));
      });
  }
  const ip = o.service?.spec?.clusterIP;
  const port = servicePortOf(o.service, o);
  if (wanted.serviceHttp && ip && ip !== 'None' && port) {
    probes.push(sampled(httpProbe('svc', ip, o.expect.servicePort), hold));
    endpointsAddresses(o.endpoints, port.name ?? '').forEach((addr, i) => {
      const at = addr.lastIndexOf(':');
      endpointIds.set(`ep-${i}`, addr);
      probes.push(sampled(httpProbe(`ep-${i}`, addr.slice(0, at), Number(addr.slice(at + 1))), hold));
    });
  }
  if (wanted.dns) o.dns.forEach((d, i) => probes.push(digProbe(`dns-${i}`, d.name, { search: true })));
  return { probes, podIds, endpointIds };
}
