import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { EventSubscription, type QmpEventMessage } from '../../../src/client/event-subscription.js';

const event = (name: string, n: number): QmpEventMessage => ({ event: name, data: { n }, timestamp: { seconds: n, microseconds: 0 } });

suite('EventSubscription', () => {
  test('keeps the newest events up to its limit, counts the dropped ones and reports each overflow episode once', async () => {
    const overflows: number[] = [];
    const subscription = new EventSubscription({ limit: 3, onOverflow: (dropped) => overflows.push(dropped) }, () => {});
    for (let i = 0; i < 10; i++) subscription.push(event('E', i));
    assert.equal(subscription.queued, 3);
    assert.equal(subscription.dropped, 7);
    assert.deepEqual(overflows, [1]);
    const read: unknown[] = [];
    for (let i = 0; i < 3; i++) read.push((await subscription.next())?.data?.['n']);
    assert.deepEqual(read, [7, 8, 9]);
    for (let i = 10; i < 15; i++) subscription.push(event('E', i));
    assert.deepEqual(overflows, [1, 8], 'a new episode after the queue drained, with the running total');
  });

  test('filters by name and hands events straight to a waiting reader', async () => {
    const subscription = new EventSubscription({ names: ['STOP'] }, () => {});
    const waiting = subscription.next();
    subscription.push(event('RESUME', 1));
    subscription.push(event('STOP', 2));
    assert.equal((await waiting)?.event, 'STOP');
    assert.equal(subscription.queued, 0);
  });

  test('stays bounded and in order over many more events than its limit', async () => {
    const subscription = new EventSubscription({ limit: 2000 }, () => {});
    for (let i = 0; i < 100_000; i++) subscription.push(event('E', i));
    assert.equal(subscription.queued, 2000);
    assert.equal((await subscription.next())?.data?.['n'], 98_000);
  });

  test('close ends a for-await loop and tells its owner; gaps are counted until then', async () => {
    let closedBy: unknown;
    const subscription = new EventSubscription({}, (s) => (closedBy = s));
    subscription.push(event('A', 1));
    subscription.gap();
    const seen: string[] = [];
    setImmediate(() => subscription.close());
    for await (const e of subscription) seen.push(e.event);
    assert.deepEqual(seen, ['A']);
    assert.equal(closedBy, subscription);
    assert.equal(subscription.gaps, 1);
    subscription.gap();
    assert.equal(subscription.gaps, 1, 'a closed subscription counts no more');
    assert.equal(await subscription.next(), undefined);
  });
});
