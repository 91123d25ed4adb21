// Writes survive an optimistic-concurrency conflict (HTTP 409 Conflict), as client-go's
// RetryOnConflict does, and an API error is named by the API's own reason and message — both
// through the real client-node against a fake API server answering the scale subresource.
import { describe, it, expect, afterEach } from '@jest/globals';
import { ApiException, AppsV1Api } from '@kubernetes/client-node';
import { apiStatus, errorLine, isConflict, retryOnConflict } from '../../src/kube/errors.js';
import { startFakeApiServer, type FakeApiServer } from './fake-apiserver.js';

// the Status body a kube-apiserver returns when a PUT carries a stale resourceVersion
const CONFLICT = {
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  reason: 'Conflict',
  code: 409,
  message:
    'Operation cannot be fulfilled on deployments.apps "my-nginx": the object has been modified; please apply your changes to the latest version and try again',
  details: { name: 'my-nginx', group: 'apps', kind: 'deployments' },
};

const scale = (rv: number, replicas: number) => ({
  kind: 'Scale',
  apiVersion: 'autoscaling/v1',
  metadata: { name: 'my-nginx', namespace: 'ns', resourceVersion: String(rv) },
  spec: { replicas },
  status: { replicas, selector: 'run=my-nginx' },
});

describe('retryOnConflict: read the scale subresource, replace it, again on 409', () => {
  let srv: FakeApiServer | undefined;
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
  });

  /** A scale subresource whose resourceVersion moves `bumps` times under the writer's feet. */
  async function server(bumps: number) {
    let rv = 100;
    let left = bumps;
    const seen: string[] = [];
    srv = await startFakeApiServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push(`${req.method}`);
        res.setHeader('content-type', 'application/json');
        if (req.method === 'GET') return res.end(JSON.stringify(scale(rv, 2)));
        const sent = JSON.parse(body) as { metadata: { resourceVersion: string }; spec: { replicas: number } };
        if (left > 0 || sent.metadata.resourceVersion !== String(rv)) {
          left--;
          rv++; // someone else (the Deployment controller) wrote in between
          res.writeHead(409);
          return res.end(JSON.stringify(CONFLICT));
        }
        res.end(JSON.stringify(scale(++rv, sent.spec.replicas)));
      });
    });
    return { seen, apps: srv.kc.makeApiClient(AppsV1Api) };
  }

  const write = (apps: AppsV1Api, replicas: number) => async () => {
    const cur = await apps.readNamespacedDeploymentScale({ name: 'my-nginx', namespace: 'ns' });
    return apps.replaceNamespacedDeploymentScale({ name: 'my-nginx', namespace: 'ns', body: { ...cur, spec: { replicas } } });
  };

  it('a conflict is read again and written again; the write lands', async () => {
    const { seen, apps } = await server(2);
    const out = await retryOnConflict(write(apps, 3));
    expect(out.spec?.replicas).toBe(3);
    expect(seen).toEqual(['GET', 'PUT', 'GET', 'PUT', 'GET', 'PUT']);
  });

  it("a conflict that never ends is thrown after 8 tries, named by the API's reason and message", async () => {
    const { seen, apps } = await server(99);
    const err = await retryOnConflict(write(apps, 3)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiException);
    expect(seen.filter((m) => m === 'PUT')).toHaveLength(8);
    expect(isConflict(err)).toBe(true);
    expect(apiStatus(err)).toEqual({ code: 409, reason: 'Conflict', message: CONFLICT.message });
    // client-node's own message says "HTTP-Code: 409 Message: Unknown API Status Code!" — not this
    expect((err as Error).message).toMatch(/^HTTP-Code: 409\nMessage: Unknown API Status Code!/);
    expect(errorLine(err)).toBe(`API 409 Conflict: ${CONFLICT.message}`);
  });

  it('any other error is not retried', async () => {
    let calls = 0;
    const gone = new ApiException(
      404,
      'Unknown API Status Code!',
      JSON.stringify({ kind: 'Status', reason: 'NotFound', code: 404, message: 'deployments.apps "x" not found' }),
      {},
    );
    const err = await retryOnConflict(async () => {
      calls++;
      throw gone;
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(calls).toBe(1);
    expect(isConflict(err)).toBe(false);
    expect(errorLine(err)).toBe('API 404 NotFound: deployments.apps "x" not found');
    expect(errorLine(new Error('plain\nsecond line'))).toBe('plain');
  });
});
