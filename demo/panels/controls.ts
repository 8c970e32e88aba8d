// Training controls: start / pause / reset, the network preset and its layer editor (channels
// and kernel per conv block, hidden units), batch size, learning rate, optimizer, augmentation,
// backend. Architecture edits apply on reset (a new network needs new weights); the other
// settings apply live.

import { DEFAULT_AUGMENT } from '../augment-options.js';
import { cloneSpec, describeSpec, LIMITS, paramCount, PRESETS, validateSpec, type NetSpec } from '../net-spec.js';
import type { BackendName, OptimizerName } from '../model-api.js';
import type { TrainSettings } from '../protocol.js';

export interface ControlsHandlers {
  start(): void;
  pause(): void;
  reset(spec: NetSpec, settings: TrainSettings): void;
  settings(s: TrainSettings): void;
  backend(b: BackendName): void;
}

const $ = <T extends HTMLElement>(root: ParentNode, sel: string) => root.querySelector(sel) as T;

export class Controls {
  private spec: NetSpec = cloneSpec(PRESETS.lenet);
  private applied: string = JSON.stringify(PRESETS.lenet);
  private running = false;

  constructor(
    private root: HTMLElement,
    private h: ControlsHandlers,
  ) {
    $(root, '#btn-start').addEventListener('click', () => this.h.start());
    $(root, '#btn-pause').addEventListener('click', () => this.h.pause());
    $(root, '#btn-reset').addEventListener('click', () => this.resetNow());
    $<HTMLSelectElement>(root, '#preset').addEventListener('change', (e) => {
      const v = (e.target as HTMLSelectElement).value;
      if (PRESETS[v]) this.spec = cloneSpec(PRESETS[v]);
      this.renderEditor();
    });
    for (const id of ['#batch', '#lr', '#optimizer', '#augment'])
      $(root, id).addEventListener('change', () => {
        if (id === '#optimizer') this.suggestLr();
        this.h.settings(this.settings());
      });
    $<HTMLSelectElement>(root, '#backend').addEventListener('change', (e) =>
      this.h.backend((e.target as HTMLSelectElement).value as BackendName),
    );
    $(root, '#add-conv').addEventListener('click', () => {
      if (this.spec.convs.length < LIMITS.maxConvs)
        this.spec.convs.push({ channels: 16, kernel: 3, pool: this.spec.convs.length < 2 });
      this.renderEditor();
    });
    $(root, '#add-dense').addEventListener('click', () => {
      if (this.spec.hidden.length < LIMITS.maxHidden) this.spec.hidden.push(64);
      this.renderEditor();
    });
    this.renderEditor();
  }

  private suggestLr(): void {
    const opt = $<HTMLSelectElement>(this.root, '#optimizer').value as OptimizerName;
    $<HTMLInputElement>(this.root, '#lr').value = opt === 'adam' ? '0.002' : '0.02';
  }

  settings(): TrainSettings {
    const lr = Number($<HTMLInputElement>(this.root, '#lr').value);
    return {
      hyper: {
        lr: Number.isFinite(lr) && lr > 0 ? lr : 0.002,
        optimizer: $<HTMLSelectElement>(this.root, '#optimizer').value as OptimizerName,
        momentum: 0.9,
      },
      batch: Number($<HTMLSelectElement>(this.root, '#batch').value),
      augment: $<HTMLInputElement>(this.root, '#augment').checked,
      augmentOptions: DEFAULT_AUGMENT,
    };
  }

  currentSpec(): NetSpec {
    return cloneSpec(this.spec);
  }

  /** The network actually running (after reset or load): the editor shows it. */
  setSpec(spec: NetSpec): void {
    this.spec = cloneSpec(spec);
    this.applied = JSON.stringify(spec);
    const preset = Object.entries(PRESETS).find(([, p]) => JSON.stringify(p) === this.applied)?.[0] ?? 'custom';
    $<HTMLSelectElement>(this.root, '#preset').value = preset;
    this.renderEditor();
  }

