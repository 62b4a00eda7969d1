// A Parley node in its own process (for SIGKILL tests): the compiled app from
// PARLEY_BUILD_DIR, configured by the environment; prints {"port":N} once listening.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const { createApp } = await import(pathToFileURL(join(process.env.PARLEY_BUILD_DIR, 'app.js')).href);
const app = await createApp({ logger: process.env.REDIS_TEST_LOGS ? ['error', 'warn', 'log'] : false });
await app.listen(0, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ port: app.getHttpServer().address().port })}\n`);
