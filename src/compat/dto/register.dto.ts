import { IsCleanText, Trim } from '../../common/validation/text.decorators.js';

/** `register(name)`: the lobby name arrives as a bare string argument. */
export class RegisterDto {
  static fromWire(raw: unknown): unknown {
    return { name: raw };
  }

  @Trim()
  @IsCleanText(1, 32)
  name: string;
}
