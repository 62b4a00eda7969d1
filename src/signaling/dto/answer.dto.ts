import { Allow } from 'class-validator';
import { ByteLimit } from '../../common/validation/byte-limit.decorator.js';
import { ExactlyOneOf } from '../../common/validation/exactly-one-of.decorator.js';
import { IsTargetId } from '../../common/validation/target-id.decorator.js';

export class AnswerDto {
  @IsTargetId()
  @ExactlyOneOf(['signal', 'sdp'])
  to: string;

  @Allow()
  @ByteLimit('signal')
  signal?: unknown;

  @Allow()
  @ByteLimit('signal')
  sdp?: unknown;
}
