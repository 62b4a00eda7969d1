import { IsString, MinLength } from 'class-validator';
import { ByteLimit } from '../../common/validation/byte-limit.decorator.js';

export class RoomMessageDto {
  /** Older chat clients send the ciphertext string itself instead of `{ message }`. */
  static fromWire(raw: unknown): unknown {
    return typeof raw === 'string' ? { message: raw } : raw;
  }

  @IsString({ message: 'message must be a string' })
  @MinLength(1, { message: 'message must not be empty' })
  @ByteLimit('message')
  message: string;
}
