// Ctrl-C (and SIGTERM, SIGHUP) while a command works: an AbortSignal the library is handed. The
// library stops and cleans up what it created; the command then fails with exit 130. Nothing but
// the CLI turns an interruption into an exit code, and nothing calls process.exit.
export const INTERRUPT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface Interrupt {
  signal: AbortSignal;
  /** Removes the handlers (the command is done). */
  dispose(): void;
}

/** Installs the handlers; the first signal aborts with its name as the reason and calls `onFirst` (later ones are ignored). */
export function onInterrupt(onFirst?: (sig: NodeJS.Signals) => void): Interrupt {
  const ac = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) return;
    onFirst?.(sig);
    ac.abort(sig);
  };
  for (const s of INTERRUPT_SIGNALS) process.on(s, handler);
  return { signal: ac.signal, dispose: () => INTERRUPT_SIGNALS.forEach((s) => process.off(s, handler)) };
}
