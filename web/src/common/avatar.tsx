import type { CSSProperties } from 'react';

/** A hue from the name, so the same person gets the same colour on every page. */
export function nameHue(name: string): number {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.codePointAt(0)!) >>> 0;
  return hash % 360;
}

export function Avatar({ name }: { name: string }) {
  return (
    <span className="avatar" aria-hidden="true" style={{ '--hue': String(nameHue(name)) } as CSSProperties}>
      {[...name][0] ?? '?'}
    </span>
  );
}
