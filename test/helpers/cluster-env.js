// Set by jest.cluster.config.js: every default-sized startServer() starts two Redis nodes.
process.env.PARLEY_TEST_NODES = '2';
