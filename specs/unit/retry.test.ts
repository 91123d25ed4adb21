// The one retry wrapper (src/util/retry.ts) and the probe-pod lifecycle's use of it: a pod refused
// because its fresh namespace's ServiceAccount does not exist yet is created again (setupRun, the
// grader and the NetworkPolicy matrix create their pods through createPod), through the real
// client-node against a fake API server answering with the refusal the live cluster gave
// (specs/selftest/probe-pods.spec.ts, default cluster, v1.34.4: captured 18:38, 2026-12-07).
import { describe, it, expect, afterEach } from '@jest/globals';
import { errorLine, isServiceAccountPending } from '../../src/kube/errors.js';
import { makeKube } from '../../src/kube/client.js';
import { retry, type RetryOptions } from '../../src/util/retry.js';
import { createPod, createPods, probePod, probeTemplate } from '../../src/workload/probe-pods.js';
import { startFakeApiServer, type FakeApiServer } from './fake-apiserver.js';

const status = (code: number, reason: string, message: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  reason,
  code,
  message,
});
// as the live API said them: the ServiceAccount refusal from specs/selftest/probe-pods.spec.ts (18:38, default
// cluster), the admission policy's from specs/selftest/hostnetwork-forbidden.spec.ts (session 5, docs/cluster-shapes.md)
const SA_PENDING = status(
  403,
  'Forbidden',
  'pods "probe-late-sa" is forbidden: error looking up service account knc-rymijf2t-sa/knc-late: serviceaccount "knc-late" not found',
);
const POLICY_DENIED = status(
  422,
  'Invalid',
  "pods \"node-view-0-kube-netcheck-control-plane\" is forbidden: ValidatingAdmissionPolicy 'knc-no-hostnetwork-r7m3cyt6' with binding 'knc-no-hostnetwork-r7m3cyt6' denied request: hostNetwork pods are forbidden here",
);

describe('retry: bounded by tries or a deadline, only for the errors it is told pass', () => {
  /** Runs retry over an operation that always throws `message` (numbered by its try when `numbered`): how many tries, and what was thrown. */
  async function alwaysFailing(o: Omit<RetryOptions, 'firstDelayMs'> & { firstDelayMs?: number }, message: string, numbered = false) {
    let n = 0;
    const err = await retry(
      async () => {
        n++;
        throw new Error(numbered ? `${message} ${n}` : message);
      },
      { firstDelayMs: 1, ...o },
    ).catch((e: Error) => e);
    return { n, message: (err as Error).message };
  }
  it('tries again while the error is retryable, up to `tries`, then throws that error', async () => {
    expect(await alwaysFailing({ retryable: (e) => /busy/.test((e as Error).message), tries: 4 }, 'busy', true)).toEqual({ n: 4, message: 'busy 4' });
  });
  it('any other error is thrown at once', async () => {
    expect(await alwaysFailing({ retryable: () => false, tries: 5 }, 'no')).toEqual({ n: 1, message: 'no' });
  });
  it('a deadline ends it: the waits double and are cut to the deadline, so the tries are few and end', async () => {
    const { n, message } = await alwaysFailing({ retryable: () => true, deadlineMs: 1_000, firstDelayMs: 20 }, 'busy');
    // 0, 20, 60, 140, 300, 620 ms, then the wait is cut to the deadline: at most 7 tries (fewer on a slow machine)
    expect(message).toBe('busy');
    expect(n).toBeGreaterThan(1);
    expect(n).toBeLessThanOrEqual(7);
  });
  it('refuses to run unbounded', async () => {
    await expect(retry(async () => 1, { retryable: () => true, firstDelayMs: 1 })).rejects.toThrow(/tries or deadlineMs/);
  });
});

describe('createPod: the fresh namespace ServiceAccount refusal retried, any other refusal not', () => {
  let srv: FakeApiServer | undefined;
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
  });
  /** An API server answering each pod POST with the next of `answers` (then 201 with the pod). */
  async function server(answers: Array<ReturnType<typeof status>>) {
    const posts: string[] = [];
    srv = await startFakeApiServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        posts.push(`${req.method} ${req.url}`);
        res.setHeader('content-type', 'application/json');
        const next = answers.shift();
        if (next) {
          res.writeHead(next.code);
          return res.end(JSON.stringify(next));
        }
        res.writeHead(201);
        res.end(body);
      });
    });
    return { posts, kube: makeKube(srv.kc) };
  }
  const pod = (name: string) => probePod(probeTemplate('probe-pod'), name, 'kube-netcheck-worker', 'knc-r1-a', 'probe:1', { 'kube-netcheck/run': 'r1' });

  it("the captured refusal is 'pending', the admission policy's is not", () => {
    const asErr = (s: ReturnType<typeof status>) => ({ code: s.code, body: JSON.stringify(s) });
    expect(isServiceAccountPending(asErr(SA_PENDING))).toBe(true);
    expect(isServiceAccountPending(asErr(POLICY_DENIED))).toBe(false);
  });
  it('refused twice for the missing ServiceAccount, then created: three POSTs, the pod returned', async () => {
    const { posts, kube } = await server([SA_PENDING, SA_PENDING]);
    const made = await createPod(kube, pod('probe-late-sa'));
    expect(made.metadata?.name).toBe('probe-late-sa');
    expect(posts).toEqual(Array(3).fill('POST /api/v1/namespaces/knc-r1-a/pods'));
  });
  it("an admission policy's refusal is not retried and keeps its API status (setupRun tells a forbidden node view by it)", async () => {
    const { posts, kube } = await server([POLICY_DENIED]);
    const err = await createPod(kube, pod('node-view-0-kube-netcheck-control-plane')).catch((e: unknown) => e);
    expect(posts).toHaveLength(1);
    expect(errorLine(err)).toBe(`API 422 Invalid: ${POLICY_DENIED.message}`);
  });
  it('a ServiceAccount that never comes: thrown at the deadline with the API words; createPods names the pod', async () => {
    const { posts, kube } = await server(Array(1000).fill(SA_PENDING));
    const err = await createPod(kube, pod('probe-late-sa'), { deadlineMs: 1_500 }).catch((e: unknown) => e);
    expect(posts.length).toBeGreaterThan(1);
    expect(errorLine(err)).toBe(`API 403 Forbidden: ${SA_PENDING.message}`);
    await srv!.close();
    const { kube: k2 } = await server([POLICY_DENIED]);
    await expect(createPods(k2, [pod('node-view-0-kube-netcheck-control-plane')])).rejects.toThrow(
      `creating Pod knc-r1-a/node-view-0-kube-netcheck-control-plane: API 422 Invalid: ${POLICY_DENIED.message}`,
    );
  });
});
