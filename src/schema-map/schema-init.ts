import { type Catalog, type ColumnInfo, columnOf, hasIndexOn, type TableInfo, type ValueStorage } from './catalog.js';
import { JsonComments, type JsonPath, printCommentedJson } from './commented-json.js';
import type { JsonValue } from './field-source.js';
import {
  columnNamed,
  copyable,
  EMAIL,
  emailColumn,
  foreignKeyColumn,
  isJson,
  isText,
  keyTypeOf,
  MEMBER_USER_COLUMN,
  MIGRATED,
  ORG_COLUMN_NAME,
  orgColumnOf,
  ownerColumnOf,
  primaryKeyColumn,
  primaryKeyColumns,
  required,
  SECRET,
  stripSecret,
  TIME_NAME,
  words,
} from './init-conventions.js';
import { analyse, type Layout } from './init-layout.js';
import { KEY_FAMILIES } from './schema-check.js';
import type { KeyType } from './schema-map.js';
import { labelOf, type QualifiedName } from './table-name.js';

export { NothingToDraftError } from './init-layout.js';

/** One guess the author must resolve. */
export interface DraftTodo {
  /** The map path the TODO sits on (`legacy.marker`). */
  readonly path: string;
  readonly message: string;
}

export interface MapDraft {
  /** The map as JSON with comments: what `schema init` prints. */
  readonly text: string;
  /** The same map as a value. */
  readonly map: { readonly [key: string]: JsonValue };
  readonly todos: readonly DraftTodo[];
}

export interface DraftOptions {
  /** Where the catalog came from, for the header (`postgres 127.0.0.1:5432/app`). */
  readonly source?: string;
}

/**
 * `orgshift schema init`: drafts a schema map from the catalog, the way
 * `prisma db pull` drafts a schema. Everything here reads names and types
 * only (no rows), so every choice is a guess from naming conventions and
 * constraints; each one is explained by a comment in the draft, and each
 * real guess is a `// TODO:` the author must resolve. The heuristics, in
 * the order they run:
 *
 * - bookkeeping tables (migration tools', orgshift's own) are ignored;
 * - target tables by name: org (org, orgs, organization(s), team(s),
 *   workspace(s)), membership (org_member(s), membership(s), …; else a table
 *   with a foreign key to the org table), roles (role, roles); the target
 *   user table is the one the membership's user column references, else one
 *   named user/users/account(s);
 * - the legacy table: among tables with an email-like column, the one most
 *   other tables reference by its key, preferring a table that is not the
 *   target user table and has no org column (moved shape), and names like
 *   user_settings/users/accounts; the target user table itself when it is
 *   the only candidate and has a current-org column (in place);
 * - its key: an indexed `*user_id`-like column when the primary key is a
 *   generated surrogate, else the primary key (text, uuid, integer, bigint);
 *   text keys are taken for UUIDs when the ids they must fill are uuid;
 * - the marker: a `*migrated*` boolean (boolean) or timestamp (timestamp)
 *   column, else derived;
 * - dependents: every other table with a column that references the key by
 *   foreign key or by name (user_id, the key's own name such as
 *   keycloak_user_id, userId), with its org column; without one, a table
 *   named like it plus a suffix that has an org column is taken for its copy;
 * - fields: target columns with a legacy column of the same name; secrets
 *   (*api_key*, *secret*, *token*, *password*) re-encrypted, codecs TODO;
 *   a JSON column from the legacy table's only JSON column; org names and
 *   slugs from templates; every other NOT NULL column without a default is
 *   a TODO.
 */
export async function draftMap(catalog: Catalog, options: DraftOptions = {}): Promise<MapDraft> {
  const names = await catalog.tables();
  const snapshot = await catalog.describe(names);
  const tables = names.flatMap((name) => {
    const table = snapshot.get(name);
    return table === undefined ? [] : [table];
  });
  return draftMapOf(tables, { defaultSchema: snapshot.defaultSchema, storage: catalog.storage }, options);
}

/** What the draft needs to know of the database besides its tables. */
export interface DraftDatabase {
  /** Where unqualified names live: tables elsewhere are named with their schema. */
  readonly defaultSchema: string;
  readonly storage: ValueStorage;
}

/** The same, over tables already described (what the unit tests feed it). */
export function draftMapOf(
  tables: readonly TableInfo[],
  database: DraftDatabase,
  options: DraftOptions = {},
): MapDraft {
  return new Drafter(analyse(tables), database).draft(options);
}

