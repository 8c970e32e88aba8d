// Augmentation: one training digit and random shifted / rotated / scaled copies of it, made by
// the same function that augments the training batches (augment.ts, run in the worker).

import type { Replies } from '../protocol.js';
import { paintDigit } from './paint.js';

export class AugmentPanel {
  constructor(private box: HTMLElement) {}

  render(r: Replies['augment-preview']): void {
    this.box.textContent = '';
    const item = (img: Float32Array, caption: string, cls: string) => {
      const d = document.createElement('figure');
      d.className = cls;
      const c = document.createElement('canvas');
      paintDigit(c, img, 3);
      const f = document.createElement('figcaption');
      f.textContent = caption;
      d.append(c, f);
      this.box.append(d);
    };
    item(r.original, `original “${r.label}”`, 'aug original');
    r.params.forEach((p, i) => {
      const deg = Math.round(p.angle) || 0; // no "-0°"
      item(
        r.images.subarray(i * 784, (i + 1) * 784),
        `${deg > 0 ? '+' : ''}${deg}° ×${p.scale.toFixed(2)}\nshift ${p.dx.toFixed(1)}, ${p.dy.toFixed(1)}`,
        'aug',
      );
    });
  }
}
