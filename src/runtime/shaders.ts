// WGSL sources and their reflection. Every `.wgsl` file under shaders/ (one folder per op
// family, e.g. shaders/conv2d/tiled_forward.wgsl) is bundled as a string (Vite's
// import.meta.glob with ?raw: the same files in the browser, in Node, and inlined into dist/ by
// the library build). A shader's name is its path under shaders/ without `.wgsl`
// ('conv2d/tiled_forward', 'elementwise'). Benchmarks add their own comparison kernels with
// registerShader (bench/naive.ts); the library ships only what its ops dispatch.
//
// Includes are explicit and visible: a line `//!include "conv2d/tile.wgsl"` (a path under
// shaders/) is replaced by that file's text (once per shader). Nothing else is injected.
//
// Reflection (wgsl_reflect) gives, per compute entry point, the bindings it uses (name, group,
// binding, uniform/storage, access) and the byte layout of uniform structs, so that kernels
// pass buffers and uniforms by *name* and layouts are never kept by hand.

import { WgslReflect, ResourceType, type FunctionInfo, type VariableInfo } from 'wgsl_reflect';

const files = import.meta.glob('../../shaders/**/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<
  string,
  string
>;

const sources = new Map<string, string>();
for (const [path, text] of Object.entries(files)) {
  const name = path.slice(path.indexOf('/shaders/') + '/shaders/'.length).replace(/\.wgsl$/, '');
  sources.set(name, text);
}

/** Names of all known shaders (shaders/*.wgsl paths without the extension, plus registered ones), sorted. */
export function shaderNames(): string[] {
  return [...sources.keys()].sort();
}

/**
 * Add a shader that is not under shaders/ (benchmark baselines). Names must not clash with the
 * library's; registering the same text again is a no-op.
 */
export function registerShader(name: string, code: string): void {
  const old = sources.get(name);
  if (old !== undefined && old !== code)
    throw new Error(`webgpu-cnn: registerShader: a different shader named '${name}' exists`);
  sources.set(name, code);
}

/** Raw text of shaders/<name>.wgsl, without includes resolved. */
export function rawShader(name: string): string {
  const s = sources.get(name);
  if (s === undefined) throw new Error(`webgpu-cnn: no shader named '${name}' (known: ${shaderNames().join(', ')})`);
  return s;
}

/** Resolve `//!include "x.wgsl"` lines (each file included at most once). */
export function resolveIncludes(name: string, seen = new Set<string>()): string {
  seen.add(name);
  return rawShader(name).replace(/^\s*\/\/!include\s+"([\w./-]+)\.wgsl"\s*$/gm, (_m, inc: string) => {
    if (seen.has(inc)) return `// (${inc}.wgsl already included)`;
    return `// ---- begin ${inc}.wgsl ----\n${resolveIncludes(inc, seen)}\n// ---- end ${inc}.wgsl ----`;
  });
}

/** WGSL scalar type of a uniform field's components. */
export type ScalarKind = 'f32' | 'i32' | 'u32';

/** One field of a shader's uniform struct, from reflection: its byte offset, scalar kind and component count. */
export interface UniformField {
  name: string;
  offset: number;
  /** scalar kind of each component */
  kind: ScalarKind;
  /** number of components: 1 for a scalar, 2..4 for vecN */
  components: number;
}

/** A shader's uniform struct, from reflection: its size in bytes (rounded up to 16) and its fields by name. */
export interface UniformLayout {
  size: number; // bytes, rounded to 16
  fields: Map<string, UniformField>;
}

/** One group-0 binding of an entry point, from reflection: WGSL variable name, binding index and kind. */
export interface BindingInfo {
  name: string;
  binding: number;
  kind: 'uniform' | 'storage' | 'read-only-storage';
}

/**
 * What reflection finds in one compute entry point: its group-0 bindings, its uniform struct layout,
 * the override constants it has and its workgroup size (null when reflection gives none).
 */
export interface EntryInfo {
  name: string;
  /** bindings of group 0 used by this entry point, sorted by binding */
  bindings: BindingInfo[];
  /** the uniform binding (at most one per entry point), with its layout */
  uniform?: { binding: BindingInfo; layout: UniformLayout };
  overrides: string[];
  workgroupSize: [number, number, number] | null;
}

export interface ShaderInfo {
  name: string;
  code: string;
  entries: Map<string, EntryInfo>;
}

function scalarOf(typeName: string): { kind: ScalarKind; components: number } {
  const m = /^(?:vec([234])<(f32|i32|u32)>|vec([234])([fiu]))$/.exec(typeName);
  if (m) {
    const components = Number(m[1] ?? m[3]);
    const k = m[2] ?? ({ f: 'f32', i: 'i32', u: 'u32' } as const)[m[4] as 'f' | 'i' | 'u'];
    return { kind: k as ScalarKind, components };
  }
  if (typeName === 'f32' || typeName === 'i32' || typeName === 'u32') return { kind: typeName, components: 1 };
  throw new Error(`webgpu-cnn: uniform field type '${typeName}' is not supported (use f32/i32/u32 or vecN of them)`);
}

function uniformLayout(v: VariableInfo): UniformLayout {
  const members = v.members;
  if (!members) throw new Error(`webgpu-cnn: uniform '${v.name}' must be a struct`);
  const fields = new Map<string, UniformField>();
  for (const m of members) {
    const typeName = m.type.getTypeName ? m.type.getTypeName() : m.type.name;
    const s = scalarOf(typeName);
    fields.set(m.name, { name: m.name, offset: m.offset, ...s });
  }
  return { size: Math.ceil(v.size / 16) * 16, fields };
}

/** Override constants an entry point uses, also through the functions it calls (wgsl_reflect lists direct uses only). */
function overridesOf(fn: FunctionInfo): string[] {
  const names = new Set<string>(),
    seen = new Set<FunctionInfo>();
  const visit = (f: FunctionInfo) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const o of f.overrides) names.add(o.name);
    for (const c of f.calls) visit(c);
  };
  visit(fn);
  return [...names];
}

