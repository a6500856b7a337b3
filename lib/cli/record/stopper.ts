/** Why a recording stops (the command exited, --duration, --samples, a signal): the first reason wins. */
export type StopReason = 'command' | 'duration' | 'samples' | NodeJS.Signals;


/** The first reason to stop wins; `stopped` resolves with it. */
export class Stopper {
  reason: StopReason | undefined;
  private resolve: (r: StopReason) => void = () => undefined;
  readonly stopped = new Promise<StopReason>((r) => (this.resolve = r));

  stop(reason: StopReason): void {
    if (this.reason) return;
    this.reason = reason;
    this.resolve(reason);
  }
}
