/**
 * The plaintext format inside a room message of either room mode (passphrase: crypto.ts;
 * member keys: keys-room.ts), and a pure reducer that turns a room's decrypted messages
 * into what a chat shows: texts with their edits, replies and reactions.
 *
 * A plaintext is either a plain string (version 0, read as `text`) or a JSON object with a
 * `parley` version field (docs/ENCRYPTION.md, "Message contents"):
 *
 *   {"parley":1,"kind":"text","text":"hi"}
 *   {"parley":1,"kind":"edit","offset":12,"epoch":"E","text":"hi there"}
 *   {"parley":1,"kind":"reply","offset":12,"epoch":"E","text":"yes"}
 *   {"parley":1,"kind":"reaction","offset":12,"epoch":"E","emoji":"👍"}
 *
 * `offset`/`epoch` name the message referred to (its place in the room, as its ack or
 * `roomMessage` gave it). The server sees only ciphertext, so it never learns which
 * message an edit, reply or reaction touches. Parsing never throws: unknown kinds, other
 * versions and malformed shapes come back as `{ ok: false, reason }`.
 */
import type { RedactedMessage, RoomMessage } from '../src/common/events.js';

export const CONTENT_VERSION = 1;
/** The longest reaction accepted (UTF-16 code units: an emoji with modifiers fits). */
export const MAX_EMOJI_LENGTH = 32;
const MAX_EPOCH_LENGTH = 128;

export type MessageContent =
  | { kind: 'text'; text: string }
  | { kind: 'edit'; offset: number; epoch: string; text: string }
  | { kind: 'reply'; offset: number; epoch: string; text: string }
  | { kind: 'reaction'; offset: number; epoch: string; emoji: string };

export type ContentKind = MessageContent['kind'];

export type ContentError =
  /** A `parley` version this client does not read. */
  | 'unsupported-version'
  /** A well-formed object of a kind this client does not know. */
  | 'unknown-kind'
  /** Anything else: missing or extra fields, wrong types, out-of-range values. */
  | 'malformed';

export type ParsedContent =
  | { ok: true; content: MessageContent; /** A plain string plaintext (before version 1). */ legacy?: true }
  | { ok: false; reason: ContentError; kind?: string };

const FIELDS: Record<ContentKind, readonly string[]> = {
  text: ['parley', 'kind', 'text'],
  edit: ['parley', 'kind', 'offset', 'epoch', 'text'],
  reply: ['parley', 'kind', 'offset', 'epoch', 'text'],
  reaction: ['parley', 'kind', 'offset', 'epoch', 'emoji'],
};

function validTarget(v: Record<string, unknown>): boolean {
  return (
    typeof v.offset === 'number' &&
    Number.isSafeInteger(v.offset) &&
    v.offset >= 1 &&
    typeof v.epoch === 'string' &&
    v.epoch.length > 0 &&
    v.epoch.length <= MAX_EPOCH_LENGTH
  );
}

function validEmoji(e: unknown): e is string {
  return typeof e === 'string' && e.length > 0 && e.length <= MAX_EMOJI_LENGTH && !/\s/u.test(e);
}

/** Checks a decoded object; the one place the shapes are defined. */
function check(v: Record<string, unknown>): ParsedContent {
  if (typeof v.parley !== 'number' || !Number.isSafeInteger(v.parley) || v.parley < 1)
    return { ok: false, reason: 'malformed' };
  if (v.parley !== CONTENT_VERSION) return { ok: false, reason: 'unsupported-version' };
  if (typeof v.kind !== 'string') return { ok: false, reason: 'malformed' };
  if (!Object.hasOwn(FIELDS, v.kind)) return { ok: false, reason: 'unknown-kind', kind: v.kind.slice(0, 32) };
  const kind = v.kind as ContentKind;
  const fields = FIELDS[kind];
  const keys = Object.keys(v);
  if (keys.length !== fields.length || !keys.every((k) => fields.includes(k)))
    return { ok: false, reason: 'malformed' };
  switch (kind) {
    case 'text':
      return typeof v.text === 'string'
        ? { ok: true, content: { kind, text: v.text } }
        : { ok: false, reason: 'malformed' };
    case 'edit':
    case 'reply':
      return validTarget(v) && typeof v.text === 'string'
        ? { ok: true, content: { kind, offset: v.offset as number, epoch: v.epoch as string, text: v.text } }
        : { ok: false, reason: 'malformed' };
    case 'reaction':
      return validTarget(v) && validEmoji(v.emoji)
        ? { ok: true, content: { kind, offset: v.offset as number, epoch: v.epoch as string, emoji: v.emoji } }
        : { ok: false, reason: 'malformed' };
  }
}

