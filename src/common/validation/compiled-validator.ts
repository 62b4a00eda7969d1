import { getMetadataStorage, ValidationTypes, type ValidationArguments } from 'class-validator';

/**
 * A DTO's class-validator rules read once into a flat plan, so that checking a payload is
 * one pass over its properties: no metadata lookups, grouping or error objects per event.
 *
 * It answers one question, "does this instance pass?", after stripping the properties no
 * rule declares (class-validator's `whitelist`). It does not build messages: when a payload
 * fails, the caller runs class-validator itself on it, so every error is worded exactly as
 * before. Rules the plan does not model (nested or promise validation, `each`, groups,
 * contexts, async constraints) make `compileValidator` return null, and the caller keeps
 * using class-validator for that DTO.
 */
export type CompiledValidator = (instance: Record<string, unknown>) => boolean;

interface Check {
  property: string;
  constraints: unknown[];
  validateIf?: (object: object, value: unknown) => boolean;
  validate: (value: unknown, args: ValidationArguments) => unknown;
}

interface PropertyPlan {
  property: string;
  /** @IsOptional / @ValidateIf: when one is false the property is not checked at all. */
  conditions: Array<(object: object, value: unknown) => boolean>;
  checks: Check[];
}

type Constructor = abstract new (...args: never[]) => object;

export function compileValidator(metatype: Constructor): CompiledValidator | null {
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(metatype, '', false, false, undefined);
  // No rules at all: class-validator refuses the value (forbidUnknownValues); let it say so.
  if (metadatas.length === 0) return null;
  const modelled = new Set<string>([
    ValidationTypes.CUSTOM_VALIDATION,
    ValidationTypes.IS_DEFINED,
    ValidationTypes.CONDITIONAL_VALIDATION,
    ValidationTypes.WHITELIST,
  ]);
  const grouped = storage.groupByPropertyName(metadatas);
  const plans: PropertyPlan[] = [];
  for (const [property, list] of Object.entries(grouped)) {
    const plan: PropertyPlan = { property, conditions: [], checks: [] };
    for (const m of list) {
      if (!modelled.has(m.type) || m.each || m.always || m.groups?.length || m.context) return null;
      if (m.type === ValidationTypes.WHITELIST) continue;
      if (m.type === ValidationTypes.CONDITIONAL_VALIDATION) {
        plan.conditions.push(m.constraints[0] as (object: object, value: unknown) => boolean);
        continue;
      }
      for (const c of storage.getTargetValidatorConstraints(m.constraintCls)) {
        if (c.async) return null;
        const instance = c.instance as { validate: Check['validate'] };
        plan.checks.push({
          property,
          constraints: m.constraints,
          validateIf: m.validateIf,
          validate: instance.validate.bind(instance),
        });
      }
    }
    plans.push(plan);
  }
  const allowed = new Set(Object.keys(grouped));
  const targetName = metatype.name;

  return (instance) => {
    for (const key of Object.keys(instance)) if (!allowed.has(key)) delete instance[key];
    for (const plan of plans) {
      const value = instance[plan.property];
      let applies = true;
      for (const condition of plan.conditions) if (!condition(instance, value)) applies = false;
      if (!applies) continue;
      for (const check of plan.checks) {
        if (check.validateIf && !check.validateIf(instance, value)) continue;
        const ok = check.validate(value, {
          targetName,
          property: check.property,
          object: instance,
          value,
          constraints: check.constraints,
        });
        // A failure, or a constraint that answers with a promise (async after all): either
        // way class-validator has the last word.
        if (!ok || ok instanceof Promise) return false;
      }
    }
    return true;
  };
}
