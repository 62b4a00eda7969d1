/**
 * GET /asyncapi.json: a valid AsyncAPI 3.0 document (checked with @asyncapi/parser) that
 * describes exactly the events of the typed event map, in both directions. The event names
 * come from src/common/events.ts itself, read with the TypeScript compiler API, so an event
 * added on one side only fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Parser, type AsyncAPIDocumentInterface } from '@asyncapi/parser';
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { closeAllServers, startServer, type TestServer } from './helpers/server.js';

/** The property names of an interface in events.ts, as the compiler sees them. */
function eventNames(interfaceName: string): string[] {
  const file = new URL('../src/common/events.ts', import.meta.url);
  const source = ts.createSourceFile('events.ts', readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const names: string[] = [];
  let found = false;
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || node.name.text !== interfaceName) return;
    found = true;
    expect(node.heritageClauses).toBeUndefined(); // every event is listed right here
    for (const member of node.members) {
      const name = member.name;
      if (!name) throw new Error(`${interfaceName} has a member without a name`);
      if (ts.isIdentifier(name) || ts.isStringLiteral(name)) names.push(name.text);
      else throw new Error(`${interfaceName} has a computed member name: ${name.getText(source)}`);
    }
  });
  if (!found) throw new Error(`interface ${interfaceName} not found in events.ts`);
  return names.sort();
}

function documented(doc: AsyncAPIDocumentInterface, action: 'send' | 'receive'): string[] {
  const ops = action === 'send' ? doc.operations().filterBySend() : doc.operations().filterByReceive();
  return ops
    .flatMap((op) =>
      op
        .messages()
        .all()
        .map((m) => m.name() ?? `<unnamed ${m.id()}>`),
    )
    .sort();
}

let server: TestServer;
let raw: Record<string, unknown>;
let doc: AsyncAPIDocumentInterface;

beforeAll(async () => {
  server = await startServer();
  const res = await fetch(`${server.url}/asyncapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  raw = (await res.json()) as Record<string, unknown>;
  const { document, diagnostics } = await new Parser().parse(JSON.stringify(raw));
  const errors = diagnostics.filter((d) => d.severity === 0);
  if (errors.length > 0 || !document) {
    throw new Error(
      `the AsyncAPI document does not parse:\n${errors.map((d) => `${d.path.join('.')}: ${d.message}`).join('\n')}`,
    );
  }
  doc = document;
});

afterAll(async () => {
  await closeAllServers();
});

describe('GET /asyncapi.json', () => {
  it('is an AsyncAPI 3.0 document', () => {
    expect(raw.asyncapi).toBe('3.0.0');
    expect(doc.version()).toBe('3.0.0');
    expect(doc.info().title()).toMatch(/Parley/);
  });

  it('describes exactly the client-to-server events of the event map', () => {
    const names = eventNames('ClientToServerEvents');
    expect(names).toEqual(expect.arrayContaining(['login', 'roomMessage', 'history', 'direct', 'call']));
    expect(documented(doc, 'receive')).toEqual(names);
  });

  it('describes exactly the server-to-client events of the event map', () => {
    const names = eventNames('ServerToClientEvents');
    expect(names).toEqual(expect.arrayContaining(['me', 'notification', 'direct', 'kicked', 'ended']));
    expect(documented(doc, 'send')).toEqual(names);
  });

  it('gives every event a payload schema (or none for the argument-less ones) and every ack its error codes', () => {
    const noPayload = new Set([
      'logout',
      'listUsers',
      'ping',
      'iceServers',
      'getOnlineUsers',
      'joinCall',
      'leaveCall',
      'receipts',
    ]);
    const codes = new Set((raw.components as { schemas: { ErrorCode: { enum: string[] } } }).schemas.ErrorCode.enum);
    for (const op of doc.operations().filterByReceive()) {
      const [message] = op.messages().all();
      const name = message.name()!;
      expect([name, message.hasPayload()]).toEqual([name, !noPayload.has(name)]);
      const errors = op.json()['x-parley-errors'] as string[];
      expect(errors.length).toBeGreaterThan(0);
      for (const code of errors) expect(codes.has(code) ? code : `unknown code ${code} on ${name}`).toBe(code);
      if (name !== 'ready') {
        const reply = op.reply();
        expect(reply ? name : `${name} has no ack`).toBe(name);
        expect(reply!.messages().all()).toHaveLength(1);
      }
    }
    for (const op of doc.operations().filterBySend()) {
      const [message] = op.messages().all();
      expect([message.name(), message.hasPayload()]).toEqual([message.name(), true]);
    }
  });
});
