// The real CLI, spawned as users run it (node bin/kube-netcheck.js …): exit codes and the single
// stderr line for every environment problem. Kubernetes API servers here are fakes on 127.0.0.1;
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execa } from 'execa';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubeconfigYaml, startFakeApiServer, writeTemp, type FakeApiServer } from './fake-apiserver.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'kube-netcheck.js');
// Each spawn loads the compiled CLI (dist/, built by `npm ci`'s prepare) and the Kubernetes client.
const SPAWN_MS = 30_000;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'knc-cli-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

interface Result {
  code: number | undefined;
  stdout: string;
  stderr: string;
  errLines: string[];
}

/** Runs the CLI with a clean environment (no KUBECONFIG, KNC_* unless given). */
async function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const r = await execa(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, ...env },
    extendEnv: false,
    reject: false,
    timeout: SPAWN_MS - 2_000,
  });
  const stderr = String(r.stderr);
  return { code: r.exitCode, stdout: String(r.stdout), stderr, errLines: stderr.split('\n').filter((l) => l.trim()) };
}

/** Exit 2 and exactly one line on stderr, starting with the code. */
function expectEnvError(r: Result, code: string, line: RegExp): void {
  expect({ code: r.code, errLines: r.errLines }).toEqual({ code: 2, errLines: [expect.stringMatching(new RegExp(`^${code}: `))] });
  expect(r.errLines[0]).toMatch(line);
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const VERSION = {
  major: '1',
  minor: '34',
  gitVersion: 'v1.34.0',
  gitCommit: 'x',
  gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z',
  goVersion: 'go1.24',
  compiler: 'gc',
  platform: 'linux/amd64',
};

interface FakeOptions {
  /** SelfSubjectAccessReview answer per "verb resource[/sub]"; 'forbidden' answers the review itself with 403. */
  allowed?: (attrs: { verb: string; resource: string; subresource?: string }) => boolean | 'forbidden';
  namespaces?: string[];
}

/** A fake API server: /version, SelfSubjectAccessReviews, and labelled namespaces to list and delete. */
async function fakeApi(opts: FakeOptions = {}): Promise<FakeApiServer & { requests: string[]; namespaces: Set<string> }> {
  const requests: string[] = [];
  const namespaces = new Set(opts.namespaces ?? []);
  const srv = await startFakeApiServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`);
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET' && url.pathname === '/version') return json(res, 200, VERSION);
      if (req.method === 'POST' && url.pathname === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
        const review = JSON.parse(body) as { spec: { resourceAttributes: { verb: string; resource: string; subresource?: string } } };
        const answer = opts.allowed?.(review.spec.resourceAttributes) ?? true;
        if (answer === 'forbidden') {
          return json(res, 403, {
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            reason: 'Forbidden',
            code: 403,
            message:
              'selfsubjectaccessreviews.authorization.k8s.io is forbidden: User "dev" cannot create resource "selfsubjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope',
          });
        }
        return json(res, 201, { ...review, apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', status: { allowed: answer } });
      }
      if (req.method === 'GET' && url.pathname === '/api/v1/namespaces') {
        return json(res, 200, {
          kind: 'NamespaceList',
          apiVersion: 'v1',
          metadata: {},
          items: [...namespaces].map((name) => ({
            metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'kube-netcheck' } },
            status: { phase: 'Active' },
          })),
        });
      }
      const pods = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods$/);
      if (req.method === 'DELETE' && pods) return json(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [] });
      const ns = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)$/);
      if (req.method === 'DELETE' && ns) {
        namespaces.delete(ns[1]);
        return json(res, 200, { kind: 'Namespace', apiVersion: 'v1', metadata: { name: ns[1] }, status: { phase: 'Terminating' } });
      }
      return json(res, 404, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'NotFound',
        code: 404,
        message: `${req.method} ${url.pathname} not faked`,
      });
    });
  });
  return Object.assign(srv, { requests, namespaces });
}

/** A kubeconfig with contexts kind-a (current) and kind-b, both for `server`. */
async function twoContextKubeconfig(name: string, server: string): Promise<string> {
  const text = kubeconfigYaml(server, 'kind-a').replace('contexts:\n', 'contexts:\n- name: kind-b\n  context:\n    cluster: kind-a\n    user: kind-a\n');
  return writeTemp(tmp, name, text);
}

describe('kube-netcheck CLI: usage', () => {
  it('images lists every image once with its uses; --registry names them in the mirror; a bad registry is one usage line', async () => {
    const [plain, mirrored, bad] = await Promise.all([
      cli(['images']),
      cli(['images', '--registry', 'mirror.corp:5000']),
      cli(['images', '--registry', 'https://mirror']),
    ]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^registry\.k8s\.io\/e2e-test-images\/agnhost:2\.56 +run \(public default[^\n]*; conformance$/m);
    expect(plain.stdout).toMatch(/^kube-netcheck\.local\/kube-router:\S+ +cni kube-router$/m);
    expect(mirrored.code).toBe(0);
    expect(mirrored.stdout).toMatch(/^mirror\.corp:5000\/library\/nginx:1\.27 +\(from nginx:1\.27\) run/m);
    expect(
      mirrored.stdout
        .split('\n')
        .filter((l) => l && !l.startsWith('('))
        .every((l) => l.startsWith('mirror.corp:5000/')),
    ).toBe(true);
    expect(bad.code).toBe(2);
    expect(bad.errLines).toHaveLength(1);
  }, 30_000);

  it(
    '--help lists the commands, exit 0, nothing on stderr',
    async () => {
      const r = await cli(['--help']);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      for (const c of ['run', 'cluster up', 'cluster down', 'cleanup']) expect(r.stdout).toContain(`  ${c} `);
      expect(r.stdout).toMatch(/Exit codes: 0 .* 1 a check failed, 2 environment/);
    },
    SPAWN_MS,
  );

  it(
    'every command has --help / -h',
    async () => {
      const rs = await Promise.all([cli(['run', '--help']), cli(['cluster', '-h']), cli(['cleanup', '--help']), cli(['-h'])]);
      expect(rs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
      expect(rs[0].stdout).toMatch(/--kubeconfig FILE[\s\S]*--context NAME[\s\S]*--keep[\s\S]*--report-dir DIR[\s\S]*--only NAMES[\s\S]*--skip NAMES/);
      expect(rs[1].stdout).toMatch(/kube-netcheck cluster <up\|down>/);
      expect(rs[2].stdout).toContain('app.kubernetes.io/managed-by=kube-netcheck');
    },
    SPAWN_MS,
  );

  it(
    'unknown command, unknown flag, missing command: one usage line, exit 2',
    async () => {
      const [cmd, flag, none, action] = await Promise.all([cli(['frobnicate']), cli(['run', '--frob']), cli([]), cli(['cluster', 'sideways'])]);
      for (const r of [cmd, flag, none, action]) {
        expect(r.code).toBe(2);
        expect(r.errLines).toHaveLength(1);
        expect(r.errLines[0]).toMatch(/; usage: kube-netcheck /);
      }
      expect(cmd.errLines[0]).toMatch(
        /^kube-netcheck: unknown command 'frobnicate'; usage: kube-netcheck <run\|cluster up\|cluster down\|cleanup\|grade\|conformance\|cni-matrix\|images>/,
      );
      expect(flag.errLines[0]).toMatch(/^kube-netcheck run: unknown option '--frob'; usage: kube-netcheck run \[--kubeconfig FILE\]/);
      expect(none.errLines[0]).toMatch(/^kube-netcheck: missing command/);
      expect(action.errLines[0]).toMatch(/^kube-netcheck cluster: unknown action 'sideways'/);
    },
    SPAWN_MS,
  );

  it(
    '--ip-family other than ipv4, ipv6, dual: one usage line quoting it, exit 2, before docker is looked for',
    async () => {
      const rs = await Promise.all([
        cli(['run', '--ip-family', 'v6']),
        cli(['cluster', 'up', '--ip-family', 'IPv6']),
        cli(['run', '--ip-family=']),
        cli(['cni-matrix', '--ip-family', 'dual,v6']),
      ]);
      expect(rs.map((r) => [r.code, r.errLines.length])).toEqual([
        [2, 1],
        [2, 1],
        [2, 1],
        [2, 1],
      ]);
      expect(rs[3].errLines[0]).toMatch(
        /^kube-netcheck cni-matrix: --ip-family "v6": one of ipv4, ipv6, dual; usage: kube-netcheck cni-matrix .*\[--ip-family FAMILIES\]/,
      );
      expect(rs[0].errLines[0]).toMatch(/^kube-netcheck run: --ip-family "v6": one of ipv4, ipv6, dual; usage: kube-netcheck run .*\[--ip-family F\]/);
      expect(rs[1].errLines[0]).toMatch(
        /^kube-netcheck cluster: --ip-family "IPv6": one of ipv4, ipv6, dual; usage: kube-netcheck cluster <up\|down> .*\[--ip-family F\]/,
      );
      expect(rs[2].errLines[0]).toMatch(/^kube-netcheck run: --ip-family needs a value/);
    },
    SPAWN_MS,
  );
});

describe('kube-netcheck run: the kubeconfig and API are checked before Jest starts', () => {
  it(
    'missing kubeconfig file: KUBECONFIG_MISSING',
    async () => {
      const file = path.join(tmp, 'no-such-kubeconfig');
      expectEnvError(
        await cli(['run', '--kubeconfig', file]),
        'KUBECONFIG_MISSING',
        new RegExp(`no kubeconfig found: ${file} does not exist.* — pass --kubeconfig FILE`),
      );
    },
    SPAWN_MS,
  );

  it(
    'malformed kubeconfig YAML: MALFORMED_YAML',
    async () => {
      const file = await writeTemp(tmp, 'malformed', 'apiVersion: v1\nclusters: [\n');
      expectEnvError(await cli(['run', '--kubeconfig', file]), 'MALFORMED_YAML', /malformed YAML: kubeconfig .*malformed: .* — fix the kubeconfig/);
    },
    SPAWN_MS,
  );

  it(
    'unknown --context: CONTEXT_UNKNOWN, listing the known contexts',
    async () => {
      const file = await twoContextKubeconfig('two-contexts', 'https://127.0.0.1:1');
      expectEnvError(
        await cli(['run', '--kubeconfig', file, '--context', 'kind-x']),
        'CONTEXT_UNKNOWN',
        /context "kind-x" not in .*two-contexts \(known: kind-b, kind-a\) — pass --context/,
      );
    },
    SPAWN_MS,
  );

  it(
    'API server not listening: API_UNREACHABLE naming the address',
    async () => {
      const port = await closedPort();
      const file = await writeTemp(tmp, 'closed', kubeconfigYaml(`https://127.0.0.1:${port}`));
      expectEnvError(
        await cli(['run', '--kubeconfig', file]),
        'API_UNREACHABLE',
        new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${port} — check that the cluster is running`),
      );
    },
    SPAWN_MS,
  );

  it(
    'API server that accepts but never answers: API_UNREACHABLE after the timeout',
    async () => {
      const sockets: net.Socket[] = [];
      const silent = net.createServer((s) => void sockets.push(s));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = silent.address() as AddressInfo;
        const file = await writeTemp(tmp, 'silent', kubeconfigYaml(`https://127.0.0.1:${port}`));
        const r = await cli(['run', '--kubeconfig', file], { KNC_API_TIMEOUT_MS: '400' });
        expectEnvError(r, 'API_UNREACHABLE', new RegExp(`request timed out: API server https://127\\.0\\.0\\.1:${port} did not answer within 400ms`));
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    },
    SPAWN_MS,
  );

  it(
    'RBAC: the access review itself is refused (HTTP 403): FORBIDDEN',
    async () => {
      const api = await fakeApi({ allowed: () => 'forbidden' });
      try {
        const file = await writeTemp(tmp, 'forbidden', kubeconfigYaml(api.url));
        const r = await cli(['run', '--kubeconfig', file]);
        expectEnvError(
          r,
          'FORBIDDEN',
          /Kubernetes API refused the request: HTTP 403: .*User "dev" cannot create .* — bind the identity to the role in manifests\/rbac\.yaml/,
        );
        expect(api.requests).toContain('GET /version');
      } finally {
        await api.close();
      }
    },
    SPAWN_MS,
  );

  it(
    'RBAC: the review says no (allowed: false): FORBIDDEN naming what is missing',
    async () => {
      const api = await fakeApi({ allowed: (a) => !(a.verb === 'create' && (a.resource === 'namespaces' || a.subresource === 'exec')) });
      try {
        const file = await writeTemp(tmp, 'rbac', kubeconfigYaml(api.url));
        expectEnvError(
          await cli(['run', '--kubeconfig', file]),
          'FORBIDDEN',
          /context "kind-test" \(user "kind-test"\) may not create namespaces, create pods\/exec —/,
        );
      } finally {
        await api.close();
      }
    },
    SPAWN_MS,
  );

  it(
    'the kind cluster without docker on PATH: NO_DOCKER',
    async () => {
      const r = await cli(['run'], { PATH: tmp });
      expectEnvError(r, 'NO_DOCKER', /docker is not available: .*docker.* — install and start Docker/);
    },
    SPAWN_MS,
  );
});

