import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsCleanText, Trim } from '../../common/validation/text.decorators.js';

export const DEFAULT_KICK_REASON = 'Removed from the room';

/** Optional body of DELETE /rooms/:room/users/:id. */
export class KickDto {
  @ApiPropertyOptional({
    description: 'Trimmed, 1–200 characters, no control characters.',
    minLength: 1,
    maxLength: 200,
    default: DEFAULT_KICK_REASON,
  })
  @IsOptional()
  @Trim()
  @IsCleanText(1, 200)
  reason?: string;

  /** The body is optional: a request without one is a kick with the default reason. */
  static fromWire(raw: unknown): unknown {
    return raw === undefined || raw === null || raw === '' ? {} : raw;
  }
}
