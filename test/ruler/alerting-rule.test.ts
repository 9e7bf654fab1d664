/** The alert state machine against Prometheus's semantics (rules/alerting.go), step by step in simulated time. */
import { describe, expect, it } from 'vitest';
import { AlertingRule, RESOLVED_RETENTION_MS } from '../../server/ruler/alerting-rule.js';
import { RecordingRule } from '../../server/ruler/recording-rule.js';
import type { RuleDesc } from '../../server/ruler/types.js';

const TEMPLATES = { externalLabels: {}, externalURL: '' };
const T0 = 1_800_000_000_000;
const S = 1000;

function alertRule(overrides: Partial<RuleDesc> = {}): AlertingRule {
  return new AlertingRule({ alert: 'HighErrors', expr: 'x', forMs: 0, keepFiringForMs: 0, labels: {}, annotations: {}, ...overrides });
}

const shop = { labels: { namespace: 'shop' }, value: 7 };

describe('alerting rule states', () => {
  it('goes pending, fires once `for` has passed, and resolves when the condition clears', () => {
    const rule = alertRule({ forMs: 2 * S });
    rule.evaluate(T0, [shop], 0, TEMPLATES);
    expect(rule.state()).toBe('pending');
    expect(rule.activeAlerts()[0]).toMatchObject({ state: 'pending', activeAt: T0, labels: { alertname: 'HighErrors', namespace: 'shop' } });
    rule.evaluate(T0 + S, [shop], 0, TEMPLATES);
    expect(rule.state()).toBe('pending');
    rule.evaluate(T0 + 2 * S, [shop], 0, TEMPLATES);
    expect(rule.state()).toBe('firing');
    expect(rule.activeAlerts()[0]!.firedAt).toBe(T0 + 2 * S);
    rule.evaluate(T0 + 3 * S, [], 0, TEMPLATES);
    expect(rule.state()).toBe('inactive');
    expect(rule.activeAlerts()).toEqual([]);
  });

  it('fires on the first evaluation without `for`', () => {
    const rule = alertRule();
    rule.evaluate(T0, [shop], 0, TEMPLATES);
    expect(rule.state()).toBe('firing');
  });

  it('drops a pending alert whose condition cleared, without ever sending it', () => {
    const rule = alertRule({ forMs: 10 * S });
    rule.evaluate(T0, [shop], 0, TEMPLATES);
    expect(rule.alertsToSend(T0, S, S)).toEqual([]);
    rule.evaluate(T0 + S, [], 0, TEMPLATES);
    expect(rule.alertsToSend(T0 + S, S, S)).toEqual([]);
    // Back again: pending anew, with a new activeAt.
    rule.evaluate(T0 + 2 * S, [shop], 0, TEMPLATES);
    expect(rule.activeAlerts()[0]!.activeAt).toBe(T0 + 2 * S);
  });

  it('keeps firing for `keep_firing_for` after the condition cleared', () => {
    const rule = alertRule({ keepFiringForMs: 3 * S });
    rule.evaluate(T0, [shop], 0, TEMPLATES);
    rule.evaluate(T0 + S, [], 0, TEMPLATES);
    rule.evaluate(T0 + 3 * S, [], 0, TEMPLATES);
    expect(rule.state()).toBe('firing');
    rule.evaluate(T0 + 4 * S, [], 0, TEMPLATES);
    expect(rule.state()).toBe('inactive');
  });

  it('resets keep_firing_for when the condition comes back', () => {
    const rule = alertRule({ keepFiringForMs: 3 * S });
    rule.evaluate(T0, [shop], 0, TEMPLATES);
    rule.evaluate(T0 + S, [], 0, TEMPLATES);
    rule.evaluate(T0 + 2 * S, [shop], 0, TEMPLATES);
    rule.evaluate(T0 + 4 * S, [], 0, TEMPLATES);
    rule.evaluate(T0 + 6 * S, [], 0, TEMPLATES);
    expect(rule.state()).toBe('firing');
    rule.evaluate(T0 + 7 * S, [], 0, TEMPLATES);
    expect(rule.state()).toBe('inactive');
  });

  it('updates value and annotations of an active alert but keeps its activeAt', () => {
    const rule = alertRule({ annotations: { summary: 'value {{ $value }}' }, forMs: 5 * S });
    rule.evaluate(T0, [shop], 0, TEMPLATES);
    rule.evaluate(T0 + S, [{ labels: { namespace: 'shop' }, value: 9 }], 0, TEMPLATES);
    const [alert] = rule.activeAlerts();
    expect(alert).toMatchObject({ value: 9, activeAt: T0, annotations: { summary: 'value 9' } });
  });

  it('templates labels, lets rule labels override sample labels, drops __name__ and empty results', () => {
    const rule = alertRule({ labels: { severity: '{{ if gt $value 5.0 }}page{{ end }}', namespace: 'ns-{{ $labels.namespace }}', team: '' } });
    rule.evaluate(T0, [{ labels: { __name__: 'x', namespace: 'shop' }, value: 3 }], 0, TEMPLATES);
    expect(rule.activeAlerts()[0]!.labels).toEqual({ alertname: 'HighErrors', namespace: 'ns-shop' });
  });

  it('fails on a duplicate label set after applying labels, clearing the alerts', () => {
    const rule = alertRule({ labels: { namespace: 'all' } });
    rule.evaluate(T0, [shop], 0, TEMPLATES);
    expect(() => rule.evaluate(T0 + S, [shop, { labels: { namespace: 'cart' }, value: 1 }], 0, TEMPLATES)).toThrow(
      'vector contains metrics with the same labelset after applying alert labels',
    );
    expect(rule.activeAlerts()).toEqual([]);
  });

  it('fails and clears everything past the group limit', () => {
    const rule = alertRule();
    const samples = ['a', 'b', 'c'].map((namespace) => ({ labels: { namespace }, value: 1 }));
    expect(() => rule.evaluate(T0, samples, 2, TEMPLATES)).toThrow('exceeded limit of 2 with 3 alerts');
    expect(rule.activeAlerts()).toEqual([]);
    rule.evaluate(T0 + S, samples, 3, TEMPLATES);
    expect(rule.activeAlerts()).toHaveLength(3);
  });
});

