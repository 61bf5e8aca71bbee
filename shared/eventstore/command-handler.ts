/**
 * Runs a command against a stream: read, fold, decide, append. On a version conflict (and
 * only then) it re-reads and decides again, so concurrent writers serialize without locks.
 */
import type { Clock, IdGenerator } from '../clock.ts';
import { VersionConflictError, type EventStore, type NewEvent, type StoredEvent } from './port.ts';

export interface Decider<Command, Event, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

export interface EventCodec<Event> {
  /** Parse a stored event into a domain event (zod at the boundary; upcasts old versions). */
  decode(stored: StoredEvent): Event;
  encode(event: Event): Pick<NewEvent, 'type' | 'schema_version' | 'data'>;
}

export interface CommandContext {
  readonly tenantId: string;
  readonly correlationId?: string | null;
  readonly causationId?: string | null;
}

export interface CommandResult<State> {
  readonly state: State;
  /** The whole stream after the command: what was read plus what was appended. */
  readonly events: readonly StoredEvent[];
  /** Events this command appended; empty when the command was a no-op. */
  readonly appended: readonly StoredEvent[];
  readonly version: number;
}

export class CommandRetriesExhaustedError extends Error {
  constructor(readonly streamId: string, readonly attempts: number, options?: ErrorOptions) {
    super(`gave up on stream ${streamId} after ${attempts} version conflicts`, options);
    this.name = 'CommandRetriesExhaustedError';
  }
}

export interface CommandHandlerDeps {
  readonly store: EventStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Attempts on version conflict before giving up. */
  readonly maxAttempts?: number;
}

export function commandHandler<Command, Event, State>(
  decider: Decider<Command, Event, State>,
  codec: EventCodec<Event>,
  deps: CommandHandlerDeps,
) {
  const maxAttempts = deps.maxAttempts ?? 10;

  async function load(streamId: string): Promise<{ state: State; version: number; stored: StoredEvent[] }> {
    const stored = await deps.store.readStream(streamId);
    return {
      state: stored.reduce((state, e) => decider.evolve(state, codec.decode(e)), decider.initialState()),
      version: stored.at(-1)?.version ?? 0,
      stored,
    };
  }

  async function handle(
    streamId: string,
    makeCommand: (now: string) => Command,
    context: CommandContext,
    /** Checked against the loaded state before deciding, e.g. tenant ownership; throws to refuse. */
    authorize: (state: State) => void = () => {},
    /**
     * The caller just minted this stream id, so it is almost surely empty: decide on the
     * initial state and append at version 0 without reading first. A conflict (the stream
     * did exist) falls back to the normal read–decide–append loop.
     */
    options: { expectNew?: boolean } = {},
  ): Promise<CommandResult<State>> {
    let lastConflict: VersionConflictError | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const { state, version, stored } =
        options.expectNew && attempt === 1 ? { state: decider.initialState(), version: 0, stored: [] as StoredEvent[] } : await load(streamId);
      authorize(state);
      const now = deps.clock.now();
      const events = decider.decide(makeCommand(now), state);
      if (events.length === 0) return { state, events: stored, appended: [], version };
      const newEvents: NewEvent[] = events.map((event) => ({
        ...codec.encode(event),
        event_id: deps.ids.next('evt'),
        occurred_at: now,
        tenant_id: context.tenantId,
        correlation_id: context.correlationId ?? null,
        causation_id: context.causationId ?? null,
      }));
      try {
        await deps.store.appendToStream(streamId, version, newEvents);
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
        lastConflict = error;
        continue;
      }
      const appended = newEvents.map((e, i) => ({ ...e, stream_id: streamId, version: version + i + 1 }));
      return {
        state: events.reduce(decider.evolve, state),
        events: [...stored, ...appended],
        appended,
        version: version + events.length,
      };
    }
    throw new CommandRetriesExhaustedError(streamId, maxAttempts, { cause: lastConflict });
  }

  return { handle, load };
}
