/**
 * Keeps a scrolling list at its newest item, unless the user scrolled up to read: then new
 * items are counted instead, for a "new messages" pill. The list also stays at the bottom
 * when its box shrinks (the call panel opening above it, a phone's keyboard).
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type RefObject } from 'react';

/** Within this many pixels of the end counts as at the end. */
const SLACK_PX = 40;

export interface StickToBottom {
  /** New items that arrived while scrolled up. */
  unseen: number;
  /** Give to the list's onScroll. */
  onScroll: () => void;
  scrollToBottom: () => void;
}

/**
 * `newestKey` identifies the last item, `newestMine` says this device added it (always
 * scrolled to); `version` changes whenever the list's content may have changed size.
 */
export function useStickToBottom(
  ref: RefObject<HTMLElement | null>,
  newestKey: string | undefined,
  newestMine: boolean,
  version: unknown,
): StickToBottom {
  const stuck = useRef(true);
  const lastKey = useRef<string | undefined>(undefined);
  /** The list's scroll height when it was last laid out here. */
  const lastHeight = useRef(0);
  const [unseen, setUnseen] = useState(0);

  const scrollToBottom = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    stuck.current = true;
    setUnseen(0);
  }, [ref]);

  const onScroll = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    stuck.current = el.scrollHeight - el.scrollTop - el.clientHeight < SLACK_PX;
    if (stuck.current) setUnseen(0);
  }, [ref]);

  // Before paint, so the list never flashes at the old position.
  useLayoutEffect(() => {
    const added = newestKey !== undefined && newestKey !== lastKey.current;
    lastKey.current = newestKey;
    const el = ref.current;
    // Where the reader was before this update, from the geometry itself: a scroll event is
    // delivered a frame late, and an update arriving in between must not pull the list down.
    if (el && lastHeight.current > 0 && lastHeight.current - el.scrollTop - el.clientHeight >= SLACK_PX)
      stuck.current = false;
    if (newestKey === undefined) {
      stuck.current = true;
      setUnseen(0);
    } else if (stuck.current || (added && newestMine)) {
      scrollToBottom();
    } else if (added) {
      setUnseen((n) => n + 1);
    }
    if (el) lastHeight.current = el.scrollHeight;
  }, [newestKey, newestMine, version, scrollToBottom, ref]);

  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (stuck.current) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);

  return { unseen, onScroll, scrollToBottom };
}
