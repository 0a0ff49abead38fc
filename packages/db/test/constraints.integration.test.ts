import { constraintSuite } from './constraint-suite.js';
import { openMigratedPglite, openMigratedPostgres } from './support/databases.js';

constraintSuite('PostgreSQL', () => openMigratedPostgres('db_constraints'));
// One PGlite instance for the file.
constraintSuite('PGlite', () => openMigratedPglite());
