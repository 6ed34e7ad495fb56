/// <reference types="mocha" />
// Shared helpers for the integration suites that run inside the VS Code extension host.
// Rule: wait for events (or poll a provider until it answers) with a deadline; never sleep
// a fixed time and hope.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

export const LANGUAGE_ID = 'npas';
export const PACKAGE_NAME = 'npas-studio';

export const COMMAND_IDS = [
  'npas.showDashboard',
  'npas.allocate',
  'npas.runProbe',
  'npas.exportOnnx',
  'npas.importHfConfig',
  'npas.compareVariants',
  'npas.exportReport',
] as const;

/** The extension under test (loaded from extensionDevelopmentPath = the repository root). */
export function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.all.find((e) => (e.packageJSON as { name?: string }).name === PACKAGE_NAME);
  if (!ext) throw new Error(`extension '${PACKAGE_NAME}' is not loaded (is extensionDevelopmentPath the repository root?)`);
  return ext;
}

/** Rejects with a clear message when `promise` does not settle within `ms`. */
export function withTimeout<T>(promise: Thenable<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    Promise.resolve(promise).then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/**
 * Resolves with the first truthy value of `check()`, evaluated now and after every firing of
 * `event`; rejects after `ms`.
 */
export function waitForEvent<T>(
  event: vscode.Event<unknown>,
  check: () => T | undefined | null | false,
  ms: number,
  what: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sub.dispose();
      fn();
    };
    const test = () => {
      try {
        const v = check();
        if (v) finish(() => resolve(v));
      } catch (e) {
        finish(() => reject(e));
      }
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`))), ms);
    const sub = event(test);
    test();
  });
}

/**
 * For state that has no change event (a provider that answers once the language client is up):
 * retries `probe` every `intervalMs` until it yields a truthy value; rejects after `ms` with the
 * last value or error.
 */
export async function eventually<T>(
  probe: () => Thenable<T | undefined | null | false> | T | undefined | null | false,
  ms: number,
  what: string,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The workspace folder the tests run in (a temp copy of test/fixtures/workspace under the harness). */
export function workspaceDir(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace folder is open (expected test/fixtures/workspace)');
  return folder.uri;
}

export function fixtureUri(name: string): vscode.Uri {
  return vscode.Uri.joinPath(workspaceDir(), name);
}

/** Opens a fixture in an editor and returns it. */
export async function openFixture(name: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(fixtureUri(name));
  return vscode.window.showTextDocument(doc, { preview: false });
}

/** Diagnostics of `uri` as soon as `accept` holds for them. */
export function waitForDiagnostics(
  uri: vscode.Uri,
  accept: (diags: readonly vscode.Diagnostic[]) => boolean,
  ms: number,
  what: string,
): Promise<readonly vscode.Diagnostic[]> {
  return waitForEvent(
    vscode.languages.onDidChangeDiagnostics,
    () => {
      const diags = vscode.languages.getDiagnostics(uri);
      return accept(diags) ? diags : undefined;
    },
    ms,
    what,
  ).catch((e: unknown) => {
    const now = vscode.languages.getDiagnostics(uri).map((d) => `${codeOf(d)}@${lineCol(d.range.start)}`);
    throw new Error(`${e instanceof Error ? e.message : String(e)}; ${uri.toString()} has [${now.join(', ')}]`);
  });
}

/** A diagnostic's code as a string (the code may come as `{ value, target }`). */
export function codeOf(d: vscode.Diagnostic): string {
  const c = d.code;
  if (c === undefined) return '';
  return typeof c === 'object' ? String(c.value) : String(c);
}

/** 1-based "line:column" of a position, as `npas check` prints it. */
export function lineCol(p: vscode.Position): string {
  return `${p.line + 1}:${p.character + 1}`;
}

/** The position of the `occurrence`-th (0-based) match of `needle` in `doc`, plus `delta` characters. */
export function positionOf(doc: vscode.TextDocument, needle: string, delta = 0, occurrence = 0): vscode.Position {
  let at = -1;
  for (let i = 0; i <= occurrence; i++) {
    at = doc.getText().indexOf(needle, at + 1);
    if (at < 0) throw new Error(`'${needle}' (occurrence ${occurrence}) not found in ${doc.uri.path}`);
  }
  return doc.positionAt(at + delta);
}

/** Plain text of hover contents, whatever form the provider used. */
export function hoverText(hovers: readonly vscode.Hover[]): string {
  const parts: string[] = [];
  for (const h of hovers) {
    for (const c of h.contents) {
      if (typeof c === 'string') parts.push(c);
      else if (c instanceof vscode.MarkdownString) parts.push(c.value);
      else parts.push((c as { value: string }).value);
    }
  }
  return parts.join('\n');
}

/** A completion item's label as a string. */
export function labelOf(item: vscode.CompletionItem): string {
  return typeof item.label === 'string' ? item.label : item.label.label;
}

/** Collapses all whitespace: formatting may move it but must never change anything else. */
export function withoutWhitespace(text: string): string {
  return text.replace(/\s+/g, '');
}

/**
 * Opens the broken fixture and waits for its first diagnostics: after that the extension is
 * active and its language client is running, so provider requests are answered. Memoised.
 */
let ready: Promise<void> | undefined;
export function languageServerReady(): Promise<void> {
  ready ??= (async () => {
    const editor = await openFixture('broken.npas');
    const ext = extension();
    await eventually(() => ext.isActive, 15_000, 'the extension to activate');
    // activate() returns { clientReady: Promise<ms | undefined> } (src/extension/main.ts):
    // undefined means the server did not start, so fail at once rather than time out later.
    const clientReady = (ext.exports as { clientReady?: Promise<number | undefined> } | undefined)?.clientReady;
    if (clientReady && (await withTimeout(clientReady, 15_000, 'the language client to start')) === undefined) {
      throw new Error('the language server did not start (see the NPAS Studio output; is dist/server.js built?)');
    }
    await waitForDiagnostics(editor.document.uri, (d) => d.length > 0, 15_000, 'the first diagnostics of broken.npas');
  })();
  return ready;
}

/**
 * Asks the harness (scripts/vscode-host/run-tests.mjs) for a screenshot and waits until it was
 * saved; `selector` (CSS) is awaited by the harness before it shoots. Outside the harness (e.g.
 * under @vscode/test-cli) nobody takes it and this returns at once.
 */
export async function screenshot(name: string, selector?: string, ms = 15_000): Promise<string | undefined> {
  const dir = process.env.NPAS_TEST_ARTIFACTS;
  if (!dir || !process.env.NPAS_TEST_HARNESS) return undefined;
  const safe = name.replace(/[^\w.-]+/g, '_');
  const isDone = () => fs.readdirSync(dir).find((f) => f.endsWith(`-${safe}.done`));
  const watcher = fs.watch(dir);
  try {
    const done = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the harness did not save screenshot '${name}' within ${ms} ms`)), ms);
      const check = () => {
        const f = isDone();
        if (f) {
          clearTimeout(timer);
          resolve(path.join(dir, f.replace(/\.done$/, '.png')));
        }
      };
      watcher.on('change', check);
      watcher.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      check();
    });
    console.log(`@@SCREENSHOT@@ ${safe}${selector ? ` ${selector}` : ''}`);
    return await done;
  } finally {
    watcher.close();
  }
}

/**
 * An untitled npas document with `content`, opened in an editor before the calling suite's tests
 * (once the language server is ready) and discarded after them, so closing editors later never
 * asks whether to save it. Call it inside `describe`; read `.doc` in the tests.
 */
export function scratchDocument(content: string): { readonly doc: vscode.TextDocument } {
  let doc: vscode.TextDocument | undefined;
  before(async () => {
    await languageServerReady();
    doc = await vscode.workspace.openTextDocument({ language: LANGUAGE_ID, content });
    await vscode.window.showTextDocument(doc);
  });
  after(async () => {
    if (!doc) return;
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
  return {
    get doc(): vscode.TextDocument {
      if (!doc) throw new Error('the scratch document is opened in the suite\'s before hook');
      return doc;
    },
  };
}
