import type { MessageItem, RoomMode } from '../../../client/react/index.js';
import { Avatar } from '../common/avatar.js';
import { Icon } from '../common/icon.js';
import { failureIcon, failureText } from './failure-text.js';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

function Body({ item, mode }: { item: MessageItem; mode: RoomMode }) {
  if (item.state === 'ok') return <>{item.text}</>;
  if (item.state === 'pending') return <>{mode === 'keys' ? 'Waiting for the sender’s key…' : 'Decrypting…'}</>;
  return (
    <>
      <Icon name={failureIcon(item.reason)} />
      {failureText(item.reason, mode)}
    </>
  );
}

/** One message; user data is only ever rendered as text. */
export function MessageRow({ item, mode }: { item: MessageItem; mode: RoomMode }) {
  const m = item.message;
  return (
    <li
      className={item.mine ? 'message mine' : 'message'}
      data-testid="message"
      data-state={item.state}
      data-id={m.id}
      data-reason={item.reason}
      data-gap={item.gap || undefined}
      data-epoch={m.epoch}
      data-offset={m.offset}
    >
      <Avatar name={m.from} />
      <div>
        <div className="message-meta">
          <span className="message-from" data-testid="message-from">
            {m.from}
          </span>
          <time className="message-time" dateTime={new Date(m.at).toISOString()} title={fullTimeFormat.format(m.at)}>
            {timeFormat.format(m.at)}
          </time>
        </div>
        <div className="message-text" data-testid="message-text">
          <Body item={item} mode={mode} />
        </div>
        {item.gap !== undefined && item.gap > 0 && (
          <p className="message-note" data-testid="message-gap" role="note">
            {item.gap === 1
              ? `1 earlier message from ${m.from} has not arrived`
              : `${item.gap} earlier messages from ${m.from} have not arrived`}
          </p>
        )}
        {item.late && (
          <p className="message-note" data-testid="message-late" role="note">
            Arrived late (after later messages from {m.from})
          </p>
        )}
      </div>
    </li>
  );
}
