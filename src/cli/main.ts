// kube-netcheck CLI: a thin layer over the library (src/suite). It parses arguments, resolves the
// target, calls the suite in this process and maps outcomes to exit codes; an environment that is
// not usable is one line on stderr and exit 2. Commands are imported lazily: --help stays fast.
import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliFailure, EXIT, UsageError, failureLine, stdio, type Io } from './io.js';
import { splitTerms } from '../catalogue/select.js';
import { registryProblem } from '../cluster/registry.js';
import { GRADE_HELP, GRADE_OPTIONS, GRADE_SYNOPSIS, gradeFlags } from './grade-usage.js';
import type { ClusterIpFamily } from '../cluster/kind.js';

/** --ip-family's values (kind.ts's IP_FAMILY_CHOICES; not imported: --help stays free of execa). */
const IP_FAMILY_CHOICES: readonly ClusterIpFamily[] = ['ipv4', 'ipv6', 'dual'];

const SYNOPSIS: Record<string, string> = {
  '': 'kube-netcheck <run|cluster up|cluster down|cleanup|grade|conformance|cni-matrix|images> [options]',
  images: 'kube-netcheck images [--registry HOST[/PATH]]',
  run: 'kube-netcheck run [--kubeconfig FILE] [--context NAME] [--keep] [--report-dir DIR] [--nginx-image I] [--probe-image I] [--node-image I] [--cni NAME|--cni-manifest FILE] [--shape NAME] [--ip-family F] [--max-nodes N] [--only NAMES] [--skip NAMES] [--registry HOST[/PATH]]',
  cluster: 'kube-netcheck cluster <up|down> [--cni NAME|--cni-manifest FILE] [--shape NAME] [--ip-family F] [--node-image I]',
  cleanup: 'kube-netcheck cleanup [--kubeconfig FILE] [--context NAME]',
  grade: GRADE_SYNOPSIS,
  'cni-matrix': 'kube-netcheck cni-matrix [--cni NAMES] [--ip-family FAMILIES] [--out FILE] [--report-dir DIR]',
  conformance:
    'kube-netcheck conformance [--kubeconfig FILE] [--context NAME] [--focus RE] [--skip RE] [--report-dir DIR] [--spec-timeout DUR] [--timeout DUR] [--isolate] [--netpol]',
};

const EXIT_CODES = 'Exit codes: 0 every check passed, 1 a check failed, 2 environment or usage error (one line on stderr), 130 interrupted.';

