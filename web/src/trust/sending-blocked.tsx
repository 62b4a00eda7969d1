/**
 * Sending stopped because a verified member's key changed: says so above the composer,
 * until the user accepts the new key (after comparing safety numbers again) or the member
 * goes. The library refuses to encrypt meanwhile (KeyChangeBlockedError).
 */
import type { Member } from '../../../client/index.js';
import { Icon } from '../common/icon.js';

export function SendingBlocked(props: {
  members: readonly Member[];
  onVerify: (memberId: string) => void;
  onAccept: (memberId: string) => void;
}) {
  const names = props.members.map((m) => m.name);
  const who = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return (
    <div className="banner banner-blocked" role="alert" data-testid="sending-blocked">
      <Icon name="warning" />
      <div className="banner-text">
        <div className="banner-title">Sending is paused: the verified key of {who} changed</div>
        <div className="banner-body">
          Someone may be posing as {who}, or they use a new device. Compare safety numbers again, then accept the new
          key to send; until then nothing you write leaves this page.
        </div>
      </div>
      <div className="banner-actions">
        {props.members.map((m) => (
          <span key={m.id} className="banner-actions-row">
            <button
              type="button"
              className="btn btn-small btn-ghost"
              data-testid="blocked-verify"
              aria-label={`Verify ${m.name}`}
              onClick={() => props.onVerify(m.id)}
            >
              Verify
            </button>
            <button
              type="button"
              className="btn btn-small btn-warning"
              data-testid="blocked-accept"
              aria-label={`Accept ${m.name}'s new key`}
              onClick={() => props.onAccept(m.id)}
            >
              Accept new key
            </button>
          </span>
        ))}
      </div>
    </div>
  );
}
