export { pyFloatRepr } from './float.js';
export { pyQuote } from './string.js';
export { stringifyJson, type FloatSchema, type StringifyOptions } from './stringify.js';
export { stringifySample } from './sample.js';
export { parseJson } from './parse.js';
export { parseJsonExact } from './tokenizer.js';
