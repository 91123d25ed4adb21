// Which cluster a command talks to.
import path from 'node:path';
import { kubeconfigPath } from '../kube/client.js';

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
}

export interface Target {
  /** Absolute kubeconfig path. */
  kubeconfig: string;
  context?: string;
}

/**
 * An existing cluster, when one is named: --kubeconfig, else $KNC_KUBECONFIG, else (when only
 * --context is given) $KUBECONFIG / ~/.kube/config. Undefined means the kind cluster kube-netcheck
 * manages itself. $KNC_CONTEXT applies only to $KNC_KUBECONFIG.
 */
export function existingCluster(flags: ClusterFlags, env: NodeJS.ProcessEnv = process.env): Target | undefined {
  if (flags.kubeconfig) return { kubeconfig: path.resolve(flags.kubeconfig), context: flags.context };
  if (env.KNC_KUBECONFIG) return { kubeconfig: path.resolve(env.KNC_KUBECONFIG), context: flags.context ?? (env.KNC_CONTEXT || undefined) };
  if (flags.context) return { kubeconfig: path.resolve(kubeconfigPath({}, env)), context: flags.context };
  return undefined;
}

/** Where scripts/cluster-up.sh writes the kind cluster's kubeconfig (scripts/lib/cluster-config.sh). */
export function kindKubeconfig(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.KNC_CACHE || '/var/cache/kube-netcheck', `kubeconfig-${env.KNC_CLUSTER || 'kube-netcheck'}`);
}

/** The named cluster, else the kind cluster. */
export function anyCluster(flags: ClusterFlags, env: NodeJS.ProcessEnv = process.env): Target {
  return existingCluster(flags, env) ?? { kubeconfig: kindKubeconfig(env) };
}
