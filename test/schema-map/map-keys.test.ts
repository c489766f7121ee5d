import { describe, expect, it } from 'vitest';
import { DEMO_MAP } from '../../src/schema-map/demo-map.js';
import { schemaMapJsonSchema } from '../../src/schema-map/json-schema.js';
import { checkMap } from '../../src/schema-map/load-map.js';

/**
 * Every key a map accepts does something. orgshift only ever creates
 * personal orgs and tells them apart by the kind column's personal value, so
 * a value for team orgs would be configuration that changes nothing: it is
 * refused, naming where it is, rather than silently ignored.
 */
describe('target.org.kind', () => {
  const withKind = (kind: Record<string, unknown>) => ({
    ...DEMO_MAP,
    target: { ...DEMO_MAP.target, org: { ...DEMO_MAP.target.org, kind } },
  });

  it('takes a column and the value of personal orgs', () => {
    const loaded = checkMap(withKind({ column: 'kind', personal: 'personal' }), 'map.json');
    expect(loaded.model.org.kind).toEqual({ column: 'kind', personal: 'personal' });
  });

  it('refuses a value for team orgs, which nothing would read, naming the map path', () => {
    expect(() => checkMap(withKind({ column: 'kind', personal: 'personal', team: 'team' }), 'map.json')).toThrow(
      /map\.json: target\.org\.kind: .*"team"/,
    );
  });

  it('is described without it in the JSON Schema editors read', () => {
    const schema = JSON.stringify(schemaMapJsonSchema());
    expect(schema).toContain('every other value is a team org');
    expect(schema).not.toMatch(/"team":/);
  });
});
