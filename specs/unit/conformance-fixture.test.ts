// Reads upstream JUnit captured from real e2e.test runs on the offline kind cluster (see
// specs/unit/fixtures/conformance-README.md for what ran).
import { describe, it, expect } from '@jest/globals';
import { mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseJunit } from '../../src/conformance/e2e-junit.js';
import { readConformanceJunit, readSelected } from '../../src/conformance/e2e.js';
import { fixtureText } from './fixture-files.js';

const healthy = fixtureText('conformance-healthy-junit.xml');
const selected = new Set(fixtureText('conformance-healthy-selected.txt').split('\n').filter(Boolean));

describe('upstream JUnit of the full 45 on a healthy cluster', () => {
  it('with the selection: exactly the 45 sig-network conformance tests, all passed', () => {
    const tests = parseJunit(healthy, { only: selected });
    expect(selected.size).toBe(45);
    expect(tests).toHaveLength(45);
    expect(new Set(tests.map((t) => t.name))).toEqual(selected);
    expect(tests.every((t) => t.status === 'passed' && t.message === undefined)).toBe(true);
    expect(tests.every((t) => /^\[sig-network\] .*\[Conformance\]$/.test(t.name))).toBe(true);
  });

  it('durations in ms from the time attribute (seconds)', () => {
    const byName = new Map(parseJunit(healthy, { only: selected }).map((t) => [t.name, t]));
    expect(byName.get('[sig-network] DNS should provide DNS for services [Conformance]')?.durationMs).toBe(7163);
    const total = [...byName.values()].reduce((s, t) => s + t.durationMs, 0);
    expect(total).toBeGreaterThan(400_000); // the 45 took 7 min 39 s of wall time on 2 busy cores
    expect(total).toBeLessThan(460_000);
  });

  it('without the selection: unselected specs (bare "skipped") and passing suite nodes are dropped', () => {
    const tests = parseJunit(healthy);
    expect(tests).toHaveLength(45);
    expect(tests.some((t) => t.name.startsWith('[SynchronizedBeforeSuite]') || t.name.startsWith('[ReportAfterSuite]'))).toBe(false);
  });

  it('a failed suite node is reported (no test could run)', () => {
    const broken = healthy.replace(
      '<testcase name="[SynchronizedBeforeSuite]" classname="Kubernetes e2e suite" status="passed"',
      '<testcase name="[SynchronizedBeforeSuite]" classname="Kubernetes e2e suite" status="failed"',
    );
    expect(broken).not.toBe(healthy);
    const failed = parseJunit(broken).filter((t) => t.status === 'failed');
    expect(failed.map((t) => t.name)).toEqual(['[SynchronizedBeforeSuite]']);
  });

  it('readConformanceJunit narrows to selected.txt next to the report', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'knc-conf-'));
    try {
      copyFileSync(new URL('./fixtures/conformance-healthy-junit.xml', import.meta.url), path.join(dir, 'junit_01.xml'));
      expect(readSelected(dir)).toBeUndefined();
      copyFileSync(new URL('./fixtures/conformance-healthy-selected.txt', import.meta.url), path.join(dir, 'selected.txt'));
      expect(readSelected(dir)?.size).toBe(45);
      expect(readConformanceJunit(path.join(dir, 'junit_01.xml'))).toHaveLength(45);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('upstream JUnit of 8 tests, each in its own process, under a cross-node drop', () => {
  const tests = parseJunit(fixtureText('conformance-drop-junit.xml'));

  it('2 passed, 6 failed: every failure is the 90 s budget running out', () => {
    expect(tests).toHaveLength(8);
    expect(
      tests
        .filter((t) => t.status === 'passed')
        .map((t) => t.name)
        .sort(),
    ).toEqual([
      '[sig-network] EndpointSlice should create Endpoints and EndpointSlices for Pods matching a Service [Conformance]',
      '[sig-network] Networking Granular Checks: Pods should function for node-pod communication: http [LinuxOnly] [NodeConformance] [Conformance]',
    ]);
    const failed = tests.filter((t) => t.status === 'failed');
    expect(failed).toHaveLength(6);
    for (const t of failed) expect(t.message).toMatch(/^\[TIMEDOUT\] A suite timeout occurred \(at step ".+", \d+m?[\d.]+s in\)$/);
  });

  it('the step names where each test was stuck', () => {
    const byName = new Map(tests.map((t) => [t.name, t.message]));
    expect(byName.get('[sig-network] Services should serve a basic endpoint from pods [Conformance]')).toContain(
      'at step "Checking if the Service forwards traffic to pod1"',
    );
    expect(byName.get('[sig-network] DNS should provide DNS for services [Conformance]')).toContain(
      'at step "looking for the results for each expected name from probers"',
    );
  });
});
