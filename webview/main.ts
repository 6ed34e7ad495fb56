// The webview bundle's entry (esbuild: platform browser, iife → dist/webview.js). In VS Code
// it talks to the extension through acquireVsCodeApi(): posts `ready`, then draws every
// validated `update` (decoding the language server's encoded answer first). In the standalone report (`npas report`) it reads the data embedded in
// <script type="application/json" id="npas-data"> and keeps its state in memory.

// Controls from @vscode-elements/elements (the maintained successor of the archived
// @vscode/webview-ui-toolkit); registered here, in the browser entry only, so that app.ts and
// the views stay importable in jsdom tests (where unknown tags are plain elements).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { DashboardState } from '../src/protocol/webview-messages.js';
import { PROTOCOL_VERSION, startDashboard } from './app.js';
import { decodeHostMessage } from './protocol.js';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare const acquireVsCodeApi: (() => VsCodeApi) | undefined;

function boot(): void {
  performance.mark('npas-boot');
  const root = document.getElementById('npas-dashboard');
  if (!root) return;
  const api = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : undefined;
  if (api) {
    const app = startDashboard(root, { post: (m) => api.postMessage(m), getState: () => api.getState(), setState: (s) => api.setState(s), standalone: false });
    // One message after another: an encoded update decodes asynchronously, and what the host
    // posts after it (a view to show, a result) must find its data in place.
    let inbox: Promise<unknown> = Promise.resolve();
    window.addEventListener('message', (e: MessageEvent) => {
      inbox = inbox.then(() => decodeHostMessage(e.data)).then((m) => app.receive(m));
    });
    api.postMessage({ type: 'ready', protocol: PROTOCOL_VERSION });
    return;
  }
  let memory: DashboardState | undefined;
  const app = startDashboard(root, {
    post: (m) => {
      if (m.type === 'log') console.warn(`npas dashboard: ${m.message}`);
    },
    getState: () => memory,
    setState: (s) => {
      memory = s;
    },
    standalone: true,
  });
  const embedded = document.getElementById('npas-data')?.textContent;
  if (!embedded) return;
  let data: unknown;
  try {
    data = JSON.parse(embedded);
  } catch {
    console.warn('npas dashboard: the embedded data is not JSON');
    return;
  }
  app.receive({ type: 'update', data });
  // The tests measure first render through this mark.
  performance.mark('npas-first-render');
}

boot();
