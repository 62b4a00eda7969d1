/**
 * Serves the reference web client (web/dist, built by `npm run build:web`) at `/`.
 * AppModule imports it when WEB_CLIENT is on (default: on outside production).
 *
 * Only `/` (and `/index.html`) render the page; the built assets are served as static
 * files; every other path, including the API routes below, falls through to Nest.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger, Module, type DynamicModule } from '@nestjs/common';
import { ServeStaticModule } from '@nestjs/serve-static';

/** Routes the page must never shadow. */
export const WEB_CLIENT_EXCLUDE = /^\/(?:socket\.io|health|metrics|rooms|connections)(?:\/|$)/;

/**
 * Find web/dist: from the working directory (the usual `npm start` from the project root),
 * else relative to this file, whether it runs from src/web (ts) or dist/web (compiled tsc output).
 */
export function resolveWebDist(configured?: string): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [configured, resolve(process.cwd(), 'web/dist'), resolve(here, '../../web/dist')].filter(
    (p): p is string => !!p,
  );
  return candidates.find((p) => existsSync(resolve(p, 'index.html'))) ?? candidates[0]!;
}

@Module({})
export class WebClientModule {
  /** `dir`: where the built page is (WEB_CLIENT_DIR); found by resolveWebDist otherwise. */
  static register(dir?: string): DynamicModule {
    return {
      module: WebClientModule,
      imports: [
        // Resolved when the app is created (not at import), so a build made after importing
        // this file is found, and the warning goes through the app's logger.
        ServeStaticModule.forRootAsync({
          useFactory: () => {
            const root = resolveWebDist(dir);
            if (!existsSync(resolve(root, 'index.html'))) {
              new Logger('WebClientModule').warn(
                `web client not built (${root}/index.html missing): run "npm run build:web"; / answers 404`,
              );
            }
            return [
              {
                rootPath: root,
                renderPath: '/',
                exclude: WEB_CLIENT_EXCLUDE,
                serveStaticOptions: {
                  index: 'index.html',
                  fallthrough: true,
                  // Hashed asset names can be cached forever; index.html must be revalidated.
                  setHeaders: (res: { setHeader(name: string, value: string): void }, path: string) => {
                    res.setHeader(
                      'Cache-Control',
                      /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache',
                    );
                  },
                },
              },
            ];
          },
        }),
      ],
    };
  }
}
