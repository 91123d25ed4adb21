// `kube-netcheck cni-matrix`: every built-in CNI in turn — a kind cluster of its own created with
// it, the whole suite run on it, the cluster deleted — then one table, CNI × check (pass / FAIL /
// not enforced / n/a), with each CNI's pod MTU, cluster-up and suite wall times, written as Markdown.
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EXIT, type Io } from './io.js';
import { readFileSync, existsSync } from 'node:fs';
import { ROOT, kindDown, upManaged, type ClusterIpFamily } from '../cluster/kind.js';
import { connect } from '../cluster/connection.js';
import { managedTarget } from '../cluster/resolve.js';
import { CATALOGUE, PHASES } from '../catalogue/index.js';
import { runSettings } from './settings.js';
import { runSuite, type RunResult } from '../engine/run-suite.js';
import { FileReporter } from '../report/reporter.js';
import type { CheckRecord } from '../catalogue/types.js';
import type { ResultsFile } from '../report/results.js';

export interface MatrixColumn {
  /** The column's name: the CNI, with its IP family when that is not IPv4 ("kube-router (dual)"). */
  cni: string;
  clusterUpMs: number;
  suiteMs: number;
  podMtu?: number;
  /** The run's records, counts and sections (a RunResult, or read back from its results.json: columnFromResults). */
  result?: Pick<RunResult, 'records' | 'summary' | 'sections'>;
  /** Set when the cluster never came up: every cell says so. */
  error?: string;
}

