// An exec started before its moment, kept for the run: its command reads commands on stdin, one
// line each, and runs each when it arrives (src/probes/traffic.ts sessionArgv: a hold, a reading
// of the node's kube-proxy); its stdout is read line by line while it runs, each command's output
// up to its own last line. What this saves is the exec's own round trip (API server -> kubelet ->
// container runtime -> the process) and its CPU (about 0.2 s of the cluster's per exec on a kind
// node, runc's share the most): paid once per source and run, and while the cluster converges,
// instead of once per hold after. Nothing it runs starts before its line: the command reads first.
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { Kube } from '../kube/client.js';
import { execInPod, type ExecResult } from '../kube/exec.js';
import { sessionArgv } from '../probes/traffic.js';
import { key } from './key.js';
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

/**
 * A command's stdout as it streams in, cut into lines (each with its arrival time), handed out
 * command by command: `next` returns the lines after those it returned last, up to and including
 * the first that matches `end`. Pure: the exec feeds it (`feed`, then `close` when it ended).
 */
export class Lines {
  private lines: Array<{ text: string; atMs: number }> = [];
  private read = 0; // the lines handed out by next()
  private partial = '';
  private closed = false;
  private waiting: Array<() => void> = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** A piece of stdout (any cut: a line may come in several pieces). */
  feed(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop()!;
    for (const p of parts) this.lines.push({ text: p, atMs: this.now() });
    if (parts.length) this.wake();
  }

  /** The stream ended: a last line without its newline counts. */
  close(): void {
    if (this.partial) this.lines.push({ text: this.partial, atMs: this.now() });
    this.partial = '';
    this.closed = true;
    this.wake();
  }

  get ended(): boolean {
    return this.closed;
  }

  seen(re: RegExp): { text: string; atMs: number } | undefined {
    return this.lines.find((l) => re.test(l.text));
  }

