import { registerDecorator, type ValidationArguments } from 'class-validator';

const given = (v: unknown) => v !== undefined && v !== null;

/** Object-level rule hung on one property: exactly one of the named fields is given. */
export function ExactlyOneOf(fields: string[]) {
  return function (object: object, propertyName: string) {
    registerDecorator({
      name: 'exactlyOneOf',
      target: object.constructor,
      propertyName,
      constraints: fields,
      validator: {
        validate(_value: unknown, args: ValidationArguments) {
          const o = args.object as Record<string, unknown>;
          return fields.filter((f) => given(o[f])).length === 1;
        },
        defaultMessage: () => `exactly one of ${fields.join(' and ')} must be given`,
      },
    });
  };
}
