import { afterAll, describe, expect, it } from '@jest/globals';
import { threadId } from 'node:worker_threads';
import { BcryptWorker } from './bcrypt-worker.js';

// bcrypt (cost 4) of 'correct horse battery'.
const HASH = '$2a$04$UR3kV1hOTLNWnZ1h86C4xe4XhKtRMddPW9T70nxj.xyDIoel.TmoK';

describe('BcryptWorker', () => {
  const worker = new BcryptWorker();
  afterAll(() => worker.close());

  it('checks a password in another thread than the event loop', async () => {
    const result = await worker.run('correct horse battery', HASH);
    expect(result.ok).toBe(true);
    expect(result.threadId).not.toBe(threadId);
    expect((await worker.run('wrong', HASH)).ok).toBe(false);
  });

  it('answers false, never throws, for anything but a password string', async () => {
    for (const value of [undefined, null, 42, {}, ['correct horse battery'], '', 'x'.repeat(2000)]) {
      await expect(worker.compare(value, HASH)).resolves.toBe(false);
    }
    // A hash bcrypt cannot read is a refusal too.
    await expect(worker.compare('correct horse battery', 'not a hash')).resolves.toBe(false);
  });

  it('answers many checks at once, each its own', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => worker.compare(i % 2 ? 'correct horse battery' : 'no', HASH)),
    );
    expect(answers).toEqual([false, true, false, true, false, true]);
  });
});
