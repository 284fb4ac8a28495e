// Two projects: unit tests need nothing running; integration tests talk to the real
// servers that `make test-env` starts (their settings come from .test-env/env).
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'es6' } },
  ],
};
const common = {
  transform,
  extensionsToTreatAsEsm: ['.ts'],
  // Sources import siblings as './x.js' (NodeNext); jest resolves the .ts file.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironment: 'node',
  // Only the source folders: .test-env holds server data (etcd writes *.snap files, which
  // jest would otherwise report as obsolete snapshots and fail a --ci run on).
  roots: ['<rootDir>/workloads', '<rootDir>/operator', '<rootDir>/test', '<rootDir>/e2e', '<rootDir>/bench'],
};

export default {
  // A project-level testTimeout is ignored by jest; integration tests need minutes.
  testTimeout: 120000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/dist/', '\\.it\\.test\\.ts$'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/**/*.it.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/dist/'],
      setupFiles: ['<rootDir>/test/support/load-test-env.ts'],
    },
  ],
};
