import { describe, expect, it } from '@jest/globals';
import {
  Injectable,
  Module,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  type CallHandler,
  type CanActivate,
  type NestInterceptor,
  type PipeTransform,
} from '@nestjs/common';
import { ApplicationConfig, NestFactory } from '@nestjs/core';
import { Ack, ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { IsString } from 'class-validator';
import { limitsConfig } from '../../config/configuration.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { WsExceptionsFilter } from '../filters/ws-exceptions.filter.js';
import { WsValidationPipe } from '../pipes/ws-validation.pipe.js';
import { directHandlers } from './direct-handlers.js';

class EchoDto {
  @IsString({ message: 'text must be a string' })
  text: string;
}

@Injectable()
class DenyAll implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

@Injectable()
class Passthrough implements NestInterceptor {
  intercept(_ctx: unknown, next: CallHandler) {
    return next.handle();
  }
}

@Injectable()
class Upper implements PipeTransform {
  transform(v: unknown) {
    return v;
  }
}

@WebSocketGateway()
@UseFilters(WsExceptionsFilter)
@UsePipes(WsValidationPipe)
class PlainGateway {
  @SubscribeMessage('echo')
  echo(@ConnectedSocket() client: Socket, @MessageBody() dto: EchoDto) {
    return { id: client.id, text: dto.text, isDto: dto instanceof EchoDto, keys: Object.keys(dto) };
  }

  @SubscribeMessage('later')
  async later(@MessageBody() dto: EchoDto) {
    await Promise.resolve();
    if (dto.text === 'boom') throw new Error('boom');
    return { text: dto.text };
  }

  @SubscribeMessage('acked')
  acked(@Ack() ack: (v: unknown) => void) {
    ack('manual');
  }

  @SubscribeMessage('piped')
  @UsePipes(Upper)
  piped(@MessageBody() dto: EchoDto) {
    return dto;
  }

  @SubscribeMessage('intercepted')
  @UseInterceptors(Passthrough)
  intercepted() {
    return 'ok';
  }

  @SubscribeMessage('shared')
  shared() {
    return 'plain';
  }
}

@WebSocketGateway()
@UseFilters(WsExceptionsFilter)
@UsePipes(WsValidationPipe)
@UseGuards(DenyAll)
class GuardedGateway {
  @SubscribeMessage('guarded')
  guarded() {
    return 'should not run';
  }

  @SubscribeMessage('shared')
  shared() {
    return 'guarded';
  }
}

const rejected: string[] = [];

@Module({
  providers: [
    PlainGateway,
    GuardedGateway,
    { provide: limitsConfig.KEY, useValue: { maxMessageBytes: 1024, maxSignalBytes: 1024 } },
    { provide: MetricsService, useValue: { reject: (code: string) => rejected.push(code) } },
  ],
})
class TestModule {}

describe('directHandlers', () => {
  const socket = { id: 'sock-1', emit: () => true } as unknown as Socket;

  it('runs plain handlers directly, and leaves Nest the ones that need its pipeline', async () => {
    const app = await NestFactory.createApplicationContext(TestModule, { logger: false });
    try {
      const direct = directHandlers(app);
      // A guard, an interceptor, a method pipe, @Ack(), or a name two gateways share: Nest's.
      expect([...direct.keys()].sort()).toEqual(['echo', 'later']);
    } finally {
      await app.close();
    }
  });

  it('validates the body into the DTO, strips unknown fields, and hands refusals to the filter', async () => {
    const app = await NestFactory.createApplicationContext(TestModule, { logger: false });
    try {
      const echo = directHandlers(app).get('echo')!;
      expect(echo(socket, { text: 'hi', from: 'mallory' }, undefined)).toEqual({
        id: 'sock-1',
        text: 'hi',
        isDto: true,
        keys: ['text'],
      });
      const replies: unknown[] = [];
      expect(echo(socket, { text: 5 }, (r: unknown) => replies.push(r))).toBeUndefined();
      expect(replies).toEqual([{ error: 'text must be a string', code: 'VALIDATION' }]);
    } finally {
      await app.close();
    }
  });

  it('answers an async handler, and turns its rejection into INTERNAL through the filter', async () => {
    const app = await NestFactory.createApplicationContext(TestModule, { logger: false });
    try {
      const later = directHandlers(app).get('later')!;
      await expect(later(socket, { text: 'fine' }, undefined)).resolves.toEqual({ text: 'fine' });
      const replies: unknown[] = [];
      await expect(later(socket, { text: 'boom' }, (r: unknown) => replies.push(r))).resolves.toBeUndefined();
      expect(replies).toEqual([{ error: 'Internal server error', code: 'INTERNAL' }]);
      expect(rejected).toContain('INTERNAL');
    } finally {
      await app.close();
    }
  });

  it('hands everything to Nest when the app has a global enhancer', async () => {
    const app = await NestFactory.createApplicationContext(TestModule, { logger: false });
    try {
      app.get(ApplicationConfig).useGlobalGuards(new DenyAll());
      expect(directHandlers(app).size).toBe(0);
    } finally {
      await app.close();
    }
  });
});
