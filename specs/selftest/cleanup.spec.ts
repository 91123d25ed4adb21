// Cleanup on SIGINT: a second run of the suite against the same cluster is interrupted once its
// namespaces exist; afterwards nothing carrying that run's label may remain.
import { describe, expect } from '@jest/globals';
import { execa } from 'execa';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeKube } from '../../src/kube/client.js';
import { loadRunState } from '../../src/session/run.js';
import { runSelector } from '../../src/util/labels.js';
import { pollUntil } from '../../src/util/poll.js';
import { check } from '../../src/checks/check.js';
import { JEST_NODE_OPTIONS } from '../../src/util/jest-env.js';

describe('cleanup', () => {
  check('SIGINT during a run deletes every namespace that run created', { tags: ['cleanup'], from: 'a second run', to: 'its labelled namespaces' }, async () => {
    const s = loadRunState();
    const kube = makeKube({ kubeconfig: s.kubeconfig });
    const reportDir = mkdtempSync(path.join(tmpdir(), 'knc-sigint-'));
    const child = execa('node', ['node_modules/jest/bin/jest.js', '--selectProjects', 'cluster', '--runInBand', 'specs/cluster/cluster.spec.ts'], {
      env: { KNC_KUBECONFIG: s.kubeconfig, KNC_NGINX_IMAGE: s.images.nginx, KNC_PROBE_IMAGE: s.images.probe, KNC_REPORT_DIR: reportDir, NODE_OPTIONS: JEST_NODE_OPTIONS },
      reject: false,
      all: true,
    });
    // the child's run id appears in its state file once its namespaces are ready
    const runId = await pollUntil({
      what: 'the interrupted run to write its run state',
      timeoutMs: 60_000,
      intervalMs: 100,
      probe: async () => JSON.parse(readFileSync(path.join(reportDir, 'run-state.json'), 'utf8')).runId as string,
      done: (id) => !!id,
    });
    const before = (await kube.core.listNamespace({ labelSelector: runSelector(runId) })).items.map((n) => n.metadata!.name);
    expect(before).toHaveLength(2);
    child.kill('SIGINT');
    const res = await child;
    const left = await pollUntil({
      what: `namespaces labelled ${runSelector(runId)} to be gone`,
      timeoutMs: 60_000,
      intervalMs: 250,
      probe: async () => (await kube.core.listNamespace({ labelSelector: runSelector(runId) })).items.map((n) => `${n.metadata!.name}:${n.status!.phase}`),
      done: (l) => l.length === 0,
    });
    expect(res.exitCode).toBe(130);
    return { runId, created: before, left, exitCode: res.exitCode, output: (res.all ?? '').split('\n').filter((l) => /SIGINT|deleting/.test(l)) };
  }, 150_000);
});
