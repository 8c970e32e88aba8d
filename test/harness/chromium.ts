// Headless Chromium with WebGPU on SwiftShader, driven by playwright-core (never a downloaded
// browser), plus a Vite dev server for the page under test. Used by every browser test.

import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { resolve } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

/** `extraArgs`: more command-line flags (e.g. the fake camera of test/e2e/pictures.test.ts). */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS, ...extraArgs] });
}

/**
 * A Vite dev server on a free localhost port, rooted at the repository. Each process gets its
 * own dependency-optimizer cache: `npm test` runs two test files at once, and two servers
 * writing one node_modules/.vite would race.
 */
export async function startVite(): Promise<{ server: ViteDevServer; url: string }> {
  const cacheDir = resolve(process.cwd(), 'node_modules/.vite-test', String(process.pid));
  const server = await createServer({
    configFile: resolve(process.cwd(), 'vite.config.ts'),
    cacheDir,
    server: { port: 0, host: '127.0.0.1', strictPort: false },
    logLevel: 'warn',
  });
  const close = server.close.bind(server);
  server.close = async () => {
    await close();
    await rm(cacheDir, { recursive: true, force: true });
  };
  await server.listen();
  const addr = server.httpServer!.address();
  if (!addr || typeof addr === 'string') throw new Error('vite: no port');
  return { server, url: `http://localhost:${addr.port}` };
}

/** Collect console output and page errors, for failure messages. */
export function watchPage(page: Page, log: string[]): void {
  page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
}
