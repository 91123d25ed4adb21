// Progress for waits: a spinner with the elapsed time on a terminal; nothing extra when the output
// is not a terminal or CI=true (the plain phase lines of the commands are the progress there).

export interface ProgressStream {
  isTTY?: boolean;
  write(s: string): unknown;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function interactive(stream: ProgressStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return !!stream.isTTY && !env.CI;
}

/** Awaits `work`, showing "<spinner> what 1.2s" meanwhile and "✓ what 1.4s" / "✗ what" after. */
export async function waitWith<T>(
  what: string,
  work: Promise<T>,
  stream: ProgressStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
  intervalMs = 100,
): Promise<T> {
  if (!interactive(stream, env)) return work;
  const t0 = Date.now();
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
  let i = 0;
  const timer = setInterval(() => stream.write(`\r${FRAMES[i++ % FRAMES.length]} ${what} ${elapsed()}`), intervalMs);
  try {
    const value = await work;
    stream.write(`\r✓ ${what} ${elapsed()}\n`);
    return value;
  } catch (err) {
    stream.write(`\r✗ ${what} ${elapsed()}\n`);
    throw err;
  } finally {
    clearInterval(timer);
  }
}
