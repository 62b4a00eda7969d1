import { Inject, Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { validateSync, type ValidationError as ClassValidationError } from 'class-validator';
import { limitsConfig, type LimitsConfig } from '../../config/configuration.js';
import { ValidationError } from '../errors/parley.error.js';
import { compileValidator, type CompiledValidator } from '../validation/compiled-validator.js';
import { byteLimitsOf, checkByteLimit, type ByteLimitRule } from '../validation/byte-limit.decorator.js';
import { trimmedFieldsOf } from '../validation/text.decorators.js';

/** A DTO class may accept other wire forms (a bare string, an alias) by normalising first. */
export interface WireDto {
  new (): object;
  fromWire?(raw: unknown): unknown;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Validates an inbound Socket.IO payload against its DTO: class-validator rules with
 * whitelisting (unknown fields stripped), then the configured byte limits. Failures are
 * ParleyErrors (WsExceptions) with the VALIDATION or PAYLOAD_TOO_LARGE code.
 */
@Injectable()
export class WsValidationPipe implements PipeTransform {
  constructor(@Inject(limitsConfig.KEY) private readonly limits: LimitsConfig) {}

  // Decorator metadata per DTO class, read once: this pipe runs on every inbound event.
  private readonly plans = new WeakMap<
    WireDto,
    { trimmed: string[]; limits: ByteLimitRule[]; passes: CompiledValidator | null }
  >();

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const metatype = metadata.metatype as WireDto | undefined;
    if (metadata.type !== 'body' || !metatype || !isDto(metatype)) return value;
    let plan = this.plans.get(metatype);
    if (!plan) {
      plan = { trimmed: trimmedFieldsOf(metatype), limits: byteLimitsOf(metatype), passes: compileValidator(metatype) };
      this.plans.set(metatype, plan);
    }

    const raw = metatype.fromWire ? metatype.fromWire(value) : value;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ValidationError('The payload must be an object');
    }
    const instance = toInstance(metatype, raw as Record<string, unknown>, plan.trimmed);
    // The compiled plan decides the common case, a valid payload, in one pass (stripping the
    // fields no rule declares). A payload it refuses goes through class-validator, which
    // words the error; every rule is synchronous.
    if (!plan.passes?.(instance)) {
      const errors = validateSync(instance, { whitelist: true, forbidUnknownValues: true });
      if (errors.length > 0) throw new ValidationError(firstMessage(errors));
    }

    for (const rule of plan.limits) {
      const field = (instance as Record<string, unknown>)[rule.property];
      if (field === undefined) continue;
      const limit = rule.kind === 'message' ? this.limits.maxMessageBytes : this.limits.maxSignalBytes;
      checkByteLimit(field, rule.kind, limit, rule.property);
    }
    return instance;
  }
}

function isDto(metatype: WireDto): boolean {
  return ![String, Boolean, Number, Array, Object].includes(metatype as never);
}

/**
 * An instance of the DTO holding the payload's own fields (never keys that could reach a
 * prototype), with the @Trim() fields trimmed.
 */
function toInstance(metatype: WireDto, raw: Record<string, unknown>, trimmed: string[]): Record<string, unknown> {
  const out = new metatype() as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!FORBIDDEN_KEYS.has(key)) out[key] = raw[key];
  }
  for (const key of trimmed) {
    const v = out[key];
    if (typeof v === 'string') out[key] = v.trim();
  }
  return out;
}

function firstMessage(errors: ClassValidationError[]): string {
  for (const e of errors) {
    const messages = e.constraints ? Object.values(e.constraints) : [];
    if (messages.length > 0) return messages[0];
    if (e.children?.length) return firstMessage(e.children);
  }
  return 'The payload is invalid';
}
