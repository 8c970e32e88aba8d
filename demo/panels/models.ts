// Models panel: download the trained model as .safetensors, upload one, keep models in the
// browser (IndexedDB), and load the library's pretrained models (fetched from /models/).

import { LIBRARY_MODELS, type LibraryModel } from '../library-models.js';
import { download, idbList, idbLoad, idbSave } from '../model-file.js';

export interface ModelHandlers {
  save(): Promise<Uint8Array>;
  load(bytes: Uint8Array, source: string): Promise<void>;
  library(m: LibraryModel): Promise<void>;
}

const $ = <T extends HTMLElement>(root: ParentNode, sel: string) => root.querySelector(sel) as T;

export class ModelsPanel {
  constructor(
    private root: HTMLElement,
    private h: ModelHandlers,
  ) {
    const msg = $(root, '#model-msg');
    const guard = (f: () => Promise<void>) => async () => {
      try {
        await f();
      } catch (e) {
        msg.textContent = `⚠ ${(e as Error).message}`;
      }
    };
    $(root, '#btn-download').addEventListener(
      'click',
      guard(async () => {
        const bytes = await this.h.save();
        download(bytes, `webgpu-cnn-mnist-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.safetensors`);
        msg.textContent = `Downloaded ${(bytes.length / 1024).toFixed(0)} KB.`;
      }),
    );
    $<HTMLInputElement>(root, '#file-upload').addEventListener(
      'change',
      guard(async () => {
        const f = $<HTMLInputElement>(root, '#file-upload').files?.[0];
        if (!f) return;
        await this.h.load(new Uint8Array(await f.arrayBuffer()), `file ${f.name}`);
        msg.textContent = `Loaded ${f.name}.`;
      }),
    );
    $(root, '#btn-idb-save').addEventListener(
      'click',
      guard(async () => {
        const name = $<HTMLInputElement>(root, '#idb-name').value.trim() || 'my model';
        await idbSave(name, await this.h.save());
        msg.textContent = `Saved “${name}” in this browser.`;
        await this.refresh();
      }),
    );
    $(root, '#btn-idb-load').addEventListener(
      'click',
      guard(async () => {
        const name = $<HTMLSelectElement>(root, '#idb-list').value;
        const bytes = name ? await idbLoad(name) : null;
        if (!bytes) throw new Error('no saved model selected');
        await this.h.load(bytes, `browser storage “${name}”`);
        msg.textContent = `Loaded “${name}” from this browser.`;
      }),
    );
    for (const m of LIBRARY_MODELS) {
      const b = document.createElement('button');
      b.id = `btn-library-${m.id}`;
      b.textContent = `Load ${m.label}`;
      b.title = `fetches /models/${m.file}`;
      b.addEventListener(
        'click',
        guard(async () => {
          msg.textContent = `Fetching ${m.file}…`;
          await this.h.library(m);
          msg.textContent = `Loaded ${m.label}.`;
        }),
      );
      $(root, '#library-models').append(b);
    }
    void this.refresh();
  }

  async refresh(): Promise<void> {
    const sel = $<HTMLSelectElement>(this.root, '#idb-list');
    try {
      const names = await idbList();
      sel.textContent = '';
      for (const n of names) sel.append(new Option(n, n));
      if (!names.length) sel.append(new Option('(none saved yet)', ''));
    } catch {
      sel.textContent = '';
      sel.append(new Option('(IndexedDB unavailable)', ''));
    }
  }
}
