import { repositorySuite } from './repository-suite.js';
import { openMigratedPglite } from './support/databases.js';

// One PGlite instance for the whole file: a cold start costs 2-10 s.
repositorySuite('PGlite', () => openMigratedPglite());
