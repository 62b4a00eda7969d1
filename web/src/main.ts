/**
 * Parley's reference web client: encrypted room chat and 1:1 video calls.
 * Plain TypeScript + DOM; every piece of user data is rendered with textContent.
 */
import './style.css';
import {
  ParleyClient,
  ParleyError,
  decryptMessage,
  deriveRoomKey,
  encryptMessage,
  fingerprint,
  type DeviceIdentity,
  type RoomKey,
  type ResumeEvent,
  type RoomMessage,
  type User,
} from '../../client/index.js';
import { CallController, type CallView } from './call.js';
import { loadHistory, MessageTimeline, watchResumes } from './history.js';
import { hydrateIcons, icon } from './icons.js';
import { loadIdentity } from './identity.js';
import * as clientLib from '../../client/index.js';
import { bufferEarlyDirects, failureText, KeysSession, measureRotation, type Member } from './keys-mode.js';

hydrateIcons();

// ---------- DOM helpers ----------

function $<T extends HTMLElement = HTMLElement>(testId: string, root: ParentNode = document): T {
  const el = root.querySelector<T>(`[data-testid="${testId}"]`);
  if (!el) throw new Error(`missing element ${testId}`);
  return el;
}

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { class?: string; text?: string; testid?: string; title?: string } = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.text !== undefined) el.textContent = props.text;
  if (props.testid) el.dataset.testid = props.testid;
  if (props.title) el.title = props.title;
  el.append(...children);
  return el;
}

function avatar(name: string): HTMLElement {
  const el = h('span', { class: 'avatar', text: [...name][0] ?? '?' });
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.codePointAt(0)!) >>> 0;
  el.style.setProperty('--hue', String(hash % 360));
  el.setAttribute('aria-hidden', 'true');
  return el;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

const ui = {
  app: $('app'),
  connection: $('connection'),
  session: $('session'),
  roomName: $('room-name'),
  myName: $('my-name'),
  myFingerprint: $('my-fingerprint'),
  logout: $<HTMLButtonElement>('logout'),
  loginView: $('login-view'),
  loginForm: $<HTMLFormElement>('login-form'),
  loginName: $<HTMLInputElement>('login-name'),
  loginRoom: $<HTMLInputElement>('login-room'),
  loginPassphrase: $<HTMLInputElement>('login-passphrase'),
  loginMode: $<HTMLSelectElement>('login-mode'),
  passphraseField: $('passphrase-field'),
  modeHint: $('mode-hint'),
  loginError: $('login-error'),
  loginSubmit: $<HTMLButtonElement>('login-submit'),
  loginFingerprint: $('login-fingerprint'),
  roomView: $('room-view'),
  users: $('users'),
  userCount: $('user-count'),
  messages: $('messages'),
  messagesEmpty: $('messages-empty'),
  composer: $<HTMLFormElement>('composer'),
  input: $<HTMLTextAreaElement>('message-input'),
  send: $<HTMLButtonElement>('send-button'),
  callStage: $('call-stage'),
  callPeer: $('call-peer'),
  callStatus: $('call-status'),
  localVideo: $<HTMLVideoElement>('local-video'),
  remoteVideo: $<HTMLVideoElement>('remote-video'),
  hangup: $<HTMLButtonElement>('hangup'),
  closeCall: $<HTMLButtonElement>('close-call'),
  unmuteRemote: $<HTMLButtonElement>('unmute-remote'),
  toggleMic: $<HTMLButtonElement>('toggle-mic'),
  toggleCamera: $<HTMLButtonElement>('toggle-camera'),
  incoming: $('incoming-call'),
  incomingName: $('incoming-name'),
  incomingFingerprint: $('incoming-fingerprint'),
  accept: $<HTMLButtonElement>('accept-call'),
  decline: $<HTMLButtonElement>('decline-call'),
  toasts: $('toasts'),
};

