/** A counting semaphore: caps SSH handshakes in flight (sshd's MaxStartups drops the excess at random). */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(readonly max: number) {}

  /** Resolves with a release function once a slot is free; release is idempotent. */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => {
        this.active++;
        let done = false;
        resolve(() => {
          if (done) return;
          done = true;
          this.active--;
          this.waiting.shift()?.();
        });
      };
      if (this.active < this.max) grant();
      else this.waiting.push(grant);
    });
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }
}
