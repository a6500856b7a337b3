/** Loads the napi-rs addon through the generated loader and maps its errors to coded ones. */
import { HostseriesError, InvalidDataError, InvalidOptionError, LifecycleError, NativeError, UnsupportedPlatformError } from '../errors.js';
import type * as Binding from '../../binding.js';

export type {
  NativeBatch, NativeLayout, NativeProc, PickedValues, SamplePicks, NativeSampler as RawNativeSampler, ProcParser as RawProcParser, SamplerOptions as RawSamplerOptions,
  StreamOptions as RawStreamOptions, StreamStatusInfo as RawStreamStatus,
} from '../../binding.js';

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

/** The class of each code the addon throws (the core's `ErrorCode`); any other is ERR_NATIVE. */
const BY_CODE: Readonly<Record<string, (message: string, cause: Error) => HostseriesError>> = {
  ERR_INVALID_OPTION: (m, cause) => new InvalidOptionError(m, { cause }),
  ERR_UNSUPPORTED_PLATFORM: (m) => new UnsupportedPlatformError(m),
  ERR_ALREADY_STARTED: (m) => new LifecycleError('ERR_ALREADY_STARTED', m),
  ERR_PROC_READ: (m, cause) => new NativeError('ERR_PROC_READ', m, { cause }),
  ERR_THREAD: (m, cause) => new NativeError('ERR_THREAD', m, { cause }),
  ERR_INVALID_DATA: (m, cause) => new InvalidDataError('', m, { cause }),
};

/**
 * An error thrown by the addon as the matching HostseriesError, by its `code` (napi-rs sets it
 * from the core's error code). A failure of N-API itself (its own status as the code, e.g.
 * `NumberExpected`) is an ERR_NATIVE NativeError.
 */
export function toHostseriesError(e: unknown): HostseriesError {
  if (e instanceof HostseriesError) return e;
  if (!(e instanceof Error)) return new NativeError('ERR_NATIVE', String(e));
  const code = (e as Error & { code?: unknown }).code;
  const make = typeof code === 'string' && Object.hasOwn(BY_CODE, code) ? BY_CODE[code] : undefined;
  return make ? make(e.message, e) : new NativeError('ERR_NATIVE', e.message, { cause: e });
}

export function call<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw toHostseriesError(e);
  }
}
