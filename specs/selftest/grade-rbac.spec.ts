// The grader as docs/grading.md tells an instructor to run it: under the grader-only RBAC of
// manifests/grading/rbac.yaml, as a ServiceAccount (a token kubeconfig made here, everything removed
// after), the read role bound per student namespace (the file's "only the course's namespaces"
// variant: a RoleBinding in each). A class picked by `--selector` (a label on the students'
// namespaces): the student whose namespace is bound is graded (the seed lab's reference: 100 %);
// the one whose namespace the grader may not read (no RoleBinding: 403) and, by name, one that does
// not exist are each that student's row with the reason — the class is never aborted. Grading one
// unreadable namespace alone is stopped up front (exit 2, one FORBIDDEN line naming the namespace).
// The role gives the grader nothing it does not need: no Secrets, no writes to students' objects.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { KubeConfig, RbacAuthorizationV1Api, type V1ClusterRole, type V1ClusterRoleBinding } from '@kubernetes/client-node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeKube, type Kube } from '../../src/kube/client.js';
import { loadYamlDocs, MANIFESTS_DIR } from '../../src/workload/manifests.js';
import { newRunId, runLabels } from '../../src/util/labels.js';
import { describePermission, type Permission } from '../../src/cli/preflight.js';
import { main } from '../../src/cli/main.js';
import { gradePermissions } from '../../src/cli/grade.js';
import { loadLab } from '../../src/grade/lab.js';
import { jestTarget } from '../support/netcheck.js';
import { createServiceAccount, lacking, serviceAccountToken, writeTokenKubeconfig } from '../support/service-account.js';
import { labCases, LabClasses, type ClassRun } from '../support/grade-labs.js';

const RBAC_FILE = path.join(MANIFESTS_DIR, 'grading/rbac.yaml');
const READ_ROLE = 'kube-netcheck-grader-read';
const COURSE = 'kube-netcheck/course';
const TIMEOUT = 300_000;

let kube: Kube;
let classes: LabClasses;
let tmp: string;
let saKc: string;
const created: { roles: string[]; bindings: string[]; namespaces: string[] } = { roles: [], bindings: [], namespaces: [] };
let bound: string;
let unreadable: string;
let missing: string;
let bySelector: ClassRun;
let byName: ClassRun;
let alone: { code: number; out: string[]; err: string[] };

/** What the role must not grant (in a student's namespace, or anywhere). */
const NOT_GRANTED = (ns: string): Permission[] => [
  { verb: 'get', resource: 'secrets' },
  { verb: 'list', resource: 'secrets', namespace: ns },
  { verb: 'update', resource: 'deployments', group: 'apps', namespace: ns },
  { verb: 'delete', resource: 'services', namespace: ns },
  { verb: 'patch', resource: 'networkpolicies', group: 'networking.k8s.io', namespace: ns },
  { verb: 'create', resource: 'rolebindings', group: 'rbac.authorization.k8s.io', namespace: ns },
  { verb: 'create', resource: 'clusterroles', group: 'rbac.authorization.k8s.io' },
];

beforeAll(async () => {
  const target = jestTarget();
  kube = makeKube({ kubeconfig: target.kubeconfig, context: target.context });
  tmp = mkdtempSync(path.join(tmpdir(), 'knc-grade-rbac-'));
  // the bound student: the seed lab's reference, in a namespace NOT named knc-… (the class selector leaves kube-netcheck's own out)
  const course = { [COURSE]: newRunId() };
  classes = new LabClasses(
    target,
    labCases(['seed']).filter((c) => c.key === 'reference'),
    { prefix: 'grade-rbac-', labels: course },
  );
  const { runId } = classes;
  const labels = runLabels(runId);
  bound = classes.nsOf(classes.cases[0]);
  unreadable = `grade-rbac-${runId}-unbound`;
  missing = `grade-rbac-${runId}-missing`;
  const home = `knc-${runId}-grader`;
  for (const [name, extra] of [
    [home, {}],
    [unreadable, course],
  ] as const) {
    await kube.core.createNamespace({ body: { metadata: { name, labels: { ...labels, ...extra } } } });
    created.namespaces.push(name);
  }
  created.namespaces.push(bound);
  await classes.create();

  // manifests/grading/rbac.yaml under names of this run: both ClusterRoles, the cluster-wide binding
  // of the grader role; the read role bound in the bound student's namespace only
  const rbac = kube.kc.makeApiClient(RbacAuthorizationV1Api);
  const docs = loadYamlDocs(RBAC_FILE);
  const sa = docs.find((d) => d.kind === 'ServiceAccount')!.metadata!.name!;
  const rename = (n: string) => `${n}-${runId}`;
  const subject = { kind: 'ServiceAccount', name: sa, namespace: home };
  await createServiceAccount(kube, home, sa, labels);
  for (const r of docs.filter((d) => d.kind === 'ClusterRole') as V1ClusterRole[]) {
    await rbac.createClusterRole({ body: { ...r, metadata: { name: rename(r.metadata!.name!), labels } } });
    created.roles.push(rename(r.metadata!.name!));
  }
  for (const b of docs.filter((d) => d.kind === 'ClusterRoleBinding' && (d as V1ClusterRoleBinding).roleRef.name !== READ_ROLE) as V1ClusterRoleBinding[]) {
    await rbac.createClusterRoleBinding({
      body: { metadata: { name: rename(b.metadata!.name!), labels }, roleRef: { ...b.roleRef, name: rename(b.roleRef.name) }, subjects: [subject] },
    });
    created.bindings.push(rename(b.metadata!.name!));
  }
  await rbac.createNamespacedRoleBinding({
    namespace: bound,
    body: {
      metadata: { name: READ_ROLE, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: rename(READ_ROLE) },
      subjects: [subject],
    },
  });
  saKc = writeTokenKubeconfig(kube.kc, await serviceAccountToken(kube, home, sa), `sa-${sa}`, path.join(tmp, 'grader.kubeconfig'));
  const asGrader = ['--kubeconfig', saKc];

  bySelector = await classes.grade('seed', ['--selector', `${COURSE}=${course[COURSE]}`], asGrader, path.join(tmp, 'selector'));
  byName = await classes.grade('seed', [bound, missing, unreadable], asGrader, path.join(tmp, 'names'));
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['grade', '--lab', 'seed', '-n', unreadable, ...asGrader], { out: (l) => out.push(l), err: (l) => err.push(l) });
  alone = { code, out, err };
  process.stdout.write(`grade-rbac.spec:\n--selector:\n${bySelector.out}\n${bySelector.err}\n--namespaces:\n${byName.out}\n${byName.err}\n`);
}, TIMEOUT);

