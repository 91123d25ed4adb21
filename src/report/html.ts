// A self-contained HTML report: counts, the node/pod × nginx-pod reachability grid, the DNS
// name-form grid and every check. Inline CSS only; no scripts, fonts, images or URLs, and a CSP
// that forbids loading anything, so opening it never touches the network.
// Every grid cell carries data-* attributes (data-from, data-to, data-ok, …) mirroring its JSON row.
import type { DatapathRow, DnsRow, ReachabilityRow } from '../catalogue/matrices.js';
import { conformanceOf, errorOf, UPSTREAM_SECTIONS, type CheckResult, type ResultsFile } from './results.js';

export interface HtmlMatrices {
  reachability?: readonly ReachabilityRow[];
  dns?: readonly DnsRow[];
  datapath?: readonly DatapathRow[];
}

export type HtmlInput = ResultsFile & { matrices?: HtmlMatrices };

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export const escapeHtml = (s: unknown): string =>
  String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    // control characters other than tab/newline would render as garbage
    // eslint-disable-next-line no-control-regex -- these control characters are what is replaced
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '?');

const e = escapeHtml;

/** ` name="value"` pairs, values escaped; undefined values are left out. */
const attrs = (a: Record<string, string | number | boolean | undefined>) =>
  Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${e(v)}"`)
    .join('');

/** Distinct values in first-seen order. */
const distinct = <T>(xs: Iterable<T>): T[] => [...new Set(xs)];

/**
 * Places rows in a grid: one line per row key (plus extra lines, "#2", "#3", when the same
 * key × column occurs more than once), so every JSON row gets exactly one cell.
 */
function place<R>(rows: readonly R[], rowKey: (r: R) => string, colKey: (r: R) => string) {
  const lines = new Map<string, Map<string, R>[]>();
  for (const r of rows) {
    const k = rowKey(r);
    const ls = lines.get(k) ?? [];
    lines.set(k, ls);
    let line = ls.find((l) => !l.has(colKey(r)));
    if (!line) ls.push((line = new Map()));
    line.set(colKey(r), r);
  }
  return lines;
}

