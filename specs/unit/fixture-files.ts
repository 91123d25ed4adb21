// Loads the parser fixtures in specs/unit/fixtures/: exact stdout captured with `kubectl exec`
// in the live kind cluster, plus a sidecar .json with the argv, exit code and stderr
// (see specs/unit/fixtures/README.md for what was running when they were captured).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Probe, ProbeOutput } from '../../src/probes/batch.js';

const dir = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** A fixture file's text, byte for byte. */
export function fixtureText(file: string): string {
  return readFileSync(dir + file, 'utf8');
}

export interface Captured {
  /** Exact stdout of the command. */
  stdout: string;
  exitCode: number;
  argv: string[];
  pod: string;
  /** stderr as kubectl returned it (includes kubectl's "command terminated with exit code N"). */
  stderr: string;
}

/** A single captured command: NAME.txt (stdout) + NAME.json (sidecar). */
export function captured(name: string): Captured {
  const meta = JSON.parse(fixtureText(`${name}.json`)) as Omit<Captured, 'stdout'>;
  return { ...meta, stdout: fixtureText(`${name}.txt`) };
}

/** A captured command as a ProbeOutput, the shape the checks consume. */
export function asProbeOutput(name: string, id = name, durationMs = 0): ProbeOutput {
  const c = captured(name);
  return { id, exitCode: c.exitCode, output: c.stdout, durationMs, command: c.argv.join(' ') };
}

export interface CapturedFanout {
  probes: Probe[];
  /** The script that was run (`sh -c "$script"`). */
  script: string;
  /** The framed stdout of that exec. */
  stdout: string;
  exitCode: number;
}

/** A captured fan-out: fanout-<pod>.{probes.json,script.sh,stdout.txt,json}. */
export function capturedFanout(pod: 'probe' | 'node-view'): CapturedFanout {
  const meta = JSON.parse(fixtureText(`fanout-${pod}.json`)) as { exitCode: number };
  return {
    probes: JSON.parse(fixtureText(`fanout-${pod}.probes.json`)) as Probe[],
    script: fixtureText(`fanout-${pod}.script.sh`),
    stdout: fixtureText(`fanout-${pod}.stdout.txt`),
    exitCode: meta.exitCode,
  };
}

/** Addresses and names that were live when the fixtures were captured. */
export const CAPTURE = {
  namespace: 'knc-fixtures',
  domain: 'cluster.local',
  dnsIP: '10.96.0.10',
  webClusterIP: '10.96.50.233',
  webPodIP: '10.244.1.23',
  whoamiPodIP: '10.244.2.21',
  probePodIP: '10.244.1.22',
  /** hostNetwork node-view pod's node (kube-netcheck-worker). */
  nodeIP: '172.18.0.2',
  nodeCni0IP: '10.244.2.1',
  nodeGatewayIP: '172.18.0.1',
  /** Unused address in kube-netcheck-worker's pod CIDR 10.244.2.0/24. */
  unheldIP: '10.244.2.250',
  podCidr: '10.244.0.0/16',
  serviceCidr: '10.96.0.0/16',
} as const;
