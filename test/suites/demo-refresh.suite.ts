// The demo's one-at-a-time redraw scheduler (demo/refresh.ts) behind the feature maps: a forced
// request made while a redraw is in flight must run afterwards with the state of that moment
// (dropping it left the gradient view blank), unforced ones are dropped while busy, and several
// forced ones coalesce. Pure TS, no GPU: cheap in Node and Chromium.
import { suite } from '../harness/define.js';
import { assert, assertEqual } from '../harness/assert.js';
import { Refresh } from '../../demo/refresh.js';

/** A job whose runs finish when the test says so; each run records the state it started with. */
function gatedJob(state: { grads: boolean }) {
  const seen: boolean[] = [];
  const gates: (() => void)[] = [];
  const job = () =>
    new Promise<void>((resolve) => {
      seen.push(state.grads);
      gates.push(resolve);
    });
  const tick = () => new Promise((r) => setTimeout(r, 0));
  /** Let the current run finish, then let the event loop start any rerun. */
  const finish = async () => {
    gates.shift()!();
    await tick();
  };
  return { job, seen, finish, pending: () => gates.length };
}

suite('demo-refresh', (test) => {
  test('a forced request while busy runs once afterwards, with the state of that moment', async () => {
    const state = { grads: false };
    const j = gatedJob(state);
    const r = new Refresh(j.job);
    const first = r.request(true);
    assert(r.busy, 'busy while the first run is in flight');
    state.grads = true; // the gradients toggle, while the first inspection is in flight
    const second = r.request(true);
    assertEqual(j.seen, [false], 'the toggle does not start a second run beside the first');
    await j.finish();
    assertEqual(j.seen, [false, true], 'the rerun reads the state after the toggle');
    await j.finish();
    await Promise.all([first, second]);
    assertEqual(r.busy, false, 'idle after the rerun');
    assertEqual(j.pending(), 0, 'no run left');
  });

  test('unforced requests are dropped while busy; forced ones coalesce into one rerun', async () => {
    const state = { grads: false };
    const j = gatedJob(state);
    const r = new Refresh(j.job);
    void r.request(false);
    void r.request(false); // a periodic refresh while busy: dropped
    await j.finish();
    assertEqual(j.seen.length, 1, 'the unforced request during the run was dropped');
    void r.request(true);
    for (let i = 0; i < 3; i++) void r.request(true);
    void r.request(false);
    await j.finish();
    await j.finish();
    assertEqual(j.seen.length, 3, 'four forced requests during one run: one rerun');
    assertEqual(r.busy, false, 'idle');
  });

  test('a job that throws ends the run and leaves the scheduler usable', async () => {
    let n = 0;
    const r = new Refresh(async () => {
      n++;
      if (n === 1) throw new Error('device lost');
    });
    let caught = '';
    await r.request(true).catch((e: Error) => (caught = e.message));
    assertEqual(caught, 'device lost', 'the error reaches the caller');
    assertEqual(r.busy, false, 'not stuck busy');
    await r.request(false);
    assertEqual(n, 2, 'runs again');
  });
});