function toast(type: 'join' | 'leave' | 'error' | 'info' | 'call', title: string, body = ''): void {
  const el = h('div', { class: 'toast', testid: 'toast' }, h('div', { class: 'toast-title', text: title }));
  el.dataset.type = type;
  el.setAttribute('role', type === 'error' ? 'alert' : 'status');
  if (body) el.append(h('div', { class: 'toast-body', text: body }));
  ui.toasts.append(el);
  while (ui.toasts.children.length > 5) ui.toasts.firstElementChild?.remove();
  setTimeout(() => {
    el.classList.add('leaving');
    setTimeout(() => el.remove(), 300);
  }, 4500);
}

function errorText(err: unknown): string {
  if (err instanceof ParleyError) {
    if (err.code === 'DISCONNECTED' || err.code === 'TIMEOUT')
      return 'Cannot reach the server right now. Try again in a moment.';
    if (err.code === 'UNAUTHORIZED') return 'This server requires an access token.';
    if (err.code === 'TOO_MANY_CONNECTIONS') return 'Too many connections from your network.';
    if (err.code === 'RATE_LIMITED') return 'Slow down a little and try again.';
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

// ---------- state ----------

/** "keys": per-member sender keys (the default); "passphrase": one key from a shared passphrase. */
type RoomMode = 'keys' | 'passphrase';

interface Session {
  user: User;
  mode: RoomMode;
  roomKey?: RoomKey;
  keys?: KeysSession;
}

const params = new URLSearchParams(location.search);
// Same origin only: the page talks to the server that served it (no URL override that a
// crafted link could point elsewhere). Use the Vite dev server's proxy for development.
const client = new ParleyClient();
let identity: DeviceIdentity | null = null;
bufferEarlyDirects(client);
const identityReady = loadIdentity().then((id) => {
  identity = id;
  ui.loginFingerprint.textContent = id.fingerprint;
  ui.myFingerprint.textContent = id.fingerprint;
  return id;
});
let session: Session | null = null;
let users: User[] = [];
const fingerprints = new Map<string, string>();
let callCloseTimer: ReturnType<typeof setTimeout> | undefined;
const timeline = new MessageTimeline(ui.messages);

const calls = new CallController(client, () => session?.user.name ?? 'Someone', {
  change: renderCall,
  incoming: ({ peerId, peerName }) => {
    if (!session) return calls.decline(); // not in a room: nobody to answer
    ui.incomingName.textContent = peerName;
    const user = users.find((u) => u.id === peerId);
    ui.incomingFingerprint.textContent = (user && fingerprints.get(user.publicKey ?? '')) ?? 'unknown';
    ui.incoming.hidden = false;
    ui.accept.focus();
  },
  localStream: (stream) => attach(ui.localVideo, stream),
  remoteStream: (stream) => attach(ui.remoteVideo, stream),
  error: (message) => toast('error', 'Call', message),
});

// Diagnostics for tests and the curious: `window.parley`.
Object.assign(window, {
  parley: {
    client,
    get peerConnection() {
      return calls.peerConnection;
    },
    get callPhase() {
      return calls.phase;
    },
    /** The keys-mode state of this page (sender keys, members), for tests and the curious. */
    get keys() {
      return session?.keys?.room;
    },
    crypto: clientLib,
    measureRotation,
    /** Shows a room message as if it had arrived (e.g. from history). */
    receive: (m: RoomMessage) => showMessage(m),
  },
});

// ---------- connection ----------

function setConnection(state: 'connecting' | 'connected' | 'disconnected', text: string): void {
  ui.connection.dataset.state = state;
  ui.connection.textContent = text;
}

client.socket.on('connect', () => setConnection('connected', 'Online'));
client.socket.on('disconnect', () => setConnection('disconnected', 'Reconnecting…'));
client.socket.on('connect_error', (err) =>
  setConnection('disconnected', err.message === 'UNAUTHORIZED' ? 'Not authorized' : 'Offline, retrying…'),
);

// A reconnect that did not recover the old session is a new socket: the client library
// logs in again (onRejoin: the new socket's keys first), delivers what was missed
// (history), then reports (onResume); the timeline marks any gap.
client.onRejoin((user) => rejoin(user));
client.onResume((e) => void resumed(e));

async function rejoin(user: User): Promise<void> {
  const s = session;
  if (!s || user.room !== s.user.room) return;
  // A new socket, so a new id; in keys mode a new sender key for the room as it is now,
  // keeping the keys the old socket held for what it could already read.
  const keys = s.mode === 'keys' && identity ? startKeys(identity, user) : undefined;
  if (keys && s.keys) keys.room.adopt(s.keys.room);
  s.keys?.close();
  session = { ...s, user, keys };
  const list = await client.listUsers();
  void session.keys?.updateMembers(list);
  renderUsers(list);
}

function resumed(e: ResumeEvent): void {
  const s = session;
  if (!s || e.room !== s.user.room) return;
  if (e.error || !e.user) {
    toast('error', 'Could not rejoin the room', errorText(e.error));
    showLogin();
    return;
  }
  toast(
    'info',
    'Reconnected',
    e.complete ? `Back in ${s.user.room}` : `Back in ${s.user.room}; some messages may be missing`,
  );
}

// ---------- login / logout ----------

const saved = (() => {
  try {
    return JSON.parse(localStorage.getItem('parley:last') ?? '{}') as { name?: string; room?: string; mode?: string };
  } catch {
    return {};
  }
})();
ui.loginName.value = params.get('name') ?? saved.name ?? '';
ui.loginRoom.value = params.get('room') ?? saved.room ?? '';
ui.loginMode.value = (params.get('mode') ?? saved.mode) === 'passphrase' ? 'passphrase' : 'keys';

function renderMode(): void {
  const keys = ui.loginMode.value !== 'passphrase';
  ui.passphraseField.hidden = keys;
  ui.modeHint.dataset.mode = keys ? 'keys' : 'passphrase';
  ui.modeHint.textContent = keys
    ? 'Each member has its own key, shared only with the people in the room right now and replaced whenever someone leaves. ' +
      'You cannot read what was sent before you joined.'
    : 'One key derived from a passphrase everyone shares. Anyone who knows it, now or later, can read every message; ' +
      'for rooms with older clients.';
}
ui.loginMode.addEventListener('change', renderMode);
renderMode();

function startKeys(id: DeviceIdentity, user: User): KeysSession {
  return new KeysSession(client, id, user, () => renderUsers(users));
}

function showLoginError(message: string): void {
  ui.loginError.textContent = message;
  ui.loginError.hidden = !message;
}

const NO_CONTROL = /[\u0000-\u001f\u007f]/;

ui.loginForm.addEventListener('submit', (e) => {
  e.preventDefault();
  void login();
});

async function login(): Promise<void> {
  const name = ui.loginName.value.trim();
  const room = ui.loginRoom.value.trim();
  const passphrase = ui.loginPassphrase.value;
  const mode: RoomMode = ui.loginMode.value === 'passphrase' ? 'passphrase' : 'keys';
  const nameLen = [...name].length;
  const roomLen = [...room].length;
  if (nameLen < 1 || nameLen > 32 || NO_CONTROL.test(name)) return showLoginError('Enter a name of 1–32 characters.');
  if (roomLen < 1 || roomLen > 64 || NO_CONTROL.test(room)) return showLoginError('Enter a room of 1–64 characters.');
  if (mode === 'passphrase' && !passphrase) return showLoginError('Enter the room passphrase.');
  showLoginError('');
  ui.loginSubmit.disabled = true;
  ui.loginSubmit.textContent = mode === 'passphrase' ? 'Deriving key…' : 'Joining…';
  try {
    const [roomKey, id] = await Promise.all([
      mode === 'passphrase' ? deriveRoomKey(passphrase, room) : undefined,
      identityReady,
    ]);
    ui.loginSubmit.textContent = 'Joining…';
    await client.ready();
    const user = await client.login({ name, room, publicKey: id.bundle });
    session = { user, mode, roomKey, keys: mode === 'keys' ? startKeys(id, user) : undefined };
    ui.loginPassphrase.value = '';
    try {
      localStorage.setItem('parley:last', JSON.stringify({ name, room, mode }));
    } catch {
      /* private mode */
    }
    showRoom();
    // `users` arrived before the ack; fetch again in case we missed it.
    const list = await client.listUsers();
    void session?.keys?.updateMembers(list);
    renderUsers(list);
    await loadHistory(client, timeline, (m) => void showMessage(m));
  } catch (err) {
    const code = err instanceof ParleyError ? err.code : undefined;
    showLoginError(
      code === 'NAME_TAKEN'
        ? `Someone in “${room}” is already called “${name}”.`
        : code === 'ROOM_FULL'
          ? `“${room}” is full.`
          : errorText(err),
    );
  } finally {
    ui.loginSubmit.disabled = false;
    ui.loginSubmit.textContent = 'Join room';
  }
}

ui.logout.addEventListener('click', () => {
  calls.hangup();
  client.logout().catch(() => undefined);
  showLogin();
});

function showRoom(): void {
  if (!session) return;
  ui.app.dataset.view = 'room';
  ui.loginView.hidden = true;
  ui.roomView.hidden = false;
  ui.session.hidden = false;
  ui.roomName.textContent = session.user.room;
  ui.myName.textContent = session.user.name;
  timeline.reset();
  ui.messagesEmpty.hidden = false;
  document.title = `${session.user.room} · Parley`;
  ui.input.focus();
}

function showLogin(): void {
  session?.keys?.close();
  session = null;
  users = [];
  ui.app.dataset.view = 'login';
  ui.loginView.hidden = false;
  ui.roomView.hidden = true;
  ui.session.hidden = true;
  ui.incoming.hidden = true;
  ui.users.replaceChildren();
  timeline.reset();
  document.title = 'Parley — encrypted rooms and calls';
  (ui.passphraseField.hidden ? ui.loginSubmit : ui.loginPassphrase).focus();
}

// ---------- users ----------

client.on('users', (list) => {
  if (session && list.every((u) => u.room === session!.user.room)) renderUsers(list);
});

client.on('notification', (n) => {
  if (!session) return;
  if (n.type === 'server') return toast('info', n.title, n.description);
  if (n.user.room !== session.user.room) return;
  toast(n.type, n.title, n.description);
});

// The application's backend removed us from the room: back to the login form.
client.on('kicked', (k) => {
  if (!session || k.room !== session.user.room) return;
  showLogin();
  toast('info', 'Removed from the room', k.reason);
});

async function fingerprintOf(user: User): Promise<string | null> {
  if (!user.publicKey) return null;
  let fp = fingerprints.get(user.publicKey);
  if (!fp) {
    fp = await fingerprint(user.publicKey);
    fingerprints.set(user.publicKey, fp);
  }
  return fp;
}

function renderUsers(list: User[]): void {
  users = list;
  ui.userCount.textContent = String(list.length);
  const me = session?.user.id;
  ui.users.replaceChildren(
    ...list.map((user) => {
      const fp = h('code', { class: 'fingerprint', testid: 'fingerprint', text: user.publicKey ? '…' : 'no key' });
      void fingerprintOf(user).then((f) => {
        if (f) fp.textContent = f;
        fp.title = f ? `Key fingerprint of ${user.name}` : `${user.name} published no key`;
      });
      const nameEl = h('span', { class: 'user-name', text: user.name, testid: 'user-name' });
      if (user.id === me) nameEl.append(' ', h('span', { class: 'you', text: '(you)' }));
      const member: Member | undefined = session?.keys?.room.member(user.id);
      const info = h('div', { class: 'user-info' }, nameEl, fp);
      if (member?.trust === 'changed') {
        info.append(
          h('span', {
            class: 'key-changed',
            testid: 'key-changed',
            text: 'key changed',
            title: `${user.name} now uses a different device key than before in this room. Compare fingerprints before trusting it.`,
          }),
        );
      }
      const li = h('li', { class: 'user', testid: 'user' }, avatar(user.name), info);
      if (member) li.dataset.trust = member.trust;
      li.dataset.userId = user.id;
      li.dataset.name = user.name;
      if (user.id !== me) {
        const btn = h('button', { class: 'btn btn-ghost btn-small', testid: 'call-button' }, icon('video'), 'Call');
        btn.type = 'button';
        btn.title = `Video call ${user.name}`;
        btn.disabled = calls.busy;
        btn.addEventListener('click', () => startCall(user));
        li.append(btn);
      }
      return li;
    }),
  );
}

function refreshCallButtons(): void {
  ui.users.querySelectorAll<HTMLButtonElement>('[data-testid="call-button"]').forEach((b) => (b.disabled = calls.busy));
}

// ---------- messages ----------

watchResumes(client, timeline);
// Live messages, and after a reconnect the missed ones, each once (the client library dedupes).
client.onMessage((m) => void showMessage(m));

async function showMessage(m: RoomMessage): Promise<void> {
  const s = session;
  if (!s || m.room !== s.user.room) return;
  const mine = m.fromId === client.id;
  const text = h('div', { class: 'message-text', text: 'Decrypting…', testid: 'message-text' });
  const time = h('time', { class: 'message-time', text: timeFormat.format(m.at), title: fullTimeFormat.format(m.at) });
  time.dateTime = new Date(m.at).toISOString();
  const li = h(
    'li',
    { class: mine ? 'message mine' : 'message', testid: 'message' },
    avatar(m.from),
    h(
      'div',
      {},
      h(
        'div',
        { class: 'message-meta' },
        h('span', { class: 'message-from', text: m.from, testid: 'message-from' }),
        time,
      ),
      text,
    ),
  );
  li.dataset.state = 'pending';
  li.dataset.id = m.id;
  const atBottom = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 40;
  if (!timeline.place(m, li)) return; // in offset order, once
  ui.messagesEmpty.hidden = true;
  if (atBottom || mine) li.scrollIntoView({ block: 'end' });

  if (s.keys) {
    text.textContent = 'Waiting for the sender’s key…';
    const state = await s.keys.open(m);
    if (state.ok) {
      li.dataset.state = 'ok';
      text.textContent = state.text;
    } else {
      li.dataset.state = 'undecryptable';
      li.dataset.reason = state.reason;
      text.replaceChildren(
        icon(state.reason === 'unverified' || state.reason === 'malformed' ? 'warning' : 'lock'),
        failureText(state.reason),
      );
    }
    return;
  }
  const result = await decryptMessage(s.roomKey!, m.message, m.from);
  if (result.ok) {
    li.dataset.state = 'ok';
    text.textContent = result.text;
  } else {
    li.dataset.state = 'undecryptable';
    li.dataset.reason = result.reason;
    text.replaceChildren(
      icon(result.reason === 'malformed' ? 'warning' : 'lock'),
      result.reason === 'undecryptable'
        ? 'Could not decrypt this message (different passphrase?)'
        : result.reason === 'unsupported-version'
          ? 'Encrypted for the other room mode, or by a newer client'
          : 'Not an encrypted Parley message (hidden)',
    );
  }
}

ui.composer.addEventListener('submit', (e) => {
  e.preventDefault();
  void send();
});

ui.input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    void send();
  }
});

