// Jest configuration of the kind runner (e2e/kind/run.sh): the integration project's
// settings (TypeScript through swc, ESM), matching only the kind scenario file, which the
// root configuration never picks up (it is neither *.test.ts nor *.it.test.ts).
import root from '../../jest.config.js';

const integration = root.projects.find((p) => p.displayName === 'integration');

export default {
  ...integration,
  displayName: 'e2e-kind',
  rootDir: '../..',
  testMatch: ['<rootDir>/e2e/kind/*.e2e.ts'],
  setupFiles: [],
  testTimeout: root.testTimeout,
};
