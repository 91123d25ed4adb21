/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';
import { createDefaultEsmPreset } from 'ts-jest';

// Each project is a standalone config: root-level transform/preset is NOT
// inherited by projects, so the shared ESM + ts-jest bits live here.
const base = {
  ...createDefaultEsmPreset({ tsconfig: 'tsconfig.json' }),
  testEnvironment: 'node',
  // Source imports use NodeNext-style '.js' specifiers; map them back to the .ts files.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
} satisfies Config;

const config: Config = {
  // Jest reads testTimeout ONLY from the root config (a project-level value is
  // silently ignored), so the cluster budget lives here and the unit project
  // tightens it back to 5s in specs/unit/jest.setup.ts.
  testTimeout: 180_000,
  // Cluster specs share one cluster (each file has its own namespaces), so even a bare `npx jest`
  // runs files serially (maxWorkers is root-only too; the npm scripts also pass --runInBand).
  maxWorkers: 1,
  projects: [
    {
      ...base,
      displayName: 'unit',
      testMatch: ['<rootDir>/specs/unit/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/specs/unit/jest.setup.ts'],
    },
    {
      // the network-model checks: the catalogue, one test per check (what `kube-netcheck run` runs)
      ...base,
      displayName: 'cluster',
      testMatch: ['<rootDir>/specs/cluster/**/*.spec.ts'],
      globalSetup: '<rootDir>/specs/support/global-setup.mjs',
      globalTeardown: '<rootDir>/specs/support/global-teardown.mjs',
    },
    {
      // the tool's own tests on the live cluster: RBAC role, grader, cleanup/SIGINT, reports, kubeconfig safety
      ...base,
      displayName: 'selftest',
      testMatch: ['<rootDir>/specs/selftest/**/*.spec.ts'],
      globalSetup: '<rootDir>/specs/support/global-setup.mjs',
      globalTeardown: '<rootDir>/specs/support/global-teardown.mjs',
    },
  ],
};

export default config;
