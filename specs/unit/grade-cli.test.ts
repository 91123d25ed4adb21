// `kube-netcheck grade` spawned as users run it: usage and rubric errors (exit 2, one stderr line,
// before any cluster is contacted), a namespace that does not exist (exit 2), and a whole grade
// with an API-only rubric against a fake API server on 127.0.0.1 (exit 0/1, JSON on stdout or in
// a file). The probe pod, HTTP and DNS are covered by the live specs/selftest/grade.spec.ts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubeconfigYaml, startFakeApiServer, writeTemp, type FakeApiServer } from './fake-apiserver.js';
import { CHECK_TYPES } from '../../src/grade/lab.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'kube-netcheck.js');
const SPAWN_MS = 30_000;

let tmp: string;
let api: FakeApiServer & { requests: string[] };
let kubeconfig: string;

async function cli(args: string[]) {
  const r = await execa(process.execPath, [BIN, 'grade', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp },
    extendEnv: false,
    reject: false,
    timeout: SPAWN_MS - 2_000,
  });
  const stderr = String(r.stderr);
  return { code: r.exitCode, stdout: String(r.stdout), stderr, errLines: stderr.split('\n').filter((l) => l.trim()) };
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const notFound = (res: http.ServerResponse, what: string) =>
  json(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${what} not found` });

const NS = 'alice';
const ready = [{ type: 'Ready', status: 'True' }];
// the Deployment's pods are the ones its ReplicaSet owns (ownerReferences, by uid)
const owner = (kind: string, name: string, uid: string) => [{ apiVersion: 'apps/v1', kind, name, uid, controller: true }];
const pods = [0, 1].map((i) => ({
  metadata: { name: `my-nginx-x-${i}`, namespace: NS, labels: { run: 'my-nginx' }, ownerReferences: owner('ReplicaSet', 'my-nginx-x', 'rs-uid') },
  status: { phase: 'Running', podIP: `10.244.${i + 1}.5`, conditions: ready },
}));
const replicaSets = [{ metadata: { name: 'my-nginx-x', namespace: NS, uid: 'rs-uid', ownerReferences: owner('Deployment', 'my-nginx', 'deploy-uid') } }];
const DEPLOYMENT = {
  metadata: { name: 'my-nginx', namespace: NS, uid: 'deploy-uid' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { run: 'my-nginx' } },
    template: { metadata: { labels: { run: 'my-nginx' } }, spec: { containers: [{ name: 'my-nginx', image: 'nginx', ports: [{ containerPort: 80 }] }] } },
  },
};
const SERVICE = {
  metadata: { name: 'my-nginx', namespace: NS },
  spec: { clusterIP: '10.96.1.2', selector: { run: 'my-nginx' }, ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] },
};
// one of the two pods is missing from the Endpoints: the endpoints item fails
const ENDPOINTS = { metadata: { name: 'my-nginx', namespace: NS }, subsets: [{ addresses: [{ ip: '10.244.1.5' }], ports: [{ port: 80 }] }] };
const list = (items: unknown[]) => ({ metadata: {}, items });
const OBJECTS: Record<string, unknown> = {
  [`/apis/apps/v1/namespaces/${NS}/deployments`]: list([DEPLOYMENT]),
  [`/apis/apps/v1/namespaces/${NS}/statefulsets`]: list([]),
  [`/api/v1/namespaces/${NS}/services`]: list([SERVICE]),
  [`/api/v1/namespaces/${NS}/endpoints`]: list([ENDPOINTS]),
  [`/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies`]: list([]),
  [`/api/v1/namespaces/${NS}`]: { metadata: { name: NS }, status: { phase: 'Active' } },
  [`/apis/apps/v1/namespaces/${NS}/replicasets`]: { metadata: {}, items: replicaSets },
  [`/apis/apps/v1/namespaces/${NS}/deployments/my-nginx`]: {
    metadata: { name: 'my-nginx', namespace: NS, uid: 'deploy-uid' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { run: 'my-nginx' } },
      template: { metadata: { labels: { run: 'my-nginx' } }, spec: { containers: [{ name: 'my-nginx', image: 'nginx', ports: [{ containerPort: 80 }] }] } },
    },
  },
  [`/api/v1/namespaces/${NS}/services/my-nginx`]: {
    metadata: { name: 'my-nginx', namespace: NS },
    spec: { clusterIP: '10.96.1.2', selector: { run: 'my-nginx' }, ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] },
  },
  // one of the two pods is missing from the Endpoints: the endpoints item fails
  [`/api/v1/namespaces/${NS}/endpoints/my-nginx`]: {
    metadata: { name: 'my-nginx', namespace: NS },
    subsets: [{ addresses: [{ ip: '10.244.1.5' }], ports: [{ port: 80 }] }],
  },
  [`/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`]: {
    metadata: {},
    items: [
      {
        addressType: 'IPv4',
        metadata: {
          name: 'my-nginx-a',
          namespace: NS,
          labels: { 'kubernetes.io/service-name': 'my-nginx', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
        },
        endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true } }],
        ports: [{ port: 80 }],
      },
    ],
  },
};

const TYPES: Record<string, string> = {
  deployment: 'exists',
  replicas: 'replicas',
  'pod-labels': 'pod-labels',
  'container-port': 'container-port',
  'service-port': 'service-port',
  'service-selector': 'service-selector',
  endpoints: 'endpoints',
};
const LAB = `lab: api-only
title: API only
workloads: {nginx: {kind: Deployment, name: my-nginx, replicas: 2, labels: {run: my-nginx}, containerPort: 80}}
services: {nginx: {name: my-nginx, port: 80}}
tasks:
  - id: t
    checks:
${Object.entries(TYPES)
  .map(([c, t]) => `      - {id: ${c}, type: ${t}, weight: ${c === 'endpoints' ? 2 : 1}, description: "${c} in {namespace}", hint: "fix ${c}"}`)
  .join('\n')}
`;
const API_ONLY_RUBRIC = LAB;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'knc-grade-cli-'));
  const requests: string[] = [];
  const srv = await startFakeApiServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push(`${req.method} ${url.pathname}${url.search}`);
      if (req.method === 'GET' && url.pathname === '/version')
        return json(res, 200, {
          major: '1',
          minor: '34',
          gitVersion: 'v1.34.0',
          gitCommit: 'x',
          gitTreeState: 'clean',
          buildDate: '2025-01-01T00:00:00Z',
          goVersion: 'go1.24',
          compiler: 'gc',
          platform: 'linux/amd64',
        });
      if (req.method === 'POST' && url.pathname === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
        return json(res, 201, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: {}, status: { allowed: true } });
      }
      if (req.method === 'GET' && url.pathname === `/api/v1/namespaces/${NS}/pods`) {
        // every pod of the namespace: ownership, not a label selector, says which are the Deployment's
        return url.searchParams.has('labelSelector')
          ? json(res, 400, { kind: 'Status', code: 400, message: 'unexpected selector' })
          : json(res, 200, { metadata: {}, items: pods });
      }
      if (req.method === 'GET' && OBJECTS[url.pathname]) return json(res, 200, OBJECTS[url.pathname]);
      return notFound(res, `${req.method} ${url.pathname}`);
    });
  });
  api = Object.assign(srv, { requests });
  kubeconfig = await writeTemp(tmp, 'kubeconfig', kubeconfigYaml(api.url));
});
afterAll(async () => {
  await api?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('kube-netcheck grade: usage', () => {
  it(
    '--help: options, the check ids a rubric can use, exit codes',
    async () => {
      const r = await cli(['--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(
        /--lab L[\s\S]*--namespace NS[\s\S]*--verify[\s\S]*--json FILE[\s\S]*--namespaces GLOBS[\s\S]*--selector SEL[\s\S]*--out DIR[\s\S]*--pass-mark PCT/,
      );
      for (const c of Object.keys(CHECK_TYPES)) expect(r.stdout).toMatch(new RegExp(`^  ${c} +\\S`, 'm'));
      expect(r.stdout).toMatch(
        /Exit codes: 0 the score reached the pass mark, 1 it did not \(a class: 0 only when every student was\s+graded and passed\), 2 environment or usage error/,
      );
    },
    SPAWN_MS,
  );

  it(
    'missing --namespace, bad --pass-mark, unknown flag: one usage line, exit 2',
    async () => {
      const rs = await Promise.all([cli([]), cli(['-n', 'a', '--pass-mark', '150']), cli(['-n', 'a', '--frob']), cli(['-n', 'Not_A_Namespace'])]);
      expect(rs.map((r) => r.code)).toEqual([2, 2, 2, 2]);
      for (const r of rs) expect(r.errLines).toHaveLength(1);
      expect(rs[0].errLines[0]).toMatch(
        /^kube-netcheck grade: missing --namespace NS \(one student\) or --namespaces GLOB \/ --selector SEL \(a class\); usage: kube-netcheck grade /,
      );
      expect(rs[1].errLines[0]).toMatch(/--pass-mark "150" is not a percentage from 0 to 100/);
      expect(rs[2].errLines[0]).toMatch(/unknown option '--frob'/);
      expect(rs[3].errLines[0]).toMatch(/--namespace "Not_A_Namespace" is not a valid namespace name/);
    },
    SPAWN_MS,
  );

  it(
    'a lab that is not valid: one line naming file, line and field, exit 2 before any cluster is contacted',
    async () => {
      const bad = await writeTemp(tmp, 'bad.yaml', 'lab: x\ntasks: [\n');
      const unknown = await writeTemp(tmp, 'unknown.yaml', LAB.replace('type: exists', 'type: ingress'));
      // not YAML at all: a student's write-up handed in as the lab (4 KB of prose)
      const prose = await writeTemp(
        tmp,
        'notes.txt',
        Array.from({ length: 50 }, (_, i) => `Line ${i} - I created the deployment and the service and then it worked`).join('\n'),
      );
      const [b, u, missing, p, cls] = await Promise.all([
        cli(['-n', NS, '--lab', bad, '--kubeconfig', '/nonexistent']),
        cli(['-n', NS, '--lab', unknown, '--kubeconfig', '/nonexistent']),
        cli(['-n', NS, '--lab', path.join(tmp, 'nope.yaml')]),
        cli(['-n', NS, '--rubric', prose, '--kubeconfig', '/nonexistent']),
        cli(['--namespaces', 'student-*', '--lab', unknown, '--kubeconfig', '/nonexistent']),
      ]);
      expect([b.code, u.code, missing.code, p.code, cls.code]).toEqual([2, 2, 2, 2, 2]);
      expect(p.errLines).toEqual([
        expect.stringMatching(
          new RegExp(`^RUBRIC_INVALID: ${prose}:1: must be a mapping with lab, title, tasks .*, got "Line 0 - I created .{40,}… \\(\\d{4} characters\\)$`),
        ),
      ]);
      expect(b.errLines).toEqual([`RUBRIC_INVALID: ${bad}:3: malformed YAML (column 1): unexpected end of the stream within a flow collection`]);
      expect(u.errLines).toEqual([
        expect.stringMatching(
          /^RUBRIC_INVALID: .*unknown\.yaml:8: tasks\[0\]\.checks\[0\] \(deployment\)\.type: unknown check type "ingress"; known: exists, replicas/,
        ),
      ]);
      expect(cls.errLines).toEqual(u.errLines);
      expect(missing.errLines).toEqual([expect.stringMatching(/^RUBRIC_INVALID: .*nope\.yaml: cannot read: ENOENT \(shipped labs: .*seed/)]);
    },
    SPAWN_MS,
  );
});