const CSS = `
:root{--ok-bg:#c6efce;--ok-fg:#0b5d1e;--bad-bg:#ffc7ce;--bad-fg:#9c0006;--skip-bg:#eceff3;--skip-fg:#4b5563;--line:#d0d7de;--muted:#57606a}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px 48px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:32px 0 6px;padding-bottom:4px;border-bottom:1px solid var(--line)}
p.note{margin:0 0 10px;color:var(--muted);font-size:13px}
code,pre,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px}
header{padding:16px 20px;border-radius:8px;border:1px solid var(--line);border-left:8px solid var(--ok-fg);background:#f6f8fa}
header.failed{border-left-color:var(--bad-fg)}
header .meta{color:var(--muted);font-size:13px}
.counts{display:flex;gap:10px;margin-top:12px;flex-wrap:wrap}
.count{padding:6px 14px;border-radius:6px;font-weight:600;border:1px solid var(--line);background:#fff}
.count b{font-size:20px;margin-right:6px}
.count.passed{background:var(--ok-bg);color:var(--ok-fg)}
.count.failed{background:var(--bad-bg);color:var(--bad-fg)}
.count.skipped{background:var(--skip-bg);color:var(--skip-fg)}
.count.zero{background:#fff;color:var(--muted)}
table{border-collapse:collapse}
th,td{border:1px solid var(--line);padding:5px 8px;vertical-align:top;text-align:left}
thead th{background:#f6f8fa;font-weight:600}
table.grid td.cell{text-align:center;vertical-align:middle;min-width:120px;font-weight:600;white-space:nowrap}
td.cell.ok{background:var(--ok-bg);color:var(--ok-fg)}
td.cell.bad{background:var(--bad-bg);color:var(--bad-fg)}
td.cell.none{background:#fff;color:#afb8c1;font-weight:400}
td.cell .sub{display:block;font-weight:400;font-size:11px;opacity:.85}
td.cell.same{box-shadow:inset 0 0 0 2px rgba(11,93,30,.35)}
td.cell.bad.same{box-shadow:inset 0 0 0 2px rgba(156,0,6,.35)}
th .sub,td .sub{display:block;font-weight:400;color:var(--muted);font-size:12px}
.kind{display:inline-block;min-width:36px;text-align:center;padding:0 5px;margin-right:6px;border-radius:4px;font-size:11px;font-weight:600;background:#ddf4ff;color:#0969da}
.kind.node{background:#fbefff;color:#8250df}
th.group{background:#f6f8fa;font-weight:600}
.legend{display:flex;gap:14px;font-size:12px;color:var(--muted);margin:6px 0 10px;flex-wrap:wrap}
.legend span.sw{display:inline-block;width:14px;height:14px;border-radius:3px;vertical-align:-3px;margin-right:4px;border:1px solid var(--line)}
table.checks{width:100%}
table.checks td.status{white-space:nowrap;font-weight:600;text-align:center;width:80px}
tr.passed td.status{background:var(--ok-bg);color:var(--ok-fg)}
tr.failed td.status{background:var(--bad-bg);color:var(--bad-fg)}
tr.skipped td.status{background:var(--skip-bg);color:var(--skip-fg)}
tr.failed td{border-color:#f4a5ad}
td.ms{text-align:right;white-space:nowrap}
.tag{display:inline-block;margin:2px 4px 0 0;padding:0 6px;border-radius:10px;background:#eaeef2;color:var(--muted);font-size:11px}
pre.error{margin:6px 0 0;padding:8px 10px;background:#fff5f5;border:1px solid #f4a5ad;border-radius:6px;white-space:pre-wrap;word-break:break-word;color:#6e0006}
details{margin-top:6px}
details pre{margin:4px 0 0;padding:8px;background:#f6f8fa;border-radius:6px;white-space:pre-wrap;word-break:break-word;max-height:480px;overflow:auto}
ul.failures{margin:8px 0 0;padding-left:20px}
ul.failures a{color:var(--bad-fg)}
table.netpol td.np{min-width:0;width:18px;padding:1px 2px;text-align:center;font:12px ui-monospace,"DejaVu Sans Mono",monospace}
td.np.allow{background:var(--ok-bg);color:var(--ok-fg)}
td.np.deny{background:#dfe3e8;color:#24292f}
td.np.self{background:#fff;color:#afb8c1}
td.np.differs{background:var(--bad-bg);color:var(--bad-fg);font-weight:700;box-shadow:inset 0 0 0 2px var(--bad-fg)}
details.netpol{margin:10px 0}
details.netpol summary{cursor:pointer}
details.netpol summary .verdict{font-weight:700;margin-right:8px}
details.netpol summary .verdict.passed{color:var(--ok-fg)}
details.netpol summary .verdict.failed{color:var(--bad-fg)}
.empty{color:var(--muted);font-style:italic}
`;

