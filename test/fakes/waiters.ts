// "Resolve when this holds": the fakes re-check every pending condition after each request or frame they record.
export class ConditionWaiters {
  readonly #pending = new Set<() => void>();

  constructor(private readonly owner: string) {}

  wait(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.#pending.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#pending.delete(check);
        reject(new Error(`${this.owner}: timed out waiting for ${what}`));
      }, timeoutMs);
      this.#pending.add(check);
    });
  }

  notify(): void {
    for (const check of [...this.#pending]) check();
  }
}