  next(end: RegExp, timeoutMs: number): Promise<{ lines: string[]; atMs: number } | undefined> {
    return new Promise((resolve) => {
      let over = false;
      const finish = (r: { lines: string[]; atMs: number } | undefined) => {
        over = true;
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      let at = this.read; // the lines before it were looked at already
      const look = () => {
        if (over) return; // timed out: its lines stay unread
        for (; at < this.lines.length; at++)
          if (end.test(this.lines[at].text)) {
            const block = this.lines.slice(this.read, at + 1);
            this.read = at + 1;
            return finish({ lines: block.map((l) => l.text), atMs: block[block.length - 1].atMs });
          }
        if (this.closed) return finish(undefined);
        this.waiting.push(look);
      };
      look();
    });
  }

  private wake(): void {
    for (const w of this.waiting.splice(0)) w();
  }
}

/** Starts `argv` in `from` now; counted as one exec of the run (each command a probe, counted by its caller). */
export function arm(kube: Kube, from: ProbeRef, argv: string[], timeoutMs: number): Armed {
  kube.tally.execs++;
  const stdin = new PassThrough();
  const out = new Lines();
  const done = execInPod({
    kc: kube.kc,
    namespace: from.namespace,
    pod: from.pod,
    command: argv,
    timeoutMs,
    stdin,
    onStdout: (text) => out.feed(text),
    keepAliveMs: 20_000,
  }).then(
    (r) => r,
    (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
  );
  void done.then(() => {
    out.close();
    stdin.destroy();
  });
  return {
    from,
    send: (l) => {
      if (!out.ended && !stdin.destroyed) stdin.write(`${l}\n`);
    },
    seen: (re) => out.seen(re),
    next: (end, ms) => out.next(end, ms),
    ended: () => out.ended,
    done,
  };
}

/** A command sent to a session: its id, whose end line closes its output. */
export interface Asked {
  id: string;
  atMs: number;
}

/** Sends `command` ("<name> <arguments…>", sessionArgv) with an id of its own, then `body`'s lines. */
export function ask(a: Armed, command: string, body?: readonly string[]): Asked {
  const id = randomBytes(6).toString('hex');
  const [name, ...args] = command.split(' ');
  a.send([[name, id, ...args].join(' '), ...(body ?? [])].join('\n'));
  return { id, atMs: Date.now() };
}

/**
 * The output of an asked command, once its end line came: its lines before that line, its exit
 * code, when it ended (epoch ms); undefined once the session ended without it or after `timeoutMs`.
 */
export async function answer(a: Armed, asked: Asked, timeoutMs: number): Promise<{ lines: string[]; rc: number; atMs: number } | undefined> {
  const end = new RegExp(`^KNC end ${asked.id} rc=(\\d+)$`);
  const b = await a.next(end, timeoutMs);
  return b && { lines: b.lines.slice(0, -1), rc: Number(end.exec(b.lines[b.lines.length - 1])![1]), atMs: b.atMs };
}

/**
 * The run's sessions, by source: an idle one is handed out again; a source whose sessions are all
 * in use (two holds at once from one pod) gets another. What a caller gives back must have read
 * the whole output of every command it sent; one that did not (a timeout, an error) is stopped.
 * At most `maxOpen` are open at once: beyond, `tryAcquire` says none (the caller execs as before).
 */
export class Sessions {
  private idle = new Map<string, Armed[]>();
  private all = new Set<Armed>();
  constructor(
    private readonly kube: Kube,
    private readonly maxOpen: number,
  ) {}

  /** An idle session of `from`, or a new one (new ones beyond maxOpen only with `force`); counted as one probe of the run. */
  tryAcquire(from: ProbeRef, force = false): Armed | undefined {
    const free = this.idle.get(key(from)) ?? [];
    let a = free.shift();
    while (a?.ended()) a = free.shift();
    a ??= this.open(from, force);
    if (a) this.kube.tally.probes++;
    return a;
  }

  /** A new session (one exec of the run), unless maxOpen are open and not `force`. */
  private open(from: ProbeRef, force: boolean): Armed | undefined {
    if (!force && this.all.size >= this.maxOpen) return undefined;
    const made = arm(this.kube, from, sessionArgv(from.hostNetwork), SESSION_MS);
    this.all.add(made);
    void made.done.then(() => this.all.delete(made));
    return made;
  }

  acquire(from: ProbeRef): Armed {
    return this.tryAcquire(from, true)!;
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

  /** Opens idle sessions of `from` now, up to `count` (their exec's round trip paid before their first command is due). */
  warm(from: ProbeRef, count = 1): void {
    const free = (this.idle.get(key(from)) ?? []).filter((a) => !a.ended());
    const made: Armed[] = [];
    for (let i = free.length; i < count; i++) {
      const a = this.open(from, false);
      if (!a) break;
      made.push(a);
    }
    for (const a of made) this.giveBack(a);
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

/** A session's lifetime at most (the engine ends them with the run's last phase; this bounds a run that never gets there). */
const SESSION_MS = 3_600_000;
/** Sessions open at once per connection, at most (beyond, fan-outs exec as before; holds are bounded by the run's exec concurrency). */
const MAX_OPEN = 64;

const pools = new WeakMap<Kube, Sessions>();

/** The sessions of the run on `kube`: opened by the engine for a run, ended by it (closeSessions). */
export function openSessions(kube: Kube): Sessions {
  let p = pools.get(kube);
  if (!p) pools.set(kube, (p = new Sessions(kube, MAX_OPEN)));
  return p;
}

/** The open sessions on `kube`, if the engine opened them (a fan-out outside a run execs as before). */
export const sessionsOf = (kube: Kube): Sessions | undefined => pools.get(kube);

/** Ends the sessions on `kube`, if any. */
export async function closeSessions(kube: Kube): Promise<void> {
  const p = pools.get(kube);
  pools.delete(kube);
  await p?.close();
}
