import { ByteLimit } from '../../common/validation/byte-limit.decorator.js';
import { IsTargetId } from '../../common/validation/target-id.decorator.js';
import { IsPresent } from '../../common/validation/text.decorators.js';

export class OfferDto {
  @IsTargetId()
  to: string;

  @IsPresent()
  @ByteLimit('signal')
  sdp: unknown;
}

export class CandidateDto {
  @IsTargetId()
  to: string;

  @IsPresent()
  @ByteLimit('signal')
  candidate: unknown;
}

export class SignalDto {
  @IsTargetId()
  to: string;

  @IsPresent()
  @ByteLimit('signal')
  signal: unknown;
}

export class HangupDto {
  @IsTargetId()
  to: string;
}
