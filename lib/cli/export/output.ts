/**
 * Where `export` writes: stdout, or `-o FILE` written beside its final name and renamed into
 * place when complete (a failed export leaves no half file, and an existing file is replaced only
 * with --force: checked before the recording is read, as `record` does).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FileError } from '../../errors.js';
import { checkNewFile } from '../output-file.js';

const BATCH = 1 << 18;

export class ExportOutput {
  private pending = '';
  private failed: Error | undefined;

  private constructor(private readonly stream: NodeJS.WritableStream, private readonly file?: { path: string; temp: string; ws: WriteStream }) {
    stream.on('error', (e: Error) => (this.failed ??= e));
  }

  static async open(path: string | undefined, force: boolean): Promise<ExportOutput> {
    if (path === undefined || path === '-') return new ExportOutput(process.stdout);
    await checkNewFile(path, { force, what: 'the export' });
    const temp = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
    const ws = createWriteStream(temp, { flags: 'wx', mode: 0o644 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (e) => reject(new FileError(path, `cannot write the export: ${e.message}`, { cause: e })));
    });
    return new ExportOutput(ws, { path, temp, ws });
  }

  async write(text: string): Promise<void> {
    this.pending += text;
    if (this.pending.length >= BATCH) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.failed) throw this.error(this.failed);
    const text = this.pending;
    this.pending = '';
    if (text === '') return;
    if (!this.stream.write(text)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.stream.off('drain', done);
          this.stream.off('error', done);
          resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('error', done);
      });
    }
    if (this.failed) throw this.error(this.failed);
  }

  private error(e: Error): Error {
    return this.file ? new FileError(this.file.path, `cannot write the export: ${e.message}`, { cause: e }) : new Error(`cannot write to stdout: ${e.message}`, { cause: e });
  }

  /** Everything written: the file renamed into place. */
  async close(): Promise<void> {
    await this.flush();
    if (!this.file) {
      await new Promise<void>((resolve, reject) => process.stdout.write('', (e) => (e ? reject(this.error(e)) : resolve())));
      return;
    }
    const { ws, temp, path } = this.file;
    await new Promise<void>((resolve, reject) => ws.end((e?: Error | null) => (e ? reject(this.error(e)) : resolve())));
    await rename(temp, path).catch((e: Error) => {
      throw new FileError(path, `cannot write the export: ${e.message}`, { cause: e });
    });
  }

  /** After a failure: the partial file is removed. */
  async abort(): Promise<void> {
    if (!this.file) return;
    this.file.ws.destroy();
    await rm(this.file.temp, { force: true });
  }
}
