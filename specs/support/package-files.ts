// Dev-only files that must stay out of the published package (package.json "files"): the benchmarks,
// the shell linter, the chromium install for the HTML render test, the engine self-test, the docs'
// side-by-side table. Checked on `npm pack` (specs/unit/package-files.test.ts) and on the installed
// package (specs/selftest/package.spec.ts).
export const DEV_ONLY = [
  'scripts/bench.sh',
  'scripts/bench-help.sh',
  'scripts/bench-ab.sh',
  'scripts/lint.sh',
  'scripts/install-chromium.sh',
  'scripts/engine-selftest.sh',
  'scripts/conformance/side-by-side.sh',
  'scripts/.shellcheckrc',
];
