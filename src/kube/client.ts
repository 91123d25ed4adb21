import { existsSync } from 'node:fs';
import https from 'node:https';
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import { NetcheckError } from './errors.js';

export interface KubeOptions {
  /** The kubeconfig file (which one is the resolver's rule: cluster/flags.ts). */
  kubeconfig: string;
  /** Context to use instead of the file's current-context. */
  context?: string;
}

export interface Kube {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  discovery: DiscoveryV1Api;
  /** Name of the context in use. */
  context: string;
  /** Execs and probes run over these clients so far (the fan-outs count them; the engine reports them per run and phase). */
  readonly tally: { execs: number; probes: number };
}

/** Loads and validates a KubeConfig; throws NetcheckError with a precise code. */
export function loadKubeConfig(opts: KubeOptions): KubeConfig {
  const file = opts.kubeconfig;
  if (!existsSync(file)) {
    throw new NetcheckError('KUBECONFIG_MISSING', `${file} does not exist (set KUBECONFIG or pass a path)`);
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new NetcheckError('MALFORMED_YAML', `kubeconfig ${file}: ${why}`, { cause: err });
  }
  // the context is the caller's (KNC_CONTEXT and --context are resolved once, in cluster/flags.ts), else the file's own
  const wanted = opts.context ?? kc.getCurrentContext();
  if (!wanted || !kc.getContextObject(wanted)) {
    const known =
      kc
        .getContexts()
        .map((c) => c.name)
        .join(', ') || 'none';
    throw new NetcheckError('CONTEXT_UNKNOWN', `context "${wanted ?? ''}" not in ${file} (known: ${known})`);
  }
  kc.setCurrentContext(wanted);
  shareAgent(kc);
  if (!kc.getCurrentCluster()) {
    throw new NetcheckError('CONTEXT_UNKNOWN', `context "${wanted}" points at a cluster missing from ${file}`);
  }
  return kc;
}

const SHARED_AGENT = Symbol('kube-netcheck shared agent');

/**
 * Client-node 1.x makes a new https.Agent for every API call, so every call opens a new TLS
 * connection: a client-certificate handshake on both sides, each time (a run polls the API
 * hundreds of times; on a 2-core machine that was seconds of CPU). This makes the calls of one
 * KubeConfig share one keep-alive agent with the same TLS options. Headers (tokens, auth plugins)
 * are still applied per call by client-node; proxies keep their own agents; execs and watches
 * (websockets, another code path) are untouched.
 */
export function shareAgent(kc: KubeConfig): KubeConfig {
  const k = kc as KubeConfig & { [SHARED_AGENT]?: true };
  if (k[SHARED_AGENT]) return kc;
  k[SHARED_AGENT] = true;
  const base = kc.applySecurityAuthentication.bind(kc);
  let shared: https.Agent | undefined;
  kc.applySecurityAuthentication = async (context) => {
    await base(context);
    const made = context.getAgent();
    if (!(made instanceof https.Agent) || made.constructor !== https.Agent) return;
    shared ??= new https.Agent({ ...(made as https.Agent & { options: https.AgentOptions }).options, keepAlive: true });
    context.setAgent(shared);
  };
  return kc;
}

/** API clients for one cluster. Client-node 1.x: methods take one object param and return the body. */
export function makeKube(opts: KubeOptions | KubeConfig): Kube {
  const kc = shareAgent(opts instanceof KubeConfig ? opts : loadKubeConfig(opts));
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    discovery: kc.makeApiClient(DiscoveryV1Api),
    context: kc.getCurrentContext(),
    tally: { execs: 0, probes: 0 },
  };
}
