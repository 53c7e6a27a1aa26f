// Applies run one after another in the background; the console waits for them at the end of its input.
import type { WorkQueue } from './context.ts';

export function createWorkQueue(onError: (label: string, error: unknown) => void): WorkQueue {
  let tail: Promise<void> = Promise.resolve();
  let running: string | undefined;
  let pending = 0;
  return {
    enqueue(label, job) {
      pending++;
      tail = tail.then(async () => {
        running = label;
        try {
          await job();
        } catch (error) {
          onError(label, error);
        } finally {
          running = undefined;
          pending--;
        }
      });
    },
    current: () => running,
    async idle() {
      // Jobs may queue more jobs; wait until the queue is empty.
      while (pending > 0) await tail;
    },
  };
}
