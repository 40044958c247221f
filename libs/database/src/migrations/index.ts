import { InitialSchema1764090000000 } from './1764090000000-initial-schema';

/** Every migration, in order. Add new ones at the end. */
export const allMigrations = [InitialSchema1764090000000];
