// Rows of the grids reports draw: who reached which pod (node/pod × nginx pod), and how each DNS
// name form resolved from each namespace over each transport.
export interface ReachabilityRow {
  /** e.g. "node kube-netcheck-worker" or "pod knc-x-a/probe-kube-netcheck-worker". */
  from: string;
  fromKind: 'node' | 'pod';
  fromNode: string;
  to: string;
  toNode: string;
  toIP: string;
  outcome: 'ok' | 'fail' | 'timeout';
  /** Whether the outcome is the expected one (served the nginx page). */
  ok: boolean;
  ms: number;
}

export interface DnsRow {
  fromNamespace: string;
  /** The node of the asking pod (DNS is asked from a pod on every node). */
  fromNode?: string;
  service: string;
  form: string;
  name: string;
  via: 'udp' | 'tcp' | 'libc';
  expected: string;
  got: string;
  ok: boolean;
}

/** One hold window of the Service datapath checks (hairpin, NodePort, hostPort, pod → node): who asked which address, what came back. */
export interface DatapathRow {
  /** The path asked, e.g. "hairpin", "NodePort", "NodePort eTP=Local", "hostPort", "pod -> node". */
  path: string;
  from: string;
  fromKind: 'node' | 'pod';
  fromNode: string;
  /** The address asked, e.g. "kube-netcheck-worker 172.18.0.3:31234". */
  to: string;
  toNode: string;
  /** What the check expected, in words ("every Ready pod", "no answer", …). */
  expected: string;
  requests: number;
  answered: number;
  /** Answers per server (pod name). */
  servers: Record<string, number>;
  ok: boolean;
}
