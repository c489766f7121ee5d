import { z } from 'zod';

/**
 * The schema map: the one place where a team's table and column names live,
 * and how every target value is derived from its legacy row. This file is the
 * single source of the map's TypeScript types and of its JSON Schema
 * (schema-map.schema.json, generated from it for editors). Cross-field rules
 * a JSON Schema cannot say (an org id that is not the user's key needs an
 * owner column, field names that clash with structural columns…) live in
 * map-model.ts; whether the database really has these tables is
 * `orgshift schema check`'s business (schema-check.ts).
 */

/**
 * A table or column name exactly as the database has it (mixed case allowed).
 * Always quoted in SQL, never spliced raw; NUL and control characters, and
 * more than 63 bytes, are refused.
 */
export const identifierSchema = z
  .string()
  .min(1)
  .refine((name) => Buffer.byteLength(name, 'utf8') <= 63, 'must be at most 63 bytes')
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  .refine((name) => !/[\u0000-\u001f\u007f"]/.test(name), 'must not contain control characters or double quotes')
  .meta({ description: 'A table or column name as the database has it (case-sensitive); always quoted.' });

/** `"table"`, `"schema.table"`, or `{ "schema", "name" }` when a name itself contains a dot. */
export const tableNameSchema = z
  .union([identifierSchema, z.strictObject({ schema: identifierSchema, name: identifierSchema }).readonly()])
  .meta({ description: 'A table: "name", "schema.name", or { "schema": …, "name": … }.' });

const jsonValue = z.json();

export const keyTypeSchema = z
  .enum(['text', 'uuid', 'integer', 'bigint'])
  .meta({ description: 'What a valid user key looks like; ids of another shape are refused before any I/O.' });

const markerSchema = z
  .discriminatedUnion('type', [
    z
      .strictObject({
        type: z.literal('timestamp'),
        column: identifierSchema,
        add: z.boolean().optional().meta({ description: 'Let `db migrate` add this column (and its index).' }),
      })
      .readonly()
      .meta({ description: 'A timestamp column: NULL means pending, set to now when migrated.' }),
    z
      .strictObject({
        type: z.literal('boolean'),
        column: identifierSchema,
        add: z.boolean().optional().meta({ description: 'Let `db migrate` add this column (and its index).' }),
      })
      .readonly()
      .meta({ description: 'A boolean column: false or NULL means pending, true when migrated.' }),
    z
      .strictObject({ type: z.literal('derived') })
      .readonly()
      .meta({
        description:
          'No marker column: a user is migrated once its target rows exist (moved: the user row; in place: the org column is set).',
      }),
  ])
  .meta({ description: 'How a legacy row says it was migrated. The conditional flip of this marker is the fence.' });

const legacySchema = z
  .strictObject({
    table: tableNameSchema,
    key: z
      .strictObject({
        column: identifierSchema.meta({ description: 'The lookup key (need not be the primary key).' }),
        type: keyTypeSchema,
        pattern: z.string().max(200).optional().meta({
          description:
            'For text keys: a regular expression every valid key matches (default: 1–255 visible characters).',
        }),
      })
      .readonly(),
    marker: markerSchema,
  })
  .readonly();

const defaultValue = { default: jsonValue.optional().meta({ description: 'Written when the source is NULL.' }) };

/** Every way a target column can get its value. Distinguished by which key is present. */
export const fieldSchema = z
  .union([
    z
      .strictObject({ column: identifierSchema, ...defaultValue })
      .readonly()
      .meta({ description: 'A legacy column.' }),
    z
      .strictObject({ json: identifierSchema, key: z.string().min(1), ...defaultValue })
      .readonly()
      .meta({ description: 'One key of a legacy JSON column.' }),
    z
      .strictObject({
        json: identifierSchema,
        pick: z.array(z.string().min(1)).readonly().optional(),
        omit: z.array(z.string().min(1)).readonly().optional(),
      })
      .readonly()
      .meta({ description: 'An object of some keys of a legacy JSON column (pick), or all but some (omit).' }),
    z.strictObject({ const: jsonValue }).readonly().meta({ description: 'A constant.' }),
    z
      .strictObject({ template: z.string().min(1).max(500), ...defaultValue })
      .readonly()
      .meta({
        description:
          'Text built from legacy columns: "{display_name|email} (personal)". `{a|b}` takes the first non-empty; `{key}` is the user key; `{{` and `}}` are literal braces.',
      }),
    z
      .strictObject({ slug: z.string().min(1).max(500), unique: z.boolean().optional() })
      .readonly()
      .meta({
        description:
          'A URL slug of a template; with unique, a suffix derived from the user key keeps it unique across users.',
      }),
    z
      .strictObject({ now: z.literal(true) })
      .readonly()
      .meta({ description: 'The migration time.' }),
    z
      .strictObject({
        secret: identifierSchema.meta({ description: 'The legacy column holding the secret.' }),
        from: z.string().min(1).meta({ description: 'Codec (in `codecs`) the legacy value is decoded with.' }),
        to: z.string().min(1).meta({ description: 'Codec the target value is encoded with.' }),
        encryptNull: z
          .boolean()
          .optional()
          .meta({ description: 'A NULL secret is written encrypted (JWE only), for NOT NULL target columns.' }),
      })
      .readonly()
      .meta({ description: 'A secret, decoded with one codec and re-encoded with another.' }),
    z
      .strictObject({ userKey: z.literal(true) })
      .readonly()
      .meta({ description: 'The user key.' }),
    z
      .strictObject({ orgId: z.literal(true) })
      .readonly()
      .meta({ description: "The personal org's id." }),
  ])
  .meta({ description: 'Where a target column gets its value.' });

const fieldsSchema = z
  .record(identifierSchema, fieldSchema)
  .readonly()
  .meta({ description: 'Target column → where its value comes from.' });

const idSchema = z
  .strictObject({
    column: identifierSchema,
    generate: z.enum(['user-key', 'uuid', 'random-text']).meta({
      description: "user-key: the user's key; uuid: a new UUID; random-text: prefix + 24 random base-36 characters.",
    }),
    prefix: z.string().max(20).optional(),
  })
  .readonly();

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const orgSchema = z
  .strictObject({
    table: tableNameSchema,
    id: idSchema,
    name: identifierSchema.optional().meta({ description: "Column shown as the org's name (default: its id)." }),
    kind: z.strictObject({ column: identifierSchema, personal: scalar }).readonly().optional().meta({
      description:
        'A column that says an org is personal, and its value for personal orgs (every other value is a team org).',
    }),
    owner: identifierSchema.optional().meta({
      description:
        "Column holding the personal org's owner (the user key); required unless the org id is the user key.",
    }),
    fields: fieldsSchema.optional(),
  })
  .readonly();

const userSchema = z
  .strictObject({
    table: tableNameSchema.optional().meta({ description: 'Moved shape only: the table new user rows go to.' }),
    id: identifierSchema.optional().meta({ description: "Moved shape: the user's id column, set to the user key." }),
    currentOrg: identifierSchema.meta({ description: "The user's current-org column, set to the personal org." }),
    email: identifierSchema.optional().meta({ description: "Column shown as the user's email." }),
    displayName: identifierSchema.optional().meta({ description: "Column shown as the user's display name." }),
    migratedAt: identifierSchema
      .optional()
      .meta({ description: 'Moved shape: a timestamp column of the new user row set to the migration time.' }),
    fields: fieldsSchema.optional(),
  })
  .readonly();

const roleSchema = z.union([
  z
    .strictObject({
      table: tableNameSchema,
      column: identifierSchema.meta({ description: "The membership's role column (a key of the roles table)." }),
      id: identifierSchema,
      name: identifierSchema,
      rank: identifierSchema.optional(),
      owner: z.string().min(1).meta({ description: "The owner role's name." }),
    })
    .readonly()
    .meta({ description: 'Roles in their own table, referenced by the membership.' }),
  z
    .strictObject({
      column: identifierSchema,
      owner: z.string().min(1),
      ranks: z.record(z.string(), z.int()).readonly().optional(),
    })
    .readonly()
    .meta({ description: "The role as a string on the membership ('owner')." }),
]);

const membershipSchema = z
  .strictObject({
    table: tableNameSchema,
    org: identifierSchema,
    user: identifierSchema,
    id: idSchema.optional().meta({ description: 'When memberships have an id column without a database default.' }),
    role: roleSchema,
    status: z.strictObject({ column: identifierSchema, active: scalar }).readonly().optional(),
    fields: fieldsSchema.optional(),
  })
  .readonly();

const targetSchema = z
  .strictObject({
    shape: z
      .enum(['moved', 'in-place'])
      .meta({ description: 'moved: a new user row per legacy row; in-place: the legacy table is the user table.' }),
    org: orgSchema,
    user: userSchema,
    membership: membershipSchema,
  })
  .readonly();

const dependentSchema = z
  .strictObject({
    table: tableNameSchema,
    userKey: z
      .strictObject({
        column: identifierSchema,
        references: identifierSchema
          .optional()
          .meta({ description: 'The legacy column this column holds (default: the lookup key).' }),
      })
      .readonly(),
    org: z
      .strictObject({
        column: identifierSchema,
        add: z.boolean().optional().meta({ description: 'Let `db migrate` add this column (and its index).' }),
        keepAssigned: z.boolean().optional().meta({
          description:
            'Only rows whose org column is NULL move to the personal org; rows already in an org stay there.',
        }),
      })
      .readonly()
      .optional()
      .meta({ description: "Update in place: this column is set to the personal org's id." }),
    copyTo: z
      .strictObject({
        table: tableNameSchema,
        columns: z
          .record(identifierSchema, fieldSchema)
          .readonly()
          .meta({ description: 'Columns of the copy; `column` sources name columns of the dependent row.' }),
        conflict: z
          .array(identifierSchema)
          .readonly()
          .optional()
          .meta({ description: 'Unique columns of the copy table: a copy that exists already is left alone.' }),
      })
      .readonly()
      .optional()
      .meta({ description: 'Copy each row into another table.' }),
  })
  .readonly();

const keySource = z
  .strictObject({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name') })
  .readonly()
  .meta({ description: 'Key material comes from this environment variable, never from the map.' });

export const codecSpecSchema = z.discriminatedUnion('codec', [
  z
    .strictObject({ codec: z.literal('aes-256-gcm'), key: keySource })
    .readonly()
    .meta({ description: 'AES-256-GCM, the user key as associated data: v1.<iv>.<tag>.<ciphertext>.' }),
  z
    .strictObject({
      codec: z.literal('fernet'),
      key: keySource,
      derive: z.enum(['none', 'sha256']).optional(),
      wrap: z.enum(['none', 'base64']).optional(),
      plaintextFallback: z.boolean().optional(),
    })
    .readonly()
    .meta({ description: "Fernet tokens (Python's cryptography)." }),
  z
    .strictObject({
      codec: z.literal('jwe'),
      key: keySource,
      derive: z.enum(['none', 'sha256']).optional(),
      kid: z.enum(['none', 'base62-sha256']).optional(),
    })
    .readonly()
    .meta({
      description:
        'JWE compact, alg dir, enc A256GCM, the secret as {"v": …} (what OpenHands writes in its org tables).',
    }),
  z.strictObject({ codec: z.literal('plaintext') }).readonly(),
]);

export const schemaMapSchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(1),
    legacy: legacySchema,
    target: targetSchema,
    dependents: z.array(dependentSchema).max(100).readonly().optional(),
    codecs: z.record(z.string().min(1), codecSpecSchema).readonly().optional(),
    createIndexes: z.boolean().optional().meta({
      description: 'Let `db migrate` create the (non-unique) indexes `schema check` asks for on your tables.',
    }),
  })
  .readonly()
  .meta({
    title: 'orgshift schema map',
    description: 'Legacy and target tables, and how each target value is derived.',
  });

export type SchemaMap = z.infer<typeof schemaMapSchema>;
export type TableName = z.infer<typeof tableNameSchema>;
export type KeyType = z.infer<typeof keyTypeSchema>;
export type Marker = SchemaMap['legacy']['marker'];
export type Field = z.infer<typeof fieldSchema>;
export type Fields = Readonly<Record<string, Field>>;
export type IdSpec = z.infer<typeof idSchema>;
export type RoleSpec = z.infer<typeof roleSchema>;
export type DependentSpec = z.infer<typeof dependentSchema>;
export type CodecSpec = z.infer<typeof codecSpecSchema>;
