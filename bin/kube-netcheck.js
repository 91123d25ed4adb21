#!/usr/bin/env node
// kube-netcheck command line: the compiled library in dist/ (`npm run build`, run by `prepare` on
// `npm ci` and `npm pack`). No TypeScript loader at run time.
let main;
try {
  ({ main } = await import('../dist/cli/main.js'));
} catch (err) {
  process.stderr.write(`kube-netcheck: cannot load dist/cli/main.js: ${String(err?.message ?? err).split('\n')[0]} (run \`npm run build\` in the checkout)\n`);
  process.exit(2);
}
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Exit as soon as the event loop is empty; an idle keep-alive socket to the API server must not hold us.
setTimeout(() => process.exit(code), 200).unref();
