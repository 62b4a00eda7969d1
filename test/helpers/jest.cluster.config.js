/**
 * The black-box protocol specs (core and compatibility events) against two Redis-backed
 * nodes, their clients alternating between the nodes: PARLEY_TEST_NODES makes every
 * default `startServer` (helpers/server.ts) start two nodes on one real Redis. Needs Redis
 * at 127.0.0.1:6379 (or REDIS_TEST_URL). Specs that read one node's own state (/metrics
 * counters, config, HTTP headers) are left out.
 *
 *   npm test -- -c test/helpers/jest.cluster.config.js
 */
import base from '../../jest.config.js';

export default {
  ...base,
  rootDir: '../..',
  setupFiles: ['<rootDir>/test/helpers/cluster-env.js'],
  testMatch: [
    '<rootDir>/test/chat.e2e-spec.ts',
    '<rootDir>/test/signaling.e2e-spec.ts',
    '<rootDir>/test/room-calls.e2e-spec.ts',
    '<rootDir>/test/presence.e2e-spec.ts',
    '<rootDir>/test/redact.e2e-spec.ts',
    '<rootDir>/test/limits.e2e-spec.ts',
    '<rootDir>/test/compat-handshake-chat.e2e-spec.ts',
    '<rootDir>/test/compat-legacy-chat-client.e2e-spec.ts',
    '<rootDir>/test/compat-peer-channel.e2e-spec.ts',
    '<rootDir>/test/compat-call-clients.e2e-spec.ts',
    '<rootDir>/test/compat-malformed.e2e-spec.ts',
    '<rootDir>/test/history.e2e-spec.ts',
    '<rootDir>/test/nesting.e2e-spec.ts',
  ],
};
