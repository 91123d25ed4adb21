// The Jest fixture over the catalogue, Setup → Assess → Teardown: a spec asks for a set of checks;
// beforeAll runs them on the cluster (namespaces, workload, probe pods, one fan-out exec per probe
// pod per phase, teardown of everything the run created) and each check becomes one Jest test that
// reads its verdict. Reports of the file's run go to reports/jest/<spec>/.
import { beforeAll, describe, test } from '@jest/globals';
import path from 'node:path';
import { CATALOGUE, PHASES } from '../../src/catalogue/index.js';
import { runSettings } from '../../src/cli/settings.js';
import { runSuite, type RunResult } from '../../src/engine/run-suite.js';
import type { CheckDef, CheckRecord } from '../../src/catalogue/types.js';
import { managedTarget, resolveCluster, userTarget, type Target } from '../../src/cluster/resolve.js';
import type { KindCluster } from '../../src/cluster/kind.js';
import type { Connection } from '../../src/cluster/connection.js';
import { FileReporter } from '../../src/report/reporter.js';

/** The managed cluster the Jest global setup brought up (specs/support/global-setup.mjs), when it is the one. */
function jestManaged(env: NodeJS.ProcessEnv): KindCluster | undefined {
  if (userTarget({}, env)) return undefined;
  if (!env.KNC_MANAGED_CLUSTER) throw new Error('no cluster: the Jest global setup (specs/support/global-setup.mjs) did not run');
  const info = JSON.parse(env.KNC_MANAGED_CLUSTER) as Partial<KindCluster>;
  return { ...info, cni: info.cni ?? 'flannel-host-gw', shape: info.shape ?? 'default' } as KindCluster;
}

/** The cluster of this Jest run, as data (the same resolver as the CLI's: cluster/resolve.ts). */
export function jestTarget(env: NodeJS.ProcessEnv = process.env): Target {
  const managed = jestManaged(env);
  return managed ? managedTarget(managed, {}) : userTarget({}, env)!;
}

/** The connection to the cluster of this Jest run (resolveCluster, with the cluster the global setup brought up). */
export async function jestConnection(env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  return (await resolveCluster({}, env, { managed: jestManaged(env) })).conn;
}

export interface Netcheck {
  checks: CheckDef[];
  result(): RunResult;
  record(id: string): CheckRecord;
}

/** Setup + Assess for `checks`; Teardown is the engine's (the run's namespaces are deleted). */
export function useNetcheck(name: string, checks: CheckDef[]): Netcheck {
  let result: RunResult | undefined;
  let error: Error | undefined;
  beforeAll(async () => {
    try {
      result = await runSuite(await jestConnection(), checks, [new FileReporter(path.join('reports', 'jest', name))], {
        phases: PHASES,
        settings: runSettings(process.env),
      });
    } catch (err) {
      error = err as Error;
    }
  }, 600_000);
  const get = () => {
    if (!result) throw new Error(`the run did not finish: ${error?.message ?? 'beforeAll did not complete'}`);
    return result;
  };
  return {
    checks,
    result: get,
    record: (id) => {
      const r = get().records.find((x) => x.id === id);
      if (!r) throw new Error(`no record for ${id}`);
      return r;
    },
  };
}

/** One Jest test per check: fails with the check's failure text; a skipped check states its reason. */
export function testEachCheck(n: Netcheck, title: string): void {
  describe(title, () => {
    for (const c of n.checks) {
      test(c.title, () => {
        const r = n.record(c.id);
        if (r.status === 'failed') throw new Error(r.error);
        if (r.status === 'skipped' && !r.reason) throw new Error('skipped without a reason');
      });
    }
  });
}

/** A layer's checks; the opt-in ones (the disruption layer: specs/cluster/disruption.spec.ts) only in their own spec. */
export const byLayer = (...layers: string[]) => CATALOGUE.filter((c) => layers.includes(c.layer) && !c.optIn);
