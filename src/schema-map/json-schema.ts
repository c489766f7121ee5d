import { z } from 'zod';
import { schemaMapSchema } from './schema-map.js';

/** The map's JSON Schema, generated from its zod definition (schema-map.schema.json is this, committed). */
export function schemaMapJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(schemaMapSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
