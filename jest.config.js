/**
 * Jest in native ESM mode with ts-jest; the test script sets --experimental-vm-modules.
 * React hook and component specs (`.spec.tsx`, and `.spec.ts` under client/react) pick the
 * jsdom environment themselves with a `@jest-environment jsdom` docblock.
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts', '.tsx'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testMatch: [
    '<rootDir>/src/**/*.spec.ts',
    '<rootDir>/client/**/*.spec.ts?(x)',
    '<rootDir>/web/src/**/*.spec.ts?(x)',
    '<rootDir>/test/**/*.e2e-spec.ts',
  ],
  testTimeout: 30000,
};
