// Every sharing and training statement scheme, in the order completion lists them. The sharing
// resolver, the parser-independent editor vocabulary (completion, signature help, hovers, quick
// fixes) and the allocator's conflict check read this list; a new scheme is a file beside these
// and one line here (ARCHITECTURE.md, "How to add a sharing scheme").

import { allocateScheme } from '../allocation/allocate-scheme.js';
import { parallelScheme } from '../analysis/parallel-scheme.js';
import { precisionScheme, precisionWeightsScheme } from '../analysis/precision-scheme.js';
import { maxContextScheme } from '../analysis/max-context-scheme.js';
import { smashScheme } from '../analysis/smash-scheme.js';
import { paramScheme } from '../parameterization/param-scheme.js';
import { elasticScheme } from '../supernet/elastic-scheme.js';
import type { SharingScheme } from '../sharing/scheme.js';
import { adaptScheme } from './adapt.js';
import { bankScheme } from './bank.js';
import { dictScheme } from './dict.js';
import { factorizeScheme } from './factorize.js';
import { freezeScheme, trainScheme } from './freeze-train.js';
import { hashScheme } from './hash.js';
import { routeScheme } from './route.js';
import { shareExpertsScheme } from './share-experts.js';
import { shareHeadsScheme } from './share-heads.js';
import { shareKvScheme } from './share-kv.js';
import { shareScheme } from './share.js';
import { tieScheme } from './tie.js';

export const SHARING_SCHEMES: readonly SharingScheme[] = [
  shareScheme,
  shareKvScheme,
  shareHeadsScheme,
  shareExpertsScheme,
  tieScheme,
  adaptScheme,
  hashScheme,
  bankScheme,
  dictScheme,
  routeScheme,
  freezeScheme,
  trainScheme,
  allocateScheme,
  factorizeScheme,
  parallelScheme,
  smashScheme,
  precisionScheme,
  precisionWeightsScheme,
  maxContextScheme,
  paramScheme,
  elasticScheme,
];
