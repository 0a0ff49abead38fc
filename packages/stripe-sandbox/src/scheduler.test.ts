import { createClock } from './clock.js';
import { Scheduler } from './scheduler.js';

describe('Scheduler', () => {
  it('runs tasks in time order when a virtual clock reaches them', () => {
    const clock = createClock('virtual', 0);
    const scheduler = new Scheduler(clock, (e) => {
      throw e;
    });
    const ran: string[] = [];
    scheduler.at(3000, () => ran.push('c'));
    scheduler.at(1000, () => ran.push('a'));
    scheduler.at(1000, () => ran.push('b'));
    scheduler.at(9000, () => ran.push('z'));
    clock.advance(2);
    expect(ran).toEqual(['a', 'b']);
    clock.advance(1);
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(scheduler.pending).toBe(1);
    scheduler.close();
    clock.advance(10);
    expect(ran).toEqual(['a', 'b', 'c']);
  });

  it('reports a failing task and goes on', () => {
    const clock = createClock('virtual', 0);
    const errors: unknown[] = [];
    const scheduler = new Scheduler(clock, (e) => errors.push(e));
    let ran = false;
    scheduler.at(0, () => {
      throw new Error('boom');
    });
    scheduler.at(0, () => {
      ran = true;
    });
    scheduler.runDue();
    expect(errors).toHaveLength(1);
    expect(ran).toBe(true);
  });

  it('uses a timer on a real clock', async () => {
    const scheduler = new Scheduler(createClock('real'), () => undefined);
    const ran = new Promise<void>((resolve) => scheduler.at(Date.now() + 20, resolve));
    await expect(ran).resolves.toBeUndefined();
    scheduler.close();
  });
});
