import { IsInt, IsOptional, IsString, Length, Max, Min, ValidateIf } from 'class-validator';

/** `history { since?, epoch?, limit? }`; the payload may be left out altogether. */
export class HistoryDto {
  static fromWire(raw: unknown): unknown {
    return raw === undefined || raw === null ? {} : raw;
  }

  @IsOptional()
  @IsInt({ message: 'since must be an integer offset' })
  @Min(0, { message: 'since must be 0 or more' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'since is too large' })
  since?: number;

  /** Required with `since`: offsets only compare within the epoch they were seen in. */
  @ValidateIf((o: HistoryDto) => o.since !== undefined || o.epoch !== undefined)
  @IsString({ message: 'epoch must be a string, and since needs the epoch it was seen in' })
  @Length(1, 64, { message: 'epoch must be 1 to 64 characters' })
  epoch?: string;

  @IsOptional()
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be from 1 to 1000' })
  @Max(1000, { message: 'limit must be from 1 to 1000' })
  limit?: number;
}
