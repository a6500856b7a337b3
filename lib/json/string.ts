/** A JSON string literal as Python's `json.dump` writes it (`ensure_ascii=True`). */

// Anything but printable ASCII, `"` and `\` needs an escape (Python escapes DEL too).
const NEEDS_ESCAPE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;

function escapeUnit(c: number): string {
  switch (c) {
    case 0x22: return '\\"';
    case 0x5c: return '\\\\';
    case 0x0a: return '\\n';
    case 0x0d: return '\\r';
    case 0x09: return '\\t';
    case 0x08: return '\\b';
    case 0x0c: return '\\f';
    default: return '\\u' + c.toString(16).padStart(4, '0');
  }
}

export function pyQuote(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
    // UTF-16 code units map 1:1 onto Python's escapes, surrogate pairs included.
    out += s.slice(from, i) + escapeUnit(c);
    from = i + 1;
  }
  return out + s.slice(from) + '"';
}