function header(f: HtmlInput): string {
  const s = f.summary;
  const count = (k: 'passed' | 'failed' | 'skipped') => `<div class="count ${k}${s[k] ? '' : ' zero'}" data-count="${k}"><b>${s[k]}</b>${k}</div>`;
  const meta = [
    f.runId ? `run <code>${e(f.runId)}</code>` : 'run (no id)',
    `written ${e(f.writtenAt)}`,
    f.execs !== undefined ? `${e(f.execs)} execs` : undefined,
  ].filter(Boolean);
  const verdict = s.failed
    ? `${s.failed} of ${s.total} checks failed`
    : s.total
      ? `all ${s.passed} checks passed${s.skipped ? ` (${s.skipped} skipped)` : ''}`
      : 'no checks ran';
  const failed = f.results.map((r, i) => [r, i] as const).filter(([r]) => r.status === 'failed');
  return `<header class="${s.failed ? 'failed' : 'passed'}">
<h1>kube-netcheck${f.runId ? ` run ${e(f.runId)}` : ''}: ${e(verdict)}</h1>
<div class="meta">${meta.join(' · ')}</div>
<div class="counts">${count('passed')}${count('failed')}${count('skipped')}<div class="count" data-count="total"><b>${s.total}</b>total</div></div>
${f.cause ? `<p class="cause" data-cause-layer="${e(f.cause.layer)}"><b>likely cause</b>: ${f.cause.layer === 'setup' ? 'the run’s setup failed, so no check could run' : `layer “${e(f.cause.layer)}” — ${e(f.cause.check)}`}: ${e(f.cause.error)}${f.cause.alsoFailed.length ? `<br><span class="sub">also failed (${f.cause.alsoFailed.length}): ${e(f.cause.alsoFailed.join('; '))}</span>` : ''}</p>` : ''}
${f.cluster ? `<div class="meta cluster" data-cni="${e(f.cluster.cni ?? '')}">CNI: ${e(f.cluster.cni ?? 'unknown')}${f.cluster.podMtu ? ` · pod MTU ${e(f.cluster.podMtu)}` : ''}<br>${e([f.cluster.version && `Kubernetes ${f.cluster.version}`, f.cluster.nodes !== undefined && `${f.cluster.nodes} nodes (${f.cluster.controlPlanes} control plane)`, f.cluster.ipFamilies && `IP families ${f.cluster.ipFamilies}`, f.cluster.podRange && `pods ${f.cluster.podRange}`, f.cluster.serviceRange && `services ${f.cluster.serviceRange}`, f.cluster.domain && `domain ${f.cluster.domain}`, f.cluster.dns, f.cluster.kubeProxy === false ? 'no kube-proxy' : f.cluster.kubeProxy ? 'kube-proxy' : ''].filter(Boolean).join(' · '))}</div>` : ''}
${failed.length ? `<ul class="failures">${failed.map(([r, i]) => `<li><a href="#check-${i}">${e(r.check)}</a> <span class="sub">${e(r.from)} → ${e(r.to)}</span></li>`).join('')}</ul>` : ''}
</header>`;
}

const legend = (extra = '') =>
  `<div class="legend"><span><span class="sw" style="background:var(--ok-bg)"></span>as expected</span><span><span class="sw" style="background:var(--bad-bg)"></span>not as expected</span>${extra}</div>`;

/** "node x" / "pod ns/name" → the part after the kind. */
const stripKind = (from: string, kind: string) => (from.startsWith(`${kind} `) ? from.slice(kind.length + 1) : from);

function reachabilityGrid(rows: readonly ReachabilityRow[]): string {
  if (!rows.length) return '<p class="empty">No reachability rows were recorded in this run.</p>';
  const cols = distinct(rows.map((r) => r.to)).sort();
  const colInfo = new Map(rows.map((r) => [r.to, r]));
  // nodes first, then pods; each by name
  const froms = distinct(rows.map((r) => r.from)).sort((a, b) => {
    const ka = rows.find((r) => r.from === a)!.fromKind,
      kb = rows.find((r) => r.from === b)!.fromKind;
    return ka === kb ? a.localeCompare(b) : ka === 'node' ? -1 : 1;
  });
  const lines = place(
    rows,
    (r) => r.from,
    (r) => r.to,
  );
  const head = `<thead><tr><th>from \\ to</th>${cols
    .map((c) => {
      const i = colInfo.get(c)!;
      return `<th${attrs({ 'data-col': c })}>${e(c)}<span class="sub">on ${e(i.toNode)}</span><span class="sub mono">${e(i.toIP)}</span></th>`;
    })
    .join('')}</tr></thead>`;
  const body = froms.flatMap((from) => {
    const first = rows.find((r) => r.from === from)!;
    return lines.get(from)!.map((line, n) => {
      const label = `<th><span class="kind ${first.fromKind === 'node' ? 'node' : 'pod'}">${e(first.fromKind)}</span>${e(stripKind(from, first.fromKind))}${n ? ` <span class="tag">#${n + 1}</span>` : ''}${first.fromKind === 'pod' ? `<span class="sub">on ${e(first.fromNode)}</span>` : ''}</th>`;
      const cells = cols.map((c) => {
        const r = line.get(c);
        if (!r) return '<td class="cell none">—</td>';
        const same = r.fromNode === r.toNode;
        const title = `${r.from} (on ${r.fromNode}) → ${r.to} ${r.toIP} (on ${r.toNode}): ${r.outcome} in ${r.ms} ms${r.ok ? '' : ' — expected the nginx page'}`;
        return `<td${attrs({
          class: `cell ${r.ok ? 'ok' : 'bad'}${same ? ' same' : ''}`,
          'data-grid': 'reachability',
          'data-from': r.from,
          'data-to': r.to,
          'data-to-ip': r.toIP,
          'data-outcome': r.outcome,
          'data-ms': r.ms,
          'data-ok': r.ok,
          title,
        })}>${e(r.outcome)} · ${e(r.ms)} ms${same ? '<span class="sub">same node</span>' : ''}</td>`;
      });
      return `<tr>${label}${cells.join('')}</tr>`;
    });
  });
  return `${legend('<span>outlined: source and pod on the same node</span>')}
<table class="grid reachability" aria-label="reachability">${head}<tbody>${body.join('\n')}</tbody></table>`;
}

