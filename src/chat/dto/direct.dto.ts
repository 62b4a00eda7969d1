import { registerDecorator, type ValidationArguments } from 'class-validator';
import { ByteLimit } from '../../common/validation/byte-limit.decorator.js';
import { codePointLength } from '../../common/validation/text.decorators.js';

// Code points below U+0020 and U+007F (socket ids never hold them).
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** The protocol's nesting limit for opaque values (arrays and objects together). */
export const MAX_OPAQUE_DEPTH = 32;

/**
 * Whether `value` nests deeper than `max` (a scalar is depth 0). Iterative, and it stops at
 * the first path that goes too deep, so a hostile value costs no recursion.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** One recipient and its opaque payload. Built by DirectDto.fromWire, never sent as is. */
export class DirectItem {
  to: string;

  /** Opaque; held to MAX_SIGNAL_BYTES (the service measures each item, see DirectService). */
  @ByteLimit('signal')
  payload: unknown;
}

/**
 * `direct` — `{ items: Array<{ to, payload }> }`. The static rules live here: an array of
 * 1+ items, each `to` a socket id (1–128 characters, no control characters), each payload
 * present and at most 32 levels deep, no `to` twice. The rules that depend on configuration (item count against
 * MAX_ROOM_USERS, the byte limits) and on state (membership) are DirectService's.
 */
export class DirectDto {
  /** Keeps only `to` and `payload` of each item: unknown fields are stripped, as everywhere. */
  static fromWire(raw: unknown): unknown {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
    const items = (raw as { items?: unknown }).items;
    if (!Array.isArray(items)) return raw;
    return {
      ...raw,
      items: items.map((item: unknown) =>
        item !== null && typeof item === 'object' && !Array.isArray(item)
          ? Object.assign(new DirectItem(), { to: (item as DirectItem).to, payload: (item as DirectItem).payload })
          : item,
      ),
    };
  }

  @IsDirectItems()
  items: DirectItem[];
}

function IsDirectItems() {
  return function (object: object, propertyName: string) {
    registerDecorator({
      name: 'isDirectItems',
      target: object.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => itemsProblem(value) === undefined,
        defaultMessage: (args: ValidationArguments) => itemsProblem(args.value) ?? 'items is invalid',
      },
    });
  };
}

/** The first thing wrong with `items`, as a sentence naming the field; undefined when fine. */
function itemsProblem(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'items must be an array';
  if (value.length === 0) return 'items must hold at least one item';
  const seen = new Set<string>();
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (!(item instanceof DirectItem)) return `items[${i}] must be an object`;
    const { to, payload } = item;
    if (typeof to !== 'string') return `items[${i}].to must be a string`;
    const len = codePointLength(to);
    if (len < 1 || len > 128) return `items[${i}].to must be 1 to 128 characters long`;
    if (CONTROL_CHARS.test(to)) return `items[${i}].to must not contain control characters`;
    if (payload === undefined || payload === null) return `items[${i}].payload is required`;
    if (nestsDeeperThan(payload, MAX_OPAQUE_DEPTH))
      return `items[${i}].payload nests deeper than ${MAX_OPAQUE_DEPTH} levels`;
    if (seen.has(to)) return `items[${i}].to names "${to}" a second time`;
    seen.add(to);
  }
  return undefined;
}
