import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeDiagnostics } from '../../src/report/diagnostics.js';
import type { CheckResult } from '../../src/report/results.js';

const failed: CheckResult = {
  check: 'name-form matrix over UDP (dig +search)',
  tags: ['dns'],
  from: 'both namespaces',
  to: 'my-nginx',
  status: 'failed',
  durationMs: 42,
  evidence: {
    error: '[dns-name-form] from a pod in a (dig udp) to my-nginx: expected A 10.96.0.5, saw NXDOMAIN\n  probe: dig +time=2 my-nginx A',
    events: { 'knc-a': 'Warning Pod/x BackOff: back-off' },
    corednsLogs: { 'coredns-1': '[INFO] plugin/reload: Running configuration' },
  },
};
const passed: CheckResult = { ...failed, check: 'ok one', status: 'passed', evidence: ['fine'] };

describe('writeDiagnostics', () => {
  it('writes one file per failed check with the probe and all evidence, and links it from the row', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'knc-diag-'));
    const rows = writeDiagnostics(dir, [passed, failed]);
    expect(rows[0]).toBe(passed);
    const file = (rows[1].evidence as { diagnosticsFile: string }).diagnosticsFile;
    expect(file).toBe('diagnostics/02-name-form-matrix-over-udp-dig-search.txt');
    expect(readdirSync(path.join(dir, 'diagnostics'))).toEqual(['02-name-form-matrix-over-udp-dig-search.txt']);
    const text = readFileSync(path.join(dir, file), 'utf8');
    expect(text).toContain('probe: dig +time=2 my-nginx A');
    expect(text).toMatch(/== events\n {2}== knc-a\n {4}Warning Pod\/x BackOff/);
    expect(text).toMatch(/== corednsLogs\n {2}== coredns-1\n {4}\[INFO\] plugin\/reload/);
  });
});
