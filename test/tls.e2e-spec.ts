/**
 * TLS_CERT_FILE + TLS_KEY_FILE: HTTPS and WSS without a proxy, with a self-signed
 * certificate made at test time; unreadable or unusable files stop the start, named.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { createApp } from '../src/app.js';
import { closeAllClients, connect, login, sleep, uniqueRoom } from './helpers/client.js';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';
import { makeSelfSignedCert, type TempCert } from './helpers/tls.js';

let cert: TempCert;

beforeAll(() => {
  cert = makeSelfSignedCert();
});

afterAll(async () => {
  closeAllClients();
  await sleep(200); // let polling clients deliver their close before the server goes
  await closeAllServers();
  cert.cleanup();
});

function httpsGet(url: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('with a certificate and key', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ TLS_CERT_FILE: cert.cert, TLS_KEY_FILE: cert.key }, { https: true });
  });

  it('serves HTTPS', async () => {
    const res = await httpsGet(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'ok' });
    // Over TLS the CSP asks browsers to upgrade insecure requests, and HSTS is sent.
    expect(String(res.headers['content-security-policy'])).toContain('upgrade-insecure-requests');
    expect(res.headers['strict-transport-security']).toBeDefined();
  });

  it('does not speak plain HTTP on that port', async () => {
    await expect(fetch(`http://127.0.0.1:${server.port}/health`)).rejects.toThrow();
  });

  it('serves Socket.IO over WSS and HTTPS long-polling', async () => {
    const room = uniqueRoom();
    const a = await connect(server.url, { rejectUnauthorized: false });
    const b = await connect(server.url, { rejectUnauthorized: false, transports: ['polling'] });
    expect(a.socket.io.engine.transport.name).toBe('websocket');
    await login(a, 'alice', room);
    await login(b, 'bob', room);
    const ack = await a.request<{ id: string }>('roomMessage', { message: 'over tls' });
    const got = await b.waitFor('roomMessage', (m) => m.id === ack.id);
    expect(got.message).toBe('over tls');
  });

  it('refuses a client that checks the (self-signed) certificate', async () => {
    await expect(connect(server.url, { rejectUnauthorized: true })).rejects.toThrow();
  });
});

describe('unusable files stop the start with a message naming them', () => {
  const missing = '/nonexistent/parley/cert.pem';

  it('a missing certificate file', async () => {
    await expect(createApp({ env: { TLS_CERT_FILE: missing, TLS_KEY_FILE: cert.key }, logger: false })).rejects.toThrow(
      /TLS_CERT_FILE "\/nonexistent\/parley\/cert\.pem" cannot be read: ENOENT/,
    );
  });

  it('a missing key file', async () => {
    await expect(
      createApp({ env: { TLS_CERT_FILE: cert.cert, TLS_KEY_FILE: `${cert.dir}/nope.pem` }, logger: false }),
    ).rejects.toThrow(/TLS_KEY_FILE ".*nope\.pem" cannot be read/);
  });

  it('a directory instead of a file', async () => {
    await expect(
      createApp({ env: { TLS_CERT_FILE: cert.cert, TLS_KEY_FILE: cert.dir }, logger: false }),
    ).rejects.toThrow(/TLS_KEY_FILE ".*" cannot be read: EISDIR/);
  });

  it('an unreadable file (permissions)', async () => {
    if (process.getuid?.() === 0) return; // root reads everything
    const locked = join(cert.dir, 'locked.pem');
    writeFileSync(locked, 'x');
    chmodSync(locked, 0o000);
    await expect(createApp({ env: { TLS_CERT_FILE: locked, TLS_KEY_FILE: cert.key }, logger: false })).rejects.toThrow(
      /TLS_CERT_FILE ".*locked\.pem" cannot be read: EACCES/,
    );
  });

  it('files that are not a certificate and key (never echoing their contents)', async () => {
    const dir = join(cert.dir, 'bad');
    mkdirSync(dir, { recursive: true });
    const bogus = join(dir, 'bogus.pem');
    writeFileSync(bogus, 'SECRET-KEY-MATERIAL-MARKER');
    const err = await createApp({ env: { TLS_CERT_FILE: bogus, TLS_KEY_FILE: cert.key }, logger: false }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/TLS_CERT_FILE ".*bogus\.pem" and TLS_KEY_FILE ".*key\.pem"/);
    expect(err?.message).not.toContain('SECRET-KEY-MATERIAL-MARKER');
    // Swapped: the key where the certificate belongs.
    await expect(
      createApp({ env: { TLS_CERT_FILE: cert.key, TLS_KEY_FILE: cert.cert }, logger: false }),
    ).rejects.toThrow(/TLS_CERT_FILE/);
  });

  it('only one of the two set is a configuration error', async () => {
    await expect(
      createApp({ env: { TLS_CERT_FILE: cert.cert, TLS_KEY_FILE: undefined }, logger: false }),
    ).rejects.toThrow(/TLS_(CERT|KEY)_FILE/);
  });
});
