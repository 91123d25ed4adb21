// The documented RBAC role (manifests/rbac.yaml) is all a run needs: the CLI, given a kubeconfig
// whose only identity is a ServiceAccount bound to exactly that ClusterRole, runs checks end to end
// (namespaces, workload, probe pods, exec, teardown) and exits 0; a ServiceAccount without the
// binding is stopped up front with exit 2 and one FORBIDDEN line naming what was denied.
// Setup: a labelled namespace of this run holding both ServiceAccounts, the role and binding under
// names unique to the run, a token and a kubeconfig file for each. Teardown deletes them all.
// That setup needs more than a run does (creating RBAC objects and tokens, e.g. cluster-admin):
// when the run's own credentials lack it — say, the CLI running as the documented role — these
// checks are reported as skipped.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { execa, type Result } from 'execa';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeKube, type Kube } from '../../src/kube/client.js';
import { jestTarget } from '../support/netcheck.js';
import type { Target } from '../../src/cluster/resolve.js';
import { newRunId, runLabels, runSelector } from '../../src/util/labels.js';
import { pollUntil } from '../../src/util/poll.js';
import { CLEANUP_PERMISSIONS, RUN_PERMISSIONS, describePermission, type Permission } from '../../src/cli/preflight.js';
import {
  createRbac,
  createServiceAccount,
  deleteRbac,
  deleteStaleRbac,
  lacking,
  rbacFor,
  serviceAccountToken,
  writeTokenKubeconfig,
  type RbacObjects,
} from '../support/service-account.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'bin/kube-netcheck.js');
/** Cheap checks that still need the whole run: the workload, probe pods, and one exec per probe pod. */
const ONLY = ['nodes.pod-ips', 'pod-ip.cross-namespace'];
/** What the role must not grant: reading Secrets, changing RBAC, touching nodes or workloads beyond the run's needs. */
const NOT_GRANTED: Permission[] = [
  { verb: 'get', resource: 'secrets' },
  { verb: 'list', resource: 'secrets' },
  { verb: 'create', resource: 'clusterroles', group: 'rbac.authorization.k8s.io' },
  { verb: 'create', resource: 'clusterrolebindings', group: 'rbac.authorization.k8s.io' },
  { verb: 'delete', resource: 'nodes' },
  { verb: 'update', resource: 'configmaps' },
  { verb: 'delete', resource: 'deployments', group: 'apps' },
  { verb: 'create', resource: 'serviceaccounts', subresource: 'token' },
  { verb: 'create', resource: 'pods', subresource: 'portforward' },
];
const TIMEOUT = 120_000;
/** What this spec's setup and teardown do as the run's identity, beyond what a run does. */
const SETUP_PERMISSIONS: Permission[] = [
  { verb: 'create', resource: 'serviceaccounts' },
  { verb: 'create', resource: 'serviceaccounts', subresource: 'token' },
  ...(['create', 'delete', 'list'] as const).flatMap((verb) => [
    { verb, resource: 'clusterroles', group: 'rbac.authorization.k8s.io' },
    { verb, resource: 'clusterrolebindings', group: 'rbac.authorization.k8s.io' },
  ]),
];

/** Empty when the run's credentials may set this spec up; else why not. */
async function whyNotSetUp(): Promise<string> {
  try {
    const st = jestTarget();
    const missing = await lacking(makeKube({ kubeconfig: st.kubeconfig, context: st.context }).kc, SETUP_PERMISSIONS);
    return missing.length ? `the run's credentials may not ${missing.map(describePermission).join(', ')}` : '';
  } catch (err) {
    return `could not ask the API server what the run's credentials may do: ${(err as Error).message.split('\n')[0]}`;
  }
}
const cannotSetUp = await whyNotSetUp();
const canSetUp = cannotSetUp === '';
if (!canSetUp) process.stderr.write(`rbac.spec: its checks are skipped: ${cannotSetUp}\n`);

let s: Target;
const runId = newRunId();
let kube: Kube;
let ns: string;
let rbac: RbacObjects | undefined;
let tmp: string;
/** kubeconfig files: the ServiceAccount bound to the role, and one bound to nothing. */
let boundKc: string;
let unboundKc: string;
const UNBOUND = 'unbound';
const unboundUser = `sa-${UNBOUND}`;
const stale: string[] = [];

interface CliRun {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  durationMs: number;
  reportDir: string;
}

