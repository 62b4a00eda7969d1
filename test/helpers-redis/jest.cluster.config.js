/**
 * The black-box protocol specs against two Redis-backed nodes, their clients alternating
 * between the nodes (see cluster-server.ts). Needs Redis at 127.0.0.1:6379 (or
 * REDIS_TEST_URL). Specs that read one node's own state (/metrics counters, config, HTTP
 * headers) are left out.
 *
 *   npm test -- -c test/helpers-redis/jest.cluster.config.js
 */
import base from '../../jest.config.js';

export default {
  ...base,
  rootDir: '../..',
  moduleNameMapper: {
    '^\\./helpers/server(\\.js)?$': '<rootDir>/test/helpers-redis/cluster-server.ts',
    ...base.moduleNameMapper,
  },
  testMatch: ['<rootDir>/test/chat.e2e-spec.ts', '<rootDir>/test/signaling.e2e-spec.ts', '<rootDir>/test/limits.e2e-spec.ts', '<rootDir>/test/nesting.e2e-spec.ts'],
};
