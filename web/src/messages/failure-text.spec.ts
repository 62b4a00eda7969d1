import { describe, expect, it } from '@jest/globals';
import { failureIcon, failureText } from './failure-text.js';

describe('failureText', () => {
  it('words an envelope of the other mode the same in both modes', () => {
    expect(failureText('unsupported-version', 'keys')).toBe(failureText('unsupported-version', 'passphrase'));
    expect(failureText('unsupported-version', 'keys')).toBe('Encrypted for another room mode or a newer client');
  });

  it('suggests a different passphrase only in passphrase mode', () => {
    expect(failureText('undecryptable', 'passphrase')).toMatch(/different passphrase/);
    expect(failureText('undecryptable', 'keys')).not.toMatch(/passphrase/);
  });

  it('warns for what may be forged, locks what is merely unreadable', () => {
    expect(failureIcon('unverified')).toBe('warning');
    expect(failureIcon('malformed')).toBe('warning');
    expect(failureIcon('before-join')).toBe('lock');
  });
});
