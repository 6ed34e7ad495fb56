// Signature help in a layer call or a block instantiation: one signature, its parameters as
// label offsets, Markdown docs, and the parameter being written.

import type { SignatureHelp } from 'vscode-languageserver/node';
import { signatureHelpAt } from '../../core/index.js';
import { offsetOf, openDocument, type ServerContext } from '../context.js';
import { guard } from '../guard.js';

/** `(` opens a call, `,` moves to the next argument, `:` names one. */
export const SIGNATURE_TRIGGER_CHARACTERS = ['(', ','];
export const SIGNATURE_RETRIGGER_CHARACTERS = [':'];

export function registerSignatureHelp(ctx: ServerContext): void {
  ctx.connection.onSignatureHelp(
    guard('textDocument/signatureHelp', ctx.log.error, null, (params): SignatureHelp | null => {
      const found = openDocument(ctx, params);
      if (!found) return null;
      const { doc, analyzed } = found;
      const help = signatureHelpAt(analyzed.text, analyzed.analysis, offsetOf(doc, params.position), analyzed.compilation);
      if (!help) return null;
      const markup = (value: string): { kind: 'markdown' | 'plaintext'; value: string } => ({ kind: ctx.client.markdown ? 'markdown' : 'plaintext', value });
      const { signature } = help;
      return {
        signatures: [
          {
            label: signature.label,
            documentation: markup(signature.documentation),
            parameters: signature.parameters.map((p) => ({ label: [p.label[0], p.label[1]] as [number, number], documentation: markup(p.documentation) })),
          },
        ],
        activeSignature: 0,
        // An index past the parameters tells the client no parameter is active.
        activeParameter: help.activeParameter ?? signature.parameters.length,
      };
    }),
  );
}
