/**
 * @jest-environment jsdom
 */
import '../../../client/react/testing/web-platform.js';
import { describe, expect, it, jest } from '@jest/globals';
import { act, fireEvent, render, screen } from '@testing-library/react';
import { ParleyError } from '../../../client/index.js';
import type { LoginRequest, ParleyState, RoomSession } from '../../../client/react/index.js';
import { LoginView } from './login-view.js';

type Props = Parameters<typeof LoginView>[0]['parley'];

function parley(over: Partial<Props> = {}): Props {
  return {
    login: jest.fn<ParleyState['login']>(async () => ({}) as RoomSession),
    loginPhase: 'idle',
    identity: null,
    kick: null,
    dismissKick: jest.fn(),
    ...over,
  };
}

const field = (label: string) => screen.getByLabelText(label);

describe('LoginView', () => {
  it('labels every field, starts in member-keys mode and asks for a passphrase only in passphrase mode', () => {
    render(<LoginView hidden={false} parley={parley()} />);
    expect(field('Your name')).toHaveProperty('required', true);
    expect(field('Room')).toBeDefined();
    expect((field('Encryption') as HTMLSelectElement).value).toBe('keys');
    expect(screen.getByTestId('passphrase-field').hidden).toBe(true);
    expect(document.activeElement).toBe(field('Your name'));
    fireEvent.change(field('Encryption'), { target: { value: 'passphrase' } });
    expect(screen.getByTestId('passphrase-field').hidden).toBe(false);
    expect(screen.getByTestId('mode-hint').dataset.mode).toBe('passphrase');
  });

  it('says what is wrong before asking the server', async () => {
    const p = parley();
    render(<LoginView hidden={false} parley={p} />);
    await act(async () => fireEvent.submit(screen.getByTestId('login-form')));
    expect(screen.getByRole('alert').textContent).toBe('Enter a name of 1–32 characters.');
    fireEvent.change(field('Your name'), { target: { value: 'ann' } });
    fireEvent.change(field('Room'), { target: { value: 'r\u0007' } });
    await act(async () => fireEvent.submit(screen.getByTestId('login-form')));
    expect(screen.getByRole('alert').textContent).toBe('Enter a room of 1–64 characters.');
    fireEvent.change(field('Room'), { target: { value: 'r' } });
    fireEvent.change(field('Encryption'), { target: { value: 'passphrase' } });
    await act(async () => fireEvent.submit(screen.getByTestId('login-form')));
    expect(screen.getByRole('alert').textContent).toBe('Enter the room passphrase.');
    expect(p.login).not.toHaveBeenCalled();
  });

  it("joins with the trimmed fields and words the server's refusals", async () => {
    const login = jest.fn<(r: LoginRequest) => Promise<RoomSession>>(async () => {
      throw new ParleyError('NAME_TAKEN', 'taken', 'login');
    });
    render(<LoginView hidden={false} parley={parley({ login })} />);
    fireEvent.change(field('Your name'), { target: { value: ' ann ' } });
    fireEvent.change(field('Room'), { target: { value: 'lobby' } });
    await act(async () => fireEvent.submit(screen.getByTestId('login-form')));
    expect(login).toHaveBeenCalledWith({ name: 'ann', room: 'lobby', mode: 'keys', passphrase: undefined });
    expect(screen.getByRole('alert').textContent).toBe('Someone in “lobby” is already called “ann”.');
  });

  it('shows the login in progress on its button', () => {
    render(<LoginView hidden={false} parley={parley({ loginPhase: 'deriving' })} />);
    const button = screen.getByTestId('login-submit') as HTMLButtonElement;
    expect(button.textContent).toBe('Deriving key…');
    expect(button.disabled).toBe(true);
  });

  it('after a kick, says from where and why until dismissed', () => {
    const p = parley({ kick: { room: 'lobby', reason: 'Please keep it friendly' } });
    render(<LoginView hidden={false} parley={p} />);
    const banner = screen.getByTestId('kick-banner');
    expect(banner.getAttribute('role')).toBe('alert');
    expect(banner.textContent).toContain('“lobby”');
    expect(screen.getByTestId('kick-reason').textContent).toBe('Please keep it friendly');
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(p.dismissKick).toHaveBeenCalled();
  });
});