const HELP: Record<string, string> = {
  '': `kube-netcheck: proves on a real cluster that Kubernetes networking keeps its promises
(pod IPs without NAT, Services, CoreDNS); negative controls show the checks can fail (which ones: README).

Usage: ${SYNOPSIS['']}

Commands:
  run            run the checks (the kind cluster kube-netcheck manages, or yours with --kubeconfig/--context)
  cluster up     create or reuse the kind cluster
  cluster down   delete the kind cluster
  cleanup        delete every namespace kube-netcheck created
  grade          grade a lab: score what students built, a namespace each, against a lab (one or a class)
  conformance    run upstream's [sig-network] [Conformance] tests (built offline) on the same cluster
  cni-matrix     every built-in CNI in turn: a kind cluster with it, the whole suite, one table
  images         every image run, grade, cluster up, the built-in CNIs and conformance use (--registry: as mirrored)

Options:
  -h, --help     this help; \`kube-netcheck <command> --help\` for a command's

${EXIT_CODES}`,

  run: `Usage: ${SYNOPSIS.run}

Runs the network-model checks (the catalogue in src/suite) in this process. Without --kubeconfig/--context it uses the kind
cluster kube-netcheck manages: an existing one reused as it is and left; one created first is
deleted afterwards unless --keep. Naming another CNI or shape than the existing one's: exit 2. With
them it uses that cluster as it is, after checking the kubeconfig, that the API server answers and
that the credentials may create namespaces, pods, deployments and services and exec into pods.

Options:
  --kubeconfig FILE   an existing cluster's kubeconfig (default with --context: $KUBECONFIG or ~/.kube/config)
  --context NAME      a context of that kubeconfig instead of its current-context
  --keep              keep the kind cluster after the run (KEEP_CLUSTER=1)
  --report-dir DIR    where results.json and the run state go (default: reports/)
  --nginx-image IMG   the nginx image of the workload (env KNC_NGINX_IMAGE)
  --probe-image IMG   the probe pods' image: sh, wget, dig, getent, busybox (env KNC_PROBE_IMAGE)
  --node-image IMG    the kind node image when kube-netcheck creates the cluster (env KNC_NODE_IMAGE)
  --cni NAME          the managed cluster's CNI (default flannel-host-gw; built-in: manifests/cni/*.yaml)
  --cni-manifest FILE your own CNI: the managed cluster is created without one and FILE is applied
  --shape NAME        the managed cluster's shape (default; alt: 1+1 nodes, other ranges and domain)
  --ip-family F       the managed cluster's IP family: ipv4 (default), ipv6 or dual (dual-stack; env
                      KNC_IP_FAMILY); needs IPv6 and ip6tables on this host
  --max-nodes N       probe at most N nodes (N >= 2) on a large cluster: a stratified sample that keeps
                      same-node, cross-node and control-plane pairs (execs grow with nodes)
  --only NAMES        run only these checks: comma-separated terms, each a check id (or its prefix,
                      e.g. pod-ip), a substring of its name (case-insensitive), a layer or a tag
                      (e.g. dns, udp, service, negative-control); repeatable
  --skip NAMES        leave these checks out (same terms); wins over --only
  --registry R        pull every image of the run from the mirror R (host[:port][/path]): registry.k8s.io/x/y:t
                      becomes R/x/y:t, nginx:1.27 R/library/nginx:1.27 (env KNC_REGISTRY; \`kube-netcheck images\`)
  -h, --help          this help

Environment: KNC_NGINX_IMAGE, KNC_PROBE_IMAGE (images on an existing cluster), KNC_API_TIMEOUT_MS
(API timeout for the up-front checks, default 5000), and everything the README lists.

${EXIT_CODES}`,

  images: `Usage: ${SYNOPSIS.images}

Lists every container image kube-netcheck's commands use, once each, with what uses it: run (the
offline images on clusters \`cluster up\` builds, the public defaults elsewhere), grade, cluster up
(in the kind node image), each built-in CNI and conformance. With --registry R (or KNC_REGISTRY)
each is shown as named in the mirror R, beside its source: copy them there, then run, grade and
conformance ask R for exactly these names. The rule: the image's registry host is replaced by R and
its path kept (registry.k8s.io/e2e-test-images/agnhost:2.56 -> R/e2e-test-images/agnhost:2.56;
nginx:1.27 -> R/library/nginx:1.27; kube-netcheck.local/probe:T -> R/probe:T).

${EXIT_CODES}`,

  cluster: `Usage: ${SYNOPSIS.cluster}

  up     create the kind cluster, or reuse it by name (scripts/cluster-up.sh); offline, the node and
         test images are built here first (\`make images\` builds them ahead)
  down   delete it and the host's safety-net routes (scripts/cluster-down.sh)

Options: --cni NAME, --cni-manifest FILE, --shape NAME, --ip-family F, --node-image IMG (as for run). Neither
command reads, writes or deletes a kubeconfig you point kube-netcheck at (KNC_KUBECONFIG): the
managed cluster's kubeconfig lives in kube-netcheck's cache.

Both need a working Docker engine (\`make setup\` installs and starts one).

${EXIT_CODES}`,

  cleanup: `Usage: ${SYNOPSIS.cleanup}

Deletes every namespace labelled app.kubernetes.io/managed-by=kube-netcheck (the leftovers of
interrupted or crashed runs) and prints their names. Without --kubeconfig/--context it cleans the
kind cluster kube-netcheck manages.

Options:
  --kubeconfig FILE   the cluster's kubeconfig
  --context NAME      a context of that kubeconfig instead of its current-context
  -h, --help          this help

${EXIT_CODES}`,

  grade: GRADE_HELP,

  'cni-matrix': `Usage: ${SYNOPSIS['cni-matrix']}

Brings up each built-in CNI (manifests/cni/) in turn on a kind cluster of its own (created, checked,
deleted; they run one after the other), runs the whole suite on it and writes the CNI × check table
(pass / FAIL / not enforced / n/a) with each CNI's pod MTU, cluster-up and suite wall times.

Options:
  --cni NAMES         only these CNIs (comma-separated; default: all built-in)
  --ip-family F       IP families, comma-separated (ipv4, ipv6, dual; default ipv4): a cluster per CNI and
                      family; columns other than ipv4 go to the file's "IP families" section, which an
                      ipv4 run keeps
  --out FILE          the table (default docs/cni-matrix.md)
  --report-dir DIR    each CNI's reports in DIR/<cni>/ (default reports/cni-matrix)
  -h, --help          this help

Exit 0 when every CNI's cluster came up and was checked (failed checks are the table's business),
2 when one could not be brought up.`,

  conformance: `Usage: ${SYNOPSIS.conformance}

Runs Kubernetes' own [sig-network] [Conformance] tests (45 at v1.34.4; e2e.test and its images built
offline by scripts/build/conformance.sh, cached by version) against the kind cluster kube-netcheck
manages or the cluster you name. Upstream's JUnit goes to DIR/conformance/junit_01.xml, and an
"upstream conformance" section is added to DIR/results.json, summary.md and report.html (beside the
checks of a \`kube-netcheck run\` with the same --report-dir).

Options:
  --kubeconfig FILE   the cluster's kubeconfig (default: the managed kind cluster's)
  --context NAME      a context of that kubeconfig
  --focus RE          only tests whose name matches (Ginkgo regex, within the 45)
  --skip RE           leave out tests whose name matches
  --report-dir DIR    default reports/
  --spec-timeout DUR  time budget per test (Go duration, default 5m); the whole run is bounded by it
  --timeout DUR       cap on the whole run (default 30m)
  --isolate           one e2e.test process per test
  --netpol            upstream's NetworkPolicy e2e tests instead (test/e2e/network/netpol,
                      [Feature:NetworkPolicy]: 45 at v1.34.4, the 3 SCTP ones left out; agnhost only;
                      default --timeout 90m); compare with "run --only netpol" (docs/netpol.md)
  -h, --help          this help

Bad input (an e2e.test built for another Kubernetes version, test images missing on the nodes, a
focus that selects nothing) is one line and exit 2, before anything runs.

${EXIT_CODES}`,
};

