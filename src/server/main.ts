// Entry point of dist/server.js. `createConnection` reads the transport from the command line
// (`--stdio`, `--node-ipc`, `--socket=N`, `--pipe=NAME`): the VS Code client starts it over IPC;
// any other editor runs `node dist/server.js --stdio` (docs/editor.md).

import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server.js';

const connection = createConnection(ProposedFeatures.all);
startServer(connection);
// A bug that escapes every handler's guard (an async callback) is logged; the server stays up.
process.on('uncaughtException', (e) => connection.console.error(`uncaught: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
process.on('unhandledRejection', (e) => connection.console.error(`unhandled rejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
connection.listen();