afterAll(async () => {
  const rbac = kube.kc.makeApiClient(RbacAuthorizationV1Api);
  for (const name of created.bindings) await rbac.deleteClusterRoleBinding({ name }).catch(() => undefined);
  for (const name of created.roles) await rbac.deleteClusterRole({ name }).catch(() => undefined);
  await classes?.tearDown();
  for (const name of created.namespaces) await kube.core.deleteNamespace({ name }).catch(() => undefined);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 120_000);

const row = (r: ClassRun, ns: string) => r.book?.students.find((s) => s.student === ns);

describe('grading a class under the grader-only RBAC (manifests/grading/rbac.yaml, read role bound per namespace)', () => {
  test('the role: everything the grader asks for, in the bound namespace; no Secrets, no writes to a student’s objects, no RBAC', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(saKc);
    for (const lab of ['seed', 'netpol'])
      expect({ lab, missing: (await lacking(kc, gradePermissions(loadLab(lab), false, bound))).map(describePermission) }).toEqual({ lab, missing: [] });
    const notGranted = NOT_GRANTED(bound);
    const refused = await lacking(kc, notGranted);
    expect(notGranted.filter((p) => !refused.includes(p)).map(describePermission)).toEqual([]);
    // and the read role is really per namespace: refused in the unbound one
    expect((await lacking(kc, [{ verb: 'list', resource: 'deployments', group: 'apps', namespace: unreadable }])).length).toBe(1);
  });

  test('--selector: both labelled namespaces are the class; the bound one graded 100 %, the unreadable one its own row (403), the class not aborted', () => {
    if (!bySelector.book) throw new Error(`no grade book (exit ${bySelector.code}):\n${bySelector.out}\n${bySelector.err}`);
    expect(bySelector.book.students.map((s) => s.student)).toEqual([bound, unreadable].sort());
    expect(row(bySelector, bound)).toMatchObject({ error: null, percent: 100, passed: true });
    expect(row(bySelector, unreadable)).toMatchObject({
      passed: false,
      score: null,
      error: expect.stringMatching(/^the grader may not read the objects of namespace .* \(403 Forbidden: .* is forbidden: User "system:serviceaccount:/),
    });
    expect(bySelector.code).toBe(1);
    expect(bySelector.out).toMatch(new RegExp(`^${unreadable} +not graded: the grader may not read`, 'm'));
    expect(bySelector.out).toMatch(/graded 1 of 2 namespaces/);
  });

  test('--namespaces by name: a namespace that does not exist and one the grader may not read are rows; the readable one is graded 100 %', () => {
    if (!byName.book) throw new Error(`no grade book (exit ${byName.code}):\n${byName.out}\n${byName.err}`);
    expect(row(byName, bound)).toMatchObject({ error: null, percent: 100, passed: true });
    expect(row(byName, missing)).toMatchObject({ passed: false, error: `namespace ${missing} does not exist` });
    expect(row(byName, unreadable)?.error).toMatch(/\(403 Forbidden/);
    const csv = readFileSync(path.join(tmp, 'names', 'gradebook.csv'), 'utf8');
    expect(csv).toMatch(new RegExp(`^${missing},error: namespace ${missing} does not exist,`, 'm'));
    expect(byName.code).toBe(1);
    expect(byName.out).toMatch(/graded 1 of 3 namespaces/);
  });

  test('one unreadable namespace alone: stopped up front, exit 2, one FORBIDDEN line naming the namespace', () => {
    expect({ code: alone.code, err: alone.err.length }).toEqual({ code: 2, err: 1 });
    expect(alone.err[0]).toMatch(new RegExp(`^FORBIDDEN: .*may not list deployments\\.apps in namespace ${unreadable}`));
  });
});
