/**
 * The environment every Lambda function gets: the physical names of the resources that
 * `shared/config.ts` reads. All functions get all names, because a missing variable would
 * silently fall back to the config default (`capstan-events`, ...) instead of failing.
 * Access is still limited by each function's grants.
 */
import type { CoreConfig } from '../../shared/config.ts';

/**
 * Derived from the config schema: a new `CAPSTAN_*_TABLE` variable there breaks the infra
 * typecheck until the stack passes that table's name.
 */
type TableEnvName = Extract<keyof CoreConfig, `CAPSTAN_${string}_TABLE`>;
type ResourceEnvName = TableEnvName | 'CAPSTAN_BUCKET' | 'CAPSTAN_EVENT_BUS_NAME';

// Compile-time guard: renaming the bucket or bus variable in shared/config.ts breaks this.
type UnknownEnvNames = Exclude<ResourceEnvName, keyof CoreConfig>;
const everyNameIsInConfig: [UnknownEnvNames] extends [never] ? true : UnknownEnvNames = true;
void everyNameIsInConfig;

export type ResourceEnvironment = { readonly [Name in ResourceEnvName]: string };
