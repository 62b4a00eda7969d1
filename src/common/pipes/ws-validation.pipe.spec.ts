import { describe, expect, it } from '@jest/globals';
import type { ArgumentMetadata } from '@nestjs/common';
import { LoginDto } from '../../chat/dto/login.dto.js';
import { RoomMessageDto } from '../../chat/dto/room-message.dto.js';
import type { LimitsConfig } from '../../config/configuration.js';
import { AnswerDto } from '../../signaling/dto/answer.dto.js';
import { CallDto } from '../../signaling/dto/call.dto.js';
import { WsValidationPipe } from './ws-validation.pipe.js';

const limits = { maxMessageBytes: 10, maxSignalBytes: 20 } as LimitsConfig;
const pipe = new WsValidationPipe(limits);
// The pipe is synchronous; wrapping it lets a throw read as a rejection.
const run = async (value: unknown, meta: ArgumentMetadata) => pipe.transform(value, meta);
const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype });

describe('WsValidationPipe', () => {
  it('trims, strips unknown fields and keeps the declared ones', async () => {
    const out = await run({ name: '  alice ', room: ' r ', id: 'forged', extra: 1 }, body(LoginDto));
    expect(out).toBeInstanceOf(LoginDto);
    expect({ ...(out as object) }).toEqual({ name: 'alice', room: 'r' });
  });

  it.each([
    [undefined, 'The payload must be an object'],
    ['alice', 'The payload must be an object'],
    [[{ name: 'a', room: 'r' }], 'The payload must be an object'],
    [{ name: '', room: 'r' }, 'name must be 1 to 32 characters long'],
    [{ name: 'a'.repeat(33), room: 'r' }, 'name must be 1 to 32 characters long'],
    [{ name: 'a\u0007b', room: 'r' }, 'name must not contain control characters'],
    [{ name: 5, room: 'r' }, 'name must be a string'],
  ])('refuses login payload %j with VALIDATION', async (payload, message) => {
    await expect(run(payload, body(LoginDto))).rejects.toMatchObject({ code: 'VALIDATION', message });
  });

  it('counts code points, so 32 emoji make a valid name', async () => {
    await expect(run({ name: '😀'.repeat(32), room: 'r' }, body(LoginDto))).resolves.toBeInstanceOf(LoginDto);
    await expect(run({ name: '😀'.repeat(33), room: 'r' }, body(LoginDto))).rejects.toMatchObject({
      code: 'VALIDATION',
    });
  });

  it('accepts the bare-string message form and measures UTF-8 bytes', async () => {
    await expect(run('0123456789', body(RoomMessageDto))).resolves.toMatchObject({ message: '0123456789' });
    await expect(run('é'.repeat(5), body(RoomMessageDto))).resolves.toBeInstanceOf(RoomMessageDto);
    await expect(run({ message: 'é'.repeat(5) + 'x' }, body(RoomMessageDto))).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    await expect(run({ message: '' }, body(RoomMessageDto))).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('measures signals as compact JSON bytes', async () => {
    // {"a":"xxxxxxxxxxxx"} is 20 bytes.
    await expect(run({ to: 'x', signal: { a: 'x'.repeat(12) } }, body(CallDto))).resolves.toBeInstanceOf(CallDto);
    await expect(run({ to: 'x', signal: { a: 'x'.repeat(13) } }, body(CallDto))).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
  });

  it('takes `to` as an alias of userToCall, and userToCall wins', async () => {
    await expect(run({ to: 'b' }, body(CallDto))).resolves.toMatchObject({ userToCall: 'b' });
    const both = (await run({ to: 'b', userToCall: 'c' }, body(CallDto))) as CallDto;
    expect(both.userToCall).toBe('c');
    expect('to' in both).toBe(false);
  });

  it('needs exactly one of signal and sdp in an answer', async () => {
    await expect(run({ to: 'b', signal: 1 }, body(AnswerDto))).resolves.toBeInstanceOf(AnswerDto);
    await expect(run({ to: 'b', sdp: 'x' }, body(AnswerDto))).resolves.toBeInstanceOf(AnswerDto);
    await expect(run({ to: 'b', signal: 1, sdp: 'x' }, body(AnswerDto))).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(run({ to: 'b' }, body(AnswerDto))).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('never lets a __proto__ key reach a prototype', async () => {
    const payload = JSON.parse('{"name":"a","room":"r","__proto__":{"polluted":true}}');
    const out = await run(payload, body(LoginDto));
    expect(Object.getPrototypeOf(out)).toBe(LoginDto.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
