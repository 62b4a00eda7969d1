/** Short-lived notices in the corner: joins, leaves, reconnects, failures. */
import { useCallback, useEffect, useRef, useState } from 'react';

export type ToastType = 'join' | 'leave' | 'error' | 'info' | 'call';

export interface Toast {
  id: number;
  type: ToastType;
  title: string;
  body: string;
  /** Fading out. */
  leaving: boolean;
}

const SHOWN_MS = 4500;
const FADE_MS = 300;
const MAX_SHOWN = 5;

export function useToasts(): {
  toasts: readonly Toast[];
  toast: (type: ToastType, title: string, body?: string) => void;
} {
  const [toasts, setToasts] = useState<readonly Toast[]>([]);
  const nextId = useRef(0);
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());

  useEffect(() => {
    const pending = timers.current;
    return () => pending.forEach(clearTimeout);
  }, []);

  const later = useCallback((ms: number, run: () => void) => {
    const t = setTimeout(() => {
      timers.current.delete(t);
      run();
    }, ms);
    timers.current.add(t);
  }, []);

  const toast = useCallback(
    (type: ToastType, title: string, body = '') => {
      const id = ++nextId.current;
      setToasts((list) => [...list, { id, type, title, body, leaving: false }].slice(-MAX_SHOWN));
      later(SHOWN_MS, () => {
        setToasts((list) => list.map((t) => (t.id === id ? { ...t, leaving: true } : t)));
        later(FADE_MS, () => setToasts((list) => list.filter((t) => t.id !== id)));
      });
    },
    [later],
  );

  return { toasts, toast };
}
