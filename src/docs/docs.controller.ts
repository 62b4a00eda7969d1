import { Controller, Get } from '@nestjs/common';
import { asyncApiDocument } from './asyncapi.js';

/** The machine-readable API documents; public, like /health (they hold no state). */
@Controller()
export class DocsController {
  private readonly asyncApi = asyncApiDocument();

  @Get('asyncapi.json')
  asyncapi() {
    return this.asyncApi;
  }
}
