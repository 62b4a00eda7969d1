import {
  Logger,
  type ArgumentMetadata,
  type ExceptionFilter,
  type INestApplicationContext,
  type PipeTransform,
  type Type,
} from '@nestjs/common';
import {
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
} from '@nestjs/common/internal';
import { ApplicationConfig, MetadataScanner, ModulesContainer } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/internal';
import {
  GATEWAY_METADATA,
  MESSAGE_MAPPING_METADATA,
  MESSAGE_METADATA,
  PARAM_ARGS_METADATA,
} from '@nestjs/websockets/constants.js';
import { WsParamtype } from '@nestjs/websockets/enums/ws-paramtype.enum.js';
import type { Socket } from 'socket.io';
import { WsExceptionsFilter } from '../filters/ws-exceptions.filter.js';
import { WsValidationPipe } from '../pipes/ws-validation.pipe.js';

/** Runs one event for one socket: the same work as Nest's handler pipeline, shared by all sockets. */
export type DirectHandler = (socket: Socket, data: unknown, ack: unknown) => unknown;

interface Candidate {
  message: string;
  handler?: DirectHandler;
}

/**
 * Nest calls a gateway method through a pipeline built for the general case: guards,
 * interceptors, pipes resolved per parameter, each step awaited, an execution context per
 * event, and a callback bound to every socket for every handler. Parley's gateways use a
 * small, fixed part of it: `@ConnectedSocket()`, `@MessageBody()`, the WsValidationPipe and
 * the WsExceptionsFilter bound on the class. For a handler that uses exactly that and
 * nothing else, this builds the equivalent call once: validate the body, call the method,
 * hand an error to the same filter instance, all synchronous up to the method's own awaits.
 *
 * Anything else keeps Nest's pipeline, so nothing a backend developer adds is skipped: a
 * guard, an interceptor or another pipe or filter (on the method, the class or globally),
 * `@Ack()` or any other parameter decorator, a request-scoped gateway, or an event name two
 * gateways share.
 */
export function directHandlers(app: INestApplicationContext): Map<string, DirectHandler> {
  const log = new Logger('DirectHandlers');
  const config = app.get(ApplicationConfig);
  const direct = new Map<string, DirectHandler>();
  const globalsInUse =
    config.getGlobalGuards().length +
      config.getGlobalInterceptors().length +
      config.getGlobalPipes().length +
      config.getGlobalFilters().length +
      config.getGlobalRequestGuards().length +
      config.getGlobalRequestInterceptors().length +
      config.getGlobalRequestPipes().length +
      config.getGlobalRequestFilters().length >
    0;
  if (globalsInUse) return direct;

  const seen = new Map<string, number>();
  const candidates: Candidate[] = [];
  forEachGateway(app, ({ metatype, instance, isStatic, injectable, handlers }) => {
    const classOk = onlyOurs(metatype, injectable) && isStatic;
    for (const { name, message } of handlers) {
      seen.set(message, (seen.get(message) ?? 0) + 1);
      const handler = classOk ? build(instance, metatype, name, message, injectable) : undefined;
      candidates.push({ message, handler });
    }
  });
  for (const { message, handler } of candidates) {
    if (handler && seen.get(message) === 1) direct.set(message, handler);
  }
  log.debug({ event: 'direct-handlers', direct: direct.size, nest: candidates.length - direct.size });
  return direct;
}

type Injectable = <T>(cls: Type<T>) => T | undefined;

/** The enhancers (pipes, filters, guards, interceptors) bound on a class or a method. */
function enhancers(key: string, target: object): unknown[] {
  return (Reflect.getMetadata(key, target) ?? []) as unknown[];
}

/** The class binds exactly our pipe and filter, and no guard or interceptor. */
function onlyOurs(metatype: Type, injectable: Injectable): boolean {
  const pipes = enhancers(PIPES_METADATA, metatype);
  const filters = enhancers(EXCEPTION_FILTERS_METADATA, metatype);
  const guards = enhancers(GUARDS_METADATA, metatype);
  const interceptors = enhancers(INTERCEPTORS_METADATA, metatype);
  return (
    pipes.length === 1 &&
    pipes[0] === WsValidationPipe &&
    filters.length === 1 &&
    filters[0] === WsExceptionsFilter &&
    guards.length === 0 &&
    interceptors.length === 0 &&
    injectable(WsValidationPipe) !== undefined &&
    injectable(WsExceptionsFilter) !== undefined
  );
}

interface ParamArg {
  index: number;
  data?: unknown;
  pipes?: unknown[];
}