ui.input.addEventListener('input', () => {
  ui.input.style.height = 'auto';
  ui.input.style.height = `${Math.min(ui.input.scrollHeight, 160)}px`;
});

async function send(): Promise<void> {
  const s = session;
  const text = ui.input.value.trim();
  if (!s || !text) return;
  ui.send.disabled = true;
  try {
    const envelope = s.keys ? await s.keys.encrypt(text) : await encryptMessage(s.roomKey!, text, s.user.name);
    await client.sendMessage(envelope);
    ui.input.value = '';
    ui.input.style.height = '';
  } catch (err) {
    toast('error', 'Message not sent', errorText(err));
  } finally {
    ui.send.disabled = false;
    ui.input.focus();
  }
}

// ---------- calls ----------

function attach(video: HTMLVideoElement, stream: MediaStream | null): void {
  if (video.srcObject === stream) return;
  video.srcObject = stream;
  if (!stream) return;
  video.play().catch(() => {
    // Autoplay with sound was blocked: play muted and offer a button.
    if (video === ui.remoteVideo) {
      video.muted = true;
      ui.unmuteRemote.hidden = false;
      video.play().catch(() => undefined);
    }
  });
}

ui.unmuteRemote.addEventListener('click', () => {
  ui.remoteVideo.muted = false;
  ui.unmuteRemote.hidden = true;
  void ui.remoteVideo.play().catch(() => undefined);
});