/**
 * Reads a decrypted plaintext. A JSON object with a `parley` field is a structured content
 * (checked strictly); any other string is a plain `text` (`legacy: true`). Never throws.
 */
export function parseContent(plaintext: unknown): ParsedContent {
  if (typeof plaintext !== 'string') return { ok: false, reason: 'malformed' };
  if (plaintext.trimStart().startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(plaintext);
    } catch {
      value = undefined;
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, 'parley'))
      return check(value as Record<string, unknown>);
  }
  return { ok: true, content: { kind: 'text', text: plaintext }, legacy: true };
}

/** The plaintext for `content` (then encrypted by the room's mode). Throws on an invalid content. */
export function encodeContent(content: MessageContent): string {
  const value = { parley: CONTENT_VERSION, ...content };
  const checked = check(value as Record<string, unknown>);
  if (!checked.ok) throw new TypeError(`invalid message content: ${checked.reason}`);
  return JSON.stringify(value);
}

// ---- the reducer ----

/** Where a message is in its room. */
export interface MessageRef {
  offset: number;
  epoch: string;
}

/**
 * One room message as the reducer takes it. `sender` is the identity the room mode
 * vouches for, compared to allow edits: in passphrase mode the sender name (`from`, which
 * the server stamps and the ciphertext's associated data binds); in member-keys mode the
 * sending device's fingerprint ({@link KeysRoom.senderIdentity}), so a new socket of the same
 * device may edit and another device with the same name may not.
 */
export type ChatInput = MessageRef & {
  id: string;
  from: string;
  sender: string;
  at: number;
} & (
    | { plaintext: string }
    /** A tombstone (`redact`). */
    | { redacted: true }
    /** It could not be decrypted (the mode's reason). */
    | { error: string }
  );

export interface Reaction {
  emoji: string;
  /** Sender identities, in the order they reacted. */
  senders: string[];
  /** Their names (`from`), same order. */
  names: string[];
}

export interface ChatMessage extends MessageRef {
  id: string;
  from: string;
  sender: string;
  at: number;
  kind: 'text' | 'reply' | 'redacted' | 'undecryptable' | 'invalid';
  /** The text now (the latest valid edit's), for `text` and `reply`. */
  text?: string;
  /** The latest edit applied: its place and time. */
  edited?: MessageRef & { at: number };
  /** For a reply: what it answers, with that message's current text when it is in the list. */
  replyTo?: MessageRef & { found: boolean; from?: string; text?: string; redacted?: boolean };
  reactions: Reaction[];
  /** Why `undecryptable` (the mode's reason) or `invalid` (a {@link ContentError}). */
  error?: string;
}

export type IgnoredReason =
  /** An edit by someone other than the original sender. */
  | 'not-sender'
  /** Refers to a message that is not a text or reply (an edit, a reaction, an unreadable one). */
  | 'bad-target'
  /** Refers to a redacted message. */
  | 'redacted'
  /** Refers to a message that comes after it in the room: impossible for an honest client. */
  | 'not-before';

export interface ChatView {
  /** What to show, in room order: texts, replies, tombstones and unreadable messages. */
  messages: ChatMessage[];
  /**
   * Edits and reactions whose target is not in the list (not fetched yet, or expired):
   * not shown. The reducer is pure, so they take effect in a later call whose list
   * holds the target. Replies with no target are shown (`replyTo.found: false`).
   */
  pending: Array<MessageRef & { id: string; kind: 'edit' | 'reaction'; target: MessageRef }>;
  /** Edits and reactions refused, with the reason (for diagnostics; never shown). */
  ignored: Array<MessageRef & { id: string; kind: 'edit' | 'reaction'; reason: IgnoredReason }>;
}

const refKey = (r: MessageRef): string => `${r.epoch}\u0000${r.offset}`;

/**
 * Applies a room's messages to one view. Order: epochs in the order they first appear in
 * `entries`, offsets ascending within an epoch; a repeated (epoch, offset) counts once.
 * Edits apply in that order (the last valid one wins) only when their sender is the
 * target's; a reaction toggles its sender's emoji on the target (twice: removed).
 */
