#!/usr/bin/env node
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS script run by plain node: require is how it loads */
// usage: node scripts/bench-breakdown.cjs REPORT-DIR/results.json (docs/benchmark.md)
// prints the per-phase breakdown of a run (results.json) and the convergence/hold split of the Service traffic checks
const f = process.argv[2];
if (!f) { console.error('usage: node scripts/bench-breakdown.cjs REPORT-DIR/results.json'); process.exit(2); }
const r = require(require('node:path').resolve(f)); const t = r.timings; const s = (ms) => (ms / 1000).toFixed(1);
const line = [`setup ${s(t.setupMs)}`, ...t.phases.map((p) => `${p.phase} ${s(p.enterMs + p.fanoutMs + p.verifyMs)} (enter ${s(p.enterMs)}, fan-out ${s(p.fanoutMs)}, verdicts ${s(p.verifyMs)}; ${p.execs} execs)`), `teardown ${s(t.teardownMs)}`].join(', ');
console.log(`${f}: total ${s(t.totalMs)} s, ${r.execs} execs, ${r.probes} probes; ${line}`);
for (const x of r.results) {
  const c = x.evidence?.convergence; if (!c || x.id.includes('from-')) continue;
  const api = /after (\d+) ms/.exec(c.endpoints ?? '')?.[1]; const px = /waited (\d+) ms/.exec(c.proxyRules ?? '')?.[1];
  console.log(`  ${x.id}: ${x.durationMs} ms = converge ${c.waitedMs} (api ${api}, proxy ${px}) + hold ${x.durationMs - c.waitedMs} (${x.evidence.requests} requests, ${x.evidence.sources} sources)`);
}
for (const x of r.results) if (/\.traffic$|spread$/.test(x.id) && !x.evidence?.convergence) console.log(`  ${x.id}: ${x.durationMs} ms ${x.status}`);
