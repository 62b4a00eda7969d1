import { ByteLimit } from '../../common/validation/byte-limit.decorator.js';
import { IsTargetId } from '../../common/validation/target-id.decorator.js';
import { IsPresent } from '../../common/validation/text.decorators.js';

/** `callSignal`: an opaque signal (a description or an ICE candidate) for one participant. */
export class CallSignalDto {
  @IsTargetId()
  to: string;

  @IsPresent()
  @ByteLimit('signal')
  data: unknown;
}
