// `elastic STACK: Block(arg: [a, b]) * [d1, d2]` and `elastic NAME: [v1, v2]` as a statement
// scheme: a weight-sharing supernet over one stack (elastic depth and per-instance elastic block
// arguments) and model-wide choices of a constant (one width for every layer). Resolving it
// checks the space and records nothing — the model is analysed as written; `npas subnets`
// measures the subnets (supernet.ts) and enumerates them under a budget (enumerate.ts).

import type { SharingScheme } from '../sharing/scheme.js';
import { readElasticStatement } from './elastic-statement.js';

export const elasticScheme: SharingScheme = {
  keyword: 'elastic',
  snippet: 'elastic ${1:body}: ${2:Decoder}(${3:expand}: [${4:2, 3, 4}]) * [${5:6, 8}]',
  summary: 'A weight-sharing supernet: a stack\'s depths and per-instance block arguments, or one model-wide value of a constant (`elastic d: [512, 768]`) (`npas subnets`).',
  hover:
    '`elastic body: Decoder(expand: [2, 3, 4]) * [6, 8]`: a weight-sharing supernet — subnets with 6 or 8 instances of Decoder, each instance choosing its own `expand`; the supernet stores the largest subnet\'s weights once (smaller choices slice them). The model is analysed as written; `npas subnets FILE --model M --where \'params.active <= 1B\' --top 20 --by flops.prefill` enumerates the subnets, their Pareto front and `--emit`s one as a variant. `elastic d: [512, 768, 1024]` is a model-wide choice: one value of the model\'s constant or parameter `d` per subnet, which every layer using `d` follows (embeddings included: a smaller width slices every weight of the largest); the space multiplies by its count once.',
  methods: [],
  order: 2,
  // An allocation rewrites the stack's weights into banks: its subnets would not be the stack's instances.
  keepsStores: false,
  resolve(statement, scope, model) {
    readElasticStatement(statement, scope, model.members, model.ctx);
  },
};
