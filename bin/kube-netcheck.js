#!/usr/bin/env node
// kube-netcheck command line. The sources are TypeScript with '.js' import specifiers (NodeNext
// style), which Node cannot load by itself: tsx's scoped loader can, without registering global
// hooks and without a build step. The CLI lives in src/cli/main.ts.
import { tsImport } from 'tsx/esm/api';

let main;
try {
  ({ main } = await tsImport('../src/cli/main.ts', import.meta.url));
} catch (err) {
  process.stderr.write(`kube-netcheck: cannot load src/cli/main.ts: ${String(err?.message ?? err).split('\n')[0]} (run \`npm ci\` in the checkout)\n`);
  process.exit(2);
}
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Exit as soon as the event loop is empty; an idle keep-alive socket to the API server must not hold us.
setTimeout(() => process.exit(code), 200).unref();
