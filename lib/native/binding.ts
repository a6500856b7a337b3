/** Loads the napi-rs addon through the generated loader and maps its errors to coded ones. */
import { HostseriesError, InvalidOptionError, LifecycleError, NativeError, UnsupportedPlatformError } from '../errors.js';
import type * as Binding from '../../binding.js';

export type { NativeBatch, NativeLayout, NativeSampler as RawNativeSampler, ProcParser as RawProcParser } from '../../binding.js';

let loaded: typeof Binding | undefined;

export function binding(): typeof Binding {
  if (loaded) return loaded;
  if (process.platform !== 'linux') {
    throw new UnsupportedPlatformError(`hostseries reads Linux /proc and does not run on ${process.platform}`);
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('../../binding.js') as typeof Binding;
  } catch (cause) {
    throw new NativeError('ERR_NATIVE_LOAD', `cannot load the hostseries native addon (run \`npm run build\`): ${String(cause)}`, { cause });
  }
  return loaded;
}

const CODED = /^\[(ERR_[A-Z_]+)\] ([\s\S]*)$/;

/** Turn a `[ERR_X] message` error from Rust into the matching HostseriesError. */
export function toHostseriesError(e: unknown): Error {
  if (!(e instanceof Error)) return new NativeError('ERR_NATIVE', String(e));
  if (e instanceof HostseriesError) return e;
  const m = CODED.exec(e.message);
  if (!m) return e;
  const [, code, message] = m as unknown as [string, string, string];
  switch (code) {
    case 'ERR_INVALID_OPTION':
      return new InvalidOptionError(message, { cause: e });
    case 'ERR_UNSUPPORTED_PLATFORM':
      return new UnsupportedPlatformError(message);
    case 'ERR_ALREADY_STARTED':
      return new LifecycleError(code, message);
    default:
      return new NativeError(code, message, { cause: e });
  }
}

export function call<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw toHostseriesError(e);
  }
}
