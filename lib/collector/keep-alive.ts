/**
 * The rule both collectors follow for the event loop: a live consumer (`for await`, an
 * `on('sample')` listener) keeps the process alive while the collector runs; with none, the
 * collector never does (its native thread, timers and sockets are unref'd), so a harness that
 * forgets `stop()` still exits. One ref'd timer stands for "someone is waiting for samples".
 */
export class KeepAlive {
  private timer: NodeJS.Timeout | undefined;

  /** Hold the event loop open while `wanted`; release it otherwise. Idempotent. */
  set(wanted: boolean): void {
    if (wanted && this.timer === undefined) {
      // The longest delay a timer takes (2^31 - 1 ms): it only has to exist, never to fire.
      this.timer = setInterval(() => undefined, 0x7fffffff);
    } else if (!wanted && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  get held(): boolean {
    return this.timer !== undefined;
  }
}