/** One table per datapath path (hairpin, NodePort, …): sources × the node (or Service) asked; a cell is one hold window. */
function datapathGrid(rows: readonly DatapathRow[]): string {
  if (!rows.length) return '<p class="empty">No Service datapath windows were recorded in this run.</p>';
  const tables = distinct(rows.map((r) => r.path)).map((path) => {
    const mine = rows.filter((r) => r.path === path);
    const cols = distinct(mine.map((r) => r.toNode)).sort();
    const froms = distinct(mine.map((r) => r.from)).sort((a, b) => {
      const ka = mine.find((r) => r.from === a)!.fromKind,
        kb = mine.find((r) => r.from === b)!.fromKind;
      return ka === kb ? a.localeCompare(b) : ka === 'node' ? -1 : 1;
    });
    const lines = place(
      mine,
      (r) => r.from,
      (r) => r.toNode,
    );
    const head = `<thead><tr><th>from \\ to</th>${cols.map((c) => `<th${attrs({ 'data-col': c })}>${e(c)}</th>`).join('')}</tr></thead>`;
    const body = froms.flatMap((from) => {
      const first = mine.find((r) => r.from === from)!;
      return lines.get(from)!.map((line) => {
        const label = `<th><span class="kind ${first.fromKind}">${e(first.fromKind)}</span>${e(stripKind(from, first.fromKind))}<span class="sub">on ${e(first.fromNode)}</span></th>`;
        const cells = cols.map((c) => {
          const r = line.get(c);
          if (!r) return '<td class="cell none">—</td>';
          const who = Object.entries(r.servers)
            .map(([k, v]) => `${k}:${v}`)
            .join(' ');
          return `<td${attrs({
            class: `cell ${r.ok ? 'ok' : 'bad'}${r.fromNode === r.toNode ? ' same' : ''}`,
            'data-grid': 'datapath',
            'data-path': r.path,
            'data-from': r.from,
            'data-to': r.to,
            'data-answered': r.answered,
            'data-requests': r.requests,
            'data-ok': r.ok,
            title: `${r.from} → ${r.to}: ${r.answered}/${r.requests} answered${who ? ` (${who})` : ''}; expected ${r.expected}`,
          })}>${e(r.answered)}/${e(r.requests)}<span class="sub">${e(who || 'no answer')}</span></td>`;
        });
        return `<tr>${label}${cells.join('')}</tr>`;
      });
    });
    return `<h3>${e(path)}</h3><p class="note">expected: ${e(distinct(mine.map((r) => r.expected)).join(' / '))}</p>
<table class="grid datapath" aria-label="${e(path)}">${head}<tbody>${body.join('\n')}</tbody></table>`;
  });
  return `${legend('<span>cell: answered/requests of the hold window, then answers per pod</span>')}\n${tables.join('\n')}`;
}

