// See global-setup.ts: the work lives in src/lifecycle/teardown.ts.
import { tsImport } from 'tsx/esm/api';

export default async function globalTeardown(): Promise<void> {
  const m = (await tsImport('../../src/lifecycle/teardown.ts', import.meta.url)) as typeof import('../../src/lifecycle/teardown.js');
  await m.globalTeardown();
}
