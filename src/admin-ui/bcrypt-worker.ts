import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The worker's code, as CommonJS text: bcryptjs (pure JavaScript, deliberately slow) runs
 * here, never on the event loop that serves the chat. Text rather than a file so the same
 * code runs from src (tests) and from dist.
 */
const SOURCE = `
const { parentPort, threadId } = require('node:worker_threads');
const bcrypt = require(process.env.PARLEY_BCRYPT_PATH || 'bcryptjs');
parentPort.on('message', ({ id, password, hash }) => {
  let ok = false;
  try { ok = bcrypt.compareSync(password, hash); } catch { ok = false; }
  parentPort.postMessage({ id, ok, threadId });
});
`;

interface Pending {
  resolve(result: { ok: boolean; threadId: number }): void;
  reject(err: Error): void;
}

/**
 * Checks passwords against a bcrypt hash in one worker thread, one at a time (a queue in the
 * worker's message port). Started on first use, unreferenced so it never holds the process
 * open, ended by `close()`. Anything but a string is a wrong password, never an exception.
 */
export class BcryptWorker {
  private worker?: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  /** Whether `password` matches `hash`; false for a non-string or an over-long password. */
  async compare(password: unknown, hash: string): Promise<boolean> {
    // bcrypt reads at most 72 bytes; a longer value is refused without the work.
    if (typeof password !== 'string' || password.length === 0 || password.length > 1024) return false;
    return (await this.run(password, hash)).ok;
  }

  /** compare, with the id of the thread that did the work (for specs). */
  run(password: string, hash: string): Promise<{ ok: boolean; threadId: number }> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, password, hash });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const bcryptPath = createRequire(import.meta.url).resolve('bcryptjs');
    const worker = new Worker(SOURCE, { eval: true, env: { PARLEY_BCRYPT_PATH: bcryptPath } });
    worker.unref();
    worker.on('message', ({ id, ok, threadId }: { id: number; ok: boolean; threadId: number }) => {
      const p = this.pending.get(id);
      this.pending.delete(id);
      p?.resolve({ ok, threadId });
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', () => fail(new Error('the password worker stopped')));
    this.worker = worker;
    return worker;
  }
}
