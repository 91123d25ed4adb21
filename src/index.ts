// kube-netcheck as a library: the catalogue of checks, the engine that runs them on a target, the
// reporters, and the managed kind cluster provider. The CLI (src/cli) is a thin layer over these.
export { CATALOGUE, PHASES } from './suite/catalogue.js';
export { runSuite, type Reporter, type RunResult, type RunOptions } from './suite/run-suite.js';
export { selectChecks, type Selection } from './suite/select.js';
export type { CheckDef, CheckRecord, Layer, Observations, PhaseDef, ProbeAsk } from './suite/types.js';
export { resolveTarget, userTarget, managedTarget, type Target, type TargetFlags } from './target/target.js';
export { kindUp, kindDown } from './target/kind.js';
export { ConsoleReporter, FileReporter } from './report/reporter.js';
export { main } from './cli/main.js';
