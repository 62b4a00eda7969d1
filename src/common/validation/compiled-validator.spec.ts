import { describe, expect, it } from '@jest/globals';
import { validateSync } from 'class-validator';
import fc from 'fast-check';
import { AnnounceDto } from '../../admin/dto/announce.dto.js';
import { KickDto } from '../../admin/dto/kick.dto.js';
import { DirectDto, DirectItem } from '../../chat/dto/direct.dto.js';
import { HistoryDto } from '../../chat/dto/history.dto.js';
import { LoginDto } from '../../chat/dto/login.dto.js';
import { RoomMessageDto } from '../../chat/dto/room-message.dto.js';
import { ReadyDto } from '../../compat/dto/ready.dto.js';
import { RegisterDto } from '../../compat/dto/register.dto.js';
import { AnswerDto } from '../../signaling/dto/answer.dto.js';
import { CallDto } from '../../signaling/dto/call.dto.js';
import { CandidateDto, HangupDto, OfferDto, SignalDto } from '../../signaling/dto/relay.dto.js';
import { compileValidator } from './compiled-validator.js';

type Dto = new () => object;

const DTOS: Dto[] = [
  AnnounceDto,
  KickDto,
  DirectDto,
  HistoryDto,
  LoginDto,
  RoomMessageDto,
  ReadyDto,
  RegisterDto,
  AnswerDto,
  CallDto,
  OfferDto,
  CandidateDto,
  SignalDto,
  HangupDto,
];

/** Every property any DTO declares, plus strangers, so random payloads hit real rules. */
const KEYS = [
  'message',
  'name',
  'room',
  'publicKey',
  'since',
  'epoch',
  'limit',
  'to',
  'userToCall',
  'signal',
  'sdp',
  'candidate',
  'items',
  'title',
  'description',
  'reason',
  'id',
  'extra',
  'from',
];

const value = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    'alice',
    'room-1',
    '  bob  ',
    'a'.repeat(20),
    'x'.repeat(200),
    'é\u0000',
    'AbCdEfGhIjKlMnOpQrSt',
  ),
  fc.integer({ min: -5, max: 2000 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.record({ to: fc.string({ maxLength: 24 }), payload: fc.string({ maxLength: 8 }) }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 3 }),
);

const anyPayload = fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 6 });

const ID = 'AbCdEfGhIjKlMnOpQrSt';
/** One valid payload per DTO: the random mix starts from it too, with fields changed or added. */
const VALID = new Map<Dto, Record<string, unknown>>([
  [AnnounceDto, { title: 'Maintenance', description: 'Back soon' }],
  [KickDto, {}],
  [DirectDto, { items: [Object.assign(new DirectItem(), { to: ID, payload: 'sealed' })] }],
  [HistoryDto, { since: 3, epoch: 'e1', limit: 10 }],
  [LoginDto, { name: 'alice', room: 'lobby', publicKey: 'pk' }],
  [RoomMessageDto, { message: 'ciphertext' }],
  [ReadyDto, { peerId: 'peer-1', peerType: 'viewer' }],
  [RegisterDto, { name: 'alice' }],
  [AnswerDto, { to: ID, signal: { type: 'answer', sdp: 'v=0' } }],
  [CallDto, { userToCall: ID, signal: { type: 'offer', sdp: 'v=0' }, name: 'alice' }],
  [OfferDto, { to: ID, sdp: 'v=0' }],
  [CandidateDto, { to: ID, candidate: 'candidate:1' }],
  [SignalDto, { to: ID, signal: { candidate: 'c' } }],
  [HangupDto, { to: ID }],
]);

const payloadFor = (dto: Dto) =>
  fc.oneof(
    anyPayload,
    fc.constant(VALID.get(dto)!),
    fc
      .dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 2 })
      .map((changes) => ({ ...VALID.get(dto)!, ...changes })),
  );

function instanceOf(dto: Dto, raw: Record<string, unknown>): Record<string, unknown> {
  const out = new dto() as Record<string, unknown>;
  Object.assign(out, raw);
  return out;
}

describe('compileValidator', () => {
  it('covers every DTO (none falls back to class-validator for every payload)', () => {
    for (const dto of DTOS)
      expect({ dto: dto.name, compiled: compileValidator(dto) !== null }).toEqual({ dto: dto.name, compiled: true });
  });

  it.each(DTOS.map((d) => [d.name, d] as const))(
    'agrees with class-validator on %s, and strips the same fields',
    (_name, dto) => {
      const passes = compileValidator(dto)!;
      let accepted = 0;
      fc.assert(
        fc.property(payloadFor(dto), (raw) => {
          const mine = instanceOf(dto, raw);
          const theirs = instanceOf(dto, raw);
          const ok = passes(mine);
          const errors = validateSync(theirs, { whitelist: true, forbidUnknownValues: true });
          if (ok) accepted++;
          expect({ ok, keys: ok ? Object.keys(mine).sort() : [] }).toEqual({
            ok: errors.length === 0,
            keys: ok ? Object.keys(theirs).sort() : [],
          });
        }),
        { numRuns: 400, seed: 20261202 },
      );
      // Not a vacuous agreement: at least some payload of the random mix is refused.
      expect(accepted).toBeLessThan(400);
    },
  );

  it('accepts a valid payload and refuses a broken one, for a DTO with a cross-field rule', () => {
    const passes = compileValidator(CallDto)!;
    expect(passes(instanceOf(CallDto, { userToCall: 'AbCdEfGhIjKlMnOpQrSt', signal: { type: 'offer' } }))).toBe(true);
    expect(passes(instanceOf(CallDto, { userToCall: '' }))).toBe(false);
    const stripped = instanceOf(RoomMessageDto, { message: 'hi', from: 'mallory', id: 'x' });
    expect(compileValidator(RoomMessageDto)!(stripped)).toBe(true);
    expect(Object.keys(stripped)).toEqual(['message']);
  });

  it('returns null for a class with no rules, which class-validator refuses outright', () => {
    class Bare {}
    expect(compileValidator(Bare)).toBeNull();
  });
});