function dnsGrid(rows: readonly DnsRow[]): string {
  if (!rows.length) return '<p class="empty">No DNS name-form rows were recorded in this run.</p>';
  const VIA_ORDER = ['udp', 'tcp', 'libc'];
  const vias = distinct(rows.map((r) => r.via as string)).sort((a, b) => (VIA_ORDER.indexOf(a) + 1 || 99) - (VIA_ORDER.indexOf(b) + 1 || 99));
  // asked from a pod on every node: one group per namespace and node
  const origin = (r: DnsRow) => (r.fromNode ? `${r.fromNamespace} on ${r.fromNode}` : r.fromNamespace);
  const nss = distinct(rows.map(origin));
  const key = (r: DnsRow) => JSON.stringify([origin(r), r.service, r.form, r.name]);
  const lines = place(rows, key, (r) => r.via);
  const head = `<thead><tr><th>from namespace (node)</th><th>service</th><th>name form</th><th>name asked</th><th>expected</th>${vias
    .map(
      (v) =>
        `<th${attrs({ 'data-col': v })}>${e(v)}<span class="sub">${v === 'libc' ? 'getent ahostsv4' : v === 'udp' ? 'dig +notcp' : v === 'tcp' ? 'dig +tcp' : ''}</span></th>`,
    )
    .join('')}</tr></thead>`;
  const body: string[] = [];
  for (const ns of nss) {
    const services = distinct(rows.filter((r) => origin(r) === ns).map((r) => r.service));
    const nsKeys = distinct(rows.filter((r) => origin(r) === ns).map(key));
    const nsLines = nsKeys.reduce((t, k) => t + lines.get(k)!.length, 0);
    let firstOfNs = true;
    for (const svc of services) {
      const keys = distinct(rows.filter((r) => origin(r) === ns && r.service === svc).map(key));
      const svcLines = keys.reduce((t, k) => t + lines.get(k)!.length, 0);
      let firstOfSvc = true;
      for (const k of keys) {
        for (const [n, line] of lines.get(k)!.entries()) {
          const any = [...line.values()][0];
          const expected = distinct([...line.values()].map((r) => r.expected));
          const cells = vias.map((v) => {
            const r = line.get(v);
            if (!r) return '<td class="cell none">—</td>';
            return `<td${attrs({
              class: `cell ${r.ok ? 'ok' : 'bad'}`,
              'data-grid': 'dns',
              'data-from': r.fromNamespace,
              'data-to': r.name,
              'data-service': r.service,
              'data-form': r.form,
              'data-via': r.via,
              'data-expected': r.expected,
              'data-got': r.got,
              'data-ok': r.ok,
              title: `${r.name} from ${r.fromNamespace} over ${r.via}: expected ${r.expected}, got ${r.got}`,
            })}>${e(r.got || '(nothing)')}${r.ok ? '' : `<span class="sub">expected ${e(r.expected)}</span>`}</td>`;
          });
          body.push(
            `<tr>${firstOfNs ? `<th class="group" rowspan="${nsLines}">${e(ns)}</th>` : ''}${firstOfSvc ? `<th class="group" rowspan="${svcLines}">${e(svc)}</th>` : ''}` +
              `<td class="mono">${e(any.form)}${n ? ` <span class="tag">#${n + 1}</span>` : ''}</td><td class="mono">${e(any.name)}</td><td class="mono">${e(expected.join(' / '))}</td>${cells.join('')}</tr>`,
          );
          firstOfNs = firstOfSvc = false;
        }
      }
    }
  }
  return `${legend('<span>cell text: what was resolved (libc reports a missing name as “not found”)</span>')}
<table class="grid dns" aria-label="dns">${head}<tbody>${body.join('\n')}</tbody></table>`;
}