const CLUSTER_OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const RUN_OPTIONS = {
  ...CLUSTER_OPTIONS,
  keep: { type: 'boolean' },
  'report-dir': { type: 'string' },
  'nginx-image': { type: 'string' },
  'probe-image': { type: 'string' },
  'node-image': { type: 'string' },
  cni: { type: 'string' },
  'cni-manifest': { type: 'string' },
  shape: { type: 'string' },
  'ip-family': { type: 'string' },
  'max-nodes': { type: 'string' },
  registry: { type: 'string' },
  only: { type: 'string', multiple: true },
  skip: { type: 'string', multiple: true },
} as const;

/** parseArgs, with its errors turned into UsageErrors ("unknown option '--x'"). */
function parse<const T extends ParseArgsConfig>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    const first = ((err as Error).message.split(/\.\s/)[0] ?? '').replace(/\.$/, '');
    throw new UsageError(first.charAt(0).toLowerCase() + first.slice(1), command);
  }
}

function usageLine(err: UsageError): string {
  const who = err.command ? `kube-netcheck ${err.command}` : 'kube-netcheck';
  const help = err.command ? `kube-netcheck ${err.command} --help` : 'kube-netcheck --help';
  return `${who}: ${err.message}; usage: ${SYNOPSIS[err.command] ?? SYNOPSIS['']} (more: ${help})`;
}

const nonEmpty = (v: string | undefined, flag: string, command: string): string | undefined => {
  if (v === '') throw new UsageError(`${flag} needs a value`, command);
  return v;
};

/** --cni / --cni-manifest / --shape: one CNI source at most; a manifest must be a readable file. */
function clusterChoice(v: { cni?: string; 'cni-manifest'?: string; shape?: string; 'ip-family'?: string }, command: string) {
  const cni = nonEmpty(v.cni, '--cni', command);
  const cniManifest = nonEmpty(v['cni-manifest'], '--cni-manifest', command);
  if (cni && cniManifest) throw new UsageError('--cni and --cni-manifest exclude each other', command);
  if (cniManifest && !existsSync(cniManifest)) throw new UsageError(`--cni-manifest ${quote(cniManifest)}: no such file`, command);
  const ipFamily = nonEmpty(v['ip-family'], '--ip-family', command);
  if (ipFamily !== undefined && !(IP_FAMILY_CHOICES as readonly string[]).includes(ipFamily)) {
    throw new UsageError(`--ip-family ${quote(ipFamily)}: one of ${IP_FAMILY_CHOICES.join(', ')}`, command);
  }
  return { cni, cniManifest, shape: nonEmpty(v.shape, '--shape', command), ipFamily: ipFamily as ClusterIpFamily | undefined };
}

