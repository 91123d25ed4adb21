// `kube-netcheck grade`: its options, --help and flag validation. Kept free of the Kubernetes
// client so that main.ts can import it eagerly; the work is in ./grade.ts over src/grade/.
import { UsageError } from './io.js';
import { CHECK_TYPES } from '../grade/lab.js';
import { parsePassMark } from '../grade/score.js';
import { registryProblem } from '../cluster/registry.js';

export const GRADE_SYNOPSIS =
  'kube-netcheck grade [--lab L] (--namespace NS [--verify | --json FILE|-] | --namespaces GLOB[,GLOB] | --selector SEL) [--out DIR] [--pass-mark PCT] [--registry HOST[/PATH]] [--kubeconfig FILE] [--context NAME]';

export const GRADE_OPTIONS = {
  lab: { type: 'string' },
  rubric: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  namespaces: { type: 'string' },
  selector: { type: 'string', short: 'l' },
  out: { type: 'string' },
  verify: { type: 'boolean' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  json: { type: 'string' },
  'pass-mark': { type: 'string' },
  registry: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const GRADE_HELP = `Usage: ${GRADE_SYNOPSIS}

Grades a lab: inspects what students built, each in a namespace, against a lab of weighted checks
(manifests/grading/labs/*.yaml; docs/grading.md says how to write one) and prints PASS/FAIL per
check (with its hint when not passed) and the score. Nothing is changed in a student's namespace
(NetworkPolicy checks "from a pod labelled …" add a grader pod there for the probes and delete it).
HTTP and DNS are asked from unprivileged probe pods in a namespace of the grader's own (labelled
app.kubernetes.io/managed-by=kube-netcheck, deleted at the end, also on failure and Ctrl-C), one
set shared by the whole class. Without --kubeconfig/--context it grades on the kind cluster
kube-netcheck manages.

Options:
  --lab L              a shipped lab by name (seed, netpol, headless, nodeport, debug-service) or a
                       lab file (default: seed); --rubric FILE is the same
  -n, --namespace NS   grade one namespace (it must exist)
  --verify             with --namespace: one line for the student, exit 0 passed / 1 not yet; no files
  --json FILE          with --namespace: also write the result as JSON for an LMS; '-' to stdout
                       (the human-readable lines then go to stderr)
  --namespaces GLOBS   grade a class: every namespace matching one of the comma-separated globs
                       (student-*), or a comma-separated list of names (reported per student if
                       one does not exist)
  -l, --selector SEL   grade a class: the namespaces with these labels (course=net101)
  --out DIR            where a class's grade book goes: DIR/gradebook.csv and DIR/gradebook.json
                       (default ./grades)
  --pass-mark PCT      the percentage needed to pass, 0-100 (default: the lab's, else 100)
  --registry R         pull the grader's images from the mirror R (host[:port][/path]), as run does
                       (env KNC_REGISTRY; \`kube-netcheck images --registry R\` lists them)
  --kubeconfig FILE    the cluster's kubeconfig
  --context NAME       a context of that kubeconfig instead of its current-context
  -h, --help           this help

Check types a lab can use (type: …):
${Object.entries(CHECK_TYPES)
  .map(([c, s]) => `  ${c.padEnd(17)}${s}`)
  .join('\n')}

Environment: KNC_PROBE_IMAGE (the probe pods' image, default kube-netcheck.local/probe:trixie-r1;
it needs sh, wget, dig, busybox), KNC_API_TIMEOUT_MS.

Exit codes: 0 the score reached the pass mark, 1 it did not (a class: 0 only when every student was
graded and passed), 2 environment or usage error (a lab that is not valid: one line naming file, line and field; a
namespace not found with --namespace; cluster unreachable …), 130 interrupted (the grader's
namespace and pods are deleted first).`;

export interface GradeFlags {
  lab: string;
  namespace?: string;
  /** Class mode: globs or names. */
  namespaces?: string[];
  selector?: string;
  out: string;
  verify: boolean;
  kubeconfig?: string;
  context?: string;
  json?: string;
  passMark?: number;
  /** --registry: the mirror every image of the grader is pulled from (host[:port][/path]). */
  registry?: string;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const GLOB = /^[a-z0-9*?]([-a-z0-9*?]{0,62})$/;

/** Validates parsed options; throws UsageError('…', 'grade'). */
export function gradeFlags(v: {
  lab?: string;
  rubric?: string;
  namespace?: string;
  namespaces?: string;
  selector?: string;
  out?: string;
  verify?: boolean;
  kubeconfig?: string;
  context?: string;
  json?: string;
  'pass-mark'?: string;
  registry?: string;
}): GradeFlags {
  const nonEmpty = (x: string | undefined, flag: string) => {
    if (x === '') throw new UsageError(`${flag} needs a value`, 'grade');
    return x;
  };
  const modes = [v.namespace !== undefined, v.namespaces !== undefined, v.selector !== undefined].filter(Boolean).length;
  if (modes === 0) throw new UsageError('missing --namespace NS (one student) or --namespaces GLOB / --selector SEL (a class)', 'grade');
  if (modes > 1) throw new UsageError('--namespace, --namespaces and --selector exclude each other', 'grade');
  if (v.lab !== undefined && v.rubric !== undefined) throw new UsageError('--lab and --rubric are the same option: give one', 'grade');
  if (v.namespace !== undefined && !NAMESPACE.test(v.namespace))
    throw new UsageError(`--namespace ${JSON.stringify(v.namespace)} is not a valid namespace name`, 'grade');
  let namespaces: string[] | undefined;
  if (v.namespaces !== undefined) {
    namespaces = v.namespaces
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = namespaces.find((g) => !GLOB.test(g));
    if (!namespaces.length || bad !== undefined)
      throw new UsageError(`--namespaces ${JSON.stringify(bad ?? v.namespaces)} is not a namespace name or glob (letters, digits, '-', '*', '?')`, 'grade');
  }
  if ((v.verify || v.json !== undefined) && v.namespace === undefined)
    throw new UsageError(`${v.verify ? '--verify' : '--json'} grades one namespace: use it with --namespace NS`, 'grade');
  if (v.verify && v.json !== undefined) throw new UsageError('--verify writes no report: leave out --json', 'grade');
  let passMark: number | undefined;
  if (v['pass-mark'] !== undefined) {
    passMark = parsePassMark(v['pass-mark']);
    if (passMark === undefined) throw new UsageError(`--pass-mark ${JSON.stringify(v['pass-mark'])} is not a percentage from 0 to 100`, 'grade');
  }
  const registry = nonEmpty(v.registry, '--registry');
  const badRegistry = registry === undefined ? undefined : registryProblem(registry);
  if (badRegistry) throw new UsageError(`--registry ${JSON.stringify(registry!.slice(0, 80))}: ${badRegistry}`, 'grade');
  return {
    lab: nonEmpty(v.lab ?? v.rubric, v.lab !== undefined ? '--lab' : '--rubric') ?? 'seed',
    namespace: v.namespace,
    namespaces,
    selector: nonEmpty(v.selector, '--selector'),
    out: nonEmpty(v.out, '--out') ?? 'grades',
    verify: !!v.verify,
    kubeconfig: nonEmpty(v.kubeconfig, '--kubeconfig'),
    context: nonEmpty(v.context, '--context'),
    json: nonEmpty(v.json, '--json'),
    passMark,
    ...(registry ? { registry } : {}),
  };
}

/** A namespace glob as a regular expression (* any run of characters, ? one). */
export const globRe = (g: string) =>
  new RegExp(
    `^${g
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
