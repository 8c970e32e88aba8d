// TypeDoc plugin: treat TypeScript's Promise as if every comment said `@preventInline Promise`.
// Why: to find `@inline` tags, TypeDoc reads the doc comment of every type a signature references,
// and TypeScript's own lib declares Promise twice with a comment (lib.es5.d.ts and
// lib.es2018.promise.d.ts); with comment warnings on for declaration files (our input is
// dist/types/*.d.ts), each Promise<...> in a signature is then a warning we cannot fix.
// Only that lookup is skipped: Promise is still rendered and linked as before.
import { Converter } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_BEGIN, (context) => {
    context.preventInline.add('Promise');
  });
}
