// The order in which the dashboard page receives the host's messages across reloads
// (src/extension/dashboard-outbox.ts). The case that mattered: a plan queued while the page was
// hidden must never arrive after a newer plan posted while the reloaded page was getting its data.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DashboardOutbox } from '../../src/extension/dashboard-outbox.js';

type Msg = { type: 'update' | 'allocation' | 'probe' | 'show' | 'error'; id: string };
const outbox = () => {
  const delivered: string[] = [];
  const box = new DashboardOutbox<Msg>((m) => delivered.push(`${m.type}:${m.id}`));
  return { box, delivered };
};

test('no page: updates are dropped (ready brings fresh data), the rest waits', () => {
  const { box, delivered } = outbox();
  assert.equal(box.send({ type: 'update', id: 'd1' }), 'dropped');
  assert.equal(box.send({ type: 'allocation', id: 'p1' }), 'queued');
  assert.equal(box.send({ type: 'show', id: 'allocation' }), 'queued');
  assert.deepEqual(delivered, []);
  assert.deepEqual(box.queuedTypes(), ['allocation', 'show']);
});

test('ready: fresh data first, then the queue in order, then direct delivery', () => {
  const { box, delivered } = outbox();
  box.send({ type: 'allocation', id: 'p1' });
  box.send({ type: 'show', id: 'allocation' });
  box.pageReadied();
  assert.equal(box.pageReady, true);
  assert.equal(box.send({ type: 'update', id: 'd1' }), 'delivered');
  box.flush();
  assert.equal(box.send({ type: 'probe', id: 'r1' }), 'delivered');
  assert.deepEqual(delivered, ['update:d1', 'allocation:p1', 'show:allocation', 'probe:r1']);
});

test('the race: a plan posted while the reloaded page gets its data waits behind (and supersedes) the queued older one', () => {
  const { box, delivered } = outbox();
  // Hidden page: the previous command's plan is queued.
  box.send({ type: 'allocation', id: 'old 3,651,883' });
  box.send({ type: 'show', id: 'allocation' });
  // The panel is revealed, the page says ready, the host fetches data; meanwhile the new command posts.
  box.pageReadied();
  box.send({ type: 'update', id: 'd1' });
  assert.equal(box.send({ type: 'allocation', id: 'new 3,650,000' }), 'queued', 'not ahead of the queue');
  box.send({ type: 'show', id: 'allocation' });
  box.flush();
  assert.deepEqual(delivered, ['update:d1', 'allocation:new 3,650,000', 'show:allocation']);
  assert.equal(delivered.filter((d) => d.startsWith('allocation:')).at(-1), 'allocation:new 3,650,000', 'the page ends on the newer plan');
});

test('a page that goes away mid-flush keeps the queue for the next one; reset forgets it', () => {
  const { box, delivered } = outbox();
  box.send({ type: 'probe', id: 'r1' });
  box.pageReadied();
  box.pageGone();
  box.flush();
  assert.deepEqual(delivered, [], 'nothing is delivered to a page that is gone');
  assert.deepEqual(box.queuedTypes(), ['probe']);
  box.pageReadied();
  box.flush();
  assert.deepEqual(delivered, ['probe:r1']);
  box.send({ type: 'error', id: 'e1' });
  box.pageGone();
  box.send({ type: 'error', id: 'e2' });
  box.reset();
  box.pageReadied();
  box.flush();
  assert.deepEqual(delivered, ['probe:r1', 'error:e1'], 'e2 was queued for a page that reset dropped');
});
