import { repositorySuite } from './repository-suite.js';
import { openMigratedPostgres } from './support/databases.js';

repositorySuite('PostgreSQL', () => openMigratedPostgres('db_repos'));
