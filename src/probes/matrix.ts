// The NetworkPolicy reachability matrix's probe: one perl process per source pod (perl-base is in
// every Debian-based image, the offline probe image included) that tries every cell of the pod's
// row at once — one forked child per (target, protocol, port) — and prints one line per cell:
//   KNC-CELL <id> <outcome> <ms> <what the server said, or the error>
// outcome: ok (the server answered: its "<namespace>/<pod>"), refused (RST / ICMP port unreachable),
// unreachable (ICMP host/net unreachable: an engine that rejects), timeout (nothing in time),
// closed (TCP connected, closed without a word), error (anything else, with the error).
// perl-base only (no Time::HiRes): times from /proc/uptime (10 ms resolution), waits through select.
// TCP: connect, read the server's one line. UDP: a datagram every 200 ms until an answer or the
// deadline (a lost datagram is not a denial). The server side is manifests/netpol/matrix-pod.yaml.
import type { Probe } from './batch.js';

export type Protocol = 'TCP' | 'UDP';

/** One cell of a source pod's row: id (shell-safe, unique in the row), protocol, address, port. */
export interface CellAsk {
  id: string;
  protocol: Protocol;
  host: string;
  port: number;
  /** This cell's budget (ms) when it differs from the probe's (an expected answer may take longer under load). */
  limitMs?: number;
}

export type CellOutcome = 'ok' | 'refused' | 'unreachable' | 'timeout' | 'closed' | 'error';
const OUTCOMES: readonly string[] = ['ok', 'refused', 'unreachable', 'timeout', 'closed', 'error'];

export interface CellResult {
  outcome: CellOutcome;
  ms: number;
  /** The server's answer ("ns/pod") when ok, the error text otherwise. */
  said: string;
}

export const MATRIX_CLIENT = `use strict; use warnings; use IO::Socket::IP; use IO::Select;
use Errno qw(ECONNREFUSED ETIMEDOUT EHOSTUNREACH ENETUNREACH);
sub now { open(my $f, '<', '/proc/uptime') or return time; my ($t) = split / /, scalar <$f>; return $t }
$| = 1; my $limit = shift(@ARGV) / 1000; my @kids;
for my $cell (@ARGV) {
  my ($id, $proto, $host, $port, $own) = split /,/, $cell; my $lim = defined $own ? $own / 1000 : $limit;
  my $pid = fork; die "fork: $!\\n" unless defined $pid;
  if ($pid) { push @kids, $pid; next }
  my $t0 = now(); my $end = $t0 + $lim; my ($what, $said) = ('timeout', 'no answer');
  my $s = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port, Proto => lc $proto, Timeout => $lim);
  if (!$s) {
    $what = $! == ECONNREFUSED ? 'refused' : ($! == EHOSTUNREACH || $! == ENETUNREACH) ? 'unreachable' : ($! == ETIMEDOUT || $@ =~ /timed out/i) ? 'timeout' : 'error';
    $said = $@ || "$!"; $said =~ s/\\s+/ /g;
  } else {
    my $sel = IO::Select->new($s); my $next = 0;
    while ((my $now = now()) < $end) {
      if ($proto eq 'udp' && $now >= $next) { $s->send("knc\\n"); $next = $now + 0.2 }
      my $wait = ($proto eq 'udp' && $next < $end ? $next : $end) - $now;
      next unless $sel->can_read($wait > 0 ? $wait : 0);
      my $n = sysread($s, my $buf, 512);
      if ($n) { ($what, $said) = ('ok', $buf =~ s/\\s+$//r); last }
      if (!defined $n) { ($what, $said) = ($! == ECONNREFUSED ? 'refused' : $! == EHOSTUNREACH ? 'unreachable' : 'error', "$!"); last }
      ($what, $said) = ('closed', 'closed without an answer'); last;
    }
  }
  printf "KNC-CELL %s %s %d %s\\n", $id, $what, (now() - $t0) * 1000, $said;
  exit 0;
}
$SIG{ALRM} = sub { kill 'KILL', @kids; print "KNC-CELLS killed after the deadline\\n"; exit 3 };
alarm(int($limit) + 6); waitpid($_, 0) for @kids;`;

/**
 * The starvation control of a source pod's row: the pod's own server over loopback (TCP and UDP 80).
 * No NetworkPolicy and no CNI touches loopback, so these answer within milliseconds unless the pod
 * or its node is starved of CPU; a round where one did not answer in time cannot tell a dropped
 * allowed cell from a client or server that was not scheduled (see roundOf's `starved`).
 */
export const SELF_CELLS: CellAsk[] = [
  { id: 'self.TCP80', protocol: 'TCP', host: '127.0.0.1', port: 80 },
  { id: 'self.UDP80', protocol: 'UDP', host: '127.0.0.1', port: 80 },
];
export const isSelfCell = (id: string) => id.startsWith('self.');

/** A cell's id in a source's row: the target's index among the row's targets, protocol and port ("3.UDP81"). */
export const cellId = (target: number, protocol: Protocol, port: number) => `${target}.${protocol}${port}`;
export function parseCellId(id: string): { target: number; protocol: Protocol; port: number } | undefined {
  const m = /^(\d+)\.(TCP|UDP)(\d+)$/.exec(id);
  return m ? { target: Number(m[1]), protocol: m[2] as Protocol, port: Number(m[3]) } : undefined;
}

/** The protocol as the client script names it. */
const proto = (p: Protocol) => p.toLowerCase();

/**
 * One probe that tries every cell of a source pod's row at once, each bounded by `timeoutMs` (or
 * its own `limitMs`); the whole run is bounded by perl's own alarm and an outer `timeout -s KILL`.
 */
export function matrixProbe(id: string, cells: CellAsk[], timeoutMs = 2000): Probe {
  for (const c of cells) if (!/^[A-Za-z0-9_.:-]+$/.test(c.id)) throw new Error(`cell id not shell-safe: ${c.id}`);
  const longest = Math.max(timeoutMs, ...cells.map((c) => c.limitMs ?? 0));
  const outer = Math.ceil(longest / 1000) + 8;
  return {
    id,
    argv: [
      'timeout',
      '-s',
      'KILL',
      String(outer),
      'perl',
      '-e',
      MATRIX_CLIENT,
      String(longest),
      // the first argument is the longest budget (perl's alarm); a cell with a shorter one carries it
      ...cells.map((c) => `${c.id},${proto(c.protocol)},${c.host},${c.port}${(c.limitMs ?? timeoutMs) !== longest ? `,${c.limitMs ?? timeoutMs}` : ''}`),
    ],
  };
}

/** The cells' results from the client's output; a cell without its line is absent (the verdict says "not run"). */
export function parseMatrixOutput(output: string): Map<string, CellResult> {
  const out = new Map<string, CellResult>();
  for (const m of output.matchAll(/^KNC-CELL (\S+) (\S+) (\d+) ?(.*)$/gm)) {
    const outcome = OUTCOMES.includes(m[2]) ? (m[2] as CellOutcome) : 'error';
    out.set(m[1], { outcome, ms: Number(m[3]), said: outcome === m[2] ? m[4] : `${m[2]} ${m[4]}` });
  }
  return out;
}

/** Can this pod open an SCTP socket? (the kernel's SCTP module; "ok" or the error) */
export const SCTP_SOCKET = [
  'perl',
  '-e',
  'use Socket; socket(my $s, PF_INET, SOCK_STREAM, 132) or do { print "no SCTP: socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP): $!\\n"; exit 1 }; print "ok\\n"',
];
