/** Fan-out of a live sequence to any number of async iterators, each from when it subscribed. */
export class LiveStream<T> {
  private readonly subscribers = new Set<{ queue: T[]; wake?: () => void }>();
  private ended = false;

  /** `onChange` hears when the first subscriber comes or the last goes. */
  constructor(private readonly onChange: () => void = () => {}) {}

  /** Whether anyone is iterating (so the producer can skip building items for nobody). */
  get active(): boolean {
    return this.subscribers.size > 0;
  }

  push(item: T): void {
    for (const s of this.subscribers) {
      s.queue.push(item);
      s.wake?.();
    }
  }

  end(): void {
    this.ended = true;
    for (const s of this.subscribers) s.wake?.();
  }

  /**
   * Items from the first `next()` on. `ready`, when given, is awaited after subscribing and
   * before the first item (items pushed meanwhile are kept); if it rejects, so does iteration.
   */
  async *iterate(ready?: () => Promise<void>): AsyncGenerator<T, void, undefined> {
    const sub: { queue: T[]; wake?: () => void } = { queue: [] };
    this.subscribers.add(sub);
    this.onChange();
    try {
      if (ready) await ready();
      for (;;) {
        while (sub.queue.length > 0) yield sub.queue.shift()!;
        if (this.ended) return;
        await new Promise<void>((resolve) => { sub.wake = resolve; });
        sub.wake = undefined;
      }
    } finally {
      this.subscribers.delete(sub);
      this.onChange();
    }
  }
}
