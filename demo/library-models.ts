// The library's pretrained models (models/*.safetensors in the repository): separate files,
// never in the page's code. vite.data.ts serves them at /models/<file> in the dev server and
// copies them into the static demo build; the page fetches them at run time. Each file carries
// its architecture and its input normalisation (models/README.md).

export interface LibraryModel {
  id: string;
  file: string;
  /** the button's text */
  label: string;
  /** what the page says about the model once loaded */
  about: string;
}

/**
 * Only the digit models: the page's data, drawing pad and labels are MNIST's. The Fashion-MNIST
 * model (models/fashion-lenet.safetensors, served beside it) is for applications:
 * loadPredictor('/models/fashion-lenet.safetensors'), see docs/demo.md.
 */
export const LIBRARY_MODELS: LibraryModel[] = [
  {
    id: 'mnist-lenet',
    file: 'mnist-lenet.safetensors',
    label: 'MNIST LeNet, 99.04 % on the standard test set',
    about:
      "the library's MNIST LeNet (models/mnist-lenet.safetensors): 99.04 % on MNIST's standard 10,000 test digits, trained on its 60,000 training digits",
  },
];

/** The URL of a model file: /models/ beside the demo's folder (the dev server and the build). */
export function libraryModelUrl(m: LibraryModel): string {
  return new URL(`../models/${m.file}`, location.href).href;
}

export async function fetchLibraryModel(m: LibraryModel): Promise<Uint8Array> {
  const url = libraryModelUrl(m);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${m.file}: HTTP ${res.status} from ${url}`);
  return new Uint8Array(await res.arrayBuffer());
}
