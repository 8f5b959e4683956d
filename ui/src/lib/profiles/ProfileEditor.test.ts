import { fireEvent, render, screen } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import { endpoint, profileEntry } from '../../test/fixtures';

const backend = vi.hoisted(() => ({ saveProfile: vi.fn(), testProfile: vi.fn(), deleteProfile: vi.fn() }));
vi.mock('../backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../backend')>();
  return { ...actual, ...backend };
});

import ProfileEditor from './ProfileEditor.svelte';

function input(name: string): HTMLInputElement {
  const el = document.querySelector<HTMLInputElement>(`[data-testid="profile-editor"] [name="${name}"]`);
  if (!el) throw new Error(`no input named ${name}`);
  return el;
}

async function type(name: string, value: string): Promise<void> {
  await fireEvent.input(input(name), { target: { value } });
}

beforeEach(() => {
  for (const f of Object.values(backend)) f.mockReset();
});

describe('ProfileEditor', () => {
  it('checks required fields before calling the backend', async () => {
    render(ProfileEditor, { entry: null, onSaved: vi.fn(), onDeleted: vi.fn(), onCancel: vi.fn() });
    await fireEvent.click(screen.getByTestId('save-profile'));
    expect(backend.saveProfile).not.toHaveBeenCalled();
    const invalid = [...document.querySelectorAll('[aria-invalid="true"]')].map((e) => e.getAttribute('name'));
    expect(invalid.sort()).toEqual(['amqp-0', 'management-0', 'name', 'password', 'username'].sort());
    expect(screen.getByTestId('form-errors')).toBeTruthy();
  });

  it('adds a profile', async () => {
    const onSaved = vi.fn();
    backend.saveProfile.mockResolvedValue(profileEntry('local'));
    render(ProfileEditor, { entry: null, onSaved, onDeleted: vi.fn(), onCancel: vi.fn() });
    await type('name', 'local');
    await type('amqp-0', 'amqp://127.0.0.1:5672');
    await type('management-0', 'http://127.0.0.1:15672');
    await fireEvent.click(screen.getByTestId('add-node'));
    expect(input('amqp-1').value).toBe('amqp://127.0.0.1:5673');
    expect(input('management-1').value).toBe('http://127.0.0.1:15673');
    await type('username', 'guest');
    await type('password', 'guest');
    await fireEvent.click(screen.getByTestId('save-profile'));

    expect(backend.saveProfile).toHaveBeenCalledWith(
      {
        name: 'local',
        nodes: [
          { amqp: 'amqp://127.0.0.1:5672', management: 'http://127.0.0.1:15672' },
          { amqp: 'amqp://127.0.0.1:5673', management: 'http://127.0.0.1:15673' },
        ],
        vhost: '/',
        username: 'guest',
        tls: { ca_file: null, client_cert_file: null, client_key_file: null, verify_peer: true },
      },
      'guest',
      null,
    );
    await vi.waitFor(() => expect(onSaved).toHaveBeenCalledWith('local', null));
  });

  it('edits a profile: keeps the stored password, may rename', async () => {
    backend.saveProfile.mockResolvedValue(profileEntry('prod-eu'));
    const onSaved = vi.fn();
    render(ProfileEditor, { entry: profileEntry('prod'), onSaved, onDeleted: vi.fn(), onCancel: vi.fn() });
    expect(input('password').placeholder).toBe('stored in the OS keychain — leave empty to keep');
    expect(input('amqp-1').value).toBe('amqp://127.0.0.1:5673');
    await type('name', 'prod-eu');
    await fireEvent.click(screen.getByTestId('save-profile'));
    expect(backend.saveProfile).toHaveBeenCalledTimes(1);
    const [profile, password, replacing] = backend.saveProfile.mock.calls[0] as [{ name: string }, unknown, unknown];
    expect(profile.name).toBe('prod-eu');
    expect(password).toBeNull();
    expect(replacing).toBe('prod');
    await vi.waitFor(() => expect(onSaved).toHaveBeenCalledWith('prod-eu', 'prod'));
  });

  it('shows a backend invalid_input error and marks its field', async () => {
    backend.saveProfile.mockRejectedValue({
      kind: 'invalid_input',
      message: 'invalid node 2 AMQP URI: amqp://:5673 has no host',
      field: 'node 2 AMQP URI',
    });
    render(ProfileEditor, { entry: profileEntry('prod'), onSaved: vi.fn(), onDeleted: vi.fn(), onCancel: vi.fn() });
    await fireEvent.click(screen.getByTestId('save-profile'));
    await vi.waitFor(() => expect(screen.getByTestId('error-box').dataset['kind']).toBe('invalid_input'));
    expect(screen.getByTestId('error-box').textContent).toContain('invalid node 2 AMQP URI');
    expect(input('amqp-1').getAttribute('aria-invalid')).toBe('true');
  });

  it('marks no field from the message text: only the field the error names', async () => {
    backend.saveProfile.mockRejectedValue({ kind: 'invalid_input', message: 'invalid node 2 AMQP URI: amqp://:5673 has no host' });
    render(ProfileEditor, { entry: profileEntry('prod'), onSaved: vi.fn(), onDeleted: vi.fn(), onCancel: vi.fn() });
    await fireEvent.click(screen.getByTestId('save-profile'));
    await vi.waitFor(() => expect(screen.getByTestId('error-box').dataset['kind']).toBe('invalid_input'));
    expect(input('amqp-1').getAttribute('aria-invalid')).toBeNull();
  });

  it('tests the unsaved form with the stored password of the saved name', async () => {
    backend.testProfile.mockResolvedValue([
      endpoint('127.0.0.1:5672', { node_name: 'rabbit@a' }),
      endpoint('127.0.0.1:5673', {
        amqp: {
          endpoint: '127.0.0.1:5673',
          state: 'down',
          latency_ms: null,
          since_ms: 0,
          last_error: { kind: 'auth', message: 'ACCESS_REFUSED - Login was refused' },
          failed_attempts: 1,
          blocked: false,
          active: false,
        },
        ok: false,
      }),
    ]);
    render(ProfileEditor, { entry: profileEntry('prod'), onSaved: vi.fn(), onDeleted: vi.fn(), onCancel: vi.fn() });
    await fireEvent.click(screen.getByTestId('test-profile'));
    expect(backend.testProfile).toHaveBeenCalledWith(expect.objectContaining({ name: 'prod' }), null, 'prod');
    await vi.waitFor(() => expect(screen.getAllByTestId('endpoint-row')).toHaveLength(2));
    const results = screen.getByTestId('test-results');
    expect(results.textContent).toContain('rabbit@a');
    expect(results.textContent).toContain('ACCESS_REFUSED - Login was refused');
    expect(screen.getByTestId('test-summary').textContent).toContain('AMQP 1/2 connected');
  });

  it('deletes only after the name is typed', async () => {
    backend.deleteProfile.mockResolvedValue(undefined);
    const onDeleted = vi.fn();
    render(ProfileEditor, { entry: profileEntry('prod'), onSaved: vi.fn(), onDeleted, onCancel: vi.fn() });
    await fireEvent.click(screen.getByTestId('delete-profile'));
    const confirm = screen.getByTestId('confirm-delete') as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    await type('confirm-name', 'pro');
    expect(confirm.disabled).toBe(true);
    await type('confirm-name', 'prod');
    expect(confirm.disabled).toBe(false);
    await fireEvent.click(confirm);
    expect(backend.deleteProfile).toHaveBeenCalledWith('prod');
    await vi.waitFor(() => expect(onDeleted).toHaveBeenCalledWith('prod'));
  });
});
