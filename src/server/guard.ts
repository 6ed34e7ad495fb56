// Handlers never take the server down: an exception (a bug, or a malformed request whose
// params are not what LSP promises) becomes one logged error and an empty result. An analysis
// stopped because the editor sent a newer version (`AnalysisCancelled`) is no error: the
// request is answered "content modified", as LSP asks of a result computed on stale text.

import { LSPErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { AnalysisCancelled } from '../core/index.js';

export type Logger = (message: string) => void;

/** Wraps a request handler: on a throw or a rejected promise, logs and answers `fallback`. */
export function guard<P extends unknown[], R, F>(name: string, log: Logger, fallback: F, handler: (...args: P) => R | Promise<R>): (...args: P) => R | F | Promise<R | F> {
  return (...args: P) => {
    try {
      const result = handler(...args);
      if (result instanceof Promise) return result.catch((e: unknown) => report(name, log, e, fallback));
      return result;
    } catch (e) {
      return report(name, log, e, fallback);
    }
  };
}

function report<F>(name: string, log: Logger, e: unknown, fallback: F): F {
  if (e instanceof AnalysisCancelled) throw new ResponseError(LSPErrorCodes.ContentModified, e.message);
  // An answer the handler chose to give as an error (a cancelled request) goes to the client as such.
  if (e instanceof ResponseError) throw e;
  log(`${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return fallback;
}
