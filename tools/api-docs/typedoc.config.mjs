// TypeDoc configuration for webgpu-cnn's API reference (`npm run docs` at the repository root).
//
// Why a workspace of its own (tools/api-docs, listed in the root package.json's `workspaces`):
// the project compiles with TypeScript 7, whose package no longer offers the compiler API that
// TypeDoc 0.28 runs on, and TypeDoc takes `typescript` as a peer dependency, so it cannot get
// another version at the root. Here it gets TypeScript 6.0 (npm installs both in
// tools/api-docs/node_modules). Once a TypeDoc release supports TypeScript 7, move it to the
// root's devDependencies and drop the workspace.
//
// Input: the declaration files that `tsc -p tsconfig.build.json` writes (dist/types), i.e. the
// API exactly as the package ships it, one module per package entry: `webgpu-cnn`
// (src/index.ts) and `webgpu-cnn/kernels` (src/kernels.ts); each entry file names its module
// with `@module`. Output: HTML in dist-docs/api/ (git-ignored, rebuilt from scratch each run).
//
// Any warning fails the run: a broken `{@link}`, a type that an exported signature uses but no
// entry exports (export it, with a doc comment), a malformed doc comment.

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: 'webgpu-cnn',
  entryPoints: ['../../dist/types/index.d.ts', '../../dist/types/kernels.d.ts'],
  tsconfig: './tsconfig.json',
  out: '../../dist-docs/api',
  readme: 'none',
  includeVersion: true,
  // Links to dist/types/*.d.ts lines would help no one.
  disableSources: true,
  // The input is declaration files, so TypeDoc's default (no comment warnings for .d.ts)
  // would silence the warnings about our own doc comments.
  suppressCommentWarningsInDeclarationFiles: false,
  // With the above, TypeScript's lib would warn about its own Promise comments: see the plugin.
  plugin: ['./no-lib-inline.mjs'],
  treatWarningsAsErrors: true,
  treatValidationWarningsAsErrors: true,
  validation: {
    notExported: true,
    invalidLink: true,
    rewrittenLink: true,
    // Not enforced (yet): about 140 exports and 500 members have no doc comment of their own.
    notDocumented: false,
  },
};
