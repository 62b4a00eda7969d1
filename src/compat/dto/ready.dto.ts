import { IsOptional } from 'class-validator';
import { ValidationError } from '../../common/errors/parley.error.js';
import { IsCleanText } from '../../common/validation/text.decorators.js';

/**
 * Stands in for a single array argument (`ready(['a', 'b'])`). Nest hands a handler the
 * same array for that and for two arguments (`ready('a', 'b')`), so the gateway swaps the
 * lone array for this marker before Nest sees the packet (see `markArrayReadyArgument`).
 */
export const ARRAY_ARGUMENT: object = Object.freeze({ arrayArgument: true });

/** `ready(peerId, peerType?)`: one or two bare string arguments. */
export class ReadyDto {
  static fromWire(raw: unknown): unknown {
    if (raw === ARRAY_ARGUMENT) throw new ValidationError('peerId must be a string, not an array');
    if (Array.isArray(raw)) {
      if (raw.length > 2) throw new ValidationError('ready takes a peerId and an optional peerType, nothing more');
      return { peerId: raw[0], peerType: raw[1] };
    }
    return { peerId: raw };
  }

  /** Never trimmed: the id is matched as sent (`messageOne` targets). */
  @IsCleanText(1, 64)
  peerId: string;

  /** null counts as not given (a client passing `undefined` sends null). */
  @IsOptional()
  @IsCleanText(1, 64)
  peerType?: string;
}