function checkRow(r: CheckResult, i: number): string {
  const ev = (r.evidence ?? undefined) as { error?: unknown } | undefined;
  let detail = r.reason ? `<div class="sub reason">${e(r.reason)}</div>` : '';
  if (r.status === 'failed') {
    const error = errorOf(r) || 'failed (no error text recorded)';
    const rest = ev && typeof ev === 'object' && !Array.isArray(ev) ? Object.fromEntries(Object.entries(ev).filter(([k]) => k !== 'error')) : ev;
    detail = `<pre class="error">${e(error)}</pre>`;
    if (rest !== undefined && (typeof rest !== 'object' || Object.keys(rest as object).length))
      detail += `<details><summary>evidence</summary><pre>${e(JSON.stringify(rest, null, 2))}</pre></details>`;
  }
  return `<tr${attrs({ id: `check-${i}`, class: r.status, 'data-check': r.check, 'data-status': r.status })}>
<td class="status">${e(r.status)}</td>
<td>${e(r.check)}<div>${r.tags.map((t) => `<span class="tag">${e(t)}</span>`).join('')}</div>${detail}</td>
<td>${e(r.from)} → ${e(r.to)}</td>
<td class="ms">${e(r.durationMs)} ms</td>
</tr>`;
}

function conformanceHtml(f: HtmlInput): string {
  return UPSTREAM_SECTIONS.map(({ key, id, title, what }) => {
    const up = conformanceOf(f, key);
    if (!up) return '';
    const n = (st: string) => up.tests.filter((t) => t.status === st).length;
    return `<h2 id="${id}">${e(title)}: ${n('passed')} passed, ${n('failed')} failed, ${n('skipped')} skipped</h2>
<p class="note">${e(what)} on the same cluster, ${up.tests.length} tests in ${(up.wallMs / 1000).toFixed(0)} s (JUnit: <code>${e(up.junitPath)}</code>).</p>
<table class="checks" aria-label="${id}"><thead><tr><th>status</th><th>test</th><th>duration</th></tr></thead><tbody>
${up.tests.map((t) => `<tr${attrs({ class: t.status, 'data-conformance': t.name, 'data-status': t.status })}><td class="status">${e(t.status)}</td><td>${e(t.name)}${t.message ? `<pre class="error">${e(t.message)}</pre>` : ''}</td><td class="ms">${e((t.durationMs / 1000).toFixed(1))} s</td></tr>`).join('\n')}
</tbody></table>`;
  }).join('\n');
}

/** One NetworkPolicy case as results.json carries it (src/catalogue/netpol.ts). */
interface NetpolTable {
  title: string;
  doc?: string;
  verdict?: string;
  targets: string[];
  convergence?: { converged: boolean; ms: number; rounds: number; deadlineMs: number };
  expected: Record<string, Record<string, string>>;
  observed: Record<string, Record<string, string>>;
}

const NP_CLASS: Record<string, string> = { '.': 'allow', X: 'deny', '-': 'self' };

