import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { asyncApiDocument } from './asyncapi.js';

/** The machine-readable API documents; public, like /health (they hold no state). */
@ApiTags('docs')
@Controller()
export class DocsController {
  private readonly asyncApi = asyncApiDocument();

  @Get('asyncapi.json')
  @ApiOperation({ summary: 'The AsyncAPI 3.0 document of the Socket.IO API' })
  @ApiOkResponse({ schema: { type: 'object' } })
  asyncapi() {
    return this.asyncApi;
  }
}
