import { describe, it, expect } from '@jest/globals';
import path from 'node:path';
import { conformanceCommand, conformanceCluster, summaryLines } from '../../src/cli/conformance.js';
import { UsageError, type Io } from '../../src/cli/io.js';
import { runShArgs, setupFailureLine } from '../../src/conformance/e2e.js';

const silent: Io = { out: () => undefined, err: () => undefined };

describe('conformance: which cluster', () => {
  it('--kubeconfig wins, then KNC_KUBECONFIG, then the kind cluster of KNC_CLUSTER under KNC_CACHE', () => {
    expect(conformanceCluster({ kubeconfig: 'k.yaml' }, { KNC_KUBECONFIG: '/x' }).kubeconfig).toBe(path.resolve('k.yaml'));
    expect(conformanceCluster({}, { KNC_KUBECONFIG: '/x/kc' }).kubeconfig).toBe('/x/kc');
    expect(conformanceCluster({}, { KNC_CACHE: '/c', KNC_CLUSTER: 'knc-conf' }).kubeconfig).toBe('/c/kubeconfig-knc-conf');
    expect(conformanceCluster({}, {}).kubeconfig).toBe('/var/cache/kube-netcheck/kubeconfig-kube-netcheck');
    expect(conformanceCluster({ context: 'c' }, { KUBECONFIG: `/a${path.delimiter}/b` }).kubeconfig).toBe('/a');
    // KNC_CONTEXT goes with KNC_KUBECONFIG to run.sh (it used to reach only makeKube, not the e2e run)
    expect(conformanceCluster({}, { KNC_KUBECONFIG: '/x/kc', KNC_CONTEXT: 'kind-b' })).toEqual({ kubeconfig: '/x/kc', context: 'kind-b' });
  });
});

describe('conformance: run.sh arguments', () => {
  it('passes only what was given, with absolute paths', () => {
    expect(runShArgs({ kubeconfig: 'kc', reportDir: 'r' })).toEqual(['--kubeconfig', path.resolve('kc'), '--report-dir', path.resolve('r')]);
    expect(
      runShArgs({ kubeconfig: '/kc', reportDir: '/r', context: 'ctx', focus: 'DNS', skip: 'Proxy', specTimeout: '90s', timeout: '20m', isolate: true }),
    ).toEqual([
      '--kubeconfig',
      '/kc',
      '--report-dir',
      '/r',
      '--context',
      'ctx',
      '--focus',
      'DNS',
      '--skip',
      'Proxy',
      '--spec-timeout',
      '90s',
      '--timeout',
      '20m',
      '--isolate',
    ]);
  });
});

describe('conformance: the one-line setup failure', () => {
  it("is run.sh's last 'kube-netcheck:' line without the prefix", () => {
    const stderr = ['[12:00:00] note: something', 'kube-netcheck: the cluster runs Kubernetes v1.33.1 but e2e.test was built for v1.34.4: rebuild it', ''].join(
      '\n',
    );
    expect(setupFailureLine(stderr, 2)).toBe('the cluster runs Kubernetes v1.33.1 but e2e.test was built for v1.34.4: rebuild it');
  });
  it('names the exit code and the last line when run.sh died without saying why', () => {
    expect(setupFailureLine('bash: line 3: boom\n', 127)).toBe('scripts/conformance/run.sh exited 127: bash: line 3: boom');
    expect(setupFailureLine('', undefined)).toBe('scripts/conformance/run.sh exited on a signal');
  });
});

describe('conformance: usage errors before anything runs', () => {
  it('rejects an empty regex and a malformed duration', async () => {
    await expect(conformanceCommand({ focus: '  ' }, silent, '/nonexistent')).rejects.toThrow(UsageError);
    await expect(conformanceCommand({ specTimeout: '5 minutes' }, silent, '/nonexistent')).rejects.toThrow(/not a duration/);
    await expect(conformanceCommand({ timeout: '1 hour' }, silent, '/nonexistent')).rejects.toThrow(/--timeout '1 hour'/);
  });
});

describe('conformance: summary lines', () => {
  it('one line per test, the failure reason inline, then the counts', () => {
    const lines = summaryLines({
      junitPath: '/r/junit_01.xml',
      wallMs: 61_500,
      tests: [
        { name: '[sig-network] A [Conformance]', status: 'passed', durationMs: 1500 },
        { name: '[sig-network] B [Conformance]', status: 'failed', durationMs: 60_000, message: '[FAILED] timed out' },
        { name: '[sig-network] C [Conformance]', status: 'skipped', durationMs: 0 },
      ],
    });
    expect(lines).toEqual([
      'PASS [sig-network] A [Conformance] (1.5s)',
      'FAIL [sig-network] B [Conformance] (60.0s): [FAILED] timed out',
      'SKIP [sig-network] C [Conformance] (0.0s)',
      'upstream conformance: 1 passed, 1 failed, 1 skipped of 3 in 61.5s; JUnit /r/junit_01.xml',
    ]);
  });
});