/** The NetworkPolicy truth tables: per case, rows = sources, columns = protocol/port × target; a differing cell shows what was seen, in red. */
function netpolGrids(f: HtmlInput): string {
  const cases = f.sections?.netpol as Record<string, NetpolTable> | undefined;
  if (!cases || !Object.keys(cases).length) return '';
  const out = Object.entries(cases).map(([id, t]) => {
    const ports = Object.keys(t.expected);
    const sources = distinct(ports.flatMap((p) => Object.keys(t.expected[p])));
    let differs = 0;
    const head = `<tr><th rowspan="2">from \\ to</th>${ports.map((p) => `<th class="group" colspan="${t.targets.length}">${e(p)}</th>`).join('')}</tr>
<tr>${ports.map(() => t.targets.map((x) => `<th title="${e(x)}">${e(x)}</th>`).join('')).join('')}</tr>`;
    const rows = sources.map(
      (from) =>
        `<tr><th>${e(from)}</th>${ports
          .map((p) =>
            t.targets
              .map((to, i) => {
                const want = t.expected[p]?.[from]?.[i] ?? '?';
                const saw = t.observed[p]?.[from]?.[i] ?? '?';
                const bad = want !== saw;
                if (bad) differs++;
                return `<td${attrs({ class: `np ${bad ? 'differs' : (NP_CLASS[saw] ?? '')}`, 'data-from': from, 'data-to': to, 'data-port': p, 'data-expected': want, 'data-observed': saw, title: bad ? `expected ${want}, saw ${saw}` : undefined })}>${e(saw)}</td>`;
              })
              .join(''),
          )
          .join('')}</tr>`,
    );
    const cv = t.convergence;
    const verdict = t.verdict === 'passed' ? 'passed' : 'failed';
    return `<details class="netpol"${verdict === 'failed' ? ' open' : ''} data-case="${e(id)}">
<summary><span class="verdict ${verdict}">${e(t.verdict ?? '?')}</span>${e(t.title)}${cv ? ` <span class="sub">${cv.converged ? `converged in ${e(cv.ms)} ms (${e(cv.rounds)} rounds)` : `not converged within ${e(cv.deadlineMs)} ms`}${differs ? `, <b>${differs} cells differ</b>` : ''}</span>` : ''}</summary>
${t.doc ? `<p class="note">${e(t.doc)}</p>` : ''}
<table class="grid netpol" aria-label="${e(id)}"><thead>${head}</thead><tbody>${rows.join('\n')}</tbody></table>
</details>`;
  });
  return `<h2 id="netpol">NetworkPolicy truth tables (${Object.keys(cases).length} cases)</h2>
<p class="note">Observed cells: <code>.</code> allowed (the target pod answered), <code>X</code> denied, <code>-</code> a pod to itself (not probed), <code>W</code> another pod answered, <code>E</code> error, <code>?</code> not run; a cell in red differs from the expected table (its title says what was expected).</p>
${out.join('\n')}`;
}

export function toHtml(f: HtmlInput): string {
  const reach = f.matrices?.reachability ?? [];
  const dns = f.matrices?.dns ?? [];
  const datapath = f.matrices?.datapath ?? [];
  const reachBad = reach.filter((r) => !r.ok).length;
  const dnsBad = dns.filter((r) => !r.ok).length;
  const title = `kube-netcheck${f.runId ? ` ${f.runId}` : ''}: ${f.summary.failed ? `${f.summary.failed} failed` : 'passed'}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>${CSS}</style>
</head>
<body>
${header(f)}
<h2 id="reachability">Pod reachability: node / pod × nginx pod</h2>
<p class="note">Each source fetched every nginx pod at <code>podIP:80</code> directly (no Service, no NAT). ${reach.length} probes, ${reachBad ? `<b>${reachBad} not as expected</b>` : 'all as expected'}.</p>
${reachabilityGrid(reach)}
<h2 id="dns">DNS name forms: namespace × name form × transport</h2>
<p class="note">Each name form asked from each namespace over UDP and TCP (<code>dig</code>) and as applications resolve (libc <code>getent</code>). ${dns.length} lookups, ${dnsBad ? `<b>${dnsBad} not as expected</b>` : 'all as expected'}.</p>
${dnsGrid(dns)}
${netpolGrids(f)}
${
  datapath.length
    ? `<h2 id="datapath">Service datapath: hairpin, NodePort, hostPort, pod → node</h2>
<p class="note">Each cell is one hold window: a fixed number of requests from the source to the address, every one of which counts. ${datapath.length} windows, ${datapath.filter((r) => !r.ok).length ? `<b>${datapath.filter((r) => !r.ok).length} not as expected</b>` : 'all as expected'}.</p>
${datapathGrid(datapath)}`
    : ''
}
${conformanceHtml(f)}
<h2 id="checks">Checks (${f.results.length})</h2>
${
  f.results.length
    ? `<table class="checks"><thead><tr><th>status</th><th>check</th><th>from → to</th><th>duration</th></tr></thead><tbody>
${f.results.map(checkRow).join('\n')}
</tbody></table>`
    : '<p class="empty">No checks were recorded.</p>'
}
</body>
</html>
`;
}
