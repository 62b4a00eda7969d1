import { BadRequestException, Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { errorBody, isParleyBody } from '../http/http-errors.js';

/**
 * The admin and server API's errors in the protocol's shape `{ error, code }`: a body that
 * breaks a rule carries its own sentence; any other 400 is a body that is not a JSON object.
 */
@Catch(HttpException)
export class HttpBodyFilter implements ExceptionFilter {
  catch(exception: HttpException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const body = exception.getResponse();
    if (exception instanceof BadRequestException && !isParleyBody(body)) {
      res.status(400).json({ error: 'The request body must be a JSON object', code: 'VALIDATION' });
      return;
    }
    res.status(exception.getStatus()).json(errorBody(body, exception.getStatus()));
  }
}