type Obj = { [key: string]: JsonValue };

const LEGACY_CODEC = 'legacy';
const TARGET_CODEC = 'target';

class Drafter {
  readonly #comments = new JsonComments();
  readonly #todos: DraftTodo[] = [];
  #secrets = 0;
  #keyType: KeyType = 'text';

  constructor(
    readonly layout: Layout,
    readonly database: DraftDatabase,
  ) {}

  draft(options: DraftOptions): MapDraft {
    const map: Obj = { version: 1 };
    map.legacy = this.#legacy();
    map.target = this.#target();
    map.dependents = this.#dependents();
    if (this.#secrets > 0) map.codecs = this.#codecs();
    const text = printCommentedJson(map, this.#comments, this.#header(options));
    return Object.freeze({ text, map, todos: Object.freeze([...this.#todos]) });
  }

  #note(path: JsonPath, text: string): void {
    this.#comments.add(path, text);
  }

  #todo(path: JsonPath, text: string): void {
    this.#comments.add(path, `TODO: ${text}`);
    this.#todos.push(Object.freeze({ path: path.join('.'), message: text }));
  }

  #header(options: DraftOptions): string[] {
    const { tables, ignored } = this.layout;
    const todos = this.#todos.length;
    return [
      `orgshift schema map, drafted by \`orgshift schema init\`${options.source ? ` from ${options.source}` : ''}`,
      `(${tables.length} table${tables.length === 1 ? '' : 's'} read${ignored.length > 0 ? `; bookkeeping tables ignored: ${ignored.map((t) => this.#label(t.name)).join(', ')}` : ''}).`,
      'Every choice below is a guess from names, types and constraints (no rows were read),',
      'explained by the comment above it.',
      todos > 0
        ? `Resolve the ${todos} TODO${todos === 1 ? '' : 's'}, then run \`orgshift schema check\` against the database.`
        : 'Check the guesses, then run `orgshift schema check` against the database.',
      'For completion in an editor: `orgshift schema json-schema > schema-map.schema.json`,',
      'then add "$schema": "./schema-map.schema.json" below.',
    ];
  }

  /** For comments: unqualified in the default schema. */
  #label(name: QualifiedName): string {
    return name.schema === null || name.schema === this.database.defaultSchema ? name.name : labelOf(name);
  }

  /** A table as the map names it: unqualified in the default schema. */
  #name(table: TableInfo): JsonValue {
    const { schema, name } = table.name;
    if (schema === null || schema === this.database.defaultSchema) {
      return name.includes('.') ? { schema: schema ?? this.database.defaultSchema, name } : name;
    }
    return schema.includes('.') || name.includes('.') ? { schema, name } : `${schema}.${name}`;
  }

  // ---- legacy

  #legacy(): Obj {
    const { legacy } = this.layout;
    const table = legacy.table;
    const refs = legacy.dependents.map((d) => this.#label(d.table.name));
    this.#note(
      ['legacy'],
      `looks like the legacy users table: ${legacy.email ? `has an email column (${legacy.email.name})` : 'has no email column but a users-like name'} and ${refs.length} table${refs.length === 1 ? '' : 's'} reference${refs.length === 1 ? 's' : ''} it${refs.length > 0 ? ` (${refs.join(', ')})` : ''}.`,
    );
    if (legacy.others.length > 0) {
      this.#note(['legacy'], `Also considered: ${legacy.others.map((t) => this.#label(t.name)).join(', ')}.`);
    }
    return { table: this.#name(table), key: this.#key(), marker: this.#marker() };
  }

  #key(): Obj {
    const { legacy, org, user } = this.layout;
    const column = legacy.key.column;
    const path = ['legacy', 'key'];
    this.#note(path, legacy.key.why);
    if (!hasIndexOn(legacy.table, [column.name])) {
      this.#todo(
        path,
        `${this.#label(legacy.table.name)}.${column.name} has no index: every read looks a user up by it (schema check prints the statement)`,
      );
    }
    let type = keyTypeOf(column.family);
    if (type === null) {
      this.#todo(
        path,
        `${column.name} has type ${column.type}, which is not a key type orgshift knows (text, uuid, integer, bigint)`,
      );
      type = 'text';
    }
    // Text keys must be UUIDs when they become uuid ids: the user id (moved) or the personal org's id.
    const filled = [user, org && !ownerColumnOf(org) ? org : null].flatMap((t) => {
      const id = t ? primaryKeyColumn(t) : undefined;
      return t && id?.family === 'uuid' ? [`${this.#label(t.name)}.${id.name}`] : [];
    });
    if (type === 'text' && filled.length > 0) {
      type = 'uuid';
      this.#todo(
        path,
        `${column.name} is ${column.type} but becomes uuid ids (${filled.join(', ')}), so keys are taken for UUIDs:\ncheck that every key is one ("uuid" refuses any other id before any I/O).`,
      );
    }
    this.#keyType = type;
    return { column: column.name, type };
  }

  #marker(): Obj {
    const { legacy, inPlace } = this.layout;
    const path = ['legacy', 'marker'];
    const candidates = legacy.table.columns.filter((c) => MIGRATED.test(words(c.name)));
    for (const column of candidates) {
      if (this.#holdsBoolean(column)) {
        this.#note(path, `${column.name} is a ${column.type} "migrated" flag: false or NULL means pending.`);
        return { type: 'boolean', column: column.name };
      }
      if (this.#holdsTimestamp(column)) {
        this.#note(path, `${column.name} (${column.type}) is a "migrated" time: NULL means pending.`);
        return { type: 'timestamp', column: column.name };
      }
    }
    if (candidates.length > 0) {
      const found = candidates.map((c) => `${c.name} (${c.type})`).join(', ');
      this.#note(path, `${found} cannot hold a timestamp or a boolean in this database, so it is not the marker.`);
    }
    const current = inPlace ? orgColumnOf(legacy.table, this.layout.org) : undefined;
    this.#todo(
      path,
      [
        'no migrated marker column found, so "derived" is drafted: a user counts as migrated once its target rows exist',
        inPlace
          ? `(in place: once ${current?.name ?? 'its org column'} is set).`
          : '(moved: once its user row exists).',
        'Or keep a marker on the legacy row, which makes "pending" one indexed scan:',
        '{ "type": "timestamp", "column": "migrated_at", "add": true } lets `orgshift db migrate` add the column;',
        'a boolean works the same way ({ "type": "boolean", … }).',
      ].join('\n'),
    );
    if (current && !current.nullable) {
      this.#todo(
        path,
        `${current.name} is NOT NULL, but a derived marker in place needs it NULL until a user is migrated: use a marker column`,
      );
    }
    return { type: 'derived' };
  }

  // ---- target

  #target(): Obj {
    const { inPlace, legacy } = this.layout;
    this.#note(
      ['target', 'shape'],
      inPlace
        ? `in place: ${this.#label(legacy.table.name)} has an org column, so it is the user table; migration adds the personal org and the owner membership.`
        : `moved: ${this.#label(legacy.table.name)} has no org column, so each legacy row becomes a new user row.`,
    );
    return {
      shape: inPlace ? 'in-place' : 'moved',
      org: this.#org(),
      user: this.#user(),
      membership: this.#membership(),
    };
  }

  #org(): Obj {
    const path = ['target', 'org'];
    const org = this.layout.org;
    if (org === null) {
      this.#todo(
        path,
        'no org table found (org, orgs, organization(s), team(s), workspace(s)): create one or name yours',
      );
      return { table: 'orgs', id: { column: 'id', generate: 'user-key' }, name: 'name' };
    }
    const spec: Obj = { table: this.#name(org) };
    const owner = ownerColumnOf(org);
    const idColumn = primaryKeyColumn(org);
    spec.id = this.#orgId(org, idColumn, owner);
    const nameColumn = columnNamed(org, ['name', 'display_name', 'title']);
    if (nameColumn) spec.name = nameColumn.name;
    const kind = this.#orgKind(org);
    if (kind) spec.kind = kind;
    if (owner) {
      spec.owner = owner.name;
      this.#note([...path, 'owner'], `${owner.name} holds the personal org's owner (the user key).`);
      if (!hasIndexOn(org, [owner.name], true)) {
        this.#todo(
          [...path, 'owner'],
          `${this.#label(org.name)}.${owner.name} has no unique index, which orgshift needs to find a user's personal org by it\n(schema check prints the statement; a user who owns several orgs needs another owner column)`,
        );
      }
    }
    const structural = [idColumn?.name ?? 'id', kind ? String((kind as Obj).column) : '', owner?.name ?? ''];
    const fields = this.#fields([...path, 'fields'], org, structural, { orgName: nameColumn });
    if (Object.keys(fields).length > 0) spec.fields = fields;
    return spec;
  }

  #orgId(org: TableInfo, idColumn: ColumnInfo | undefined, owner: ColumnInfo | undefined): Obj {
    const path = ['target', 'org', 'id'];
    if (idColumn === undefined) {
      this.#todo(path, `${this.#label(org.name)} has no single-column primary key: name its id column`);
      return { column: 'id', generate: 'user-key' };
    }
    const holdsKey = KEY_FAMILIES[this.#keyType].includes(idColumn.family);
    if (owner !== undefined) {
      if (idColumn.family === 'uuid')
        return this.#withNote(path, 'a new UUID per personal org (the org has an owner column)', {
          column: idColumn.name,
          generate: 'uuid',
        });
      if (isText(idColumn)) {
        return this.#withNote(
          path,
          'a new random text id per personal org (the org has an owner column; "prefix" may add one)',
          {
            column: idColumn.name,
            generate: 'random-text',
          },
        );
      }
    }
    if (holdsKey)
      return this.#withNote(path, "a personal org's id is its owner's user key", {
        column: idColumn.name,
        generate: 'user-key',
      });
    this.#todo(
      path,
      `${idColumn.name} is ${idColumn.type}: it cannot hold the user key and orgshift cannot generate it (uuid, random-text); change its type or the key's`,
    );
    return { column: idColumn.name, generate: 'user-key' };
  }

  #orgKind(org: TableInfo): Obj | null {
    const path = ['target', 'org', 'kind'];
    const flag = columnNamed(org, ['is_personal', 'personal']);
    if (flag && (flag.family === 'boolean' || flag.family === 'integer')) {
      return this.#withNote(path, `${flag.name} marks personal orgs.`, {
        column: flag.name,
        personal: true,
      });
    }
    const kind = columnNamed(org, ['kind', 'type', 'org_type', 'organization_type', 'account_type']);
    if (kind && isText(kind)) {
      this.#todo(
        path,
        `check the values your app stores in ${kind.name}: "personal" marks personal orgs, any other value a team org`,
      );
      return { column: kind.name, personal: 'personal' };
    }
    return null;
  }

  #user(): Obj {
    const path = ['target', 'user'];
    const { inPlace, legacy, org } = this.layout;
    if (inPlace) {
      const current = orgColumnOf(legacy.table, org);
      const spec: Obj = { currentOrg: current?.name ?? 'current_org_id' };
      if (current === undefined)
        this.#todo(
          [...path, 'currentOrg'],
          `name the column of ${this.#label(legacy.table.name)} that holds the user's current org`,
        );
      this.#shownColumns(spec, legacy.table);
      return spec;
    }
    const user = this.layout.user;
    if (user === null) {
      this.#todo(
        path,
        'no target user table found (user, users, or the table the membership references): create one or name yours',
      );
      return { table: 'org_users', id: 'id', currentOrg: 'current_org_id' };
    }
    const spec: Obj = { table: this.#name(user) };
    const id = primaryKeyColumn(user);
    spec.id = id?.name ?? 'id';
    if (id === undefined)
      this.#todo([...path, 'id'], `${this.#label(user.name)} has no single-column primary key: name its id column`);
    const current = orgColumnOf(user, org);
    spec.currentOrg = current?.name ?? 'current_org_id';
    if (current === undefined)
      this.#todo(
        [...path, 'currentOrg'],
        `name the column of ${this.#label(user.name)} that holds the user's current org`,
      );
    this.#shownColumns(spec, user);
    const migratedAt = user.columns.find((c) => MIGRATED.test(words(c.name)) && this.#holdsTimestamp(c));
    if (migratedAt) spec.migratedAt = migratedAt.name;
    const structural = [spec.id as string, spec.currentOrg as string, migratedAt?.name ?? ''];
    const fields = this.#fields([...path, 'fields'], user, structural, {});
    if (Object.keys(fields).length > 0) spec.fields = fields;
    return spec;
  }

  #shownColumns(spec: Obj, table: TableInfo): void {
    const email = emailColumn(table);
    if (email) spec.email = email.name;
    const display = columnNamed(table, ['display_name', 'name', 'full_name', 'username', 'user_name']);
    if (display) spec.displayName = display.name;
  }

  #membership(): Obj {
    const path = ['target', 'membership'];
    const { membership, org, inPlace, legacy } = this.layout;
    if (membership === null) {
      this.#todo(path, 'no membership table found (org_member(s), membership(s), …): create one or name yours');
      return { table: 'org_members', org: 'org_id', user: 'user_id', role: { column: 'role', owner: 'owner' } };
    }
    const userTable = inPlace ? legacy.table : this.layout.user;
    const spec: Obj = { table: this.#name(membership) };
    const orgColumn = (org ? foreignKeyColumn(membership, org) : undefined) ?? columnNamed(membership, ORG_COLUMN_NAME);
    const userColumn =
      (userTable ? foreignKeyColumn(membership, userTable) : undefined) ?? columnNamed(membership, MEMBER_USER_COLUMN);
    spec.org = orgColumn?.name ?? 'org_id';
    if (orgColumn === undefined)
      this.#todo([...path, 'org'], `name the column of ${this.#label(membership.name)} that holds the org`);
    spec.user = userColumn?.name ?? 'user_id';
    if (userColumn === undefined)
      this.#todo([...path, 'user'], `name the column of ${this.#label(membership.name)} that holds the user`);
    const id = this.#membershipId(membership, [spec.org as string, spec.user as string]);
    if (id) spec.id = id;
    spec.role = this.#role(membership);
    const status = this.#status(membership);
    if (status) spec.status = status;
    const role = spec.role as Obj;
    const structural = [
      spec.org as string,
      spec.user as string,
      String(role.column),
      id ? String(id.column) : '',
      status ? String(status.column) : '',
    ];
    const fields = this.#fields([...path, 'fields'], membership, structural, {});
    if (Object.keys(fields).length > 0) spec.fields = fields;
    return spec;
  }

  #membershipId(membership: TableInfo, taken: readonly string[]): Obj | null {
    const id = primaryKeyColumn(membership);
    // Not required(): SQLite lets a text primary key hold NULL unless it says NOT NULL, and nobody means that.
    if (id === undefined || taken.includes(id.name) || id.generated || id.hasDefault) return null;
    const path = ['target', 'membership', 'id'];
    if (id.family === 'uuid')
      return this.#withNote(path, `${id.name} has no default: orgshift generates a UUID`, {
        column: id.name,
        generate: 'uuid',
      });
    if (isText(id))
      return this.#withNote(path, `${id.name} has no default: orgshift generates a random text id`, {
        column: id.name,
        generate: 'random-text',
      });
    this.#todo(
      path,
      `${id.name} is ${id.type} without a default: give it one (orgshift generates only uuid and text ids)`,
    );
    return { column: id.name, generate: 'uuid' };
  }

  #role(membership: TableInfo): Obj {
    const path = ['target', 'membership', 'role'];
    const roles = this.layout.roles;
    const viaTable = roles ? (foreignKeyColumn(membership, roles) ?? columnNamed(membership, ['role_id'])) : undefined;
    if (roles && viaTable) {
      const name = columnNamed(roles, ['name', 'role_name', 'key', 'slug']);
      const rank = columnNamed(roles, ['rank', 'level', 'priority']);
      const spec: Obj = {
        table: this.#name(roles),
        column: viaTable.name,
        id: primaryKeyColumn(roles)?.name ?? 'id',
        name: name?.name ?? 'name',
      };
      if (rank) spec.rank = rank.name;
      spec.owner = 'owner';
      this.#note(
        path,
        `roles in ${this.#label(roles.name)}; orgshift checks at start that a role named "owner" exists.`,
      );
      if (name === undefined)
        this.#todo([...path, 'name'], `name the column of ${this.#label(roles.name)} that holds a role's name`);
      return spec;
    }
    const column = columnNamed(membership, ['role', 'role_name', 'member_role', 'membership_role']);
    if (column) {
      this.#todo(path, `the role is a string in ${column.name}: check the value your app stores for an org's owner`);
      return { column: column.name, owner: 'owner' };
    }
    this.#todo(
      path,
      `no role column found in ${this.#label(membership.name)}: name it (a string, or a key of a roles table)`,
    );
    return { column: 'role', owner: 'owner' };
  }

  #status(membership: TableInfo): Obj | null {
    const path = ['target', 'membership', 'status'];
    const flag = columnNamed(membership, ['is_active', 'active']);
    if (flag && flag.family === 'boolean')
      return this.#withNote(path, `${flag.name} marks active members.`, { column: flag.name, active: true });
    const status = columnNamed(membership, ['status', 'state']);
    if (status === undefined) return null;
    this.#todo(path, `check the value your app stores in ${status.name} for an active member`);
    return { column: status.name, active: 'active' };
  }

  // ---- fields

  #fields(
    path: JsonPath,
    target: TableInfo,
    structural: readonly string[],
    roles: { readonly orgName?: ColumnInfo },
  ): Obj {
    const fields: Obj = {};
    const legacy = this.layout.legacy.table;
    const marker = legacy.columns.filter((c) => MIGRATED.test(words(c.name))).map((c) => c.name);
    const sources = legacy.columns.filter((c) => !marker.includes(c.name));
    const legacyJson = sources.filter(isJson);
    const display = columnNamed(legacy, ['display_name', 'name', 'full_name', 'username', 'user_name']);
    const email = this.layout.legacy.email;
    const fallback = [display?.name, email?.name, 'key']
      .filter((n): n is string => n !== undefined && !/[{}|]/.test(n))
      .join('|');
    for (const column of target.columns) {
      // A primary key the migration does not set is the database's (a default) or the map's (an id spec), never a copied value.
      if (structural.includes(column.name) || column.generated || primaryKeyColumns(target).includes(column.name))
        continue;
      const at = [...path, column.name];
      const same =
        sources.find((s) => s.name === column.name) ?? sources.find((s) => words(s.name) === words(column.name));
      if (SECRET.test(words(column.name)) && isText(column)) {
        const secret = sources.find((s) => stripSecret(s.name) === stripSecret(column.name) && isText(s));
        if (secret) {
          fields[column.name] = { secret: secret.name, from: LEGACY_CODEC, to: TARGET_CODEC };
          this.#note(
            at,
            `a secret: decoded from ${secret.name} with the "${LEGACY_CODEC}" codec, re-encoded with "${TARGET_CODEC}" (see codecs).`,
          );
          this.#secrets += 1;
          continue;
        }
      }
      if (column === roles.orgName) {
        const unique = hasIndexOn(target, [column.name], true);
        fields[column.name] = { template: unique ? '{key} (personal)' : `{${fallback}} (personal)` };
        this.#note(
          at,
          unique
            ? `${column.name} is unique: the user key keeps personal org names apart.`
            : `the personal org's name, from the user's name or email.`,
        );
        continue;
      }
      if (words(column.name) === 'slug' && isText(column)) {
        const unique = hasIndexOn(target, [column.name], true);
        fields[column.name] = unique ? { slug: `{${fallback}}`, unique: true } : { slug: `{${fallback}}` };
        this.#note(
          at,
          `a URL slug of the user's name or email${unique ? '; unique, so a suffix from the user key keeps it apart' : ''}.`,
        );
        continue;
      }
      if (same && copyable(same.family, column.family)) {
        fields[column.name] = { column: same.name };
        continue;
      }
      if (same)
        this.#note(
          at,
          `not mapped: ${this.#label(legacy.name)}.${same.name} is ${same.type}, ${column.name} is ${column.type}.`,
        );
      if (!same && email && EMAIL.test(words(column.name)) && isText(column)) {
        fields[column.name] = { column: email.name };
        this.#note(at, `the user's email (${email.name}).`);
        continue;
      }
      const json = legacyJson.length === 1 ? legacyJson[0] : undefined;
      if (isJson(column) && json) {
        fields[column.name] = { json: json.name };
        this.#todo(
          at,
          `all of ${json.name} is copied: narrow it with "pick" or "omit" (a list of keys), or remove this field`,
        );
        continue;
      }
      if (!required(column)) continue;
      if (
        ['timestamp', 'timestamptz'].includes(column.family) &&
        /(created|updated|inserted)_(at|on)$/.test(words(column.name))
      ) {
        fields[column.name] = { now: true };
        this.#note(at, 'NOT NULL without a default: the migration time.');
        continue;
      }
      fields[column.name] = { const: null };
      this.#todo(
        at,
        `${this.#label(target.name)}.${column.name} (${column.type}) is NOT NULL without a default: give it a value (column, json, const, template…)`,
      );
    }
    return fields;
  }

  // ---- dependents

  #dependents(): JsonValue[] {
    const { legacy, org } = this.layout;
    const taken = new Set<TableInfo>(legacy.dependents.map((d) => d.table));
    return legacy.dependents.map((d, i) => {
      const path = ['dependents', i];
      const spec: Obj = {
        table: this.#name(d.table),
        userKey:
          d.references === legacy.key.column.name
            ? { column: d.column.name }
            : { column: d.column.name, references: d.references },
      };
      const notes = [`references ${this.#label(legacy.table.name)}.${d.references} ${d.how}.`];
      if (!hasIndexOn(d.table, [d.column.name]))
        notes.push(`${d.column.name} has no index: schema check prints the statement that adds one.`);
      this.#note(path, notes.join(' '));
      const orgColumn = orgColumnOf(d.table, org);
      if (orgColumn) {
        spec.org = { column: orgColumn.name };
        return spec;
      }
      const copy = this.#copyTable(d.table, taken);
      if (copy) {
        taken.add(copy);
        spec.copyTo = this.#copyTo([...path, 'copyTo'], d.table, copy);
        return spec;
      }
      const camel = /[A-Z]/.test(d.column.name);
      spec.org = { column: camel ? 'organizationId' : 'org_id', add: true };
      this.#todo(
        [...path, 'org'],
        `${this.#label(d.table.name)} has no org column: with "add": true, \`orgshift db migrate\` adds it; or copy its rows into another table ("copyTo"), or drop this dependent`,
      );
      return spec;
    });
  }

  /** A table named like the dependent plus a suffix, with an org column: where its rows get copied. */
  #copyTable(dependent: TableInfo, taken: ReadonlySet<TableInfo>): TableInfo | undefined {
    const { legacy, org, membership, roles, user } = this.layout;
    const prefix = `${words(dependent.name.name)}_`;
    return this.layout.tables.find(
      (t) =>
        !taken.has(t) &&
        ![legacy.table, org, membership, roles, user].includes(t) &&
        words(t.name.name).startsWith(prefix) &&
        orgColumnOf(t, org) !== undefined,
    );
  }

  #copyTo(path: JsonPath, dependent: TableInfo, copy: TableInfo): Obj {
    const { org, user, legacy } = this.layout;
    const orgColumn = orgColumnOf(copy, org);
    const columns: Obj = {};
    for (const column of copy.columns) {
      if (column.generated) continue;
      const userTable = user ?? legacy.table;
      if (column === orgColumn) columns[column.name] = { orgId: true };
      else if (foreignKeyColumn(copy, userTable) === column || MEMBER_USER_COLUMN.test(words(column.name)))
        columns[column.name] = { userKey: true };
      else if (columnOf(dependent, column.name)) columns[column.name] = { column: column.name };
      else if (required(column)) {
        columns[column.name] = { const: null };
        this.#todo([...path, 'columns', column.name], `NOT NULL without a default: give it a value`);
      }
    }
    const spec: Obj = { table: this.#name(copy), columns };
    const pk = primaryKeyColumns(copy);
    if (pk.length > 0 && pk.every((c) => c in columns)) spec.conflict = [...pk];
    this.#todo(
      path,
      `${this.#label(dependent.name)} has no org column but ${this.#label(copy.name)} looks like its copy with one: check the copied columns`,
    );
    return spec;
  }

  // ---- codecs

  #codecs(): Obj {
    this.#todo(
      ['codecs'],
      [
        `choose how the ${this.#secrets} secret field${this.#secrets === 1 ? ' is' : 's are'} stored: "${LEGACY_CODEC}" must read today's values`,
        '(aes-256-gcm, fernet with its derive/wrap options, or plaintext), "target" writes the new ones.',
        'Key material comes from environment variables only, never from this file.',
      ].join('\n'),
    );
    return {
      [LEGACY_CODEC]: { codec: 'plaintext' },
      [TARGET_CODEC]: { codec: 'aes-256-gcm', key: { env: 'ORGSHIFT_SECRET_KEY' } },
    };
  }

  /** A boolean column, or where booleans are stored as integers, an integer named like a flag. */
  #holdsBoolean(column: ColumnInfo): boolean {
    const flagName = /^(is|already|has)_/.test(words(column.name));
    return this.database.storage.boolean.includes(column.family) && (column.family === 'boolean' || flagName);
  }

  /** A timestamp column, or where timestamps are stored as text, a text column named like a time. */
  #holdsTimestamp(column: ColumnInfo): boolean {
    const timeName = TIME_NAME.test(words(column.name));
    return this.database.storage.timestamp.includes(column.family) && (!isText(column) || timeName);
  }

  #withNote(path: JsonPath, text: string, value: Obj): Obj {
    this.#note(path, text);
    return value;
  }
}
