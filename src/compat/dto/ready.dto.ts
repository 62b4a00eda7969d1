import { IsOptional } from 'class-validator';
import { isArgumentList } from '../../common/adapters/parley-io.adapter.js';
import { ValidationError } from '../../common/errors/parley.error.js';
import { IsCleanText } from '../../common/validation/text.decorators.js';

/** `ready(peerId, peerType?)`: one or two bare string arguments. */
export class ReadyDto {
  static fromWire(raw: unknown): unknown {
    if (Array.isArray(raw)) {
      // (a handler gets the same array for `ready(['a', 'b'])` as for `ready('a', 'b')`)
      if (!isArgumentList(raw)) throw new ValidationError('peerId must be a string, not an array');
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
