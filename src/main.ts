import { Logger } from '@nestjs/common';
import { createApp } from './app.js';
import { appConfig, type AppConfig } from './config/configuration.js';

async function bootstrap(): Promise<void> {
  const app = await createApp();
  const { port, host } = app.get<AppConfig>(appConfig.KEY);
  await app.listen(port, host);
  Logger.log({ event: 'listening', url: await app.getUrl() }, 'Parley');
}

bootstrap().catch((err: unknown) => {
  // The logger may not exist yet (bad configuration), so this goes straight to stderr.
  process.stderr.write(`Parley failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
