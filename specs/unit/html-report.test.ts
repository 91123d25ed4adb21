// The HTML report (src/report/html.ts) on a real results.json (fixtures/results-sample.json, a full
// cluster run): (a) pure checks of the markup against the JSON rows; (b) a render in Debian's
// headless Chromium, whose DOM must carry one coloured cell per JSON row.
// Chromium never touches the network: only file:// input, a report whose CSP forbids every fetch,
// flags that switch off every background service and map every host name to NOTFOUND, and,
// where the kernel lets us, a fresh empty network namespace (unshare -n).
import { describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { toHtml, type HtmlInput } from '../../src/report/html.js';
import type { DnsRow, ReachabilityRow } from '../../src/catalogue/matrices.js';
import { fixtureText } from './fixture-files.js';

const CHROMIUM = '/usr/bin/chromium';
/** Where the render test leaves its screenshot for a human to look at. */
const SCREENSHOT = path.join(os.tmpdir(), 'kube-netcheck-report.png');
const OK_BG = 'rgb(198, 239, 206)'; // --ok-bg #c6efce
const BAD_BG = 'rgb(255, 199, 206)'; // --bad-bg #ffc7ce

type Sample = HtmlInput & { matrices: { reachability: ReachabilityRow[]; dns: DnsRow[] } };
const sample = (): Sample => JSON.parse(fixtureText('results-sample.json')) as Sample;

const HOSTILE = `<script>alert("pwned")</script> & 'quotes'`;

/** The sample with some rows made to fail, so both colours and the failure rendering are exercised. */
function withFailures(): Sample {
  const f = sample();
  const { reachability: reach, dns } = f.matrices;
  reach[1] = { ...reach[1], outcome: 'timeout', ok: false, ms: 3004 };
  reach[reach.length - 1] = { ...reach[reach.length - 1], outcome: 'fail', ok: false, ms: 12 };
  const i = dns.findIndex((r) => r.expected === 'NXDOMAIN' && r.via === 'tcp');
  dns[i] = { ...dns[i], got: 'NOERROR 10.96.0.99', ok: false };
  dns[3] = { ...dns[3], got: '', ok: false };
  const j = f.results.findIndex((r) => r.status === 'passed');
  f.results[j] = {
    ...f.results[j],
    status: 'failed',
    durationMs: 3100,
    evidence: { error: `[pod-ip] from pod a to b: expected the nginx page, saw ${HOSTILE}`, events: ['Warning FailedCreatePodSandBox <x>'] },
  };
  f.summary = { ...f.summary, passed: f.summary.passed - 1, failed: f.summary.failed + 1 };
  return f;
}

const decode = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&nbsp;/g, '\u00a0')
    .replace(/&amp;/g, '&');

interface Cell {
  attrs: Record<string, string>;
  classes: string[];
  text: string;
}

