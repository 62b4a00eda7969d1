import { IsOptional } from 'class-validator';
import { IsBoundedString, IsCleanText, Trim } from '../../common/validation/text.decorators.js';

export class LoginDto {
  @Trim()
  @IsCleanText(1, 32)
  name: string;

  @Trim()
  @IsCleanText(1, 64)
  room: string;

  @IsOptional()
  @IsBoundedString(0, 2048)
  publicKey?: string;
}
