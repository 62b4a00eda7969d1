import { useRef } from 'react';
import type { RoomMode, Timeline } from '../../../client/react/index.js';
import { Icon } from '../common/icon.js';
import { MessageRow } from './message-row.js';
import { useStickToBottom } from './use-stick-to-bottom.js';

const GAP_TEXT = 'Some messages may be missing';

/** The room's messages and gap markers in offset order, following the newest. */
export function MessageList({ timeline, mode }: { timeline: Timeline; mode: RoomMode }) {
  const listRef = useRef<HTMLOListElement>(null);
  const items = timeline.items;
  const last = items.at(-1);
  const { unseen, onScroll, scrollToBottom } = useStickToBottom(
    listRef,
    last?.key,
    last?.kind === 'message' && last.mine,
    items,
  );
  const empty = !items.some((i) => i.kind === 'message');

  return (
    <>
      <ol className="messages" data-testid="messages" aria-live="polite" ref={listRef} onScroll={onScroll}>
        {items.map((item) =>
          item.kind === 'message' ? (
            <MessageRow key={item.key} item={item} mode={mode} />
          ) : (
            <li
              key={item.key}
              className="history-gap"
              data-testid="history-gap"
              data-epoch={item.epoch}
              data-offset={item.offset}
              role="status"
            >
              {GAP_TEXT}
            </li>
          ),
        )}
      </ol>
      <p className="empty muted" data-testid="messages-empty" hidden={!empty}>
        No messages yet. Say hello!
      </p>
      {unseen > 0 && (
        <button type="button" className="new-messages" data-testid="new-messages" onClick={scrollToBottom}>
          <Icon name="arrow-down" />
          {unseen === 1 ? '1 new message' : `${unseen} new messages`}
        </button>
      )}
    </>
  );
}
