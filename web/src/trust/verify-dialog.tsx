/**
 * Verifying one member's key: both fingerprints and the pair's 60-digit safety number (the
 * same on both sides), to compare in person or over another channel, and a "verified" switch
 * that lasts (kept in the trust store). A changed key waiting for acceptance is shown as such
 * and can be accepted here. Escape or Close closes it; focus returns where it was.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { Member } from '../../../client/index.js';
import type { RoomSession } from '../../../client/react/index.js';
import { Icon } from '../common/icon.js';

/** The twelve groups of five digits, in three rows of four as Signal shows them. */
function groups(digits: string): string[] {
  return digits.match(/\d{5}/g) ?? [];
}

export function VerifyDialog(props: {
  session: RoomSession;
  member: Member;
  myFingerprint: string | undefined;
  onAccept: (memberId: string) => void;
  onClose: () => void;
}) {
  const { session, member } = props;
  const keys = session.keys!.room;
  const [safety, setSafety] = useState<string | null>(null);
  const closeRef = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  const descId = useId();
  const switchId = useId();

  useEffect(() => {
    let live = true;
    setSafety(null);
    keys.safetyNumber(member.id).then(
      (n) => live && setSafety((n ?? '').replace(/\D/g, '')),
      () => live && setSafety(''),
    );
    return () => {
      live = false;
    };
  }, [keys, member.id, member.fingerprint]);

  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    closeRef.current?.focus();
    return () => before?.focus?.();
  }, []);

  const verified = member.verified === true;
  return (
    <div
      className="modal-backdrop"
      data-testid="verify-dialog"
      data-member={member.name}
      onClick={(e) => {
        if (e.target === e.currentTarget) props.onClose();
      }}
    >
      <div
        className="card modal verify"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={descId}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            props.onClose();
          }
        }}
      >
        <h2 id={titleId}>Verify {member.name}</h2>
        <p className="muted small" id={descId}>
          Compare this safety number with {member.name}, in person or over another channel you trust (a call, a message
          elsewhere). Both of you see the same 60 digits when your keys are really each other’s.
        </p>
        {member.held && (
          <div className="banner banner-warning" role="alert" data-testid="verify-held">
            <div>
              <div className="banner-title">{member.name}’s key changed</div>
              <div className="banner-body">
                Was <code className="fingerprint">{member.previousFingerprint}</code>. It gets no messages from you
                until you accept the new key.
              </div>
            </div>
            <button
              type="button"
              className="btn btn-small btn-primary"
              data-testid="verify-accept"
              onClick={() => props.onAccept(member.id)}
            >
              Accept new key
            </button>
          </div>
        )}
        <div
          className="safety-number"
          data-testid="safety-number"
          data-digits={safety ?? undefined}
          aria-label={safety ? `Safety number ${groups(safety).join(' ')}` : 'Computing the safety number'}
          role="group"
        >
          {safety === null
            ? 'Computing…'
            : safety === ''
              ? 'No safety number: this member published no key'
              : groups(safety).map((g, i) => <code key={i}>{g}</code>)}
        </div>
        <dl className="verify-keys">
          <dt>{member.name}</dt>
          <dd>
            <code className="fingerprint" data-testid="verify-their-fingerprint">
              {member.fingerprint ?? 'no key'}
            </code>
          </dd>
          <dt>You ({session.user.name})</dt>
          <dd>
            <code className="fingerprint" data-testid="verify-my-fingerprint">
              {props.myFingerprint}
            </code>
          </dd>
        </dl>
        <div className="verify-toggle">
          <input
            id={switchId}
            type="checkbox"
            role="switch"
            data-testid="verified-toggle"
            checked={verified}
            disabled={!member.fingerprint || member.held === true}
            aria-describedby={`${switchId}-hint`}
            onChange={(e) => keys.markVerified(member.id, e.target.checked)}
          />
          <label htmlFor={switchId}>Mark as verified</label>
          <span className="muted small" id={`${switchId}-hint`}>
            {verified
              ? 'Kept on this device. If this key ever changes, sending stops until you accept the new one.'
              : 'Only after the numbers matched.'}
          </span>
        </div>
        <div className="modal-actions">
          <button
            type="button"
            className="btn btn-ghost"
            data-testid="verify-close"
            ref={closeRef}
            onClick={props.onClose}
          >
            <Icon name="x" />
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
