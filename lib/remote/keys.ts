/**
 * Private keys, read and parsed once per collector (ssh2 re-parses a `privateKey` on every
 * connect; an encrypted key costs ~0.3 s of synchronous bcrypt each time).
 */
import { readFileSync } from 'node:fs';
import { utils, type ParsedKey } from 'ssh2';

export interface LoadedKey {
  path: string;
  key: ParsedKey;
}

export class KeyStore {
  private readonly cache = new Map<string, LoadedKey | undefined>();
  /** Why a key was skipped (unreadable, encrypted without passphrase, ...), for the logger. */
  readonly warnings: string[] = [];

  constructor(private readonly passphrase?: string) {}

  /**
   * The parsed key at `path`, or undefined when absent/unusable. `required` keys (named by
   * the caller, not ssh's defaults) report why they were skipped.
   */
  get(path: string, required = false): LoadedKey | undefined {
    if (this.cache.has(path)) return this.cache.get(path);
    let loaded: LoadedKey | undefined;
    try {
      const text = readFileSync(path);
      const parsed = utils.parseKey(text, this.passphrase) as ParsedKey | ParsedKey[] | Error;
      const key = Array.isArray(parsed) ? parsed[0] : parsed;
      if (key instanceof Error) throw key;
      if (!key || !key.isPrivateKey()) throw new Error('not a private key');
      loaded = { path, key };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (required || err.code !== 'ENOENT') this.warnings.push(`${path}: ${err.message}`);
    }
    this.cache.set(path, loaded);
    return loaded;
  }
}
