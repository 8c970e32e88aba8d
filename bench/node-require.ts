// Node only, imported first by scripts/bench.ts: tfjs-core's Node platform calls CommonJS
// `require('util')` when it loads, and the bundle (dist-node/bench.mjs) is an ES module, where
// `require` does not exist. Give it one before tfjs-core is evaluated.

import { createRequire } from 'node:module';

const g = globalThis as unknown as { require?: NodeJS.Require };
g.require ??= createRequire(import.meta.url);