function startCall(user: User): void {
  if (calls.busy) return;
  void calls.start(user.id, user.name);
}

ui.accept.addEventListener('click', () => {
  ui.incoming.hidden = true;
  void calls.accept();
});
ui.decline.addEventListener('click', () => {
  ui.incoming.hidden = true;
  calls.decline();
});
ui.hangup.addEventListener('click', () => calls.hangup());
ui.closeCall.addEventListener('click', () => (ui.callStage.hidden = true));

function setToggle(button: HTMLButtonElement, pressed: boolean, label: string, title: string): void {
  button.setAttribute('aria-pressed', String(pressed));
  button.title = title;
  button.querySelector('.label')!.textContent = label;
}

let micOn = true;
let cameraOn = true;
ui.toggleMic.addEventListener('click', () => {
  micOn = !micOn;
  calls.setMicrophone(micOn);
  setToggle(ui.toggleMic, !micOn, micOn ? 'Mute' : 'Unmute', micOn ? 'Mute microphone' : 'Unmute microphone');
});
ui.toggleCamera.addEventListener('click', () => {
  cameraOn = !cameraOn;
  calls.setCamera(cameraOn);
  setToggle(ui.toggleCamera, !cameraOn, 'Camera', cameraOn ? 'Turn camera off' : 'Turn camera on');
});

