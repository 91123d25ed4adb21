// The strict verdict on records the run's own pods create (a headless Service's A and SRV
// records): every DNS server pod served them within the bounded wait (reported: asks and time),
// then every answer of the hold — each server pod and the Service, several rounds — is exactly
// right. One server pod with no records fails, whatever the others answer.
import { records, type DnsHoldBlock } from '../probes/dns.js';
import { CheckFailure } from './failure.js';

export interface HoldWant {
  type: 'A' | 'AAAA' | 'SRV' | 'PTR';
  /** How many records. */
  n: number;
  /** The exact records wanted (A: addresses), or a test each record must pass (SRV). */
  exact?: string[];
  test?: (record: string) => boolean;
  /** The records as the failure says it: "expected NOERROR with <what>". */
  what: string;
}

const recordsOk = (b: DnsHoldBlock, w: HoldWant) => {
  const r = records(b.dig, w.type);
  if (b.dig.status !== 'NOERROR' || r.length !== w.n) return false;
  if (w.exact) return [...r].sort().join() === [...w.exact].sort().join();
  return !w.test || r.every(w.test);
};
const seenOf = (b: DnsHoldBlock, w: HoldWant) =>
  `${b.dig.status} with ${records(b.dig, w.type).length} ${w.type} [${records(b.dig, w.type).join('; ')}]${b.dig.server && b.dig.server !== b.server ? ` from ${b.dig.server}` : ''}`;

export interface HoldEvidence {
  waited: Array<{ server: string; asks: number; ms: number }>;
  hold: string;
}

/**
 * `blocks` (parseDnsHold) of a probe asking `servers` (the DNS pods, by IP) and `via` (the Service)
 * for `name` over `rounds` rounds. Returns the failures (none: the evidence holds).
 */
export function dnsHoldVerdict(
  check: string,
  from: string,
  name: string,
  blocks: DnsHoldBlock[],
  servers: string[],
  via: string[],
  rounds: number,
  w: HoldWant,
  command?: string,
): { failures: CheckFailure[]; evidence: HoldEvidence } {
  const failures: CheckFailure[] = [];
  const fail = (to: string, expected: string, seen: string) => failures.push(new CheckFailure({ check, from, to, expected, seen, command }));
  if (!servers.length) fail(name, 'the cluster DNS server pods to ask (Ready pods the DNS Service selects)', 'none found at setup');
  const waited: HoldEvidence['waited'] = [];
  for (const s of servers) {
    const b = blocks.find((x) => x.step === 'wait' && x.server === s);
    if (!b) fail(`${name} @${s}`, `the server pod asked until it serves ${w.n} ${w.type} records`, 'no answer in the probe output');
    else if (!recordsOk(b, w))
      fail(
        `${name} @${s}`,
        `NOERROR with ${w.what} within the wait (the server serving the EndpointSlice)`,
        `${seenOf(b, w)} after ${b.n} asks, ${b.ms ?? '?'}ms`,
      );
    else waited.push({ server: s, asks: b.n, ms: b.ms ?? 0 });
  }
  const want = rounds * (servers.length + via.length);
  const hold = blocks.filter((x) => x.step === 'hold');
  const bad = hold.filter((b) => !recordsOk(b, w) || (b.dig.server !== undefined && b.dig.server !== b.server));
  if (hold.length !== want || bad.length) {
    fail(
      `${name} @${[...servers, ...via].join(', @')}`,
      `every one of the ${want} answers of the hold (${rounds} rounds) NOERROR with ${w.what}`,
      `${hold.length - bad.length} of ${want} right${
        bad.length
          ? `; wrong: ${bad
              .slice(0, 4)
              .map((b) => `@${b.server} round ${b.n}: ${seenOf(b, w)}`)
              .join('; ')}${bad.length > 4 ? '; …' : ''}`
          : ''
      }`,
    );
  }
  return { failures, evidence: { waited, hold: `${hold.length - bad.length} of ${want} answers right` } };
}
