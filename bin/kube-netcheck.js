#!/usr/bin/env node
// kube-netcheck command line: the compiled library in dist/ (`npm run build`, run by `prepare` on
// `npm ci` and `npm pack`), loaded as the one-file-per-command bundle esbuild makes of it and its
// dependencies (dist/bundle: @kubernetes/client-node alone is ~970 modules, 0.6 s to load one by
// one, 0.2 s bundled). No TypeScript loader at run time.
let main;
try {
  ({ main } = await import('../dist/bundle/main.js'));
} catch (err) {
  process.stderr.write(
    `kube-netcheck: cannot load dist/bundle/main.js: ${String(err?.message ?? err).split('\n')[0]} (run \`npm run build\` in the checkout)\n`,
  );
  process.exit(2);
}
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Exit as soon as the event loop is empty; an idle keep-alive socket to the API server must not hold us.
setTimeout(() => process.exit(code), 200).unref();
