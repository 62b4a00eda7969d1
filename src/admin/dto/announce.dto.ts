import { IsCleanText, Trim } from '../../common/validation/text.decorators.js';

/** Body of POST /rooms/:room/notifications. */
export class AnnounceDto {
  @Trim()
  @IsCleanText(1, 200)
  title: string;

  @Trim()
  @IsCleanText(1, 200)
  description: string;
}
