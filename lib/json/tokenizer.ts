/**
 * A small, complete JSON parser that keeps every integer exact: an integer literal beyond
 * ±(2^53 - 1) becomes a bigint. It is the slow path of `parseJson` (used only when the fast path
 * cannot be used safely) and the reference the tests compare the fast path with.
 */

const WS = new Uint8Array(128);
WS[0x20] = WS[0x09] = WS[0x0a] = WS[0x0d] = 1;

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** An integer literal as a number when that is exact, else as a bigint. */
export function integerValue(literal: string): number | bigint {
  if (literal.length < 16) return Number(literal);
  const b = BigInt(literal);
  return b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

class Parser {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(what: string): never {
    if (this.pos >= this.text.length) throw new SyntaxError('Unexpected end of JSON input');
    throw new SyntaxError(`${what} at position ${this.pos}`);
  }

  skip(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c >= 128 || WS[c] !== 1) return;
      this.pos++;
    }
  }

  value(depth: number): unknown {
    if (depth > 5000) this.fail('Nesting too deep');
    this.skip();
    const t = this.text;
    const c = t.charCodeAt(this.pos);
    if (c === 0x7b) return this.object(depth);
    if (c === 0x5b) return this.array(depth);
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = this.pos;
      const m = NUMBER.exec(t);
      if (m === null) this.fail('Bad number');
      this.pos = NUMBER.lastIndex;
      return m[1] === undefined && m[2] === undefined ? integerValue(m[0]) : Number(m[0]);
    }
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (t.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    this.fail(`Unexpected token ${JSON.stringify(t[this.pos])}`);
  }

  string(): string {
    STRING.lastIndex = this.pos;
    const m = STRING.exec(this.text);
    if (m === null) this.fail('Bad string');
    this.pos = STRING.lastIndex;
    return JSON.parse(m[0]) as string;
  }

  object(depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++;
    this.skip();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skip();
      if (this.text.charCodeAt(this.pos) !== 0x22) this.fail('Expected a property name');
      const key = this.string();
      this.skip();
      if (this.text.charCodeAt(this.pos) !== 0x3a) this.fail("Expected ':'");
      this.pos++;
      // defineProperty: a "__proto__" key is data, as with JSON.parse.
      Object.defineProperty(out, key, { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true });
      this.skip();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x7d) return out;
      if (c !== 0x2c) {
        this.pos--;
        this.fail("Expected ',' or '}'");
      }
    }
  }

  array(depth: number): unknown[] {
    const out: unknown[] = [];
    this.pos++;
    this.skip();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.skip();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x5d) return out;
      if (c !== 0x2c) {
        this.pos--;
        this.fail("Expected ',' or ']'");
      }
    }
  }
}

/** Parse JSON text, every integer exact (bigint beyond the safe range). Throws SyntaxError. */
export function parseJsonExact(text: string): unknown {
  const p = new Parser(text);
  const v = p.value(0);
  p.skip();
  if (p.pos !== text.length) p.fail('Unexpected data after JSON');
  return v;
}
