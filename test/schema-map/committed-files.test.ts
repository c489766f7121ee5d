import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEMO_MAP } from '../../src/schema-map/demo-map.js';
import { schemaMapJsonSchema } from '../../src/schema-map/json-schema.js';
import { loadMapFile } from '../../src/schema-map/load-map.js';

// Files generated from the code and committed for editors and readers: these tests keep them from going stale.
describe('committed schema map files', () => {
  it('schema-map.schema.json is what `orgshift schema json-schema` prints', () => {
    const committed: unknown = JSON.parse(readFileSync('schema-map.schema.json', 'utf8'));
    expect(committed).toEqual(schemaMapJsonSchema());
  });

  it('examples/demo/orgshift.map.json is the built-in demo map, pointing editors at the JSON Schema', () => {
    const { $schema, ...map } = JSON.parse(readFileSync('examples/demo/orgshift.map.json', 'utf8'));
    expect($schema).toBe('../../schema-map.schema.json');
    expect(map).toEqual(DEMO_MAP);
    expect(loadMapFile('examples/demo/orgshift.map.json').map).toEqual({ $schema, ...DEMO_MAP });
  });
});
