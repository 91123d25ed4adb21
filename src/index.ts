// kube-netcheck as a library: the catalogue of checks, the engine that runs them on a target, the
// reporters, and the managed kind cluster provider. The CLI (src/cli) is a thin layer over these.
export { CATALOGUE, PHASES } from './catalogue/index.js';
export { runSuite, RunInterrupted, type Reporter, type RunResult, type RunOptions } from './engine/run-suite.js';
export { DEFAULT_SETTINGS, type RunSettings } from './workload/setup.js';
export { selectChecks, type Selection } from './catalogue/select.js';
export type { CheckDef, CheckRecord, Layer, Observations, PhaseDef, ProbeAsk } from './catalogue/types.js';
export { resolveCluster, userTarget, managedTarget, type Resolved, type Target, type TargetFlags } from './cluster/resolve.js';
export { connect, type Connection, type NodeAccess } from './cluster/connection.js';
export { kindUp, kindDown, upManaged, planManaged } from './cluster/kind.js';
export { ConsoleReporter, FileReporter } from './report/reporter.js';
export { main } from './cli/main.js';