export function reduceChat(entries: readonly ChatInput[]): ChatView {
  const epochs = new Map<string, number>();
  for (const e of entries) if (!epochs.has(e.epoch)) epochs.set(e.epoch, epochs.size);
  const seen = new Set<string>();
  const sorted = entries
    .filter((e) => {
      const k = refKey(e);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => epochs.get(a.epoch)! - epochs.get(b.epoch)! || a.offset - b.offset);
  const position = new Map(sorted.map((e, i) => [refKey(e), i]));

  const view: ChatView = { messages: [], pending: [], ignored: [] };
  const byRef = new Map<string, ChatMessage>();
  const reactions = new Map<ChatMessage, Map<string, Map<string, string>>>();
  const ops: Array<{
    entry: ChatInput;
    index: number;
    content: Extract<MessageContent, { kind: 'edit' | 'reaction' }>;
  }> = [];

  sorted.forEach((entry, index) => {
    const base = {
      id: entry.id,
      offset: entry.offset,
      epoch: entry.epoch,
      from: entry.from,
      sender: entry.sender,
      at: entry.at,
    };
    let message: ChatMessage;
    if ('redacted' in entry) message = { ...base, kind: 'redacted', reactions: [] };
    else if ('error' in entry) message = { ...base, kind: 'undecryptable', error: entry.error, reactions: [] };
    else {
      const parsed = parseContent(entry.plaintext);
      if (!parsed.ok) message = { ...base, kind: 'invalid', error: parsed.reason, reactions: [] };
      else {
        const c = parsed.content;
        if (c.kind === 'edit' || c.kind === 'reaction') {
          ops.push({ entry, index, content: c });
          return;
        }
        message =
          c.kind === 'text'
            ? { ...base, kind: 'text', text: c.text, reactions: [] }
            : {
                ...base,
                kind: 'reply',
                text: c.text,
                replyTo: { offset: c.offset, epoch: c.epoch, found: false },
                reactions: [],
              };
      }
    }
    view.messages.push(message);
    byRef.set(refKey(entry), message);
  });

  for (const { entry, index, content } of ops) {
    const op = { id: entry.id, offset: entry.offset, epoch: entry.epoch, kind: content.kind };
    const target = { offset: content.offset, epoch: content.epoch };
    const at = position.get(refKey(target));
    if (at === undefined) {
      view.pending.push({ ...op, target });
      continue;
    }
    const ignore = (reason: IgnoredReason) => view.ignored.push({ ...op, reason });
    if (at >= index) {
      ignore('not-before');
      continue;
    }
    const m = byRef.get(refKey(target));
    if (m?.kind === 'redacted') {
      ignore('redacted');
      continue;
    }
    if (!m || (m.kind !== 'text' && m.kind !== 'reply')) {
      ignore('bad-target');
      continue;
    }
    if (content.kind === 'edit') {
      if (entry.sender !== m.sender) {
        ignore('not-sender');
        continue;
      }
      m.text = content.text;
      m.edited = { offset: entry.offset, epoch: entry.epoch, at: entry.at };
    } else {
      let emojis = reactions.get(m);
      if (!emojis) reactions.set(m, (emojis = new Map()));
      let who = emojis.get(content.emoji);
      if (!who) emojis.set(content.emoji, (who = new Map()));
      if (who.has(entry.sender)) who.delete(entry.sender);
      else who.set(entry.sender, entry.from);
    }
  }

  for (const [m, emojis] of reactions) {
    for (const [emoji, who] of emojis)
      if (who.size > 0) m.reactions.push({ emoji, senders: [...who.keys()], names: [...who.values()] });
  }
  for (const m of view.messages) {
    if (!m.replyTo) continue;
    const t = byRef.get(refKey(m.replyTo));
    if (!t) continue;
    m.replyTo.found = true;
    m.replyTo.from = t.from;
    if (t.kind === 'redacted') m.replyTo.redacted = true;
    else if (t.text !== undefined) m.replyTo.text = t.text;
  }
  return view;
}

/**
 * A {@link ChatInput} from a room message (or history tombstone) and what its room mode's
 * decryption gave (`{ ok, text }` or `{ ok: false, reason }`), with the mode's sender identity.
 */
export function chatInput(
  m: RoomMessage | RedactedMessage,
  sender: string,
  decrypted?: { ok: true; text: string } | { ok: false; reason: string },
): ChatInput {
  const base = { id: m.id, offset: m.offset, epoch: m.epoch, from: m.from, sender, at: m.at };
  if ((m as RedactedMessage).redacted === true) return { ...base, redacted: true };
  if (!decrypted) return { ...base, error: 'not-decrypted' };
  return decrypted.ok ? { ...base, plaintext: decrypted.text } : { ...base, error: decrypted.reason };
}