function renderCall(view: CallView): void {
  clearTimeout(callCloseTimer);
  ui.callStatus.dataset.state = view.phase;
  ui.callStatus.textContent = view.status;
  ui.callPeer.textContent = view.peerName;
  ui.callStage.dataset.phase = view.phase;
  if (view.endKind) ui.callStatus.dataset.reason = view.endKind;
  else delete ui.callStatus.dataset.reason;

  if (view.phase === 'incoming') {
    // The prompt is the UI until accepted.
    ui.callStage.hidden = true;
  } else {
    ui.callStage.hidden = false;
  }
  const ended = view.phase === 'ended';
  ui.hangup.hidden = ended;
  ui.toggleMic.hidden = ended;
  ui.toggleCamera.hidden = ended;
  ui.closeCall.hidden = !ended;
  if (ended) {
    ui.incoming.hidden = true;
    ui.unmuteRemote.hidden = true;
    ui.remoteVideo.muted = false;
    micOn = cameraOn = true;
    setToggle(ui.toggleMic, false, 'Mute', 'Mute microphone');
    setToggle(ui.toggleCamera, false, 'Camera', 'Turn camera off');
    if (view.endKind !== 'hangup') toast('call', 'Call ended', view.status);
    callCloseTimer = setTimeout(() => (ui.callStage.hidden = true), 8000);
  }
  refreshCallButtons();
}

// ---------- start ----------

setConnection('connecting', 'Connecting…');
(ui.loginName.value
  ? ui.loginRoom.value
    ? ui.passphraseField.hidden
      ? ui.loginSubmit
      : ui.loginPassphrase
    : ui.loginRoom
  : ui.loginName
).focus();
void identityReady;
