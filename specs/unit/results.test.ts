import { describe, it, expect } from '@jest/globals';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ResultsCollector, defaultReportPath, type CheckResult } from '../../src/report/results.js';

const ok: CheckResult = { check: 'pod-to-pod', tags: ['pod-ip'], from: 'ns/a', to: '10.244.1.5', status: 'passed', durationMs: 12 };

describe('ResultsCollector', () => {
  it('defaults to reports/results.json and honours KNC_REPORT_DIR', () => {
    expect(defaultReportPath({})).toBe(path.join('reports', 'results.json'));
    expect(defaultReportPath({ KNC_REPORT_DIR: '/tmp/x' })).toBe('/tmp/x/results.json');
  });

  it('writes every record plus a summary, creating the directory', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'knc-'));
    try {
      const c = new ResultsCollector('rtest123');
      c.record(ok);
      c.record({ ...ok, check: 'dns-short', status: 'failed', evidence: { stdout: 'NXDOMAIN' } });
      c.record({ ...ok, check: 'ipv6', status: 'skipped', durationMs: 0 });
      const file = await c.write(path.join(dir, 'nested', 'results.json'));
      const json = JSON.parse(await readFile(file, 'utf8'));
      expect(json.runId).toBe('rtest123');
      expect(json.summary).toEqual({ total: 3, passed: 1, failed: 1, skipped: 1 });
      expect(json.results.map((r: CheckResult) => r.check)).toEqual(['pod-to-pod', 'dns-short', 'ipv6']);
      expect(json.results[1].evidence).toEqual({ stdout: 'NXDOMAIN' });
      expect(Date.parse(json.writtenAt)).not.toBeNaN();
      expect(await readdir(path.dirname(file))).toEqual(['results.json']); // no temp file left
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects malformed records', () => {
    const c = new ResultsCollector();
    expect(() => c.record({ ...ok, check: '' })).toThrow(/check/);
    expect(() => c.record({ ...ok, status: 'ok' as never })).toThrow(/invalid status "ok"/);
    expect(() => c.record({ ...ok, durationMs: -1 })).toThrow(/durationMs/);
    expect(() => c.record({ ...ok, durationMs: NaN })).toThrow(/durationMs/);
    expect(c.all()).toHaveLength(0);
  });

  it('snapshots records so later mutation does not leak in', () => {
    const c = new ResultsCollector();
    const r = { ...ok, tags: ['a'] };
    c.record(r);
    r.tags.push('b');
    expect(c.toJSON().results[0]?.tags).toEqual(['a']);
    expect(c.toJSON()).not.toHaveProperty('runId');
  });
});
