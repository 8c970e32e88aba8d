// The page's side of the worker protocol: fire-and-forget commands, requests that resolve with
// the worker's reply, and a listener per broadcast message type.

import type { FromWorker, Replies, Request, ToWorker } from './protocol.js';

type Broadcast = Exclude<FromWorker, { type: 'reply' }>;
type Listener<T extends Broadcast['type']> = (m: Extract<Broadcast, { type: T }>) => void;

export class WorkerClient {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private listeners = new Map<string, ((m: Broadcast) => void)[]>();
  readonly worker: Worker;
  /** messages received from the worker (a liveness signal for the end-to-end test) */
  received = 0;

  constructor() {
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'webgpu-cnn-trainer' });
    this.worker.onmessage = (ev: MessageEvent<FromWorker>) => {
      const m = ev.data;
      this.received++;
      if (m.type === 'reply') {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (!p) return;
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(m.error));
        return;
      }
      for (const f of this.listeners.get(m.type) ?? []) f(m);
    };
    this.worker.onerror = (ev) => {
      const message = `the training worker failed: ${ev.message || 'script error'}`;
      for (const f of this.listeners.get('error') ?? []) f({ type: 'error', message });
    };
  }

  send(m: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  request<T extends Request['type']>(
    req: Extract<Request, { type: T }>,
    transfer: Transferable[] = [],
  ): Promise<Replies[T]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...req, id }, transfer);
    });
  }

  on<T extends Broadcast['type']>(type: T, f: Listener<T>): void {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type)!.push(f as (m: Broadcast) => void);
  }
}