async function runCli(kubeconfig: string, label: string): Promise<CliRun> {
  const reportDir = mkdtempSync(path.join(tmp, `report-${label}-`));
  const start = Date.now();
  const res: Result = await execa('node', [CLI, 'run', '--kubeconfig', kubeconfig, '--only', ONLY.join(',')], {
    cwd: ROOT,
    env: {
      KNC_NGINX_IMAGE: s.images.nginx,
      KNC_PROBE_IMAGE: s.images.probe,
      KNC_REPORT_DIR: reportDir,
      KNC_KUBECONFIG: undefined,
      KNC_CONTEXT: undefined,
      KNC_MANAGED_CLUSTER: undefined,
    },
    reject: false,
    timeout: TIMEOUT - 10_000,
  });
  return { exitCode: res.exitCode, stdout: String(res.stdout), stderr: String(res.stderr), durationMs: Date.now() - start, reportDir };
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');
const tail = (text: string, n = 25) => lines(text).slice(-n).join('\n');

beforeAll(async () => {
  if (!canSetUp) return; // every check is skipped (then Jest does not even call this)
  s = jestTarget();
  kube = makeKube({ kubeconfig: s.kubeconfig, context: s.context });
  tmp = mkdtempSync(path.join(tmpdir(), 'knc-rbac-'));
  const labels = runLabels(runId);
  stale.push(...(await deleteStaleRbac(kube)));
  ns = `knc-${runId}-rbac`;
  await kube.core.createNamespace({ body: { metadata: { name: ns, labels } } });
  const objs = rbacFor(runId, ns, labels);
  rbac = objs;
  await createServiceAccount(kube, ns, objs.serviceAccount.name, labels);
  await createServiceAccount(kube, ns, UNBOUND, labels);
  await createRbac(kube, objs);
  const [bound, unbound] = await Promise.all([serviceAccountToken(kube, ns, objs.serviceAccount.name), serviceAccountToken(kube, ns, UNBOUND)]);
  boundKc = writeTokenKubeconfig(kube.kc, bound, `sa-${objs.serviceAccount.name}`, path.join(tmp, 'bound.kubeconfig'));
  unboundKc = writeTokenKubeconfig(kube.kc, unbound, unboundUser, path.join(tmp, 'unbound.kubeconfig'));
}, TIMEOUT);

afterAll(async () => {
  // also after a failed setup or check: whatever exists is deleted, nothing else
  const errors: string[] = [];
  if (rbac) await deleteRbac(kube, rbac).catch((e: Error) => errors.push(`RBAC: ${e.message}`));
  if (ns) {
    await kube.core.deleteNamespace({ name: ns }).catch((e: { code?: number; message?: string }) => {
      if (e.code !== 404) errors.push(`namespace ${ns}: ${e.message}`);
    });
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  if (errors.length) throw new Error(`rbac.spec teardown: ${errors.join('; ')}`);
}, TIMEOUT);

/** The identity of a kubeconfig file (its current context). */
function identity(kubeconfig: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return kc;
}

describe('RBAC: manifests/rbac.yaml', () => {
  (canSetUp ? test : test.skip)(
    'a ServiceAccount bound to the kube-netcheck ClusterRole may do all the CLI preflight asks (run, cleanup) and may not read Secrets or change RBAC',
    async () => {
      const asked = [...RUN_PERMISSIONS, ...CLEANUP_PERMISSIONS];
      const missing = await lacking(identity(boundKc), asked);
      const refused = await lacking(identity(boundKc), NOT_GRANTED);
      expect(missing.map(describePermission)).toEqual([]);
      expect(NOT_GRANTED.filter((p) => !refused.includes(p)).map(describePermission)).toEqual([]);
      expect(rbac!.role.rules!.length).toBeGreaterThan(0);
    },
    TIMEOUT,
  );

  (canSetUp ? test : test.skip)(
    '`kube-netcheck run --kubeconfig` as that ServiceAccount sets up a whole run, execs into its probe pods, tears it down and exits 0',
    async () => {
      const run = await runCli(boundKc, 'bound');
      const summary = `exit ${run.exitCode} after ${run.durationMs}ms\nstdout:\n${tail(run.stdout)}\nstderr:\n${tail(run.stderr)}`;
      if (run.exitCode !== 0) throw new Error(`kube-netcheck run as the ServiceAccount: ${summary}`);
      expect(run.stdout).toMatch(/permissions ok/);
      // the checks really ran, on a run set up with these credentials
      expect(run.stdout).toContain(`cluster: kubeconfig ${boundKc}`);
      const results = JSON.parse(readFileSync(path.join(run.reportDir, 'results.json'), 'utf8')) as {
        runId: string;
        summary: Record<string, number>;
        execs: number;
        results: { id: string; check: string; status: string }[];
      };
      const state = { runId: results.runId };
      const ran = results.results.filter((r) => r.status !== 'skipped');
      expect(ran.map((r) => r.id)).toEqual(ONLY);
      expect(ran.length).toBeGreaterThanOrEqual(2);
      expect(ran.filter((r) => r.status !== 'passed')).toEqual([]);
      expect(results.execs).toBeGreaterThan(0);
      // and its teardown, also run with these credentials, left nothing behind
      const left = await pollUntil({
        what: `namespaces of the ServiceAccount's run ${state.runId} to be gone`,
        timeoutMs: 60_000,
        intervalMs: 250,
        probe: async () =>
          (await kube.core.listNamespace({ labelSelector: runSelector(state.runId) })).items.map((n) => `${n.metadata!.name}:${n.status!.phase}`),
        done: (l) => l.length === 0,
      });
      expect(left).toEqual([]);
    },
    TIMEOUT,
  );
});

describe('RBAC — negative controls', () => {
  (canSetUp ? test : test.skip)(
    'without the role (a ServiceAccount bound to nothing) the CLI exits 2 before creating anything, with one FORBIDDEN line naming what was denied',
    async () => {
      const run = await runCli(unboundKc, 'unbound');
      const err = lines(run.stderr);
      expect({ exitCode: run.exitCode, stderrLines: err.length }).toEqual({ exitCode: 2, stderrLines: 1 });
      expect(err[0]).toMatch(/^FORBIDDEN: /);
      expect(err[0]).toContain(`user "${unboundUser}"`);
      expect(err[0]).toContain('may not create namespaces');
      for (const p of RUN_PERMISSIONS) expect(err[0]).toContain(describePermission(p));
      // stopped by the preflight: no run was set up, so nothing was created and no report written
      expect(run.stdout).not.toMatch(/^run r\w+: /m);
      expect(existsSync(path.join(run.reportDir, 'results.json'))).toBe(false);
    },
    TIMEOUT,
  );
});