function maxNodes(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 2) throw new UsageError(`--max-nodes ${quote(v)}: a whole number of at least 2`, 'run');
  return Number(v);
}

/** --registry: host[:port][/path]. */
function registryFlag(v: string | undefined, command: string): string | undefined {
  const r = nonEmpty(v, '--registry', command);
  const why = r === undefined ? undefined : registryProblem(r);
  if (why) throw new UsageError(`--registry ${quote(r!)}: ${why}`, command);
  return r;
}

/** A user's input in an error line: quoted, at most ~120 characters. */
export const quote = (s: string, max = 120) => JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);

async function dispatch(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('missing command');
  if (command === '-h' || command === '--help') {
    io.out(HELP['']);
    return EXIT.OK;
  }
  switch (command) {
    case 'run': {
      const { values: v } = parse('run', { args: rest, options: RUN_OPTIONS, strict: true });
      if (v.help) return (io.out(HELP.run), EXIT.OK);
      const { runCommand } = await import('./run.js');
      return runCommand(
        {
          kubeconfig: nonEmpty(v.kubeconfig, '--kubeconfig', 'run'),
          context: nonEmpty(v.context, '--context', 'run'),
          keep: v.keep ?? false,
          reportDir: nonEmpty(v['report-dir'], '--report-dir', 'run'),
          nginxImage: nonEmpty(v['nginx-image'], '--nginx-image', 'run'),
          probeImage: nonEmpty(v['probe-image'], '--probe-image', 'run'),
          nodeImage: nonEmpty(v['node-image'], '--node-image', 'run'),
          ...clusterChoice(v, 'run'),
          maxNodes: maxNodes(v['max-nodes']),
          registry: registryFlag(v.registry, 'run'),
          only: splitTerms(v.only),
          skip: splitTerms(v.skip),
        },
        io,
      );
    }
    case 'cluster': {
      const { values: v, positionals } = parse('cluster', {
        args: rest,
        options: {
          help: CLUSTER_OPTIONS.help,
          cni: RUN_OPTIONS.cni,
          'cni-manifest': RUN_OPTIONS['cni-manifest'],
          shape: RUN_OPTIONS.shape,
          'ip-family': RUN_OPTIONS['ip-family'],
          'node-image': RUN_OPTIONS['node-image'],
        },
        strict: true,
        allowPositionals: true,
      });
      if (v.help) return (io.out(HELP.cluster), EXIT.OK);
      const [action, ...extra] = positionals;
      if (action !== 'up' && action !== 'down') throw new UsageError(action ? `unknown action '${action}'` : 'missing action (up or down)', 'cluster');
      if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`, 'cluster');
      const { clusterCommand } = await import('./cluster.js');
      return clusterCommand(action, { nodeImage: nonEmpty(v['node-image'], '--node-image', 'cluster'), ...clusterChoice(v, 'cluster') }, io);
    }
    case 'cleanup': {
      const { values: v } = parse('cleanup', { args: rest, options: CLUSTER_OPTIONS, strict: true });
      if (v.help) return (io.out(HELP.cleanup), EXIT.OK);
      const { cleanupCommand } = await import('./cleanup.js');
      return cleanupCommand({ kubeconfig: nonEmpty(v.kubeconfig, '--kubeconfig', 'cleanup'), context: nonEmpty(v.context, '--context', 'cleanup') }, io);
    }
    case 'grade': {
      const { values: v } = parse('grade', { args: rest, options: GRADE_OPTIONS, strict: true });
      if (v.help) return (io.out(HELP.grade), EXIT.OK);
      const { gradeCommand } = await import('./grade.js');
      return gradeCommand(gradeFlags(v), io);
    }
    case 'images': {
      const { values: v } = parse('images', { args: rest, options: { help: CLUSTER_OPTIONS.help, registry: { type: 'string' } }, strict: true });
      if (v.help) return (io.out(HELP.images), EXIT.OK);
      const { imagesCommand } = await import('./images.js');
      return imagesCommand({ registry: registryFlag(v.registry, 'images') ?? (process.env.KNC_REGISTRY || undefined) }, io);
    }
    case 'cni-matrix': {
      const { values: v } = parse('cni-matrix', {
        args: rest,
        options: {
          help: CLUSTER_OPTIONS.help,
          cni: { type: 'string', multiple: true },
          'ip-family': { type: 'string', multiple: true },
          out: { type: 'string' },
          'report-dir': { type: 'string' },
        },
        strict: true,
      });
      if (v.help) return (io.out(HELP['cni-matrix']), EXIT.OK);
      const [{ cniMatrixCommand, builtInCnis }, { requireDocker }] = await Promise.all([import('./cni-matrix.js'), import('./docker.js')]);
      const cnis = splitTerms(v.cni);
      const known = builtInCnis();
      const unknown = cnis.filter((c) => !known.includes(c));
      if (unknown.length) throw new UsageError(`--cni ${quote(unknown[0])}: not a built-in CNI (${known.join(', ')})`, 'cni-matrix');
      const families = splitTerms(v['ip-family']);
      const badFamily = families.find((f) => !IP_FAMILY_CHOICES.includes(f as ClusterIpFamily));
      if (badFamily !== undefined) throw new UsageError(`--ip-family ${quote(badFamily)}: one of ${IP_FAMILY_CHOICES.join(', ')}`, 'cni-matrix');
      await requireDocker();
      return cniMatrixCommand(
        {
          cnis,
          out: nonEmpty(v.out, '--out', 'cni-matrix') ?? 'docs/cni-matrix.md',
          reportDir: nonEmpty(v['report-dir'], '--report-dir', 'cni-matrix') ?? 'reports/cni-matrix',
          families: [...new Set(families)] as ClusterIpFamily[],
        },
        io,
      );
    }
    case 'conformance': {
      const { values: v } = parse('conformance', {
        args: rest,
        options: {
          ...CLUSTER_OPTIONS,
          focus: { type: 'string' },
          skip: { type: 'string' },
          'report-dir': { type: 'string' },
          'spec-timeout': { type: 'string' },
          timeout: { type: 'string' },
          isolate: { type: 'boolean' },
          netpol: { type: 'boolean' },
        },
        strict: true,
      });
      if (v.help) return (io.out(HELP.conformance), EXIT.OK);
      const [{ conformanceCommand }, { addSection }, path] = await Promise.all([
        import('./conformance.js'),
        import('../report/reporter.js'),
        import('node:path'),
      ]);
      const dir = path.resolve(nonEmpty(v['report-dir'], '--report-dir', 'conformance') ?? 'reports');
      return conformanceCommand(
        {
          kubeconfig: nonEmpty(v.kubeconfig, '--kubeconfig', 'conformance'),
          context: nonEmpty(v.context, '--context', 'conformance'),
          focus: v.focus,
          skip: v.skip,
          reportDir: path.join(dir, v.netpol ? 'conformance-netpol' : 'conformance'),
          specTimeout: v['spec-timeout'],
          timeout: nonEmpty(v.timeout, '--timeout', 'conformance'),
          isolate: v.isolate,
          netpol: v.netpol,
          onResult: (r) => {
            addSection(dir, v.netpol ? 'conformanceNetpol' : 'conformance', r);
            io.out(`reports: upstream ${v.netpol ? 'Netpol' : 'conformance'} section added to ${path.join(dir, 'results.json')}, summary.md, report.html`);
          },
        },
        io,
      );
    }
    default:
      throw new UsageError(command.startsWith('-') ? `unknown option '${command}'` : `unknown command '${command}'`);
  }
}

/** Runs the CLI; resolves to the exit code. Never throws: every failure is one line on stderr. */
export async function main(argv: string[], io: Io = stdio): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (err) {
    io.err(err instanceof UsageError ? usageLine(err) : failureLine(err));
    return err instanceof CliFailure ? err.exitCode : EXIT.ENV;
  }
}