/** Every grid cell (`<td data-grid=…>`) of an HTML text — ours, or the DOM Chromium serialised. */
function cells(html: string, grid: 'reachability' | 'dns'): Cell[] {
  const out: Cell[] = [];
  for (const m of html.matchAll(/<td((?:\s+[\w-]+(?:="[^"]*")?)*)\s*>([\s\S]*?)<\/td>/g)) {
    const attrs: Record<string, string> = {};
    for (const a of m[1].matchAll(/([\w-]+)(?:="([^"]*)")?/g)) attrs[a[1]] = decode(a[2] ?? '');
    if (attrs['data-grid'] !== grid) continue;
    out.push({
      attrs,
      classes: (attrs.class ?? '').split(/\s+/),
      text: decode(m[2].replace(/<[^>]*>/g, ' '))
        .replace(/\s+/g, ' ')
        .trim(),
    });
  }
  return out;
}

const reachKey = (r: ReachabilityRow) => JSON.stringify([r.from, r.to, r.toIP, r.outcome, String(r.ms), String(r.ok)]);
const reachCellKey = (c: Cell) => JSON.stringify(['data-from', 'data-to', 'data-to-ip', 'data-outcome', 'data-ms', 'data-ok'].map((k) => c.attrs[k]));
const dnsKey = (r: DnsRow) => JSON.stringify([r.fromNamespace, r.name, r.service, r.form, r.via, r.expected, r.got, String(r.ok)]);
const dnsCellKey = (c: Cell) =>
  JSON.stringify(['data-from', 'data-to', 'data-service', 'data-form', 'data-via', 'data-expected', 'data-got', 'data-ok'].map((k) => c.attrs[k]));
const sorted = (xs: string[]) => [...xs].sort();

/** Asserts the grids in `html` hold exactly one cell per JSON row, attributes and colour class matching. */
function expectGridsMatch(html: string, f: Sample) {
  const reach = cells(html, 'reachability');
  expect(reach).toHaveLength(f.matrices.reachability.length);
  expect(sorted(reach.map(reachCellKey))).toEqual(sorted(f.matrices.reachability.map(reachKey)));
  const dns = cells(html, 'dns');
  expect(dns).toHaveLength(f.matrices.dns.length);
  expect(sorted(dns.map(dnsCellKey))).toEqual(sorted(f.matrices.dns.map(dnsKey)));
  for (const c of [...reach, ...dns]) {
    expect(c.attrs['data-ok']).toMatch(/^(true|false)$/);
    expect(c.classes).toContain(c.attrs['data-ok'] === 'true' ? 'ok' : 'bad');
    expect(c.classes).not.toContain(c.attrs['data-ok'] === 'true' ? 'bad' : 'ok');
  }
  return { reach, dns };
}

describe('toHtml on a real results.json', () => {
  const f = sample();
  const html = toHtml(f);

  it('the fixture is a full run: both matrices have rows', () => {
    expect(f.matrices.reachability.length).toBeGreaterThan(0);
    expect(f.matrices.dns.length).toBeGreaterThan(0);
    expect(f.results.length).toBe(f.summary.total);
  });

  it('has one reachability cell and one DNS cell per matrix row, with data-ok = row.ok', () => {
    expectGridsMatch(html, f);
  });

  it('lays the reachability grid out as sources × nginx pods, and the DNS grid as name forms × transports', () => {
    const reachTable = html.match(/<table class="grid reachability"[\s\S]*?<\/table>/)![0];
    const froms = new Set(f.matrices.reachability.map((r) => r.from));
    const tos = new Set(f.matrices.reachability.map((r) => r.to));
    expect(reachTable.match(/<tbody>[\s\S]*<\/tbody>/)![0].match(/<tr>/g)).toHaveLength(froms.size);
    expect(reachTable.match(/<th data-col=/g)).toHaveLength(tos.size);
    for (const r of f.matrices.reachability) expect(reachTable).toContain(r.toIP);
    const dnsTable = html.match(/<table class="grid dns"[\s\S]*?<\/table>/)![0];
    const lines = new Set(f.matrices.dns.map((r) => `${r.fromNamespace} ${r.service} ${r.form}`));
    expect(dnsTable.match(/<tbody>[\s\S]*<\/tbody>/)![0].match(/<tr>/g)).toHaveLength(lines.size);
    expect([...dnsTable.matchAll(/<th data-col="([^"]+)"/g)].map((m) => m[1])).toEqual(['udp', 'tcp', 'libc']);
  });

  it('cell text is the outcome and ms (reachability) and what was resolved (DNS)', () => {
    const r = f.matrices.reachability[0];
    const cell = cells(html, 'reachability').find((c) => reachCellKey(c) === reachKey(r))!;
    expect(cell.text).toMatch(new RegExp(`^${r.outcome} · ${r.ms} ms`));
    for (const c of cells(html, 'dns')) {
      expect(c.text).toBe(c.attrs['data-got']);
      expect(c.attrs.title).toContain(`expected ${c.attrs['data-expected']}`);
    }
  });

  it('shows the run id, the counts and a row per check', () => {
    expect(html).toContain(`run ${f.runId}`);
    for (const k of ['passed', 'failed', 'skipped', 'total'] as const) {
      expect(html).toMatch(new RegExp(`data-count="${k}"><b>${f.summary[k]}</b>`));
    }
    expect(html.match(/<tr id="check-\d+"/g)).toHaveLength(f.results.length);
    for (const r of f.results) expect(html).toContain(`data-status="${r.status}"`);
  });

  it('is self-contained: no scripts, no external resources, a CSP that forbids fetching', () => {
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<object|<embed|\bsrc=|url\(|@import|https?:\/\//i);
    expect([...html.matchAll(/href="([^"]*)"/g)].every((m) => m[1].startsWith('#check-'))).toBe(true);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline';`);
  });

  it('paints failing rows red and the failed check with its error, escaped', () => {
    const bad = withFailures();
    const out = toHtml(bad);
    const { reach, dns } = expectGridsMatch(out, bad);
    expect(reach.filter((c) => c.classes.includes('bad'))).toHaveLength(2);
    expect(dns.filter((c) => c.classes.includes('bad'))).toHaveLength(2);
    // the red class is the one the stylesheet paints red
    expect(out).toMatch(/td\.cell\.bad\{background:var\(--bad-bg\)/);
    expect(out).toContain('--bad-bg:#ffc7ce');
    expect(out).toMatch(/<h1>kube-netcheck run \w+: 1 of \d+ checks failed<\/h1>/);
    expect(out).toContain(
      '<pre class="error">[pod-ip] from pod a to b: expected the nginx page, saw &lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;</pre>',
    );
    expect(out).toContain('Warning FailedCreatePodSandBox &lt;x&gt;');
    expect(out).not.toMatch(/<script/i);
  });

  it('escapes hostile names in attributes and text (they round-trip through data-*)', () => {
    const f2 = sample();
    f2.runId = HOSTILE;
    f2.matrices.reachability[0] = { ...f2.matrices.reachability[0], from: `pod x/"><script>1</script>`, to: `a'b&c` };
    f2.matrices.dns[0] = { ...f2.matrices.dns[0], got: HOSTILE, ok: false };
    const out = toHtml(f2);
    expect(out).not.toMatch(/<script/i);
    expectGridsMatch(out, f2);
  });

  it('says so when a run recorded no matrix rows (and no checks)', () => {
    const out = toHtml({ ...f, results: [], summary: { total: 0, passed: 0, failed: 0, skipped: 0 }, matrices: undefined, execs: undefined });
    expect(out).toContain('No reachability rows were recorded in this run.');
    expect(out).toContain('No DNS name-form rows were recorded in this run.');
    expect(out).toContain('No checks were recorded.');
    expect(out).toContain('no checks ran');
  });
});

/** A prefix that runs a command in a new, empty network namespace, when this kernel/user allows it. */
async function netless(): Promise<string[]> {
  for (const prefix of [
    ['unshare', '-n'],
    ['unshare', '-rn'],
  ]) {
    const r = await execa(prefix[0], [...prefix.slice(1), 'true'], { reject: false, timeout: 5_000 });
    if (r.exitCode === 0) return prefix;
  }
  return [];
}

async function chromium(prefix: string[], args: string[]) {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'knc-chromium-'));
  const argv = [
    ...prefix,
    CHROMIUM,
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    // Debian's launcher loads its bundled extensions (whose update checks resolve Google hosts):
    // no extensions, and no host name resolves at all
    '--disable-extensions',
    '--disable-default-apps',
    '--no-pings',
    '--disable-domain-reliability',
    '--disable-client-side-phishing-detection',
    '--no-proxy-server',
    '--host-resolver-rules=MAP * ~NOTFOUND',
    `--user-data-dir=${profile}`,
    ...args,
  ];
  try {
    const r = await execa(argv[0], argv.slice(1), { reject: false, timeout: 40_000, stdin: 'ignore', maxBuffer: 64 * 1024 * 1024 });
    if (r.exitCode !== 0 || r.timedOut) {
      throw new Error(
        `chromium ${args.join(' ')} failed (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''}):\n${String(r.stderr).split('\n').slice(-15).join('\n')}`,
      );
    }
    return r;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

describe('the report rendered by headless Chromium', () => {
  it('every grid cell in the rendered DOM matches its JSON row and is painted green or red', async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: run \`bash scripts/install-chromium.sh\` (or \`make setup\`) to install Debian's chromium, which this render test needs`,
      );
    }
    const f = withFailures();
    const html = toHtml(f);
    // The DOM dump carries no computed styles: a test-only script, allowed by its hash in the
    // CSP, writes each cell's computed background into data-bg. The report itself has no script.
    const probe = `for (const td of document.querySelectorAll('td[data-grid]')) td.dataset.bg = getComputedStyle(td).backgroundColor;`;
    const hash = createHash('sha256').update(probe).digest('base64');
    const instrumented = html
      .replace(`default-src 'none';`, `default-src 'none'; script-src 'sha256-${hash}';`)
      .replace('</body>', `<script>${probe}</script>\n</body>`);
    expect(instrumented).not.toBe(html);

    const dir = mkdtempSync(path.join(os.tmpdir(), 'knc-html-'));
    try {
      writeFileSync(path.join(dir, 'report.html'), html);
      writeFileSync(path.join(dir, 'instrumented.html'), instrumented);
      const prefix = await netless();
      const png = path.join(dir, 'report.png');
      const [dump] = await Promise.all([
        chromium(prefix, ['--dump-dom', pathToFileURL(path.join(dir, 'instrumented.html')).href]),
        chromium(prefix, [`--screenshot=${png}`, '--window-size=1400,2000', pathToFileURL(path.join(dir, 'report.html')).href]),
      ]);
      const dom = String(dump.stdout);

      const { reach, dns } = expectGridsMatch(dom, f);
      for (const c of [...reach, ...dns]) {
        expect({ cell: `${c.attrs['data-from']} → ${c.attrs['data-to']} ${c.attrs['data-via'] ?? ''}`, bg: c.attrs['data-bg'] }).toEqual({
          cell: `${c.attrs['data-from']} → ${c.attrs['data-to']} ${c.attrs['data-via'] ?? ''}`,
          bg: c.attrs['data-ok'] === 'true' ? OK_BG : BAD_BG,
        });
      }
      // the error text stayed text: the only script element is the test's own probe
      expect(dom.match(/<script/g)).toHaveLength(1);
      expect(dom).toContain('saw &lt;script&gt;alert("pwned")&lt;/script&gt; &amp;');

      const shot = readFileSync(png);
      expect(shot.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      expect(shot.readUInt32BE(16)).toBe(1400); // IHDR width
      expect(statSync(png).size).toBeGreaterThan(20_000);
      copyFileSync(png, SCREENSHOT);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
