import { describe, expect, it } from 'vitest';

import type { WatchRule } from '../bindings/WatchRule';
import { blankForm, describeRule, formFromRule, ruleFromForm } from './ruleForm';

const target = { profile: 'local', vhost: '/', queue: 'orders' };

describe('ruleFromForm', () => {
  it('makes the rule the form describes', () => {
    const check = ruleFromForm({ metric: 'dead_letters', comparison: 'above', threshold: ' 25 ' }, target);
    expect(check).toEqual({
      ok: true,
      rule: { id: 0, profile: 'local', vhost: '/', queue: 'orders', metric: 'dead_letters', comparison: 'above', threshold: 25 },
    });
  });

  it('keeps the id of a rule being edited', () => {
    const check = ruleFromForm({ metric: 'consumers', comparison: 'below', threshold: '1' }, target, 7);
    expect(check.ok && check.rule.id).toBe(7);
  });

  it.each(['', 'ten', '-1', '1.5', '1e3', '99999999999999999999'])('refuses %j as a threshold', (threshold) => {
    const check = ruleFromForm({ ...blankForm(), threshold }, target);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.field).toBe('threshold');
  });

  it('refuses a rule that can never be true', () => {
    const check = ruleFromForm({ metric: 'consumers', comparison: 'below', threshold: '0' }, target);
    expect(check).toMatchObject({ ok: false, field: 'threshold' });
    // Above 0 is fine: "any message at all".
    expect(ruleFromForm({ metric: 'depth', comparison: 'above', threshold: '0' }, target).ok).toBe(true);
  });
});

describe('a saved rule', () => {
  const rule: WatchRule = { ...target, id: 3, metric: 'dead_letters', comparison: 'above', threshold: 5 };

  it('goes back into the form as it was', () => {
    expect(ruleFromForm(formFromRule(rule), target, rule.id)).toEqual({ ok: true, rule });
  });

  it('is put into words', () => {
    expect(describeRule(rule)).toBe('Dead letters above 5');
  });
});
