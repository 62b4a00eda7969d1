import { BadRequestException, Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { ParleyError } from '../errors/parley.error.js';
import { WsValidationPipe } from './ws-validation.pipe.js';

/**
 * The same DTO rules as the Socket.IO events, for HTTP bodies: a refused body is a 400
 * whose JSON is the protocol's `{ error, code: 'VALIDATION' }`.
 */
@Injectable()
export class HttpValidationPipe implements PipeTransform {
  constructor(private readonly ws: WsValidationPipe) {}

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    try {
      return this.ws.transform(value, metadata);
    } catch (err) {
      if (err instanceof ParleyError) throw new BadRequestException({ error: err.message, code: 'VALIDATION' });
      throw err;
    }
  }
}
