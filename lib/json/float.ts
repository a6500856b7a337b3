/**
 * Python's `repr(float)`, which is what `json.dump` writes for a float.
 *
 * JS and Python both print the shortest digits that round-trip; they differ only in layout:
 * Python writes fixed notation for 1e-4 <= |x| < 1e16 (with `.0` on integral values) and
 * exponent notation otherwise, with a signed exponent of at least two digits (`1e-05`, `1e+16`).
 */
export function pyFloatRepr(x: number): string {
  if (x !== x) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  const a = x < 0 ? -x : x;
  if (a >= 1e-4 && a < 1e16) {
    // JS also uses fixed notation in this range, with the same digits.
    const s = String(x);
    return Number.isInteger(x) ? s + '.0' : s;
  }
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const e = x.toExponential(); // shortest digits, e.g. "1.5e-7", "1e+16"
  const at = e.indexOf('e');
  const sign = e.charCodeAt(at + 1) === 0x2d ? '-' : '+';
  const digits = e.slice(at + 2);
  return e.slice(0, at) + 'e' + sign + (digits.length < 2 ? '0' + digits : digits);
}
