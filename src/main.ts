import { Logger } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import { startupBanner } from './banner.js';
import { appConfig, type AppConfig } from './config/configuration.js';

async function bootstrap(): Promise<void> {
  const app = await createApp();
  const config = app.get<AppConfig>(appConfig.KEY);
  await app.listen(config.port, config.host);
  const { port } = app.getHttpServer().address() as AddressInfo;
  const banner = startupBanner(config, port);
  Logger.log({ event: 'listening', msg: banner.msg, url: banner.url }, 'Parley');
}

bootstrap().catch((err: unknown) => {
  // The logger may not exist yet (bad configuration), so this goes straight to stderr.
  process.stderr.write(`Parley failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
