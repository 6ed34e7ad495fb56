// The dashboard's HTML, as pure functions (no DOM, no Node): one page for the VS Code panel
// (bundle and stylesheet loaded from the extension through webview URIs) and one
// self-contained page for `npas report` (bundle, stylesheet and data inlined). Both carry a
// strict Content-Security-Policy: scripts and styles only by nonce (and the webview's own
// resource origin in VS Code), no 'unsafe-inline', no remote sources.

export interface PanelHtmlOptions {
  /** `webview.cspSource` of the panel. */
  readonly cspSource: string;
  /** `webview.asWebviewUri(…/dist/webview.js)`, as a string. */
  readonly scriptUri: string;
  /** `webview.asWebviewUri(…/media/dashboard.css)`, as a string. */
  readonly styleUri: string;
  /** A fresh random nonce per page load (`crypto.randomBytes(16).toString('base64')`). */
  readonly nonce: string;
  readonly title?: string;
}

export interface ReportHtmlOptions {
  /** The webview bundle (dist/webview.js). */
  readonly script: string;
  /** media/dashboard.css followed by media/dashboard-themes.css. */
  readonly style: string;
  /** `JSON.stringify(dashboardData(…))`. */
  readonly dataJson: string;
  readonly nonce: string;
  readonly title: string;
  /** `dark` or `light`: the theme the page opens in (a toggle switches it). */
  readonly theme?: 'dark' | 'light';
}

const NONCE_RE = /^[A-Za-z0-9+/=_-]{16,128}$/;

export function escapeHtml(text: string): string {
  // Attributes are always double-quoted, so a single quote (CSP keywords) needs no escape.
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** Text that may sit inside <script>…</script> (JSON or JavaScript) without ending it early. */
export function escapeScript(text: string): string {
  return text.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** JSON for a data block: every `<` (and the line separators) as a JSON escape; parses back unchanged. */
export function escapeJson(json: string): string {
  return json.replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function checkNonce(nonce: string): void {
  if (!NONCE_RE.test(nonce)) throw new Error('the CSP nonce must be 16–128 base64 characters');
}

export function panelCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data: blob:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export function reportCsp(nonce: string): string {
  return ["default-src 'none'", 'img-src data: blob:', `style-src 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`, "base-uri 'none'", "form-action 'none'"].join('; ');
}

const BODY = `<div id="npas-dashboard" class="npas-dashboard" role="application" aria-label="NPAS dashboard"></div>`;

/** The VS Code panel's page. The panel posts `update` after the webview's `ready`. */
export function dashboardHtml(o: PanelHtmlOptions): string {
  checkNonce(o.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(panelCsp(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(o.title ?? 'NPAS Dashboard')}</title>
<link rel="stylesheet" nonce="${o.nonce}" href="${escapeHtml(o.styleUri)}">
</head>
<body>
${BODY}
<script nonce="${o.nonce}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>
`;
}

/** The standalone report: one file, working offline from a file URL. */
export function reportHtml(o: ReportHtmlOptions): string {
  checkNonce(o.nonce);
  const theme = o.theme ?? 'dark';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(reportCsp(o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(o.title)}</title>
<style nonce="${o.nonce}">
${o.style.replace(/<\/style/gi, '<\\/style')}
</style>
</head>
<body class="vscode-${theme} npas-standalone" data-vscode-theme-kind="vscode-${theme}">
${BODY}
<script type="application/json" id="npas-data">${escapeJson(o.dataJson)}</script>
<script nonce="${o.nonce}">
${escapeScript(o.script)}
</script>
</body>
</html>
`;
}
