import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { HealthIndicators } from './health-indicators.service.js';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicators,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({ summary: '200 `{ status: "ok", … }` when the server (and Redis, where configured) is usable' })
  @ApiServiceUnavailableResponse({ description: 'Not usable (Redis down or not answering)' })
  check() {
    return this.health.check(this.indicators.all() as HealthIndicatorFunction[]);
  }
}
