/**
 * Joining a room: name, room, encryption mode (and the passphrase in that mode). Remembers
 * the last name, room and mode; a link may preset them (`?name=…&room=…&mode=passphrase`).
 * After a kick it says so, with the reason, until the next join.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ParleyError } from '../../../client/index.js';
import type { ParleyState, RoomMode } from '../../../client/react/index.js';
import { errorText } from '../common/error-text.js';
import { MODE_HINT } from '../common/mode-text.js';

const LAST_KEY = 'parley:last';
const NO_CONTROL = /[\u0000-\u001f\u007f]/;

interface Preset {
  name: string;
  room: string;
  mode: RoomMode;
}

function readPreset(): Preset {
  let saved: { name?: string; room?: string; mode?: string } = {};
  try {
    saved = JSON.parse(localStorage.getItem(LAST_KEY) ?? '{}') as typeof saved;
  } catch {
    /* unreadable or unavailable: start blank */
  }
  const params = new URLSearchParams(location.search);
  return {
    name: params.get('name') ?? saved.name ?? '',
    room: params.get('room') ?? saved.room ?? '',
    mode: (params.get('mode') ?? saved.mode) === 'passphrase' ? 'passphrase' : 'keys',
  };
}

function remember(p: Preset): void {
  try {
    localStorage.setItem(LAST_KEY, JSON.stringify(p));
  } catch {
    /* private mode */
  }
}

/** Checks what the server would refuse anyway, with a sentence for each. */
function validate(name: string, room: string, mode: RoomMode, passphrase: string): string {
  const nameLen = [...name].length;
  const roomLen = [...room].length;
  if (nameLen < 1 || nameLen > 32 || NO_CONTROL.test(name)) return 'Enter a name of 1–32 characters.';
  if (roomLen < 1 || roomLen > 64 || NO_CONTROL.test(room)) return 'Enter a room of 1–64 characters.';
  if (mode === 'passphrase' && !passphrase) return 'Enter the room passphrase.';
  return '';
}

const SUBMIT_TEXT = { idle: 'Join room', deriving: 'Deriving key…', joining: 'Joining…' } as const;

export function LoginView({
  hidden,
  parley,
}: {
  hidden: boolean;
  parley: Pick<ParleyState, 'login' | 'loginPhase' | 'identity' | 'kick' | 'dismissKick'>;
}) {
  const [preset] = useState(readPreset);
  const [name, setName] = useState(preset.name);
  const [room, setRoom] = useState(preset.room);
  const [mode, setMode] = useState<RoomMode>(preset.mode);
  const [passphrase, setPassphrase] = useState('');
  const [error, setError] = useState('');
  const nameRef = useRef<HTMLInputElement>(null);
  const roomRef = useRef<HTMLInputElement>(null);
  const passphraseRef = useRef<HTMLInputElement>(null);
  const submitRef = useRef<HTMLButtonElement>(null);
  const wasHidden = useRef(hidden);

  // The first field still to fill on arrival; after leaving a room, the way back in.
  useEffect(() => {
    if (hidden) {
      wasHidden.current = true;
      return;
    }
    const back = wasHidden.current;
    wasHidden.current = false;
    const target = back
      ? mode === 'passphrase'
        ? passphraseRef
        : submitRef
      : !name
        ? nameRef
        : !room
          ? roomRef
          : mode === 'passphrase'
            ? passphraseRef
            : submitRef;
    target.current?.focus();
    // Only on showing the form, not as the user types: hence `hidden` alone.
  }, [hidden]);

  const busy = parley.loginPhase !== 'idle';

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    const n = name.trim();
    const r = room.trim();
    const problem = validate(n, r, mode, passphrase);
    setError(problem);
    if (problem) return;
    try {
      await parley.login({ name: n, room: r, mode, passphrase: mode === 'passphrase' ? passphrase : undefined });
      setPassphrase('');
      remember({ name: n, room: r, mode });
    } catch (err) {
      const code = err instanceof ParleyError ? err.code : undefined;
      setError(
        code === 'NAME_TAKEN'
          ? `Someone in “${r}” is already called “${n}”.`
          : code === 'ROOM_FULL'
            ? `“${r}” is full.`
            : errorText(err),
      );
    }
  }

  const kick = parley.kick;
  return (
    <main className="view view-login" data-testid="login-view" hidden={hidden}>
      <form className="card login-card" data-testid="login-form" noValidate onSubmit={(e) => void submit(e)}>
        {kick && (
          <div className="banner" data-testid="kick-banner" role="alert">
            <div>
              <div className="banner-title">You were removed from “{kick.room}”</div>
              <div className="banner-body" data-testid="kick-reason">
                {kick.reason}
              </div>
            </div>
            <button
              type="button"
              className="btn btn-ghost btn-small"
              aria-label="Dismiss"
              title="Dismiss"
              onClick={parley.dismissKick}
            >
              ×
            </button>
          </div>
        )}
        <h1>Join a room</h1>
        <p className="muted">
          Messages are encrypted and signed in your browser; the server relays only ciphertext. It still sees who is in
          which room, when, and how much is sent.
        </p>
        <label>
          <span>Your name</span>
          <input
            ref={nameRef}
            name="name"
            data-testid="login-name"
            autoComplete="nickname"
            maxLength={32}
            required
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <label>
          <span>Room</span>
          <input
            ref={roomRef}
            name="room"
            data-testid="login-room"
            autoComplete="off"
            maxLength={64}
            required
            value={room}
            onChange={(e) => setRoom(e.target.value)}
          />
        </label>
        <label>
          <span>Encryption</span>
          <select
            name="mode"
            data-testid="login-mode"
            value={mode}
            onChange={(e) => setMode(e.target.value === 'passphrase' ? 'passphrase' : 'keys')}
          >
            <option value="keys">Member keys (recommended)</option>
            <option value="passphrase">Shared passphrase</option>
          </select>
        </label>
        <p className="muted small" data-testid="mode-hint" data-mode={mode}>
          {MODE_HINT[mode]}
        </p>
        <label data-testid="passphrase-field" hidden={mode !== 'passphrase'}>
          <span>Room passphrase</span>
          <input
            ref={passphraseRef}
            name="passphrase"
            data-testid="login-passphrase"
            type="password"
            autoComplete="current-password"
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
          />
        </label>
        <p className="form-error" data-testid="login-error" role="alert" hidden={!error}>
          {error}
        </p>
        <button ref={submitRef} type="submit" className="btn btn-primary" data-testid="login-submit" disabled={busy}>
          {SUBMIT_TEXT[parley.loginPhase]}
        </button>
        <p className="muted small">
          Your device key fingerprint:{' '}
          <code className="fingerprint" data-testid="login-fingerprint">
            {parley.identity?.fingerprint ?? '…'}
          </code>
        </p>
      </form>
    </main>
  );
}