describe('kube-netcheck run: the suite in this process', () => {
  it(
    'a setup that fails (an API that serves no nodes) still lists every selected check in all four reports, failed "not run", exit 1',
    async () => {
      const api = await fakeApi();
      try {
        const file = await twoContextKubeconfig('setup-fails', api.url);
        const dir = path.join(tmp, 'reports-setup-fails');
        const r = await cli(['run', '--kubeconfig', file, '--context', 'kind-b', '--report-dir', dir, '--only', 'dns,service', '--skip', 'negative-control']);
        expect(r.code).toBe(1);
        expect(r.stdout).toMatch(/^cluster: context kind-b at http:\/\/127\.0\.0\.1:\d+, Kubernetes v1\.34\.0; API reachable, permissions ok$/m);
        expect(r.stdout).toMatch(/^checks: \d+ of \d+ selected$/m);
        const n = Number(/^checks: (\d+) of/m.exec(r.stdout)![1]);
        const results = JSON.parse(await readFile(path.join(dir, 'results.json'), 'utf8')) as {
          results: Array<{ id: string; status: string; error: string }>;
          summary: { total: number; failed: number };
          cause: { layer: string };
        };
        expect(results.summary).toMatchObject({ total: n, failed: n });
        expect(
          results.results.every(
            (x) =>
              x.status === 'failed' &&
              /^not run: setup \(namespaces, workload, probe pods\) failed: reading the cluster \(nodes, kube-system\): HTTP-Code: 404/.test(x.error),
          ),
        ).toBe(true);
        expect(results.results.some((x) => x.id.endsWith('.negative'))).toBe(false);
        const [junit, md, html] = await Promise.all(['junit.xml', 'summary.md', 'report.html'].map((f) => readFile(path.join(dir, f), 'utf8')));
        expect(junit.match(/<testcase /g)).toHaveLength(n);
        expect(junit.match(/<failure message="not run: setup/g)).toHaveLength(n);
        expect(md).toContain(`0 passed, ${n} failed, 0 skipped (${n} checks)`);
        expect(md).toMatch(/likely cause: the run's setup failed, so no check could run: reading the cluster/);
        expect(html.match(/data-status="failed"/g)).toHaveLength(n);
        expect(r.stdout).toMatch(/^likely cause: the run's setup failed, so no check could run: reading the cluster \(nodes, kube-system\): HTTP-Code: 404/m);
        expect(html).toContain('the run’s setup failed, so no check could run');
      } finally {
        await api.close();
      }
    },
    SPAWN_MS,
  );

  it(
    '--only that selects nothing stops before any cluster work: exit 2',
    async () => {
      const r = await cli(['run', '--only', 'no-such-check-anywhere'], { PATH: tmp });
      expect(r.code).toBe(2);
      expect(r.errLines).toEqual([expect.stringMatching(/^kube-netcheck run: --only\/--skip select none of the \d+ checks \(tags: .*negative-control.*\)/)]);
      expect(r.stdout).toContain('warning: "no-such-check-anywhere" matches no check id, name or tag');
    },
    SPAWN_MS,
  );
});

describe('kube-netcheck cluster / cleanup', () => {
  it(
    'cluster up and cluster down without docker on PATH: NO_DOCKER, exit 2',
    async () => {
      const [up, down] = await Promise.all([cli(['cluster', 'up'], { PATH: tmp }), cli(['cluster', 'down'], { PATH: tmp })]);
      expectEnvError(up, 'NO_DOCKER', /docker is not available: docker executable not found on PATH — install and start Docker/);
      expectEnvError(down, 'NO_DOCKER', /docker executable not found on PATH/);
    },
    SPAWN_MS,
  );

  it(
    'cleanup deletes every namespace labelled managed-by=kube-netcheck and names them',
    async () => {
      const api = await fakeApi({ namespaces: ['knc-r1234567-b', 'knc-r1234567-a', 'knc-rzzzzzzz-a'] });
      try {
        const file = await twoContextKubeconfig('cleanup', api.url);
        const r = await cli(['cleanup', '--kubeconfig', file, '--context', 'kind-b']);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toContain('deleting 3 namespaces labelled app.kubernetes.io/managed-by=kube-netcheck: knc-r1234567-a, knc-r1234567-b, knc-rzzzzzzz-a');
        for (const n of ['knc-r1234567-a', 'knc-r1234567-b', 'knc-rzzzzzzz-a']) expect(r.stdout).toContain(`deleted namespace ${n}\n`);
        expect(api.namespaces.size).toBe(0);
        expect(api.requests).toContain('GET /api/v1/namespaces?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dkube-netcheck');
        expect(api.requests.filter((q) => q.startsWith('DELETE /api/v1/namespaces/knc-r1234567-a/pods'))).toHaveLength(1);

        const again = await cli(['cleanup', '--kubeconfig', file]);
        expect(again.code).toBe(0);
        expect(again.stdout).toContain('nothing to delete: no namespace labelled app.kubernetes.io/managed-by=kube-netcheck');
      } finally {
        await api.close();
      }
    },
    SPAWN_MS,
  );

  it(
    'cleanup against an unreachable API: API_UNREACHABLE, exit 2',
    async () => {
      const port = await closedPort();
      const file = await writeTemp(tmp, 'cleanup-closed', kubeconfigYaml(`https://127.0.0.1:${port}`));
      expectEnvError(await cli(['cleanup', '--kubeconfig', file]), 'API_UNREACHABLE', /ECONNREFUSED/);
    },
    SPAWN_MS,
  );
});
