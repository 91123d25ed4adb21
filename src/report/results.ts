// results.json: the run's records as one file, the source every other report is rendered from.
import type { CheckRecord, CheckStatus } from '../catalogue/types.js';
import type { RunResult } from '../catalogue/run-result.js';
import type { Cause } from '../catalogue/cause.js';
import type { DatapathRow, DnsRow, ReachabilityRow } from '../catalogue/matrices.js';
import { describeFamilies, nodeAddresses } from '../cluster/facts.js';

export type { CheckStatus };
/** One row: a check's record (failed rows carry `error`, skipped ones `reason`). */
export type CheckResult = Omit<CheckRecord, 'id' | 'layer'> & Partial<Pick<CheckRecord, 'id' | 'layer'>>;

/** What the report header says about the cluster: its shape and its CNI, as found. */
export interface ClusterSummary {
  version?: string;
  nodes?: number;
  controlPlanes?: number;
  /** "IPv4 and IPv6 (dual-stack, IPv4 primary)", "IPv4 (single-stack)". */
  ipFamilies?: string;
  /** "node 172.18.0.2,fc00:f853:ccd:e793::2": every node's InternalIPs. */
  nodeAddresses?: string[];
  podRange?: string;
  serviceRange?: string;
  domain?: string;
  dns?: string;
  kubeProxy?: boolean;
  /** e.g. "flannel-host-gw (managed)" or the DaemonSets found in kube-system. */
  cni?: string;
  podMtu?: number;
}

export interface ResultsFile {
  runId?: string;
  startedAt: string;
  writtenAt: string;
  summary: Record<CheckStatus, number> & { total: number };
  results: CheckResult[];
  cause?: Cause;
  cluster?: ClusterSummary;
  execs?: number;
  probes?: number;
  timings?: RunResult['timings'];
  matrices?: { reachability?: ReachabilityRow[]; dns?: DnsRow[]; datapath?: DatapathRow[] };
  sections?: Record<string, unknown>;
}

const dnsName = (f: NonNullable<RunResult['facts']>) => (f.dnsService ? `${f.dnsService.namespace}/${f.dnsService.name}` : 'kube-dns');

export function clusterSummary(r: RunResult): ClusterSummary | undefined {
  const f = r.facts;
  if (!f) return r.target.managed ? { cni: `${r.target.managed.cni} (the kind cluster kube-netcheck manages)` } : undefined;
  const found = f.daemonSets.map((d) => `${d.name} (${d.images.join(', ')})`).join('; ') || 'no DaemonSet in kube-system other than kube-proxy';
  const mtu = r.sections?.podMtu as number | undefined;
  return {
    version: f.version,
    nodes: f.nodes.length,
    controlPlanes: f.nodes.filter((n) => n.controlPlane).length,
    ipFamilies: describeFamilies(f),
    nodeAddresses: f.nodes.map((n) => `${n.name} ${nodeAddresses(n).join(',')}`),
    podRange: f.podSubnets.length ? `${f.podSubnets.join(',')} (${f.sources.podSubnets})` : 'not discoverable',
    serviceRange: f.serviceSubnets.length ? `${f.serviceSubnets.join(',')} (${f.sources.serviceSubnets})` : 'not discoverable',
    domain: `${f.clusterDomain} (${f.sources.clusterDomain})`,
    dns: `${
      f.podNameserver && f.podNameserver !== f.dnsServiceIP
        ? `pods ask ${f.podNameserver} (NodeLocal DNSCache) in front of ${dnsName(f)} ${f.dnsServiceIP}`
        : `${dnsName(f)} ${(f.dnsServiceIPs?.length ? f.dnsServiceIPs : [f.dnsServiceIP]).join(',')}`
    }${f.dnsService ? ` (found: ${f.dnsService.how})` : ''}`,
    kubeProxy: f.kubeProxy,
    cni: r.target.managed ? `${r.target.managed.cni} (managed kind cluster); DaemonSets: ${found}` : found,
    ...(mtu ? { podMtu: mtu } : {}),
  };
}

export function toResultsFile(r: RunResult): ResultsFile {
  return {
    runId: r.runId,
    startedAt: r.startedAt,
    writtenAt: new Date().toISOString(),
    summary: r.summary,
    cause: r.cause,
    cluster: clusterSummary(r),
    execs: r.execs,
    probes: r.probes,
    timings: r.timings,
    results: r.records,
    matrices: r.matrices,
    ...(r.sections ? { sections: r.sections } : {}),
  };
}

/** The failure text of a row (older results kept it in evidence.error). */
export const errorOf = (r: CheckResult): string => r.error ?? String((r.evidence as { error?: unknown } | undefined)?.error ?? '');

/** An upstream e2e section (kube-netcheck conformance [--netpol]), when the reports carry one. */
export interface ConformanceSection {
  tests: Array<{ name: string; status: 'passed' | 'failed' | 'skipped'; durationMs: number; message?: string }>;
  wallMs: number;
  junitPath: string;
}
/** The two upstream suites `kube-netcheck conformance` adds: [Conformance] (`conformance`) and, with --netpol, Netpol (`conformanceNetpol`). */
export const UPSTREAM_SECTIONS = [
  { key: 'conformance', id: 'conformance', title: 'Upstream conformance', what: "Kubernetes' own [sig-network] [Conformance] tests" },
  {
    key: 'conformanceNetpol',
    id: 'conformance-netpol',
    title: 'Upstream NetworkPolicy e2e',
    what: "Kubernetes' own NetworkPolicy e2e tests (test/e2e/network/netpol, [Feature:NetworkPolicy]), beside the truth tables of `run --only netpol`",
  },
] as const;
export type UpstreamSection = (typeof UPSTREAM_SECTIONS)[number]['key'];
export const conformanceOf = (f: ResultsFile, key: UpstreamSection = 'conformance'): ConformanceSection | undefined =>
  f.sections?.[key] as ConformanceSection | undefined;
