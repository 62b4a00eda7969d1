import { IsInt, IsString, Length, Max, Min } from 'class-validator';

/** `redact { offset, epoch }`: one retained message of the caller's room, sent by the caller. */
export class RedactDto {
  @IsInt({ message: 'offset must be an integer offset' })
  @Min(1, { message: 'offset must be 1 or more' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'offset is too large' })
  offset: number;

  @IsString({ message: 'epoch must be a string' })
  @Length(1, 64, { message: 'epoch must be 1 to 64 characters' })
  epoch: string;
}
