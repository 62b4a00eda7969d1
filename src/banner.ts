import type { AppConfig } from './config/configuration.js';

/**
 * The one line an operator reads at start: where to open Parley, and its docs and health
 * routes. A server bound to every address is shown as localhost (the address a browser on
 * this machine opens; 0.0.0.0 is not one to open).
 */
export function startupBanner(app: AppConfig, port: number): { msg: string; url: string; paths: string[] } {
  const scheme = app.tls ? 'https' : 'http';
  const anyAddress = app.host === '0.0.0.0' || app.host === '::' || app.host === '';
  const host = anyAddress ? 'localhost' : app.host.includes(':') ? `[${app.host}]` : app.host;
  const url = `${scheme}://${host}:${port}`;
  const paths = [
    ...(app.webClient ? ['/ (web client)'] : []),
    ...(app.docsUi ? ['/docs (API docs)'] : []),
    '/health',
    ...(app.adminUi ? ['/admin/ (admin UI)'] : []),
  ];
  const bound = anyAddress ? ` (bound to every address, port ${port})` : '';
  return { msg: `Parley is listening on ${url}${bound}: ${paths.join(', ')}`, url, paths };
}
