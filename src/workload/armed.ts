// An exec started before its moment: its command waits on stdin for the line that releases it,
// written when the condition it waits for holds, and its stdout is read line by line while it
// runs, so the caller can act on what it prints (a node's kube-proxy synced) without a second
// exec. What this saves is the exec's own round trip (API server -> kubelet -> container runtime
// -> the process), paid while the cluster converges instead of after. Nothing it runs starts
// before its release: the command itself reads the line first.
import { PassThrough } from 'node:stream';
import type { Kube } from '../kube/client.js';
import { execInPod, type ExecResult } from '../kube/exec.js';
import type { ProbeRef } from './setup.js';

export interface Armed {
  from: ProbeRef;
  /** Writes one line to the command's stdin (a second line to an exec that has ended goes nowhere). */
  send(line: string): void;
  /** The first stdout line matching `re` that has arrived so far, and when (epoch ms). */
  seen(re: RegExp): { text: string; atMs: number } | undefined;
  /** The first stdout line matching `re` (already printed or still to come) and when it arrived (epoch ms); undefined once the exec ended without one. */
  line(re: RegExp): Promise<{ text: string; atMs: number } | undefined>;
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
  let partial = '';
  let ended = false;
  const waiting: Array<{ re: RegExp; resolve: (l: Line | undefined) => void }> = [];
  const offer = (text: string) => {
    const l = { text, atMs: Date.now() };
    lines.push(l);
    for (const w of [...waiting])
      if (w.re.test(text)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(l);
      }
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
    for (const w of waiting.splice(0)) w.resolve(undefined);
    stdin.destroy();
  });
  return {
    from,
    send: (l) => {
      if (!ended && !stdin.destroyed) stdin.write(`${l}\n`);
    },
    seen: (re) => lines.find((l) => re.test(l.text)),
    line: (re) => {
      const seen = lines.find((l) => re.test(l.text));
      if (seen !== undefined || ended) return Promise.resolve(seen);
      return new Promise((resolve) => waiting.push({ re, resolve }));
    },
    done,
  };
}
