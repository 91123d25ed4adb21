// Reads the JUnit XML that upstream's e2e.test writes with --report-dir (junit_01.xml): one
// <testcase> per Ginkgo spec, with a `status` attribute (passed, failed, skipped, timedout,
// interrupted, panicked, aborted, pending) and, for failures, a <failure> element whose text is
// Ginkgo's failure report (e2e.test omits the message attribute). A small reader for that one
// shape: no XML library in the dependencies, and the file is machine-written.

export type TestStatus = 'passed' | 'failed' | 'skipped';

export interface ConformanceTest {
  /** The full Ginkgo spec text, e.g. "[sig-network] DNS should provide DNS for services [Conformance]". */
  name: string;
  status: TestStatus;
  durationMs: number;
  /** Failed: the first line of Ginkgo's failure report ("[FAILED] …", "[TIMEDOUT] …"); skipped: the reason. */
  message?: string;
}

export interface JunitOptions {
  /**
   * Keep only these tests (full names). e2e.test lists every spec it knows — thousands — and marks
   * the ones outside the focus as skipped (message "skipped"); without this list those are dropped
   * by that mark, which also drops a selected test Ginkgo skipped without a reason.
   */
  only?: ReadonlySet<string>;
}

/** Ginkgo's suite-level nodes ([SynchronizedBeforeSuite], [ReportAfterSuite] …), not tests. */
const SUITE_NODE = /^\[(Report|Synchronized)?(Before|After)Suite\]|^\[DeferCleanup/;

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? m;
  });
}

function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([A-Za-z_:][\w:.-]*)\s*=\s*("([^"]*)"|'([^']*)')/g)) out[m[1]!] = decodeXml(m[3] ?? m[4] ?? '');
  return out;
}

/** Ginkgo prefixes the leaf node type in some report configurations: "[It] [sig-network] …". */
export function specName(testcaseName: string): string {
  return testcaseName.replace(/^\[It\]\s+/, '').trim();
}

/** The line of a Ginkgo failure report that says what went wrong. */
export function failureSummary(text: string): string | undefined {
  const lines = decodeXml(text)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const tagged = lines.find((l) => /^\[(FAILED|TIMEDOUT|INTERRUPTED|PANICKED|ABORTED)\]/.test(l));
  let line = tagged ?? lines[0];
  if (!line) return undefined;
  // A timeout says only that time ran out: add the step Ginkgo's progress report caught it in.
  const step = /^\[(TIMEDOUT|INTERRUPTED)\]/.test(line) ? lines.map((l) => /^At \[By Step\] (.+?) \(Step Runtime: ([^)]+)\)/.exec(l)).find(Boolean) : undefined;
  if (step) line = `${line} (at step "${step[1]}", ${step[2]} in)`;
  return line.length > 400 ? `${line.slice(0, 399)}…` : line;
}

const FAILED_STATES = new Set(['failed', 'timedout', 'interrupted', 'panicked', 'aborted']);

/** Every <testcase> of a JUnit document, in file order. */
export function parseJunit(xml: string, opts: JunitOptions = {}): ConformanceTest[] {
  const tests: ConformanceTest[] = [];
  /** Names seen as outside the focus (one e2e.test process per test lists the others that way). */
  const unselected: ConformanceTest[] = [];
  // <testcase …/> or <testcase …>…</testcase> (test cases do not nest)
  const re = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    const a = attrs(m[1]!);
    const body = m[3] ?? '';
    const raw = a.name ?? '';
    const name = specName(raw);
    if (!name) continue;
    const suiteNode = SUITE_NODE.test(raw);
    const durationMs = Math.round(parseFloat(a.time ?? '0') * 1000) || 0;
    const failure = /<(failure|error)\b([^>]*?)(\/>|>([\s\S]*?)<\/\1>)/.exec(body);
    const skipped = /<skipped\b([^>]*?)(\/>|>([\s\S]*?)<\/skipped>)/.exec(body);
    const state = (a.status ?? '').toLowerCase();
    let status: TestStatus;
    if (failure || FAILED_STATES.has(state)) status = 'failed';
    else if (skipped || state === 'skipped' || state === 'pending') status = 'skipped';
    else status = 'passed';
    // A suite node is listed only when it failed (e.g. the cluster was not ready: no test ran).
    if (suiteNode ? status !== 'failed' : opts.only && !opts.only.has(name)) continue;
    // A spec outside the focus is recognisable by Ginkgo's bare "skipped".
    const bare = !suiteNode && status === 'skipped' && !!skipped && (attrs(skipped[1] ?? '').message ?? '') === 'skipped';
    if (bare && !opts.only) continue;
    const t: ConformanceTest = { name, status, durationMs };
    if (bare) {
      unselected.push({ ...t, message: 'skipped' });
      continue;
    }
    if (status === 'failed') {
      const msg = failure ? (failureSummary(failure[4] ?? '') ?? attrs(failure[2] ?? '').message) : `[${state.toUpperCase()}]`;
      if (msg) t.message = msg;
    } else if (status === 'skipped' && skipped) {
      const msg = attrs(skipped[1] ?? '').message || failureSummary(skipped[3] ?? '');
      if (msg) t.message = msg;
    }
    tests.push(t);
  }
  // A selected test listed only as outside the focus did not run: report it skipped, once.
  const seen = new Set(tests.map((t) => t.name));
  for (const t of unselected) {
    if (seen.has(t.name)) continue;
    seen.add(t.name);
    tests.push(t);
  }
  return tests;
}
