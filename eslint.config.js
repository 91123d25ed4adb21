// ESLint (flat config): the recommended JavaScript and typescript-eslint rules, type-aware, over the
// library, the CLI, the specs and the config files. Rules that only say how code looks are off —
// Prettier owns the look (npm run format) — so every report here is a candidate defect.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'reports/', 'coverage/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.js', 'scripts/*.cjs', 'specs/support/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `any` from YAML, JSON and the client's untyped corners flows through checked reads; these
      // would ask for a cast at every step (churn, no defect found by them here)
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // style only: an assertion the compiler can see through, an async function without await
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      '@typescript-eslint/require-await': 'off',
      // phaseData and evidence are Record<string, unknown>: interpolating a value the check itself put
      // there is not a defect, and objects passed around as functions (Io, expectations) are closures
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // the messages already carry the caught error's text (adding `cause` everywhere: a later cleanup)
      'preserve-caught-error': 'off',
      // unused names are errors, except an intentionally unused argument or caught error named _…
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // plain JavaScript (bin/, the Jest global setup/teardown, this file): no type information to check against
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
