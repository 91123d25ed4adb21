// Before any check runs: is the kubeconfig usable, does the API server answer, and may these
// credentials do what the run needs? Each failure is a NetcheckError / client error that
// classifyError turns into one line (KUBECONFIG_MISSING, MALFORMED_YAML, CONTEXT_UNKNOWN,
// API_UNREACHABLE, FORBIDDEN).
import {
  ApiException,
  AuthorizationV1Api,
  CoreV1Api,
  Observable,
  VersionApi,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type KubeConfig,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import { loadKubeConfig } from '../kube/client.js';
import { NetcheckError } from '../kube/errors.js';
import type { ClusterRef as Target } from '../cluster/flags.js';

export interface Permission {
  verb: string;
  resource: string;
  group?: string;
  subresource?: string;
  /** Asked in this namespace only (a RoleBinding there is enough); cluster-wide without. */
  namespace?: string;
}

export const can = (verb: string, resource: string, group = '', subresource?: string): Permission => ({ verb, resource, group, subresource });

/** What a run does: its own namespaces, the workload, probe pods it execs into, reads of nodes and Services. */
export const RUN_PERMISSIONS: Permission[] = [
  // exactly what manifests/rbac.yaml grants (minus the review itself), so a role that passes here
  // cannot fail later with a 403 that would look like a failed check
  can('create', 'namespaces'),
  can('list', 'namespaces'),
  can('delete', 'namespaces'),
  can('list', 'nodes'),
  can('create', 'pods'),
  can('list', 'pods'),
  can('delete', 'pods'),
  can('deletecollection', 'pods'),
  can('create', 'pods', '', 'exec'),
  can('get', 'pods', '', 'exec'),
  can('get', 'pods', '', 'log'),
  can('create', 'services'),
  can('get', 'services'),
  can('list', 'services'),
  can('create', 'configmaps'),
  can('get', 'configmaps'),
  can('get', 'endpoints'),
  can('list', 'events'),
  can('create', 'deployments', 'apps'),
  can('get', 'deployments', 'apps', 'scale'),
  can('update', 'deployments', 'apps', 'scale'),
  can('list', 'endpointslices', 'discovery.k8s.io'),
  can('create', 'networkpolicies', 'networking.k8s.io'),
  can('delete', 'networkpolicies', 'networking.k8s.io'),
];

/** What `cleanup` does. */
export const CLEANUP_PERMISSIONS: Permission[] = [can('list', 'namespaces'), can('delete', 'namespaces'), can('deletecollection', 'pods')];

export const describePermission = (p: Permission) =>
  `${p.verb} ${p.resource}${p.subresource ? `/${p.subresource}` : ''}${p.group ? `.${p.group}` : ''}${p.namespace ? ` in namespace ${p.namespace}` : ''}`;

export interface ClusterOk {
  kc: KubeConfig;
  context: string;
  server: string;
  /** gitVersion, e.g. v1.34.1 */
  version: string;
}

/** Per-request timeout (ms): $KNC_API_TIMEOUT_MS, default 5 s. */
export function apiTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.KNC_API_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 5_000;
}

/** Calls the API with a deadline: the request is aborted, and a TimeoutError names what did not answer. */
async function timed<T>(what: string, ms: number, call: (options: ConfigurationOptions) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const expired = new Promise<never>((_, reject) =>
    ac.signal.addEventListener('abort', () => reject(Object.assign(new Error(`${what} did not answer within ${ms}ms`), { name: 'TimeoutError' }))),
  );
  const timer = setTimeout(() => ac.abort(), ms);
  const middleware: ObservableMiddleware = {
    pre: (ctx: RequestContext) => (ctx.setSignal(ac.signal), new Observable(Promise.resolve(ctx))),
    post: (ctx: ResponseContext) => new Observable(Promise.resolve(ctx)),
  };
  const options: ConfigurationOptions = { middleware: [middleware], middlewareMergeStrategy: 'append' };
  try {
    return await Promise.race([call(options), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every permission the context lacks (SelfSubjectAccessReview, cluster-wide). */
async function missingPermissions(kc: KubeConfig, perms: Permission[], ms: number): Promise<Permission[]> {
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const allowed = await Promise.all(
    perms.map((p) =>
      timed(`SelfSubjectAccessReview (${describePermission(p)})`, ms, (options) =>
        authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { ...p } } } }, options),
      ).then((r) => r.status?.allowed === true),
    ),
  );
  return perms.filter((_, i) => !allowed[i]);
}

export async function preflight(target: Target, perms: Permission[], ms = apiTimeoutMs()): Promise<ClusterOk> {
  const kc = loadKubeConfig(target);
  const context = kc.getCurrentContext();
  const server = kc.getCurrentCluster()!.server;
  const version = await timed(`API server ${server}`, ms, (options) => kc.makeApiClient(VersionApi).getCode(undefined, options));
  let missing: Permission[];
  try {
    missing = await missingPermissions(kc, perms, ms);
  } catch (err) {
    // An API server without SelfSubjectAccessReview: at least the namespace list must be allowed
    if (!(err instanceof ApiException && err.code === 404)) throw err;
    await timed(`namespace list at ${server}`, ms, (options) => kc.makeApiClient(CoreV1Api).listNamespace({ limit: 1 }, options));
    missing = [];
  }
  if (missing.length) {
    const user = kc.getCurrentUser()?.name ?? 'unknown';
    throw new NetcheckError('FORBIDDEN', `context "${context}" (user "${user}") may not ${missing.map(describePermission).join(', ')}`);
  }
  return { kc, context, server, version: version.gitVersion };
}
