import { describe, it, expect, afterEach } from '@jest/globals';
import yaml from 'js-yaml';
import { execa } from 'execa';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ENV_EXIT_CODE, NetcheckError, classifyError, type ErrorCode } from '../../src/kube/errors.js';
import { kubeconfigYaml, startFakeApiServer, type FakeApiServer } from './fake-apiserver.js';

const caught = async (p: Promise<unknown>): Promise<unknown> => {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
};

function expectEnv(err: unknown, code: ErrorCode, line: RegExp) {
  const c = classifyError(err);
  expect(c.code).toBe(code);
  expect(c.exitCode).toBe(ENV_EXIT_CODE);
  expect(c.line).toMatch(line);
  expect(c.line.startsWith(`${code}: `)).toBe(true);
  expect(c.line).not.toContain('\n');
}

describe('classifyError', () => {
  let srv: FakeApiServer | undefined;
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
  });

  it('API_UNREACHABLE for a real ECONNREFUSED from client-node', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfigYaml('http://127.0.0.1:1'));
    const err = await caught(kc.makeApiClient(CoreV1Api).listNamespace());
    expectEnv(err, 'API_UNREACHABLE', /ECONNREFUSED 127\.0\.0\.1:1/);
  });

  it('API_UNREACHABLE for DNS failures and timeouts, even when wrapped in cause', () => {
    expectEnv(Object.assign(new Error('getaddrinfo ENOTFOUND kind-control-plane'), { code: 'ENOTFOUND' }), 'API_UNREACHABLE', /ENOTFOUND/);
    const inner = Object.assign(new Error('connect ETIMEDOUT 172.18.0.2:6443'), { code: 'ETIMEDOUT' });
    expectEnv(new Error('fetch failed', { cause: inner }), 'API_UNREACHABLE', /fetch failed/);
    expectEnv(Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' }), 'API_UNREACHABLE', /timed out/);
  });

  it('FORBIDDEN for a real HTTP 403 from the API server', async () => {
    srv = await startFakeApiServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Status',
          status: 'Failure',
          reason: 'Forbidden',
          code: 403,
          message: 'namespaces is forbidden: User "dev" cannot list resource "namespaces"',
        }),
      );
    });
    const err = await caught(srv.kc.makeApiClient(CoreV1Api).listNamespace());
    expect(err).toBeInstanceOf(ApiException);
    expectEnv(err, 'FORBIDDEN', /HTTP 403: namespaces is forbidden: User "dev"/);
  });

  it('FORBIDDEN for 401 and for a refused websocket upgrade', () => {
    expectEnv(new ApiException(401, 'Unauthorized', { message: 'Unauthorized' }, {}), 'FORBIDDEN', /HTTP 401: Unauthorized/);
    expectEnv(new Error('Unexpected server response: 403'), 'FORBIDDEN', /403/);
  });

  it('not FORBIDDEN for other HTTP errors', () => {
    const c = classifyError(new ApiException(404, 'Not Found', { message: 'pods "x" not found' }, {}));
    expect(c.code).toBe('UNEXPECTED');
    expect(c.exitCode).not.toBe(ENV_EXIT_CODE);
  });

  it('MALFORMED_YAML for a real js-yaml error, first line only', () => {
    let err: unknown;
    try {
      yaml.load('kind: Pod\nmetadata: [unclosed\n');
    } catch (e) {
      err = e;
    }
    expectEnv(err, 'MALFORMED_YAML', /malformed YAML: /);
  });

  it('NO_DOCKER when the docker binary is missing (real execa ENOENT)', async () => {
    const err = await caught(execa('docker', ['info'], { env: { PATH: '/nonexistent' }, extendEnv: false }));
    expectEnv(err, 'NO_DOCKER', /docker/);
  });

  it('NO_DOCKER when the daemon is down', () => {
    const err = Object.assign(new Error('Command failed with exit code 1: docker info'), {
      stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
    });
    expectEnv(err, 'NO_DOCKER', /Cannot connect to the Docker daemon/);
  });

  it('CONTEXT_UNKNOWN and KUBECONFIG_MISSING from our own NetcheckError', () => {
    expectEnv(new NetcheckError('CONTEXT_UNKNOWN', 'context "kind-x" not in /k (known: a, b)'), 'CONTEXT_UNKNOWN', /kind-x.*known: a, b/);
    expectEnv(new NetcheckError('KUBECONFIG_MISSING', '/nope does not exist'), 'KUBECONFIG_MISSING', /no kubeconfig found: \/nope/);
    expectEnv(new Error('No active cluster!'), 'CONTEXT_UNKNOWN', /No active cluster/);
  });

  it('distinct codes for each environment class', () => {
    const codes: ErrorCode[] = ['KUBECONFIG_MISSING', 'API_UNREACHABLE', 'CONTEXT_UNKNOWN', 'FORBIDDEN', 'MALFORMED_YAML', 'NO_DOCKER'];
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('UNEXPECTED for anything else, including non-Error values', () => {
    expect(classifyError(new TypeError('x is undefined'))).toEqual({ code: 'UNEXPECTED', exitCode: 1, line: 'UNEXPECTED: x is undefined' });
    expect(classifyError('boom').line).toBe('UNEXPECTED: boom');
    expect(classifyError(undefined).code).toBe('UNEXPECTED');
    const loop: Record<string, unknown> = { message: 'self-cause' };
    loop.cause = loop;
    expect(classifyError(loop).code).toBe('UNEXPECTED');
  });
});
