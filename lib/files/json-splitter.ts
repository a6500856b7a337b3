/**
 * Streaming splitter for a TimeSeriesData JSON document, which can be far larger than the longest
 * string V8 allows (~512 MiB): it is fed the file in chunks and hands over each element of
 * `samples_by_host.<host>` as its own text (parsed one by one), keeping the rest of the document
 * (the "skeleton", host arrays emptied) to be parsed at the end.
 *
 * It only tracks strings and nesting, so it accepts any formatting; it does not validate JSON
 * beyond that (the parser of each piece does).
 */

const OBJ = 1;
const ARR = 2;
const SAMPLES_KEY = 'samples_by_host';

/** Index of the quote closing the string opened at `open`, or -1 if it is not in `buf`. */
function closingQuote(buf: Buffer, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = buf.indexOf(0x22, from);
    if (q === -1) return -1;
    let k = q - 1;
    while (k > open && buf[k] === 0x5c) k--;
    if ((q - 1 - k) % 2 === 0) return q;
    from = q + 1;
  }
}

export type SampleHandler = (host: string, index: number, text: string) => void;

export class SamplesSplitter {
  private depth = 0;
  private readonly kinds: number[] = [0];
  private inString = false;
  private escape = false;
  private keyNext = false;
  private keyParts: Buffer[] | undefined; // set while a key of interest is being read
  private topKey = '';
  private host = '';
  private inSamples = false;
  private inHost = false;
  private index = 0;
  private elemParts: Buffer[] | undefined; // set while an element is being read
  private copying = true;
  private readonly skeleton: Buffer[] = [];

  constructor(private readonly onSample: SampleHandler, private readonly onHost: (host: string) => void = () => undefined) {}

  push(buf: Buffer): void {
    const n = buf.length;
    let inString = this.inString;
    let escape = this.escape;
    let depth = this.depth;
    let copyFrom = 0;
    let keyFrom = this.keyParts ? 0 : -1;
    let elemFrom = this.elemParts ? 0 : -1;
    for (let i = 0; i < n; i++) {
      if (depth > 3 && !inString) {
        // Inside a sample: only strings and brackets matter, in a tight loop.
        i = this.skipDeep(buf, i, depth);
        depth = this.deepDepth;
        inString = this.deepInString;
        if (i >= n) break;
      }
      const c = buf[i];
      if (inString) {
        if (escape) escape = false;
        else if (c === 0x5c) escape = true;
        else if (c === 0x22) {
          inString = false;
          if (keyFrom >= 0) {
            this.endKey(buf.subarray(keyFrom, i + 1), depth);
            keyFrom = -1;
          }
        }
        continue;
      }
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      if (depth === 3 && this.inHost) {
        if (c === 0x2c || c === 0x5d) {
          if (elemFrom >= 0) {
            this.endElement(buf.subarray(elemFrom, i));
            elemFrom = -1;
          } else if (c === 0x2c || this.index > 0) {
            throw new SyntaxError(`Unexpected "${String.fromCharCode(c)}" in the samples of ${JSON.stringify(this.host)}`);
          }
          if (c === 0x5d) {
            this.inHost = false;
            depth--;
            this.copying = true;
            copyFrom = i;
          }
          continue;
        }
        if (elemFrom < 0) {
          elemFrom = i;
          this.elemParts = [];
        }
      }
      switch (c) {
        case 0x22: {
          const key = this.keyNext && (depth === 1 || (depth === 2 && this.inSamples));
          // Most bytes are inside strings: find the closing quote natively.
          const close = closingQuote(buf, i);
          if (close !== -1) {
            if (key) {
              this.keyParts = [];
              this.endKey(buf.subarray(i, close + 1), depth);
            }
            i = close;
            break;
          }
          inString = true; // it goes on in the next chunk
          if (key) {
            keyFrom = i;
            this.keyParts = [];
          }
          break;
        }
        case 0x7b:
        case 0x5b:
          depth++;
          this.kinds[depth] = c === 0x7b ? OBJ : ARR;
          this.keyNext = c === 0x7b;
          if (depth === 2 && c === 0x7b && this.topKey === SAMPLES_KEY) {
            this.inSamples = true;
          } else if (depth === 3 && c === 0x5b && this.inSamples) {
            this.inHost = true;
            this.index = 0;
            this.onHost(this.host);
            if (this.copying) this.skeleton.push(Buffer.from(buf.subarray(copyFrom, i + 1)));
            this.copying = false;
          }
          break;
        case 0x7d:
        case 0x5d:
          if (depth === 2) this.inSamples = false;
          depth--;
          if (depth < 0) throw new SyntaxError('Unexpected closing bracket');
          this.keyNext = false;
          break;
        case 0x2c:
          this.keyNext = this.kinds[depth] === OBJ;
          break;
        case 0x3a:
          this.keyNext = false;
          break;
        default:
          break;
      }
    }
    if (this.copying) this.skeleton.push(Buffer.from(buf.subarray(copyFrom)));
    if (keyFrom >= 0) this.keyParts!.push(Buffer.from(buf.subarray(keyFrom)));
    if (elemFrom >= 0) this.elemParts!.push(buf.subarray(elemFrom));
    this.inString = inString;
    this.escape = escape;
    this.depth = depth;
  }

  private deepDepth = 0;
  private deepInString = false;

  /**
   * From `i`, at `depth` > 3 outside strings: the index of the bracket that closes back to depth
   * 3 (left unconsumed, depth set to 4), or the end of `buf`. Sets `deepDepth`/`deepInString`.
   */
  private skipDeep(buf: Buffer, i: number, depth: number): number {
    const n = buf.length;
    for (; i < n; i++) {
      const c = buf[i];
      if (c === 0x22) {
        const close = closingQuote(buf, i);
        if (close === -1) {
          // The string goes on in the next chunk: the byte loop takes it from here.
          this.deepDepth = depth;
          this.deepInString = true;
          return i + 1;
        }
        i = close;
      } else if (c === 0x7b || c === 0x5b) {
        depth++;
      } else if ((c === 0x7d || c === 0x5d) && depth === 4) {
        this.deepDepth = 4;
        this.deepInString = false;
        return i;
      } else if (c === 0x7d || c === 0x5d) {
        depth--;
      }
    }
    this.deepDepth = depth;
    this.deepInString = false;
    return n;
  }

  private endKey(last: Buffer, depth: number): void {
    const parts = this.keyParts!;
    parts.push(last);
    this.keyParts = undefined;
    const key = JSON.parse(Buffer.concat(parts).toString('utf8')) as string;
    if (depth === 1) this.topKey = key;
    else this.host = key;
  }

  private endElement(last: Buffer): void {
    const parts = this.elemParts!;
    this.elemParts = undefined;
    const text = parts.length === 0 ? last.toString('utf8') : Buffer.concat([...parts, last]).toString('utf8');
    this.onSample(this.host, this.index++, text);
  }

  /** The document without the samples (host arrays left empty). Throws if the input was cut short. */
  end(): string {
    if (this.depth !== 0 || this.inString) throw new SyntaxError('Unexpected end of JSON input');
    return Buffer.concat(this.skeleton).toString('utf8');
  }
}
