import { Allow, IsOptional } from 'class-validator';
import { ByteLimit } from '../../common/validation/byte-limit.decorator.js';
import { IsTargetId } from '../../common/validation/target-id.decorator.js';
import { IsCleanText, Trim } from '../../common/validation/text.decorators.js';

export class CallDto {
  /** `to` is an alias of `userToCall`; when both are given, `userToCall` wins. */
  static fromWire(raw: unknown): unknown {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
    const r = raw as Record<string, unknown>;
    return r.userToCall === undefined && r.to !== undefined ? { ...r, userToCall: r.to } : raw;
  }

  @IsTargetId()
  userToCall: string;

  @Allow()
  @ByteLimit('signal')
  signal?: unknown;

  @IsOptional()
  @Trim()
  @IsCleanText(1, 32)
  name?: string;
}
