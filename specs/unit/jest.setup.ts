// Jest applies `testTimeout` only from the ROOT config (project-level values are
// silently ignored), and the root sets 180s for cluster specs. Unit tests must
// stay fast, so this setup file (unit project only) restores a tight default.
import { jest } from '@jest/globals';

jest.setTimeout(5_000);
