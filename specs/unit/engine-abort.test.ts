// The engine is handed its interruption as an AbortSignal: it stops without waiting for the step
// in flight, deletes the run's namespaces and rejects with RunInterrupted (the CLI alone maps that
// to exit 130). Here against a fake API server on which reading the cluster's facts never answers
// (a step that would otherwise hold the run until its own timeouts).
import { describe, expect, it } from '@jest/globals';
import type http from 'node:http';
import { connect } from '../../src/cluster/connection.js';
import { PHASES, CATALOGUE } from '../../src/catalogue/index.js';
import { RunInterrupted, runSuite } from '../../src/engine/run-suite.js';
import { runSettings } from '../../src/cli/settings.js';
import { DEFAULT_SETTINGS } from '../../src/workload/setup.js';
import { DEFAULT_IMAGES } from '../../src/cluster/resolve.js';
import { startFakeApiServer } from './fake-apiserver.js';

const json = (res: http.ServerResponse, code: number, body: unknown) => {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('interruption: an AbortSignal handed to runSuite', () => {
  it('stops the run in the middle of setup, deletes the namespaces it created and rejects with RunInterrupted', async () => {
    const namespaces = new Map<string, Record<string, string>>();
    const deleted: string[] = [];
    const api = await startFakeApiServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const ns = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(url.pathname)?.[1];
      if (req.method === 'POST' && url.pathname === '/api/v1/namespaces') {
        let body = '';
        req.on('data', (b: Buffer) => (body += b.toString()));
        req.on('end', () => {
          const o = JSON.parse(body) as { metadata: { name: string; labels: Record<string, string> } };
          namespaces.set(o.metadata.name, o.metadata.labels);
          json(res, 201, { kind: 'Namespace', apiVersion: 'v1', ...o });
        });
      } else if (req.method === 'GET' && url.pathname === '/api/v1/namespaces') {
        json(res, 200, {
          kind: 'NamespaceList',
          apiVersion: 'v1',
          metadata: {},
          items: [...namespaces].map(([name, labels]) => ({ metadata: { name, labels }, status: { phase: 'Active' } })),
        });
      } else if (req.method === 'DELETE' && ns) {
        deleted.push(ns);
        namespaces.delete(ns);
        json(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
      } else if (req.method === 'DELETE' && /\/pods$/.test(url.pathname)) {
        json(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
      }
      // anything else (nodes, the kube-dns Service…) never answers
    });
    try {
      const conn = connect({ kubeconfig: '(fake)', images: DEFAULT_IMAGES }, api.kc);
      const ac = new AbortController();
      const seen: string[] = [];
      const t0 = Date.now();
      const run = runSuite(
        conn,
        CATALOGUE.filter((c) => c.layer === 'nodes'),
        [{ onProgress: (l) => seen.push(l) }],
        {
          phases: PHASES,
          signal: ac.signal,
          runId: 'rabort01',
          onNamespaces: () => setTimeout(() => ac.abort('SIGINT'), 300),
        },
      );
      await expect(run).rejects.toThrow(RunInterrupted);
      await expect(run).rejects.toThrow(/^run interrupted \(SIGINT\)$/);
      expect(Date.now() - t0).toBeLessThan(3_000);
      expect(deleted.sort()).toEqual(['knc-rabort01-a', 'knc-rabort01-b']);
      expect([...namespaces.keys()]).toEqual([]);
      expect(seen[0]).toMatch(/^run rabort01: \d+ checks; setting up/);
    } finally {
      await api.close();
    }
  });

  it('a signal aborted before the run starts stops it before any namespace exists', async () => {
    const calls: string[] = [];
    const api = await startFakeApiServer((req, res) => {
      calls.push(`${req.method} ${req.url}`);
      json(res, 200, { kind: 'NamespaceList', apiVersion: 'v1', metadata: {}, items: [] });
    });
    try {
      const run = runSuite(connect({ kubeconfig: '(fake)', images: DEFAULT_IMAGES }, api.kc), CATALOGUE.slice(0, 1), [], {
        phases: PHASES,
        signal: AbortSignal.abort('SIGTERM'),
      });
      await expect(run).rejects.toThrow(/^run interrupted \(SIGTERM\)$/);
      expect(calls.filter((c) => c.startsWith('POST'))).toEqual([]);
    } finally {
      await api.close();
    }
  });
});

describe('the run settings are read by the CLI from the environment and handed down', () => {
  it('KNC_EXEC_CONCURRENCY, KNC_POLICY_TIMEOUT_MS, KNC_VERBOSE; anything not a positive whole number keeps the default', () => {
    expect(runSettings({})).toEqual(DEFAULT_SETTINGS);
    expect(DEFAULT_SETTINGS).toEqual({ execConcurrency: 32, policyTimeoutMs: 20_000, verbose: false });
    expect(runSettings({ KNC_EXEC_CONCURRENCY: '4', KNC_POLICY_TIMEOUT_MS: '5000', KNC_VERBOSE: '1' })).toEqual({
      execConcurrency: 4,
      policyTimeoutMs: 5000,
      verbose: true,
    });
    expect(runSettings({ KNC_EXEC_CONCURRENCY: '0', KNC_POLICY_TIMEOUT_MS: 'soon' })).toEqual(DEFAULT_SETTINGS);
  });
});
