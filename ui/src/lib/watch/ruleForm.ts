// The watch rule form's logic: the fields as typed, checked, turned into the rule the backend
// saves, and rules put into words for lists. The backend checks the rule again (the same
// refusals come back with `field` set).

import type { Comparison } from '../bindings/Comparison';
import type { Metric } from '../bindings/Metric';
import type { WatchRule } from '../bindings/WatchRule';

export interface RuleForm {
  metric: Metric;
  comparison: Comparison;
  /** As typed. */
  threshold: string;
}

export const METRICS: { value: Metric; label: string; hint: string }[] = [
  { value: 'depth', label: 'Depth', hint: 'messages in the queue, ready and unacknowledged' },
  {
    value: 'dead_letters',
    label: 'Dead letters',
    hint: 'messages waiting in the queues bound to its dead-letter exchange',
  },
  { value: 'consumers', label: 'Consumers', hint: 'consumers on the queue' },
];

export const COMPARISONS: { value: Comparison; label: string }[] = [
  { value: 'above', label: 'goes above' },
  { value: 'below', label: 'drops below' },
];

export function blankForm(): RuleForm {
  return { metric: 'depth', comparison: 'above', threshold: '' };
}

export function formFromRule(rule: WatchRule): RuleForm {
  return { metric: rule.metric, comparison: rule.comparison, threshold: String(rule.threshold) };
}

export type FormCheck = { ok: true; rule: WatchRule } | { ok: false; field: 'threshold'; message: string };

/** The rule the form describes, or why not. `id` 0 saves a new rule. */
export function ruleFromForm(
  form: RuleForm,
  target: { profile: string; vhost: string; queue: string },
  id = 0,
): FormCheck {
  const text = form.threshold.trim();
  if (!/^\d+$/.test(text)) {
    return { ok: false, field: 'threshold', message: 'a whole number of 0 or more' };
  }
  const threshold = Number(text);
  if (!Number.isSafeInteger(threshold)) {
    return { ok: false, field: 'threshold', message: 'too large' };
  }
  if (form.comparison === 'below' && threshold === 0) {
    return { ok: false, field: 'threshold', message: 'no reading is below 0: pick 1 or more' };
  }
  return {
    ok: true,
    rule: { id, ...target, metric: form.metric, comparison: form.comparison, threshold },
  };
}

export function metricLabel(metric: Metric): string {
  return METRICS.find((m) => m.value === metric)?.label ?? metric;
}

/** E.g. `Depth above 100`. */
export function describeRule(rule: WatchRule): string {
  return `${metricLabel(rule.metric)} ${rule.comparison} ${rule.threshold}`;
}
