// AdminNetworkPolicy and BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1, cluster-scoped):
// whether the cluster serves them, and the run's own objects — created with the run's labels, replaced,
// deleted; the teardown and `kube-netcheck cleanup` delete every one labelled as ours. The baseline
// policy is a singleton named "default": one that this run did not create is never touched.
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.js';
import { RUN_KEY } from '../util/labels.js';

export const ADMIN_GROUP = 'policy.networking.k8s.io';
export const ADMIN_VERSION = 'v1alpha1';
export const ANP_PLURAL = 'adminnetworkpolicies';
export const BANP_PLURAL = 'baselineadminnetworkpolicies';
/** The only name a BaselineAdminNetworkPolicy may have (the CRD's validation). */
export const BANP_NAME = 'default';

export type AdminKind = 'AdminNetworkPolicy' | 'BaselineAdminNetworkPolicy';
const pluralOf = (k: AdminKind) => (k === 'AdminNetworkPolicy' ? ANP_PLURAL : BANP_PLURAL);

const statusOf = (err: unknown): number | undefined => {
  const e = err as { code?: number; statusCode?: number; response?: { statusCode?: number } };
  return e?.code ?? e?.statusCode ?? e?.response?.statusCode;
};

/**
 * Why the cluster cannot hold the admin policies, or undefined when it serves both kinds: the API
 * group's discovery document must list adminnetworkpolicies and baselineadminnetworkpolicies.
 */
export async function adminPoliciesUnserved(kube: Pick<Kube, 'kc'>): Promise<string | undefined> {
  const api = kube.kc.makeApiClient(CustomObjectsApi);
  try {
    const list = (await api.getAPIResources({ group: ADMIN_GROUP, version: ADMIN_VERSION })) as { resources?: Array<{ name?: string }> };
    const have = new Set((list.resources ?? []).map((r) => r.name));
    const missing = [ANP_PLURAL, BANP_PLURAL].filter((p) => !have.has(p));
    return missing.length ? `the API server serves ${ADMIN_GROUP}/${ADMIN_VERSION} without ${missing.join(', ')}` : undefined;
  } catch (err) {
    if (statusOf(err) === 404) return `the API server does not serve ${ADMIN_GROUP}/${ADMIN_VERSION} (the AdminNetworkPolicy CRDs are not installed)`;
    throw err;
  }
}

export interface AdminObject {
  kind: AdminKind;
  name: string;
  spec: Record<string, unknown>;
}

const bodyOf = (o: AdminObject, labels: Record<string, string>, resourceVersion?: string) => ({
  apiVersion: `${ADMIN_GROUP}/${ADMIN_VERSION}`,
  kind: o.kind,
  metadata: { name: o.name, labels, ...(resourceVersion ? { resourceVersion } : {}) },
  spec: o.spec,
});

/** The object as the cluster has it now, or undefined. */
async function getAdmin(kube: Pick<Kube, 'kc'>, kind: AdminKind, name: string): Promise<{ metadata?: Record<string, unknown> } | undefined> {
  const api = kube.kc.makeApiClient(CustomObjectsApi);
  try {
    return (await api.getClusterCustomObject({ group: ADMIN_GROUP, version: ADMIN_VERSION, plural: pluralOf(kind), name })) as {
      metadata?: Record<string, unknown>;
    };
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

/** A BaselineAdminNetworkPolicy "default" that this run did not create (its labels say whose it is), or undefined. */
export async function foreignBaseline(kube: Pick<Kube, 'kc'>, runId: string): Promise<string | undefined> {
  const have = await getAdmin(kube, 'BaselineAdminNetworkPolicy', BANP_NAME);
  if (!have) return undefined;
  const labels = (have.metadata?.labels ?? {}) as Record<string, string>;
  return labels[RUN_KEY] === runId
    ? undefined
    : `a BaselineAdminNetworkPolicy "${BANP_NAME}" exists that this run did not create (labels ${JSON.stringify(labels)})`;
}

/** Creates the object, or replaces the run's own one of that name. */
export async function putAdmin(kube: Pick<Kube, 'kc'>, o: AdminObject, labels: Record<string, string>): Promise<'created' | 'replaced'> {
  const api = kube.kc.makeApiClient(CustomObjectsApi);
  const where = { group: ADMIN_GROUP, version: ADMIN_VERSION, plural: pluralOf(o.kind) };
  const have = await getAdmin(kube, o.kind, o.name);
  if (!have) {
    await api.createClusterCustomObject({ ...where, body: bodyOf(o, labels) });
    return 'created';
  }
  const theirs = (have.metadata?.labels ?? {}) as Record<string, string>;
  if (theirs[RUN_KEY] !== labels[RUN_KEY]) throw new Error(`${o.kind} ${o.name} exists and is not this run's (labels ${JSON.stringify(theirs)}): not touched`);
  await api.replaceClusterCustomObject({ ...where, name: o.name, body: bodyOf(o, labels, have.metadata?.resourceVersion as string | undefined) });
  return 'replaced';
}

export async function deleteAdmin(kube: Pick<Kube, 'kc'>, kind: AdminKind, name: string): Promise<void> {
  const api = kube.kc.makeApiClient(CustomObjectsApi);
  try {
    await api.deleteClusterCustomObject({ group: ADMIN_GROUP, version: ADMIN_VERSION, plural: pluralOf(kind), name });
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
}

/** Deletes every admin policy labelled `selector` (the run's, or every run's); nothing when the API is not served. Returns "Kind/name" of each. */
export async function deleteLabelledAdminPolicies(kube: Pick<Kube, 'kc'>, selector: string): Promise<string[]> {
  const api = kube.kc.makeApiClient(CustomObjectsApi);
  const gone: string[] = [];
  for (const kind of ['AdminNetworkPolicy', 'BaselineAdminNetworkPolicy'] as const) {
    let items: Array<{ metadata?: { name?: string } }>;
    try {
      const l = (await api.listClusterCustomObject({ group: ADMIN_GROUP, version: ADMIN_VERSION, plural: pluralOf(kind), labelSelector: selector })) as {
        items?: Array<{ metadata?: { name?: string } }>;
      };
      items = l.items ?? [];
    } catch (err) {
      // not served (404), or not ours to list (403: a run could not have created any either)
      if (statusOf(err) === 404 || statusOf(err) === 403) continue;
      throw err;
    }
    for (const i of items) {
      await deleteAdmin(kube, kind, i.metadata!.name!);
      gone.push(`${kind}/${i.metadata!.name}`);
    }
  }
  return gone;
}
