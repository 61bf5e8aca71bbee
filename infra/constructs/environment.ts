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
/** Only for the functions that build the webhook dispatcher (fan-out, retries, API replays). */
type WebhookQueueEnvName = 'CAPSTAN_WEBHOOK_RETRY_QUEUE_URL' | 'CAPSTAN_WEBHOOK_DEAD_LETTER_QUEUE_URL';

// Compile-time guard: renaming the bucket, bus or webhook queue variables in shared/config.ts breaks this.
type UnknownEnvNames = Exclude<ResourceEnvName | WebhookQueueEnvName, keyof CoreConfig>;
const everyNameIsInConfig: [UnknownEnvNames] extends [never] ? true : UnknownEnvNames = true;
void everyNameIsInConfig;

export type ResourceEnvironment = { readonly [Name in ResourceEnvName]: string };

/** The webhook retry queue's URL and its dead-letter queue's URL (`buildWebhookDispatcher` requires both). */
export type WebhookQueueEnvironment = { readonly [Name in WebhookQueueEnvName]: string };
