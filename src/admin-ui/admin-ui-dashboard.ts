import express, { type Request, type RequestHandler, type Response, type NextFunction } from 'express';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Where Parley serves the dashboard (the Socket.IO namespace of the same name is another thing). */
export const ADMIN_UI_PATH = '/admin';

/**
 * The admin UI's dashboard, served by Parley itself from the files the package ships
 * (`@socket.io/admin-ui/ui/dist`), so it works on a closed network: the hosted copy at
 * admin.socket.io needs the Internet. The page's links to web fonts and an icon font on
 * public CDNs are left out (the dashboard works without them, in the browser's own fonts),
 * and so are the source maps.
 */
export function adminUiDashboard(): RequestHandler {
  const root = join(dirname(createRequire(import.meta.url).resolve('@socket.io/admin-ui/package.json')), 'ui/dist');
  const index = readFileSync(join(root, 'index.html'), 'utf8').replace(/<link[^>]+href="https:\/\/[^"]*"[^>]*>/g, '');
  const files = express.static(root, { index: false, fallthrough: true, maxAge: '1d' });
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path === '/' || req.path === '/index.html') {
      // The page's assets are relative: /admin must be /admin/ for them to resolve.
      if (req.originalUrl.split('?')[0] === ADMIN_UI_PATH) return res.redirect(301, `${ADMIN_UI_PATH}/`);
      res.setHeader('Cache-Control', 'no-cache');
      res.type('html').send(index);
      return;
    }
    if (req.path.endsWith('.map')) return next();
    files(req, res, next);
  };
}
