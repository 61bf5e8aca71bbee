/** `npm run docs:events`: write docs/events/<type>.json from the zod schemas. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventJsonSchemas } from '../shared/integration/json-schemas.ts';

const dir = fileURLToPath(new URL('../docs/events/', import.meta.url));
mkdirSync(dir, { recursive: true });
for (const [type, schema] of Object.entries(eventJsonSchemas())) {
  writeFileSync(`${dir}${type}.json`, `${JSON.stringify(schema, null, 2)}\n`);
}
console.log(`wrote ${Object.keys(eventJsonSchemas()).length} schemas to docs/events/`);
