// The run's settings from kube-netcheck's environment variables, read here, in the CLI, and handed
// down (the engine, the workload and the checks read no environment).
import { DEFAULT_SETTINGS, type RunSettings } from '../workload/setup.js';

const positiveInt = (v: string | undefined): number | undefined => {
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isInteger(n) && n > 0 ? n : undefined;
};

/** KNC_EXEC_CONCURRENCY (execs open at once, default 32), KNC_POLICY_TIMEOUT_MS (default 20000), KNC_VERBOSE (any value). */
export function runSettings(env: NodeJS.ProcessEnv): RunSettings {
  return {
    execConcurrency: positiveInt(env.KNC_EXEC_CONCURRENCY) ?? DEFAULT_SETTINGS.execConcurrency,
    policyTimeoutMs: positiveInt(env.KNC_POLICY_TIMEOUT_MS) ?? DEFAULT_SETTINGS.policyTimeoutMs,
    verbose: !!env.KNC_VERBOSE,
  };
}