function build(
  instance: Record<string, unknown>,
  metatype: Type,
  name: string,
  message: string,
  injectable: Injectable,
): DirectHandler | undefined {
  const method = instance[name] as (...args: unknown[]) => unknown;
  for (const key of [PIPES_METADATA, EXCEPTION_FILTERS_METADATA, GUARDS_METADATA, INTERCEPTORS_METADATA]) {
    if (enhancers(key, method).length > 0) return undefined;
  }
  const params = (Reflect.getMetadata(PARAM_ARGS_METADATA, metatype, name) ?? {}) as Record<string, ParamArg>;
  const types = (Reflect.getMetadata('design:paramtypes', instance, name) ?? []) as unknown[];
  let socketAt = -1;
  let bodyAt = -1;
  let arity = 0;
  for (const [key, param] of Object.entries(params)) {
    // Keys are `${paramtype}:${index}`; a custom decorator's key is not a plain number.
    const type = Number(key.split(':')[0]);
    if (param.data !== undefined || (param.pipes?.length ?? 0) > 0) return undefined;
    if (type === (WsParamtype.SOCKET as number)) socketAt = param.index;
    else if (type === (WsParamtype.PAYLOAD as number)) bodyAt = param.index;
    else return undefined;
    arity = Math.max(arity, param.index + 1);
  }
  const pipe: PipeTransform = injectable(WsValidationPipe)!;
  const filter: ExceptionFilter = injectable(WsExceptionsFilter)!;
  const bodyMeta: ArgumentMetadata = { type: 'body', metatype: types[bodyAt] as Type | undefined, data: undefined };
  const fail = (err: unknown, socket: Socket, data: unknown, ack: unknown): undefined => {
    // The arguments Nest's own pipeline hands the filter: client, data, ack, pattern.
    const host = new ExecutionContextHost([socket, data, ack, message]);
    host.setType('ws');
    filter.catch(err, host);
    return undefined;
  };
  // `(socket, body)`, the common shape, is called without an argument array.
  const call =
    socketAt === 0 && bodyAt === 1 && arity === 2
      ? (socket: Socket, data: unknown) => method.call(instance, socket, pipe.transform(data, bodyMeta))
      : (socket: Socket, data: unknown) => {
          const args: unknown[] = new Array(arity);
          if (socketAt >= 0) args[socketAt] = socket;
          if (bodyAt >= 0) args[bodyAt] = pipe.transform(data, bodyMeta);
          return method.apply(instance, args);
        };
  return (socket, data, ack) => {
    try {
      const result = call(socket, data);
      if (result instanceof Promise) return result.catch((err: unknown) => fail(err, socket, data, ack));
      return result;
    } catch (err) {
      return fail(err, socket, data, ack);
    }
  };
}

/** A gateway's message names, and whether Nest would call anything when a socket leaves. */
export interface GatewayEvents {
  events: Set<string>;
  handlesDisconnect: boolean;
}

/** Every gateway of the application, by the events it handles. */
export function gatewayEvents(app: INestApplicationContext): GatewayEvents[] {
  const out: GatewayEvents[] = [];
  forEachGateway(app, ({ instance, isStatic, handlers }) => {
    out.push({
      events: new Set(handlers.map((h) => h.message)),
      handlesDisconnect: !isStatic || typeof instance.handleDisconnect === 'function',
    });
  });
  return out;
}

interface Gateway {
  metatype: Type;
  instance: Record<string, unknown>;
  /** Not request-scoped (Nest calls it through one instance). */
  isStatic: boolean;
  /** The module's instance of an enhancer class bound with `@UsePipes` and the like. */
  injectable: Injectable;
  /** Its message handlers: method name and event. */
  handlers: Array<{ name: string; message: string }>;
}

/** Calls `visit` for each gateway provider of the application, with its message handlers. */
function forEachGateway(app: INestApplicationContext, visit: (gateway: Gateway) => void): void {
  const scanner = new MetadataScanner();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.providers.values()) {
      const metatype = wrapper.metatype as Type | null;
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!metatype || !instance || !Reflect.getMetadata(GATEWAY_METADATA, metatype)) continue;
      const handlers: Gateway['handlers'] = [];
      for (const name of scanner.getAllMethodNames(Object.getPrototypeOf(instance) as object)) {
        const method = instance[name] as (...args: unknown[]) => unknown;
        if (!Reflect.getMetadata(MESSAGE_MAPPING_METADATA, method)) continue;
        handlers.push({ name, message: String(Reflect.getMetadata(MESSAGE_METADATA, method)) });
      }
      const injectable: Injectable = <T>(cls: Type<T>) => module.injectables.get(cls)?.instance as T | undefined;
      visit({ metatype, instance, isStatic: wrapper.isDependencyTreeStatic(), injectable, handlers });
    }
  }
}

/**
 * Whether the gateway that owns exactly these events handles disconnects: true unless one
 * gateway, and only one, has this very set of events and no handleDisconnect.
 */
export function wantsDisconnect(gateways: GatewayEvents[], events: string[]): boolean {
  const owners = gateways.filter((g) => g.events.size === events.length && events.every((e) => g.events.has(e)));
  return owners.length !== 1 || owners[0].handlesDisconnect;
}
