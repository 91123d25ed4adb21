// A directory with stand-in programs, put first on PATH when the unit tests run real shell
// scripts (the probes' in-pod loops) against them; made before the file's tests, removed after.
import { beforeAll, afterAll } from '@jest/globals';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Registers beforeAll/afterAll; `dir()` is the directory once the tests run. */
export function useFakeBin(programs: Record<string, string>): { dir: () => string } {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'knc-fake-bin-'));
    for (const [name, script] of Object.entries(programs)) {
      writeFileSync(path.join(dir, name), script);
      chmodSync(path.join(dir, name), 0o755);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return { dir: () => dir };
}
