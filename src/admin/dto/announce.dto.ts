import { ApiProperty } from '@nestjs/swagger';
import { IsCleanText, Trim } from '../../common/validation/text.decorators.js';

/** Body of POST /rooms/:room/notifications. */
export class AnnounceDto {
  @ApiProperty({
    description: 'Trimmed, 1–200 characters, no control characters.',
    minLength: 1,
    maxLength: 200,
    example: 'Maintenance',
  })
  @Trim()
  @IsCleanText(1, 200)
  title: string;

  @ApiProperty({
    description: 'Trimmed, 1–200 characters, no control characters.',
    minLength: 1,
    maxLength: 200,
    example: 'Back in five minutes',
  })
  @Trim()
  @IsCleanText(1, 200)
  description: string;
}
