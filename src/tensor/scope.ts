// Scopes free intermediate tensors, like tf.tidy: every tensor created while a scope is open
// belongs to it, and is disposed when the scope closes unless it is returned from the scope
// function (then it moves to the enclosing scope) or was `keep()`-ed.
//
// Scopes are synchronous on purpose: an `await` inside would let unrelated tensors made by
// other tasks land in this scope. For async code use `startScope()` / `endScope(keep)`.

/** Something a scope can own and dispose: a tensor, or any object with `dispose()` and `disposed`. */
export interface Disposable {
  dispose(): void;
  readonly disposed: boolean;
}

const stack: Set<Disposable>[] = [];
const kept = new WeakSet<Disposable>();

/** Called by Tensor's constructor. */
export function track(t: Disposable): void {
  if (stack.length) stack[stack.length - 1].add(t);
}

/** Exclude a tensor from every open scope: its owner disposes it explicitly. */
export function keep<T extends Disposable>(t: T): T {
  kept.add(t);
  for (const s of stack) s.delete(t);
  return t;
}

/**
 * Open a scope: tensors created until the matching {@link endScope} belong to it. The async
 * counterpart of {@link scope}; calls must pair up.
 */
export function startScope(): void {
  stack.push(new Set());
}

/** Close the innermost scope, disposing what it owns except `result`'s tensors. */
export function endScope(result?: unknown): void {
  const s = stack.pop();
  if (!s) throw new Error('webgpu-cnn: endScope without startScope');
  const out = new Set<Disposable>();
  collect(result, out, 0);
  const parent = stack[stack.length - 1];
  for (const t of s) {
    if (out.has(t)) parent?.add(t);
    else if (!kept.has(t) && !t.disposed) t.dispose();
  }
}

function collect(v: unknown, out: Set<Disposable>, depth: number): void {
  if (v == null || typeof v !== 'object' || depth > 4) return;
  if (typeof (v as Disposable).dispose === 'function' && 'disposed' in (v as object)) {
    out.add(v as Disposable);
    return;
  }
  if (Array.isArray(v)) for (const x of v) collect(x, out, depth + 1);
  else if (v instanceof Map) for (const x of v.values()) collect(x, out, depth + 1);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) collect(x, out, depth + 1);
}

/** Run `fn` in a scope; tensors it creates and does not return are disposed. */
export function scope<T>(fn: () => T): T {
  startScope();
  let result: T | undefined;
  try {
    if (typeof fn !== 'function') throw new TypeError(`webgpu-cnn: scope: 'fn' must be a function, got ${typeof fn}`);
    result = fn();
    if (result instanceof Promise) {
      // The caller gets this error instead of the promise, so nobody else can handle the
      // promise's own rejection: mark it handled, or Node would exit on it (unhandled).
      result.catch(() => {});
      throw new TypeError(
        'webgpu-cnn: scope: takes a synchronous function, got an async one (it returned a promise); use startScope/endScope for async code',
      );
    }
    return result;
  } finally {
    endScope(result);
  }
}

export function scopeDepth(): number {
  return stack.length;
}
