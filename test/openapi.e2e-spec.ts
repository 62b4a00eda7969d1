/**
 * GET /openapi.json: an OpenAPI 3 document that covers every HTTP route the app really
 * serves (read from the Express router of a running app), and Swagger UI at /docs outside
 * production or with DOCS_UI=true.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

/** "METHOD /path/{param}" for every route in the app's Express router. */
function servedRoutes(server: TestServer): string[] {
  const express = server.app.getHttpAdapter().getInstance() as { router: { stack: Layer[] } };
  const out: string[] = [];
  for (const layer of express.router.stack) {
    if (!layer.route) continue;
    const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
    for (const path of paths) {
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on && method !== '_all') out.push(`${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`);
      }
    }
  }
  return [...new Set(out)].sort();
}

let server: TestServer;
let doc: {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  info: { title: string };
};

beforeAll(async () => {
  server = await startServer({ ADMIN_TOKEN: 't' });
  const res = await fetch(`${server.url}/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as typeof doc;
});

afterAll(async () => {
  await closeAllServers();
});

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3 document with paths, each operation with responses', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toMatch(/Parley/);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect([path, method, Object.keys(op.responses).length > 0]).toEqual([path, method, true]);
      }
    }
  });

  it('covers every route the app serves, and nothing it does not', () => {
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    // The OpenAPI document itself, Swagger UI's pages and the web client's page are not API routes.
    const served = servedRoutes(server).filter((r) => !/ \/(openapi\.json|docs)(\/|$)/.test(r) && r !== 'GET /');
    expect(served).toEqual(
      expect.arrayContaining([
        'POST /rooms/{room}/notifications',
        'DELETE /rooms/{room}/users/{id}',
        'GET /health',
        'GET /asyncapi.json',
      ]),
    );
    expect(documented).toEqual(served);
  });

  it('documents the server API bodies and the VALIDATION error', () => {
    const announce = doc.paths['/rooms/{room}/notifications'].post as unknown as {
      requestBody: unknown;
      responses: Record<string, unknown>;
    };
    expect(Object.keys(announce.responses)).toEqual(expect.arrayContaining(['202', '400', '401', '404']));
    expect(JSON.stringify(doc)).toContain('"AnnounceDto"');
    const kick = doc.paths['/rooms/{room}/users/{id}'].delete as unknown as { responses: Record<string, unknown> };
    expect(Object.keys(kick.responses)).toEqual(expect.arrayContaining(['204', '400', '401', '404']));
  });
});

describe('Swagger UI at /docs', () => {
  it('is served outside production', async () => {
    const res = await fetch(`${server.url}/docs`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/swagger/i);
  });

  it('is off in production unless DOCS_UI=true; /openapi.json stays', async () => {
    const prod = await startServer({ NODE_ENV: 'production', CORS_ORIGIN: 'https://example.com' });
    expect((await fetch(`${prod.url}/docs`)).status).toBe(404);
    expect((await fetch(`${prod.url}/openapi.json`)).status).toBe(200);
    const enabled = await startServer({ NODE_ENV: 'production', CORS_ORIGIN: 'https://example.com', DOCS_UI: 'true' });
    expect((await fetch(`${enabled.url}/docs`)).status).toBe(200);
  });
});
