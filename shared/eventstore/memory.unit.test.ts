import { eventStoreContract } from '../../test/contracts/event-store.contract.ts';
import { InMemoryEventStore } from './memory.ts';

eventStoreContract('in-memory', () => new InMemoryEventStore());
