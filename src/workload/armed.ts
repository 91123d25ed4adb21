// An exec started before its moment, kept for the run: its command reads commands on stdin, one
// line each, and runs each when it arrives (src/probes/traffic.ts sessionArgv: a hold, a reading
// of the node's kube-proxy); its stdout is read line by line while it runs, each command's output
// up to its own last line. What this saves is the exec's own round trip (API server -> kubelet ->
// container runtime -> the process) and its CPU (about 0.2 s of the cluster's per exec on a kind
// node, runc's share the most): paid once per source and run, and while the cluster converges,
// instead of once per hold after. Nothing it runs starts before its line: the command reads first.
import { PassThrough } from 'node:stream';
import type { Kube } from '../kube/client.js';
import { execInPod, type ExecResult } from '../kube/exec.js';
import { key } from './fanout.js';
import type { ProbeRef } from './setup.js';

export interface Armed {
  from: ProbeRef;
  /** Writes one line to the command's stdin (a line to an exec that has ended goes nowhere). */
  send(line: string): void;
  /** The first stdout line matching `re` that has arrived so far, and when (epoch ms). */
  seen(re: RegExp): { text: string; atMs: number } | undefined;
  /**
   * The lines after those the last call returned, up to and including the first one matching
   * `end`, once it arrived (its arrival time with it); undefined once the exec ended without one,
   * or after `timeoutMs` — the lines are then left unread (such a session is not used again).
   */
  next(end: RegExp, timeoutMs: number): Promise<{ lines: string[]; atMs: number } | undefined>;
  /** Whether the exec has ended. */
  ended(): boolean;
  /** The exec's result, or why it has none (never rejects). */
  done: Promise<ExecResult | Error>;
}

/** Starts `argv` in `from` now; counted as one exec and one probe of the run. */
export function arm(kube: Kube, from: ProbeRef, argv: string[], timeoutMs: number): Armed {
  kube.tally.execs++;
  kube.tally.probes++;
  const stdin = new PassThrough();
  type Line = { text: string; atMs: number };
  const lines: Line[] = [];
  let read = 0; // lines handed out by next()
  let partial = '';
  let ended = false;
  const changed: Array<() => void> = [];
  const offer = (text: string) => {
    lines.push({ text, atMs: Date.now() });
    for (const w of changed.splice(0)) w();
  };
  const done = execInPod({
    kc: kube.kc,
    namespace: from.namespace,
    pod: from.pod,
    command: argv,
    timeoutMs,
    stdin,
    onStdout: (text) => {
      const parts = (partial + text).split('\n');
      partial = parts.pop()!;
      parts.forEach(offer);
    },
  }).then(
    (r) => r,
    (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
  );
  void done.then(() => {
    ended = true;
    if (partial) offer(partial);
    partial = '';
    for (const w of changed.splice(0)) w();
    stdin.destroy();
  });
  const next = (end: RegExp, timeoutMs: number) =>
    new Promise<{ lines: string[]; atMs: number } | undefined>((resolve) => {
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      function finish(r: { lines: string[]; atMs: number } | undefined) {
        clearTimeout(timer);
        resolve(r);
      }
      const look = () => {
        const i = lines.findIndex((l, j) => j >= read && end.test(l.text));
        if (i >= 0) {
          const block = lines.slice(read, i + 1);
          read = i + 1;
          return finish({ lines: block.map((l) => l.text), atMs: lines[i].atMs });
        }
        if (ended) return finish(undefined);
        changed.push(look);
      };
      look();
    });
  return {
    from,
    send: (l) => {
      if (!ended && !stdin.destroyed) stdin.write(`${l}\n`);
    },
    seen: (re) => lines.find((l) => re.test(l.text)),
    next,
    ended: () => ended,
    done,
  };
}

/**
 * The run's sessions, by source: an idle one is handed out again; a source whose sessions are all
 * in use (two holds at once from one pod) gets another. What a caller gives back must have read
 * the whole output of every command it sent; one that did not (a timeout, an error) is stopped.
 */
export class Sessions {
  private idle = new Map<string, Armed[]>();
  private all = new Set<Armed>();
  constructor(
    private readonly kube: Kube,
    private readonly argvOf: (from: ProbeRef) => string[],
    private readonly timeoutMs: number,
  ) {}

  acquire(from: ProbeRef): Armed {
    const free = this.idle.get(key(from)) ?? [];
    let a = free.shift();
    while (a?.ended()) a = free.shift();
    if (a) {
      this.kube.tally.probes++;
      return a;
    }
    const made = arm(this.kube, from, this.argvOf(from), this.timeoutMs);
    this.all.add(made);
    void made.done.then(() => this.all.delete(made));
    return made;
  }

  giveBack(a: Armed): void {
    if (a.ended() || !this.all.has(a)) return;
    this.idle.set(key(a.from), [...(this.idle.get(key(a.from)) ?? []), a]);
  }

  /** Ends a session that is not to be used again ("stop", read after whatever it still runs). */
  discard(a: Armed): void {
    a.send('stop');
    this.all.delete(a);
  }

  /** Ends every session (each reads "stop" after what it runs) and waits for them, at most `waitMs`. */
  async close(waitMs = 10_000): Promise<void> {
    const open = [...this.all];
    this.all.clear();
    this.idle.clear();
    for (const a of open) a.send('stop');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(open.map((a) => a.done)), new Promise((res) => (timer = setTimeout(res, waitMs)))]);
    clearTimeout(timer);
  }
}

const pools = new WeakMap<object, Sessions>();

/** The run's sessions (one pool per run environment), made on its first use. */
export function runSessions(env: { kube: Kube }, argvOf: (from: ProbeRef) => string[], timeoutMs: number): Sessions {
  let p = pools.get(env);
  if (!p) pools.set(env, (p = new Sessions(env.kube, argvOf, timeoutMs)));
  return p;
}

/** Ends the run's sessions, if it had any (the engine, once the run's last phase is over). */
export async function closeRunSessions(env: object): Promise<void> {
  const p = pools.get(env);
  pools.delete(env);
  await p?.close();
}