  setRunning(r: boolean): void {
    this.running = r;
    $<HTMLButtonElement>(this.root, '#btn-start').disabled = r;
    $<HTMLButtonElement>(this.root, '#btn-pause').disabled = !r;
  }

  setBackend(b: BackendName, gpuAvailable: boolean): void {
    const sel = $<HTMLSelectElement>(this.root, '#backend');
    sel.value = b;
    (sel.querySelector('option[value="webgpu"]') as HTMLOptionElement).disabled = !gpuAvailable;
  }

  private resetNow(): void {
    const err = validateSpec(this.spec);
    if (err) return;
    this.applied = JSON.stringify(this.spec);
    this.h.reset(cloneSpec(this.spec), this.settings());
    this.renderEditor();
  }

  private renderEditor(): void {
    const box = $(this.root, '#layers');
    box.textContent = '';
    const row = (label: string, ...els: HTMLElement[]) => {
      const d = document.createElement('div');
      d.className = 'layer-row';
      const l = document.createElement('span');
      l.className = 'layer-label';
      l.textContent = label;
      d.append(l, ...els);
      box.append(d);
    };
    const num = (value: number, min: number, max: number, set: (v: number) => void, title: string) => {
      const i = document.createElement('input');
      i.type = 'number';
      Object.assign(i, { min: String(min), max: String(max), value: String(value), title });
      i.addEventListener('change', () => {
        set(Math.round(Number(i.value)));
        this.renderEditor();
      });
      return i;
    };
    const remove = (f: () => void) => {
      const b = document.createElement('button');
      b.className = 'icon';
      b.textContent = '×';
      b.title = 'remove';
      b.addEventListener('click', () => {
        f();
        this.renderEditor();
      });
      return b;
    };
    this.spec.convs.forEach((c, i) => {
      const k = document.createElement('select');
      k.title = 'kernel size';
      for (const v of LIMITS.kernels) k.append(new Option(`${v}x${v}`, String(v), false, v === c.kernel));
      k.addEventListener('change', () => {
        c.kernel = Number(k.value);
        this.renderEditor();
      });
      const pool = document.createElement('label');
      const cb = document.createElement('input');
      cb.type = 'checkbox';
      cb.checked = c.pool;
      cb.addEventListener('change', () => {
        c.pool = cb.checked;
        this.renderEditor();
      });
      pool.append(cb, ' pool');
      const unit = document.createElement('span');
      unit.textContent = 'filters';
      row(
        `conv ${i + 1}`,
        num(c.channels, 1, LIMITS.maxChannels, (v) => (c.channels = v), 'number of filters'),
        unit,
        k,
        pool,
        remove(() => this.spec.convs.splice(i, 1)),
      );
    });
    this.spec.hidden.forEach((u, i) => {
      const unit = document.createElement('span');
      unit.textContent = 'units';
      row(
        `dense ${i + 1}`,
        num(u, 1, LIMITS.maxUnits, (v) => (this.spec.hidden[i] = v), 'hidden units'),
        unit,
        remove(() => this.spec.hidden.splice(i, 1)),
      );
    });
    const out = document.createElement('span');
    out.textContent = '10 classes (softmax)';
    row('output', out);
    const err = validateSpec(this.spec);
    const summary = $(this.root, '#spec-summary');
    const changed = JSON.stringify(this.spec) !== this.applied;
    if (err) summary.textContent = `⚠ ${err}`;
    else
      summary.textContent = `${describeSpec(this.spec).join(' · ')} · ${paramCount(this.spec).toLocaleString('en')} parameters${changed ? ' — press Reset to build it' : ''}`;
    summary.classList.toggle('warn', !!err || changed);
    $<HTMLButtonElement>(this.root, '#btn-reset').disabled = !!err;
    $<HTMLButtonElement>(this.root, '#add-conv').disabled = this.spec.convs.length >= LIMITS.maxConvs;
    $<HTMLButtonElement>(this.root, '#add-dense').disabled = this.spec.hidden.length >= LIMITS.maxHidden;
    void this.running;
  }
}
