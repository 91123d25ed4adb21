// `kube-netcheck grade`: its options, --help and flag validation. Kept free of the Kubernetes
// client so that main.ts can import it eagerly; the work is in ./command.ts.
import { UsageError } from './io.js';
import { CHECK_IDS, CHECK_SUMMARY } from '../grade/items.js';
import { parsePassMark } from '../grade/score.js';

export const GRADE_SYNOPSIS = 'kube-netcheck grade --namespace NS [--rubric FILE] [--kubeconfig FILE] [--context NAME] [--json FILE|-] [--pass-mark PCT]';

export const GRADE_OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  rubric: { type: 'string' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  json: { type: 'string' },
  'pass-mark': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const GRADE_HELP = `Usage: ${GRADE_SYNOPSIS}

Grades a lab: inspects what a student built in namespace NS against a rubric of weighted items
and prints PASS/FAIL per item (with the item's hint on a failure) and the score. Nothing is
created, changed or deleted in NS. HTTP and DNS are asked from an unprivileged probe pod in a
namespace of the grader's own (labelled app.kubernetes.io/managed-by=kube-netcheck, deleted at the
end, also on failure and Ctrl-C). Without --kubeconfig/--context it grades on the kind cluster
kube-netcheck manages.

Options:
  -n, --namespace NS   the namespace to grade (required; it must exist)
  --rubric FILE        a rubric YAML (default: manifests/grading/default-rubric.yaml, the seed lab:
                       Deployment my-nginx, 2 Ready replicas labelled run=my-nginx on port 80,
                       Service my-nginx port 80, its Endpoints, HTTP, DNS); the file's header
                       describes the format
  --kubeconfig FILE    the cluster's kubeconfig
  --context NAME       a context of that kubeconfig instead of its current-context
  --json FILE          also write the result as JSON for an LMS to FILE; '-' writes it to stdout
                       (the human-readable lines then go to stderr)
  --pass-mark PCT      the percentage needed to pass, 0-100 (default 100)
  -h, --help           this help

Checks a rubric item can name (check: ID):
${CHECK_IDS.map((c) => `  ${c.padEnd(17)}${CHECK_SUMMARY[c]}`).join('\n')}

Environment: KNC_PROBE_IMAGE (the probe pod's image, default kube-netcheck.local/probe:trixie-r1;
it needs sh, wget, dig), KNC_API_TIMEOUT_MS.

Exit codes: 0 the score reached the pass mark, 1 it did not, 2 environment or usage error
(malformed rubric, unknown check id, namespace not found, cluster unreachable …; one line on
stderr), 130 interrupted (the probe namespace is deleted first).`;

export interface GradeFlags {
  namespace: string;
  rubric?: string;
  kubeconfig?: string;
  context?: string;
  json?: string;
  passMark: number;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Validates parsed options; throws UsageError('…', 'grade'). */
export function gradeFlags(v: { namespace?: string; rubric?: string; kubeconfig?: string; context?: string; json?: string; 'pass-mark'?: string }): GradeFlags {
  const nonEmpty = (x: string | undefined, flag: string) => {
    if (x === '') throw new UsageError(`${flag} needs a value`, 'grade');
    return x;
  };
  if (v.namespace === undefined) throw new UsageError('missing --namespace NS (the namespace to grade)', 'grade');
  if (!NAMESPACE.test(v.namespace)) throw new UsageError(`--namespace ${JSON.stringify(v.namespace)} is not a valid namespace name`, 'grade');
  let passMark = 100;
  if (v['pass-mark'] !== undefined) {
    const pm = parsePassMark(v['pass-mark']);
    if (pm === undefined) throw new UsageError(`--pass-mark ${JSON.stringify(v['pass-mark'])} is not a percentage from 0 to 100`, 'grade');
    passMark = pm;
  }
  return {
    namespace: v.namespace,
    rubric: nonEmpty(v.rubric, '--rubric'),
    kubeconfig: nonEmpty(v.kubeconfig, '--kubeconfig'),
    context: nonEmpty(v.context, '--context'),
    json: nonEmpty(v.json, '--json'),
    passMark,
  };
}
