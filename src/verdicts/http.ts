// Verdicts on HTTP probes: did the request get the expected outcome (ok, fail, timeout), the
// expected body, and did the server see the client's own address.
import type { ProbeOutput } from '../probes/batch.js';
import { isNginxWelcome, parseWhoAmI } from '../probes/http.js';
import { CheckFailure } from './failure.js';
import { sameIp } from '../util/cidr.js';

export type HttpOutcome = 'ok' | 'fail' | 'timeout';

export function httpOutcome(o: ProbeOutput): HttpOutcome {
  if (o.exitCode === 0) return 'ok';
  if (o.exitCode === 137 || o.exitCode === 124 || /timed out/i.test(o.output)) return 'timeout';
  return 'fail';
}

const brief = (o: ProbeOutput) => `${httpOutcome(o)} (exit ${o.exitCode} after ${o.durationMs}ms: ${JSON.stringify(o.output.trim().slice(0, 160))})`;

/** What an answered page must be: the nginx welcome page unless a caller asks for less. */
export interface PageExpectation {
  /** As the failure says it: "expected <what>". */
  what: string;
  test: (body: string) => boolean;
}
export const NGINX_PAGE: PageExpectation = { what: 'the nginx welcome page', test: isNginxWelcome };
/** Any successful HTTP answer (wget exits 0: a 2xx after redirects), whatever the body. */
export const ANY_PAGE: PageExpectation = { what: 'an HTTP answer', test: () => true };

/** The nginx welcome page (or `page`), or the given outcome when expect is fail/timeout. */
export function verifyPage(
  check: string,
  from: string,
  to: string,
  o: ProbeOutput,
  expect: HttpOutcome = 'ok',
  page: PageExpectation = NGINX_PAGE,
): CheckFailure | undefined {
  const got = httpOutcome(o);
  const okBody = got !== 'ok' || page.test(o.output);
  if (got === expect && okBody) return undefined;
  return new CheckFailure({ check, from, to, expected: expect === 'ok' ? page.what : `outcome ${expect}`, seen: brief(o), command: o.command });
}

/**
 * /whoami answered and nginx saw `clientIP` as $remote_addr (no NAT on the way); the same address in
 * any spelling (an IPv6 address compressed or not, an IPv4 client as ::ffff:a.b.c.d on a [::] socket).
 */
export function verifyNoNat(check: string, from: string, to: string, clientIP: string, o: ProbeOutput): CheckFailure | undefined {
  const w = parseWhoAmI(o.output);
  if (httpOutcome(o) === 'ok' && w && sameIp(w.client, clientIP)) return undefined;
  return new CheckFailure({
    check,
    from,
    to,
    expected: `the server to see client address ${clientIP}`,
    seen: w ? `client=${w.client} server=${w.server}` : brief(o),
    command: o.command,
  });
}

/** /whoami answered and the server that answered is `pod` itself (not "an nginx page" from anyone). */
export function verifyServedBy(check: string, from: string, to: string, pod: string, o: ProbeOutput): CheckFailure | undefined {
  const w = parseWhoAmI(o.output);
  if (httpOutcome(o) === 'ok' && w?.server === pod) return undefined;
  // the right server with a failed exit (the body came, then wget failed or was killed) says how it ended
  const seen = !w ? brief(o) : httpOutcome(o) === 'ok' ? `server=${w.server}` : `server=${w.server}, but ${brief(o)}`;
  return new CheckFailure({ check, from, to, expected: `an answer from pod ${pod}`, seen, command: o.command });
}
