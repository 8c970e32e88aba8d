// Strict JSON for file headers: JSON.parse errors become FormatErrors, and duplicate keys in
// any object are rejected (JSON.parse silently keeps the last one, which would let a file say
// two different things about one tensor).
//
// The duplicate scan runs only on text JSON.parse accepted, so it can be a simple iterative
// tokenizer (no recursion: deep nesting cannot overflow the stack).

import { brief, FormatError } from './errors.js';

/**
 * The deepest nesting of arrays and objects a header may have. Real headers need 3 (an object
 * of objects holding shape arrays); a limit keeps every later step (checks, messages that
 * print a value) clear of "Maximum call stack size exceeded" on hostile input.
 */
export const MAX_JSON_DEPTH = 64;

/** The nesting depth of JSON-like `text`, stopping early past `limit` (safe on any text). */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0,
    max = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c /* \ */ ? 2 : 1;
    } else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return max;
}

export function parseJsonStrict(format: string, text: string, what: string): unknown {
  if (jsonDepth(text) > MAX_JSON_DEPTH)
    throw new FormatError(format, `${what} is nested more than ${MAX_JSON_DEPTH} levels deep`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new FormatError(format, `${what} is not valid JSON (${(e as Error).message})`);
  }
  const dup = findDuplicateKey(text);
  if (dup !== null) throw new FormatError(format, `${what} has the key ${brief(dup)} twice in one object`);
  return value;
}

/** The first key that appears twice in one object of valid JSON `text`, or null. */
export function findDuplicateKey(text: string): string | null {
  // One frame per open container: a Set of keys for objects, null for arrays.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (ch === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (ch === 0x2c /* , */) {
      expectKey = stack.length > 0 && stack[stack.length - 1] !== null;
    } else if (ch === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      if (expectKey) {
        // Decode escapes so "a" and "\u0061" count as the same key.
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const keys = stack[stack.length - 1]!;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    }
  }
  return null;
}
