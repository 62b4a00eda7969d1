import type { Toast } from './use-toasts.js';

export function Toasts({ toasts }: { toasts: readonly Toast[] }) {
  return (
    <div className="toasts" data-testid="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div
          key={t.id}
          className={t.leaving ? 'toast leaving' : 'toast'}
          data-testid="toast"
          data-type={t.type}
          role={t.type === 'error' ? 'alert' : 'status'}
        >
          <div className="toast-title">{t.title}</div>
          {t.body && <div className="toast-body">{t.body}</div>}
        </div>
      ))}
    </div>
  );
}
