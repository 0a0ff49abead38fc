import { retryingConflicts, TRANSACTION_ATTEMPTS } from './store.js';

/** An error shaped as drizzle wraps postgres.js's: the SQLSTATE on the cause. */
function databaseError(code: string): Error {
  return new Error('Failed query', { cause: Object.assign(new Error('server said no'), { code }) });
}

function failing(codes: readonly string[]): { attempt: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    attempt: () => {
      const code = codes[calls];
      calls += 1;
      return code === undefined ? Promise.resolve('committed') : Promise.reject(databaseError(code));
    },
    calls: () => calls,
  };
}

describe('a transaction PostgreSQL rolled back for a conflict', () => {
  it.each(['40001', '40P01'])('runs again after %s and commits', async (code) => {
    const tx = failing([code, code]);
    await expect(retryingConflicts(tx.attempt)).resolves.toBe('committed');
    expect(tx.calls()).toBe(3);
  });

  it(`gives up after ${TRANSACTION_ATTEMPTS} attempts with the server's error`, async () => {
    const tx = failing(['40001', '40001', '40001', '40001']);
    await expect(retryingConflicts(tx.attempt)).rejects.toMatchObject({ cause: { code: '40001' } });
    expect(tx.calls()).toBe(TRANSACTION_ATTEMPTS);
  });

  it('never runs again after any other failure', async () => {
    const tx = failing(['23505']);
    await expect(retryingConflicts(tx.attempt)).rejects.toMatchObject({ cause: { code: '23505' } });
    expect(tx.calls()).toBe(1);
  });
});
