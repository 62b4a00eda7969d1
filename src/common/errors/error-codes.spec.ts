import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, isErrorCode } from './error-codes.js';
import { ParleyError, UnavailableError } from './parley.error.js';

/** The codes of the error table in docs/PROTOCOL.md, in the order written there. */
function documentedCodes(): string[] {
  const doc = readFileSync(new URL('../../../docs/PROTOCOL.md', import.meta.url), 'utf8');
  const table = doc.slice(doc.indexOf('| code | when |'));
  const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2);
  return rows.map((row) => /^\| `([A-Z_]+)` \|/.exec(row)?.[1] ?? `unparsed row: ${row}`);
}

describe('the error table', () => {
  it('holds exactly the codes docs/PROTOCOL.md documents, in its order', () => {
    expect(Object.keys(ERROR_CODES)).toEqual(documentedCodes());
  });

  it('recognises its own codes and nothing else', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(isErrorCode(code)).toBe(true);
    for (const other of ['validation', 'TIMEOUT', '', undefined, 42, {}]) expect(isErrorCode(other)).toBe(false);
  });

  it('gives the server errors a code from the table and the protocol reply shape', () => {
    const err: ParleyError = new UnavailableError();
    expect(isErrorCode(err.code)).toBe(true);
    expect(err.toReply()).toEqual({ error: err.message, code: 'UNAVAILABLE' });
  });
});
