/** A call ringing: who, their key fingerprint, accept or decline (Escape declines). */
import { useEffect, useRef } from 'react';
import type { IncomingCall } from '../../../client/react/index.js';
import { Icon } from '../common/icon.js';

export function IncomingCallDialog(props: {
  incoming: IncomingCall | null;
  fingerprint: string | undefined;
  onAccept: () => void;
  onDecline: () => void;
}) {
  const { incoming } = props;
  const acceptRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (incoming) acceptRef.current?.focus();
  }, [incoming]);

  return (
    <div className="modal-backdrop" data-testid="incoming-call" hidden={!incoming}>
      <div
        className="card modal"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="incoming-title"
        aria-describedby="incoming-description"
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            props.onDecline();
          }
        }}
      >
        <div className="ring">
          <Icon name="video" />
        </div>
        <h2 id="incoming-title">
          <span data-testid="incoming-name">{incoming?.peerName}</span> is calling
        </h2>
        <p className="muted small" id="incoming-description">
          Fingerprint{' '}
          <code className="fingerprint" data-testid="incoming-fingerprint">
            {props.fingerprint ?? 'unknown'}
          </code>
        </p>
        <div className="modal-actions">
          <button type="button" className="btn btn-danger" data-testid="decline-call" onClick={props.onDecline}>
            <Icon name="phone-off" />
            Decline
          </button>
          <button
            type="button"
            className="btn btn-success"
            data-testid="accept-call"
            ref={acceptRef}
            onClick={props.onAccept}
          >
            <Icon name="video" />
            Accept
          </button>
        </div>
      </div>
    </div>
  );
}
