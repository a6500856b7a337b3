/** Polling for what a spec waits on (a server's answer, a page's state), with a deadline. */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `f()` again every `everyMs` until it gives a truthy value (returned); an error naming `what` after `ms`. */
export async function until<T>(what: string, f: () => Promise<T | undefined | false> | T | undefined | false, ms = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
