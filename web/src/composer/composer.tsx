/** Writing a message: Enter sends, Shift+Enter starts a new line; the box grows to a limit. */
import { useRef, useState, type KeyboardEvent } from 'react';
import { Icon } from '../common/icon.js';

const MAX_HEIGHT_PX = 160;

export function Composer({
  send,
  onError,
  blocked = false,
}: {
  send: (text: string) => Promise<void>;
  onError: (err: unknown) => void;
  /** Sending is paused (a verified member's key changed): the text stays, Send is off. */
  blocked?: boolean;
}) {
  const input = useRef<HTMLTextAreaElement>(null);
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);

  function fit() {
    const el = input.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT_PX)}px`;
  }

  async function submit() {
    // The element's value, not state: a key press may come before React has re-rendered.
    const value = (input.current?.value ?? text).trim();
    if (!value || sending || blocked) return;
    setSending(true);
    try {
      await send(value);
      setText('');
      if (input.current) input.current.style.height = '';
    } catch (err) {
      onError(err);
    } finally {
      setSending(false);
      input.current?.focus();
    }
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void submit();
    }
  }

  return (
    <form
      className="composer"
      data-testid="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <textarea
        ref={input}
        data-testid="message-input"
        rows={1}
        maxLength={16000}
        placeholder="Write an encrypted message…"
        aria-label="Message"
        autoFocus
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          fit();
        }}
        onKeyDown={onKeyDown}
      />
      <button type="submit" className="btn btn-primary" data-testid="send-button" disabled={sending || blocked}>
        <Icon name="send" />
        <span className="label">Send</span>
      </button>
    </form>
  );
}
