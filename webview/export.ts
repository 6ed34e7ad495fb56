// Export the current chart as SVG or PNG. The live DOM styles charts through classes that
// resolve to theme variables; an exported file has neither, so the clone gets the computed
// colours as presentation attributes (on the clone only; the page itself never gets style
// attributes) and a background rectangle in the theme's editor colour.

const PROPS = ['fill', 'fill-opacity', 'stroke', 'stroke-width', 'stroke-opacity', 'stroke-dasharray', 'font-family', 'font-size', 'font-weight', 'opacity', 'display'] as const;

export function svgForExport(svg: SVGSVGElement, view: Window): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const src = [svg, ...Array.from(svg.querySelectorAll('*'))];
  const dst = [clone, ...Array.from(clone.querySelectorAll('*'))];
  src.forEach((el, i) => {
    const out = dst[i];
    if (!out) return;
    const cs = view.getComputedStyle(el);
    for (const p of PROPS) {
      const v = cs.getPropertyValue(p);
      if (v && v !== 'normal' && !(p === 'display' && v !== 'none')) out.setAttribute(p, v);
    }
    out.removeAttribute('tabindex');
    out.removeAttribute('class');
  });
  const doc = svg.ownerDocument;
  const bg = doc.createElementNS('http://www.w3.org/2000/svg', 'rect');
  bg.setAttribute('width', '100%');
  bg.setAttribute('height', '100%');
  const body = doc.body ? view.getComputedStyle(doc.body).getPropertyValue('--vscode-editor-background').trim() : '';
  bg.setAttribute('fill', body || '#ffffff');
  clone.insertBefore(bg, clone.firstChild);
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  return new (view as unknown as { XMLSerializer: typeof XMLSerializer }).XMLSerializer().serializeToString(clone);
}

/** Rasterise SVG text at twice its size; resolves to a `data:image/png;base64,` URL. */
export function pngFromSvg(svgText: string, width: number, height: number, view: Window & typeof globalThis): Promise<string> {
  return new Promise((resolve, reject) => {
    const url = view.URL.createObjectURL(new view.Blob([svgText], { type: 'image/svg+xml' }));
    const img = new view.Image();
    img.onload = () => {
      try {
        const canvas = view.document.createElement('canvas');
        canvas.width = Math.ceil(width * 2);
        canvas.height = Math.ceil(height * 2);
        const g = canvas.getContext('2d');
        if (!g) throw new Error('no 2D canvas');
        g.scale(2, 2);
        g.drawImage(img, 0, 0, width, height);
        resolve(canvas.toDataURL('image/png'));
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      } finally {
        view.URL.revokeObjectURL(url);
      }
    };
    img.onerror = () => {
      view.URL.revokeObjectURL(url);
      reject(new Error('the SVG could not be rasterised'));
    };
    img.src = url;
  });
}
