// The one connection a command or a test has to "the cluster we talk to": what it is (Target: the
// kubeconfig, context, managed or not, images), its API clients over the kubeconfig loaded ONCE,
// and — only on a cluster whose nodes kube-netcheck may touch (the kind cluster it manages) — the
// node access the host-side checks and node faults go through. Resolved at the entry (CLI, Jest
// global setup, library) and passed down; nothing below it loads a kubeconfig again.
import type { KubeConfig } from '@kubernetes/client-node';
import { makeKube, type Kube } from '../kube/client.js';
import { kindNodes } from './kind.js';
import type { Target } from './resolve.js';

/** What a command run on a node gave back. */
export interface NodeCommandResult {
  stdout: string;
  stderr: string;
}

/**
 * Commands on the cluster's nodes and on the host that runs them, behind the cluster provider (a
 * kind cluster: `docker exec` into its node containers, this machine's routing table). Checks ask
 * this interface; none of them names docker.
 */
export interface NodeAccess {
  /** Runs argv as root on the node; rejects (naming the node and the command) when it exits non-zero. */
  exec(node: string, argv: string[]): Promise<NodeCommandResult>;
  /** `ip route get ADDR` on the host running the nodes: sends no packet, says where one would go (its output, or the error). */
  hostRoute(ip: string): Promise<string>;
}

export interface Connection {
  readonly target: Target;
  /** API clients over the one KubeConfig of this connection. */
  readonly kube: Kube;
  /** Only for the kind cluster kube-netcheck manages. */
  readonly nodeAccess?: NodeAccess;
}

/**
 * The connection to `target`: `kc` when the caller already loaded (and checked) the kubeconfig —
 * the CLI's preflight does — else loaded here, once. Node access comes from the provider of the
 * managed kind cluster; a cluster kube-netcheck did not create has none.
 */
export function connect(target: Target, kc?: KubeConfig): Connection {
  const kube = makeKube(kc ?? { kubeconfig: target.kubeconfig, context: target.context });
  return target.managed ? { target, kube, nodeAccess: kindNodes() } : { target, kube };
}

/** The same connection with another target (e.g. images chosen after looking at the nodes): the kubeconfig is not loaded again. */
export const retarget = (c: Connection, target: Target): Connection => ({ ...c, target });