/** The built-in CNIs: manifests/cni/<name>.yaml. */
export function builtInCnis(root = ROOT): string[] {
  return readdirSync(path.join(root, 'manifests', 'cni'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** One cell: what happened to a check on one CNI. */
export function cell(r: CheckRecord | undefined): string {
  if (!r) return '—';
  if (r.status === 'passed') return 'pass';
  if (r.status === 'skipped') return r.reason?.startsWith('not meaningful') ? 'not meaningful' : 'n/a';
  return /NetworkPolicy is not enforced/.test(r.error ?? '') ? 'not enforced' : '**FAIL**';
}

const secs = (ms: number) => `${Math.round(ms / 1000)} s`;

/** A column read back from a run's results.json (the cluster-up time is not in it: 0). */
export function columnFromResults(cni: string, f: ResultsFile): MatrixColumn {
  const records = f.results.map((r) => ({ ...r, id: r.id ?? '', layer: r.layer ?? 'policy' })) as CheckRecord[];
  const { passed, failed, skipped, total } = f.summary;
  return {
    cni,
    clusterUpMs: 0,
    suiteMs: f.timings?.totalMs ?? 0,
    podMtu: f.sections?.podMtu as number | undefined,
    result: { records, summary: { passed, failed, skipped, total }, sections: f.sections },
  };
}
const esc = (t: string) => t.replace(/\|/g, '\\|');

/** The NetworkPolicy truth-table checks (tag netpol): their own table, one row per case. */
const isNetpol = (tags: readonly string[]) => tags.includes('netpol');

/** Why a CNI's truth tables were not run: the case that found NetworkPolicy not enforced, or undefined. */
export function netpolUnenforced(c: MatrixColumn): string | undefined {
  const r = c.result?.records.find((x) => isNetpol(x.tags) && x.status === 'failed' && /NetworkPolicy is not enforced/.test(x.error ?? ''));
  return r ? r.id : undefined;
}

/** One truth-table cell: pass with the convergence time, FAIL with its kind and the number of differing cells, n/a with the reason. */
export function netpolCell(r: CheckRecord | undefined, tables: Record<string, { convergence?: { ms?: number } }> | undefined): string {
  if (!r) return '—';
  if (r.status === 'passed') {
    const ms = tables?.[r.id]?.convergence?.ms;
    return ms === undefined ? 'pass' : `pass (${(ms / 1000).toFixed(1)} s)`;
  }
  if (r.status === 'skipped') {
    const why = (r.reason ?? '').replace(/^not applicable: /, '');
    return `n/a: ${esc(why.split(/[;(]/)[0].trim().slice(0, 80))}`;
  }
  const seen = r.error ?? '';
  const kind = /cells not run/.test(seen)
    ? 'not run'
    : /then \d+ of \d+ cells changed/.test(seen)
      ? 'flapped'
      : /no round matched/.test(seen)
        ? 'not converged'
        : /NetworkPolicy is not enforced/.test(seen)
          ? 'not enforced'
          : 'failed';
  const n = /(\d+)(?: of \d+)? cells (?:differ|changed)/.exec(seen)?.[1];
  return `**FAIL** ${kind}${n ? `, ${n} cells` : ''}`;
}

/** The per-case NetworkPolicy section: one row per truth-table case for the CNIs with an engine; a CNI without one is named once. */
export function netpolMarkdown(cols: MatrixColumn[]): string[] {
  const defs = CATALOGUE.filter((d) => isNetpol(d.tags));
  const up = cols.filter((c) => c.result);
  const enforcing = up.filter((c) => !netpolUnenforced(c));
  const lines = ['', '## NetworkPolicy truth tables, per case', ''];
  for (const c of up.filter((x) => netpolUnenforced(x))) {
    lines.push(
      `- **${c.cni}: NetworkPolicy is not enforced** (\`${netpolUnenforced(c)}\`: every cell its policies deny was allowed); its other ${defs.length - 1} cases are not meaningful and were not run.`,
    );
  }
  for (const c of cols.filter((x) => x.error)) lines.push(`- ${c.cni}: cluster did not come up (${esc(c.error!)})`);
  if (!enforcing.length) return [...lines, '', 'No CNI here enforces NetworkPolicy.'];
  const tablesOf = (c: MatrixColumn) => c.result?.sections?.netpol as Record<string, { convergence?: { ms?: number } }> | undefined;
  const count = (c: MatrixColumn, st: string) => c.result!.records.filter((r) => isNetpol(r.tags) && r.status === st).length;
  lines.push(
    '',
    `*pass (t)*: converged after t and held (every cell probed again matched); ***FAIL*** *kind, n cells*: not converged, flapped or not run, n cells differing; *n/a*: with the reason.`,
    '',
    `| case | ${enforcing.map((c) => c.cni).join(' | ')} |`,
    `|---|${enforcing.map(() => '---').join('|')}|`,
    `| cases | ${enforcing.map((c) => `${count(c, 'passed')} pass / ${count(c, 'failed')} fail / ${count(c, 'skipped')} n/a`).join(' | ')} |`,
    ...defs.map(
      (d) =>
        `| \`${d.id}\` ${esc(d.title.replace(/^NetworkPolicy truth table: /, ''))} | ${enforcing
          .map((c) =>
            netpolCell(
              c.result!.records.find((r) => r.id === d.id),
              tablesOf(c),
            ),
          )
          .join(' | ')} |`,
    ),
  );
  return lines;
}

export function matrixMarkdown(cols: MatrixColumn[], when: string, command: string): string {
  const head = `| check | ${cols.map((c) => c.cni).join(' | ')} |`;
  const rule = `|---|${cols.map(() => '---').join('|')}|`;
  const netpolDefs = CATALOGUE.filter((d) => isNetpol(d.tags));
  const netpolSummary = (c: MatrixColumn) => {
    if (c.error) return 'cluster did not come up';
    if (netpolUnenforced(c)) return 'not enforced';
    const recs = c.result?.records.filter((r) => isNetpol(r.tags)) ?? [];
    const n = (st: string) => recs.filter((r) => r.status === st).length;
    return recs.length ? `${n('passed')} pass${n('failed') ? `, **${n('failed')} FAIL**` : ''}${n('skipped') ? `, ${n('skipped')} n/a` : ''}` : '—';
  };
  const rows = [
    ...CATALOGUE.filter((d) => !isNetpol(d.tags)).map(
      (def) =>
        `| \`${def.id}\` ${esc(def.title)} | ${cols.map((c) => (c.error ? 'cluster did not come up' : cell(c.result?.records.find((r) => r.id === def.id)))).join(' | ')} |`,
    ),
    `| \`netpol.*\` NetworkPolicy truth tables (${netpolDefs.length} checks, per case below) | ${cols.map(netpolSummary).join(' | ')} |`,
  ];
  const sum = (c: MatrixColumn) =>
    c.result ? `${c.result.summary.passed} pass / ${c.result.summary.failed} fail / ${c.result.summary.skipped} skipped` : (c.error ?? '');
  return [
    '# CNI matrix',
    '',
    `Every built-in CNI in turn on a fresh kind cluster (default shape), the whole suite, from a real run on ${when}:`,
    '',
    '```sh',
    command,
    '```',
    '',
    '*pass*: the property holds; ***FAIL***: it does not; *not enforced*: a NetworkPolicy check on a CNI without a policy engine (a denied connection succeeded); *n/a*: not applicable on this cluster; *not meaningful*: a negative control whose own check failed.',
    '',
    `| | ${cols.map((c) => c.cni).join(' | ')} |`,
    `|---|${cols.map(() => '---').join('|')}|`,
    `| pod MTU | ${cols.map((c) => c.podMtu ?? '—').join(' | ')} |`,
    `| cluster up (create + CNI + ready) | ${cols.map((c) => secs(c.clusterUpMs)).join(' | ')} |`,
    `| suite wall time | ${cols.map((c) => secs(c.suiteMs)).join(' | ')} |`,
    `| checks | ${cols.map(sum).join(' | ')} |`,
    '',
    head,
    rule,
    ...rows,
    ...netpolMarkdown(cols),
    '',
  ].join('\n');
}

/** The IP-family columns live in their own marked section of the matrix file: an IPv4 run rewrites the rest and keeps it. */
export const FAMILY_SECTION = { start: '<!-- cni-matrix --ip-family: begin -->', end: '<!-- cni-matrix --ip-family: end -->' };

/** `file`'s text with its IP-family section replaced by `section` (appended when it has none). */
export function withFamilySection(file: string, section: string): string {
  const block = `${FAMILY_SECTION.start}\n${section.trimEnd()}\n${FAMILY_SECTION.end}\n`;
  const a = file.indexOf(FAMILY_SECTION.start);
  const b = file.indexOf(FAMILY_SECTION.end);
  if (a >= 0 && b > a) return file.slice(0, a) + block + file.slice(b + FAMILY_SECTION.end.length).replace(/^\n/, '');
  return `${file.trimEnd()}\n\n${block}`;
}

/** The IP-family section of an existing matrix file ('' when none): an IPv4 run keeps it. */
export function familySectionOf(file: string): string {
  const a = file.indexOf(FAMILY_SECTION.start);
  const b = file.indexOf(FAMILY_SECTION.end);
  return a >= 0 && b > a ? file.slice(a, b + FAMILY_SECTION.end.length) + '\n' : '';
}

const columnName = (cni: string, family: ClusterIpFamily) => (family === 'ipv4' ? cni : `${cni} (${family})`);

export async function cniMatrixCommand(
  opts: { cnis?: string[]; out: string; reportDir: string; families?: ClusterIpFamily[] },
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const cnis = opts.cnis?.length ? opts.cnis : builtInCnis();
  const families = opts.families?.length ? opts.families : (['ipv4'] as ClusterIpFamily[]);
  const cols: MatrixColumn[] = [];
  // written after every column, so an interrupted matrix leaves the columns it has
  const write = () => {
    const command = `kube-netcheck cni-matrix${opts.cnis?.length ? ` --cni ${opts.cnis.join(',')}` : ''}`;
    const existing = existsSync(opts.out) ? readFileSync(opts.out, 'utf8') : '';
    if (families.join() === 'ipv4') {
      // an IPv4 run writes the file and keeps the IP-family columns a family run put there
      const kept = familySectionOf(existing);
      writeFileSync(opts.out, matrixMarkdown(cols, new Date().toISOString().slice(0, 10), `${command}   # or: make cni-matrix`) + (kept ? `\n${kept}` : ''));
    } else {
      const md = matrixMarkdown(cols, new Date().toISOString().slice(0, 10), `${command} --ip-family ${families.join(',')}`)
        .replace(/^# CNI matrix\n/, `## IP families: ${families.join(', ')}\n`)
        .replace(
          'Every built-in CNI in turn on a fresh kind cluster (default shape)',
          'Each CNI in turn on a fresh kind cluster of that IP family (default shape)',
        );
      writeFileSync(opts.out, withFamilySection(existing, md));
    }
  };
  for (const family of families)
    for (const cni of cnis) {
      const col = columnName(cni, family);
      const cluster = `knc-matrix-${cni.replace(/[^a-z0-9-]/g, '-')}${family === 'ipv4' ? '' : `-${family}`}`.slice(0, 40);
      const clusterEnv = { ...env, KNC_CLUSTER: cluster };
      io.out(`cni-matrix: ${col}: bringing up kind cluster ${cluster}`);
      const t0 = Date.now();
      try {
        const { cluster: k } = await upManaged({ cni, ipFamily: family, log: (l) => io.out(`  ${l}`) }, clusterEnv);
        const clusterUpMs = Date.now() - t0;
        io.out(`cni-matrix: ${col}: cluster ready in ${secs(clusterUpMs)}; running the suite`);
        const t1 = Date.now();
        const result = await runSuite(
          connect(managedTarget(k, {})),
          CATALOGUE,
          [new FileReporter(path.join(opts.reportDir, family === 'ipv4' ? cni : `${cni}-${family}`))],
          {
            phases: PHASES,
            settings: runSettings(env),
          },
        );
        cols.push({ cni: col, clusterUpMs, suiteMs: Date.now() - t1, podMtu: result.sections?.podMtu as number | undefined, result });
        io.out(`cni-matrix: ${col}: ${result.summary.passed} passed, ${result.summary.failed} failed, ${result.summary.skipped} skipped`);
      } catch (err) {
        cols.push({ cni: col, clusterUpMs: Date.now() - t0, suiteMs: 0, error: (err as Error).message.split('\n')[0] });
        io.out(`cni-matrix: ${col}: ${(err as Error).message.split('\n')[0]}`);
      } finally {
        await kindDown({}, clusterEnv).catch((err: Error) => io.err(`cni-matrix: deleting ${cluster} failed: ${err.message}`));
        write();
      }
    }
  write();
  io.out(`cni-matrix: written ${opts.out}`);
  return cols.some((c) => c.error) ? EXIT.ENV : EXIT.OK;
}
