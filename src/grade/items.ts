// The built-in grading checks a rubric item can reference, by id. Each one is a verdict on what
// the grader observed in the student's namespace (src/grade/verdicts.ts). "The Deployment's pods"
// are the pods it owns (Deployment → ReplicaSet → Pod by ownerReferences), never "whatever carries
// the label": another pod with the same labels neither earns nor costs points. `probe` checks need the
// grader's probe pod (HTTP and DNS from inside the cluster); the others read the API only.

export const CHECK_IDS = [
  'deployment',
  'replicas',
  'pod-labels',
  'container-port',
  'service-port',
  'service-selector',
  'endpoints',
  'pod-http',
  'service-http',
  'dns-svc-ns',
  'dns-svc-ns-svc',
  'dns-fqdn',
] as const;

export type CheckId = (typeof CHECK_IDS)[number];

/** What each check looks at, in one line (for `grade --help` and error messages). */
export const CHECK_SUMMARY: Record<CheckId, string> = {
  deployment: 'the Deployment exists',
  replicas: 'spec.replicas is the expected count and that many of its own pods (ownerReferences) are Ready',
  'pod-labels': "the Deployment's pod template and its own pods carry the expected labels",
  'container-port': 'a container of the pod template declares the expected containerPort/TCP',
  'service-port': 'the Service exists with the expected port/TCP, whose targetPort is the expected containerPort',
  'service-selector': "the Service's selector selects exactly the Deployment's pods (no other pod, none of its left out)",
  endpoints: "the Service's Endpoints hold exactly the Deployment's Ready pod IPs on the containerPort, one each",
  'pod-http': 'every pod the Deployment owns answers HTTP on podIP:containerPort (from the probe pod)',
  'service-http': 'the Service answers HTTP on ClusterIP:port (from the probe pod)',
  'dns-svc-ns': '<service>.<namespace> resolves to the ClusterIP from the probe namespace (dig)',
  'dns-svc-ns-svc': '<service>.<namespace>.svc resolves to the ClusterIP from the probe namespace (dig)',
  'dns-fqdn': '<service>.<namespace>.svc.<cluster domain> resolves to the ClusterIP from the probe namespace (dig)',
};

const PROBE_CHECKS = new Set<CheckId>(['pod-http', 'service-http', 'dns-svc-ns', 'dns-svc-ns-svc', 'dns-fqdn']);
const DNS_CHECKS = new Set<CheckId>(['dns-svc-ns', 'dns-svc-ns-svc', 'dns-fqdn']);

export const isCheckId = (s: string): s is CheckId => (CHECK_IDS as readonly string[]).includes(s);
/** Needs a probe pod in the cluster (HTTP or DNS from a pod). */
export const needsProbe = (c: CheckId) => PROBE_CHECKS.has(c);
export const isDnsCheck = (c: CheckId) => DNS_CHECKS.has(c);
