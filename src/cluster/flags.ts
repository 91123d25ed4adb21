// Which cluster a command talks to, from its flags and kube-netcheck's own variables (KNC_KUBECONFIG
// names a user's cluster; it is only ever read). The context rule lives here and only here: every
// command and the Jest specs resolve through it, and the result (kubeconfig + context) is loaded
// once into a Connection (cluster/connection.ts).
import os from 'node:os';
import path from 'node:path';
import { kindKubeconfig } from './kind.js';

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
}

export interface ClusterRef {
  /** Absolute kubeconfig path. */
  kubeconfig: string;
  context?: string;
}

/** Which kubeconfig file kubectl would use: the given one, else $KUBECONFIG (first entry), else ~/.kube/config (not checked for existence). */
export function kubeconfigPath(opts: { kubeconfig?: string }, env: NodeJS.ProcessEnv): string {
  if (opts.kubeconfig) return opts.kubeconfig;
  const first = env.KUBECONFIG?.split(path.delimiter).find(Boolean);
  return first ?? path.join(os.homedir(), '.kube', 'config');
}

/**
 * An existing cluster, when one is named: --kubeconfig, else $KNC_KUBECONFIG, else (when only
 * --context is given) $KUBECONFIG / ~/.kube/config. Undefined means the kind cluster kube-netcheck
 * manages itself. $KNC_CONTEXT applies only to $KNC_KUBECONFIG.
 */
export function existingCluster(flags: ClusterFlags, env: NodeJS.ProcessEnv): ClusterRef | undefined {
  if (flags.kubeconfig) return { kubeconfig: path.resolve(flags.kubeconfig), context: flags.context };
  if (env.KNC_KUBECONFIG) return { kubeconfig: path.resolve(env.KNC_KUBECONFIG), context: flags.context ?? (env.KNC_CONTEXT || undefined) };
  if (flags.context) return { kubeconfig: path.resolve(kubeconfigPath({}, env)), context: flags.context };
  return undefined;
}

/** The named cluster, else the kind cluster's kubeconfig (for commands that only read or clean up). */
export function anyCluster(flags: ClusterFlags, env: NodeJS.ProcessEnv): ClusterRef {
  return existingCluster(flags, env) ?? { kubeconfig: kindKubeconfig(env) };
}