describe('kube-netcheck grade against a fake API server', () => {
  it(
    'a namespace that does not exist: exit 2, NAMESPACE_NOT_FOUND',
    async () => {
      const r = await cli(['-n', 'bob', '--kubeconfig', kubeconfig]);
      expect(r.code).toBe(2);
      expect(r.errLines).toEqual([expect.stringMatching(/^NAMESPACE_NOT_FOUND: namespace bob does not exist in context kind-test/)]);
    },
    SPAWN_MS,
  );

  it(
    'an API-only rubric: reads only, no probe namespace; JSON on stdout with --json -, exit by the pass mark',
    async () => {
      const rubric = await writeTemp(tmp, 'api-only.yaml', API_ONLY_RUBRIC);
      const before = api.requests.length;
      const [strict, lenient] = await Promise.all([
        cli(['-n', NS, '--kubeconfig', kubeconfig, '--rubric', rubric, '--json', '-']),
        cli(['-n', NS, '--kubeconfig', kubeconfig, '--rubric', rubric, '--pass-mark', '75', '--json', path.join(tmp, 'out.json')]),
      ]);
      expect(strict.code).toBe(1);
      const report = JSON.parse(strict.stdout);
      expect(report).toMatchObject({
        schema: 'kube-netcheck/grade',
        namespace: NS,
        score: 6,
        total: 8,
        percent: 75,
        passMark: 100,
        passed: false,
        failed: ['endpoints'],
        probeNamespace: null,
      });
      expect(report.items.find((i: { id: string }) => i.id === 'endpoints')).toMatchObject({
        passed: false,
        hint: 'fix endpoints',
        description: `endpoints in ${NS}`,
        detail:
          'expected Endpoints {10.244.1.5:80, 10.244.2.5:80} (the 2 Ready pods of Deployment my-nginx); saw {10.244.1.5:80}: missing: 10.244.2.5:80 (pod my-nginx-x-1)',
      });
      // the human lines went to stderr
      expect(strict.stderr).toMatch(
        /FAIL {2}endpoints +0\/2 {2}endpoints in alice\n {6}seen: .*\n {6}hint: fix endpoints\nscore: 6\/8 \(75\.0%\), pass mark 100%: NOT PASSED; failed: endpoints/,
      );

      expect(lenient.code).toBe(0);
      expect(lenient.stdout).toMatch(/score: 6\/8 \(75\.0%\), pass mark 75%: PASSED/);
      expect(JSON.parse(await readFile(path.join(tmp, 'out.json'), 'utf8'))).toMatchObject({ passed: true, passMark: 75 });
      // nothing but reads reached the API (apart from the access reviews)
      const writes = api.requests.slice(before).filter((r) => !r.startsWith('GET ') && !r.includes('selfsubjectaccessreviews'));
      expect(writes).toEqual([]);
    },
    SPAWN_MS,
  );
});
