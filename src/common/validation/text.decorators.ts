import 'reflect-metadata';
import { registerDecorator, type ValidationArguments, type ValidationOptions } from 'class-validator';

// Code points below U+0020 and U+007F.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

const TRIMMED = Symbol('parley:trimmed');

/**
 * Trims the field when it is a string (anything else passes through untouched for the type
 * check to refuse). Applied by the validation pipe before the rules run.
 */
export function Trim(): PropertyDecorator {
  return (target, property) => {
    const ctor = target.constructor;
    const fields: string[] = [...(Reflect.getOwnMetadata(TRIMMED, ctor) ?? [])];
    fields.push(String(property));
    Reflect.defineMetadata(TRIMMED, fields, ctor);
  };
}

export function trimmedFieldsOf(ctor: object): string[] {
  return Reflect.getMetadata(TRIMMED, ctor) ?? [];
}

/** Counts Unicode code points, not UTF-16 units, so an emoji is one character. */
export function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** A string of min..max code points with no control characters. */
export function IsCleanText(min: number, max: number, options?: ValidationOptions) {
  return function (object: object, propertyName: string) {
    registerDecorator({
      name: 'isCleanText',
      target: object.constructor,
      propertyName,
      options,
      constraints: [min, max],
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'string') return false;
          const len = codePointLength(value);
          return len >= min && len <= max && !CONTROL_CHARS.test(value);
        },
        defaultMessage(args: ValidationArguments) {
          const v = args.value;
          if (typeof v !== 'string') return `${args.property} must be a string`;
          if (CONTROL_CHARS.test(v)) return `${args.property} must not contain control characters`;
          return `${args.property} must be ${min} to ${max} characters long`;
        },
      },
    });
  };
}

/** A string of at most max code points (may be empty only when min is 0). */
export function IsBoundedString(min: number, max: number, options?: ValidationOptions) {
  return function (object: object, propertyName: string) {
    registerDecorator({
      name: 'isBoundedString',
      target: object.constructor,
      propertyName,
      options,
      constraints: [min, max],
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'string') return false;
          const len = codePointLength(value);
          return len >= min && len <= max;
        },
        defaultMessage(args: ValidationArguments) {
          if (typeof args.value !== 'string') return `${args.property} must be a string`;
          return `${args.property} must be ${min} to ${max} characters long`;
        },
      },
    });
  };
}

/** The value must be present: not undefined and not null. */
export function IsPresent(options?: ValidationOptions) {
  return function (object: object, propertyName: string) {
    registerDecorator({
      name: 'isPresent',
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => value !== undefined && value !== null,
        defaultMessage: (args: ValidationArguments) => `${args.property} is required`,
      },
    });
  };
}
