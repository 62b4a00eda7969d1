import { IsBoolean, IsIn, IsInt, IsString, Length, Max, Min } from 'class-validator';
import type { UserStatus } from '../../common/events.js';

/** `setStatus { status }`. */
export class SetStatusDto {
  @IsIn(['online', 'away', 'busy'], { message: 'status must be online, away or busy' })
  status: UserStatus;
}

/** `typing { active }`. */
export class TypingDto {
  @IsBoolean({ message: 'active must be true or false' })
  active: boolean;
}

/** `read { offset, epoch }`: the member has read its room up to `offset` of `epoch`. */
export class ReadDto {
  @IsInt({ message: 'offset must be an integer offset' })
  @Min(1, { message: 'offset must be 1 or more' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'offset is too large' })
  offset: number;

  @IsString({ message: 'epoch must be a string' })
  @Length(1, 64, { message: 'epoch must be 1 to 64 characters' })
  epoch: string;
}
