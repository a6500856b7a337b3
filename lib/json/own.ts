/** Own data properties for keys that come from outside (file names, host names, JSON keys). */

/** `o[k] = v`, also for a key named `__proto__` (which plain assignment takes as the prototype). */
export function setOwn<T>(o: Record<string, T>, k: string, v: T): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}