const infos = new Map<string, ShaderInfo>();

/** Reflected shader (cached): code with includes resolved, and per-entry bindings. */
export function shaderInfo(name: string): ShaderInfo {
  let info = infos.get(name);
  if (info) return info;
  const code = resolveIncludes(name);
  const reflect = new WgslReflect(code);
  const entries = new Map<string, EntryInfo>();
  for (const fn of reflect.entry.compute) {
    const bindings: BindingInfo[] = [];
    let uniform: EntryInfo['uniform'];
    for (const r of fn.resources) {
      if (r.group !== 0) throw new Error(`webgpu-cnn: shader ${name}: only @group(0) is supported (${r.name})`);
      let kind: BindingInfo['kind'];
      if (r.resourceType === ResourceType.Uniform) kind = 'uniform';
      else if (r.resourceType === ResourceType.Storage) kind = r.access === 'read' ? 'read-only-storage' : 'storage';
      else throw new Error(`webgpu-cnn: shader ${name}: resource ${r.name} is not a buffer`);
      const b: BindingInfo = { name: r.name, binding: r.binding, kind };
      bindings.push(b);
      if (kind === 'uniform') {
        if (uniform) throw new Error(`webgpu-cnn: shader ${name}.${fn.name}: at most one uniform buffer`);
        uniform = { binding: b, layout: uniformLayout(r) };
      }
    }
    bindings.sort((a, b) => a.binding - b.binding);
    entries.set(fn.name, {
      name: fn.name,
      bindings,
      uniform,
      overrides: overridesOf(fn),
      workgroupSize: fn.workgroupSize,
    });
  }
  info = { name, code, entries };
  infos.set(name, info);
  return info;
}

/** Write `values` into `dst` (at byte offset `base`) by field name, checking names and arity. */
export function writeUniforms(
  layout: UniformLayout,
  values: Record<string, number | readonly number[]>,
  dst: DataView,
  base: number,
  where: string,
): void {
  for (const [name, f] of layout.fields) {
    const v = values[name];
    if (v === undefined) throw new Error(`webgpu-cnn: ${where}: uniform field '${name}' not given`);
    const arr = typeof v === 'number' ? [v] : v;
    if (arr.length !== f.components)
      throw new Error(`webgpu-cnn: ${where}: uniform '${name}' needs ${f.components} value(s), got ${arr.length}`);
    for (let i = 0; i < f.components; i++) {
      const o = base + f.offset + 4 * i;
      const x = arr[i];
      if (f.kind === 'f32') dst.setFloat32(o, x, true);
      else if (f.kind === 'i32') dst.setInt32(o, x, true);
      else {
        if (x < 0 || !Number.isInteger(x))
          throw new Error(`webgpu-cnn: ${where}: uniform '${name}' must be a non-negative integer, got ${x}`);
        dst.setUint32(o, x, true);
      }
    }
  }
  for (const k of Object.keys(values))
    if (!layout.fields.has(k)) throw new Error(`webgpu-cnn: ${where}: unknown uniform field '${k}'`);
}
