// Jest loads global setup with Node's own ESM loader, which cannot resolve our '.js' → '.ts'
// imports; tsx's scoped loader can. The work itself lives in src/lifecycle/setup.ts.
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup(): Promise<void> {
  const m = (await tsImport('../../src/lifecycle/setup.ts', import.meta.url)) as typeof import('../../src/lifecycle/setup.js');
  await m.globalSetup();
}
