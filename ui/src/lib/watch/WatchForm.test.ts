import { fireEvent, render, screen } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import type { WatchRule } from '../bindings/WatchRule';

const backend = vi.hoisted(() => ({ saveWatchRule: vi.fn() }));
vi.mock('../backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../backend')>();
  return { ...actual, ...backend };
});

import WatchForm from './WatchForm.svelte';

const target = { profile: 'local', vhost: '/', queue: 'orders' };

beforeEach(() => {
  backend.saveWatchRule.mockReset();
  backend.saveWatchRule.mockImplementation(async (rule: WatchRule) => ({ ...rule, id: rule.id || 9 }));
});

describe('WatchForm', () => {
  it('saves a new rule as chosen and hands back the saved rule', async () => {
    const onSaved = vi.fn();
    render(WatchForm, { ...target, onSaved, onCancel: vi.fn() });
    await fireEvent.change(screen.getByTestId('watch-metric'), { target: { value: 'dead_letters' } });
    await fireEvent.input(screen.getByTestId('watch-threshold'), { target: { value: '3' } });
    await fireEvent.click(screen.getByTestId('watch-save'));
    await vi.waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(backend.saveWatchRule).toHaveBeenCalledWith({
      id: 0,
      ...target,
      metric: 'dead_letters',
      comparison: 'above',
      threshold: 3,
    });
    expect(onSaved.mock.calls[0]?.[0]).toMatchObject({ id: 9, threshold: 3 });
  });

  it('edits a saved rule under its id, starting from its values', async () => {
    const rule: WatchRule = { id: 4, ...target, metric: 'consumers', comparison: 'below', threshold: 2 };
    render(WatchForm, { ...target, rule, onSaved: vi.fn(), onCancel: vi.fn() });
    expect((screen.getByTestId('watch-threshold') as HTMLInputElement).value).toBe('2');
    expect((screen.getByTestId('watch-comparison') as HTMLSelectElement).value).toBe('below');
    await fireEvent.input(screen.getByTestId('watch-threshold'), { target: { value: '1' } });
    await fireEvent.click(screen.getByTestId('watch-save'));
    await vi.waitFor(() => expect(backend.saveWatchRule).toHaveBeenCalledWith({ ...rule, threshold: 1 }));
  });

  it('shows a bad threshold at the field and sends nothing', async () => {
    render(WatchForm, { ...target, onSaved: vi.fn(), onCancel: vi.fn() });
    await fireEvent.input(screen.getByTestId('watch-threshold'), { target: { value: 'lots' } });
    await fireEvent.click(screen.getByTestId('watch-save'));
    expect((await screen.findByTestId('field-error')).textContent).toContain('whole number');
    expect(backend.saveWatchRule).not.toHaveBeenCalled();
  });

  it("puts the backend's refusal of a field at that field, and other errors in a box", async () => {
    backend.saveWatchRule.mockRejectedValueOnce({ kind: 'invalid_input', message: 'invalid threshold: no', field: 'threshold' });
    render(WatchForm, { ...target, onSaved: vi.fn(), onCancel: vi.fn() });
    await fireEvent.input(screen.getByTestId('watch-threshold'), { target: { value: '5' } });
    await fireEvent.click(screen.getByTestId('watch-save'));
    expect((await screen.findByTestId('field-error')).textContent).toContain('invalid threshold');

    backend.saveWatchRule.mockRejectedValueOnce({ kind: 'file', message: 'watch.json: disk full' });
    await fireEvent.click(screen.getByTestId('watch-save'));
    expect(await screen.findByText(/disk full/)).toBeTruthy();
  });
});