describe('rebuilding `for` state after a start', () => {
  const run = (from: number, to: number) => {
    const points = [];
    for (let t = from; t <= to; t += S) points.push({ t, v: 7 });
    return points;
  };

  it('dates a series that held at every step up to the end from the start of its unbroken run', () => {
    const rule = alertRule({ forMs: 5 * S });
    const end = T0 + 10 * S;
    rule.restore(end, S, [
      { labels: { namespace: 'shop' }, points: [...run(T0, T0 + 2 * S), ...run(T0 + 4 * S, end)] },
      { labels: { namespace: 'cart' }, points: run(T0, end - S) },
      { labels: { namespace: 'home' }, points: run(end - S, end) },
    ], TEMPLATES);
    expect(rule.activeAlerts().map((a) => [a.labels.namespace, a.state, a.activeAt])).toEqual([
      ['home', 'pending', end - S],
      ['shop', 'pending', T0 + 4 * S],
    ]);
    // The first evaluation: shop held for 7 s ≥ 5 s and fires at once; home waits; cart starts afresh.
    rule.evaluate(end + S, [shop, { labels: { namespace: 'home' }, value: 1 }, { labels: { namespace: 'cart' }, value: 1 }], 0, TEMPLATES);
    expect(rule.activeAlerts().map((a) => [a.labels.namespace, a.state, a.activeAt])).toEqual([
      ['cart', 'pending', end + S],
      ['home', 'pending', end - S],
      ['shop', 'firing', T0 + 4 * S],
    ]);
  });

  it('drops a rebuilt alert whose condition no longer holds at the first evaluation', () => {
    const rule = alertRule({ forMs: 5 * S });
    rule.restore(T0, S, [{ labels: { namespace: 'shop' }, points: run(T0 - 3 * S, T0) }], TEMPLATES);
    rule.evaluate(T0 + S, [], 0, TEMPLATES);
    expect(rule.activeAlerts()).toEqual([]);
  });
});

describe('sending alerts', () => {
  it('sends firing alerts with endsAt = now + 4 × max(interval, resend delay), then re-sends after the delay', () => {
    const rule = alertRule();
    rule.evaluate(T0, [shop], 0, TEMPLATES);
    const [first] = rule.alertsToSend(T0, 60 * S, 10 * S);
    expect(first).toEqual({ labels: { alertname: 'HighErrors', namespace: 'shop' }, annotations: {}, startsAt: T0, endsAt: T0 + 240 * S });
    rule.evaluate(T0 + 10 * S, [shop], 0, TEMPLATES);
    expect(rule.alertsToSend(T0 + 10 * S, 60 * S, 10 * S)).toEqual([]);
    rule.evaluate(T0 + 70 * S, [shop], 0, TEMPLATES);
    const [again] = rule.alertsToSend(T0 + 70 * S, 60 * S, 10 * S);
    expect(again!.endsAt).toBe(T0 + 310 * S);
    expect(again!.startsAt).toBe(T0);
  });

  it('sends a resolved alert at once with endsAt = resolvedAt, re-sends it while kept, forgets it after 15 minutes', () => {
    const rule = alertRule();
    rule.evaluate(T0, [shop], 0, TEMPLATES);
    rule.alertsToSend(T0, S, S);
    rule.evaluate(T0 + 500, [], 0, TEMPLATES);
    expect(rule.alertsToSend(T0 + 500, S, S)).toEqual([expect.objectContaining({ endsAt: T0 + 500 })]);
    rule.evaluate(T0 + 2 * S, [], 0, TEMPLATES);
    expect(rule.alertsToSend(T0 + 2 * S, S, S)).toEqual([expect.objectContaining({ endsAt: T0 + 500 })]);
    rule.evaluate(T0 + 500 + RESOLVED_RETENTION_MS + 1, [], 0, TEMPLATES);
    expect(rule.alertsToSend(T0 + 500 + RESOLVED_RETENTION_MS + 1, S, S)).toEqual([]);
  });
});

describe('recording rules', () => {
  const record = (overrides: Partial<RuleDesc> = {}) =>
    new RecordingRule({ record: 'ns:errors:rate1m', expr: 'x', forMs: 0, keepFiringForMs: 0, labels: {}, annotations: {}, ...overrides });

  it('renames samples and adds the rule labels', () => {
    const series = record({ labels: { source: 'skald' } }).evaluate(T0, [{ labels: { namespace: 'shop', __name__: 'old' }, value: 2.5 }], 0);
    expect(series).toEqual([
      {
        labels: [
          ['__name__', 'ns:errors:rate1m'],
          ['namespace', 'shop'],
          ['source', 'skald'],
        ],
        samples: [{ t: T0, v: 2.5 }],
      },
    ]);
  });

  it('fails on duplicates and past the limit', () => {
    expect(() => record({ labels: { namespace: 'x' } }).evaluate(T0, [shop, { labels: { namespace: 'cart' }, value: 1 }], 0)).toThrow(
      'vector contains metrics with the same labelset after applying rule labels',
    );
    expect(() => record().evaluate(T0, [shop, { labels: { namespace: 'cart' }, value: 1 }], 1)).toThrow('exceeded limit of 1 with 2 series');
  });
});
