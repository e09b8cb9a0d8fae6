/**
 * The catalog queries: one set-based query per object kind over the whole scope (never one per
 * table), chosen by server_version_num. Parameter $1 is always the array of in-scope namespace oids;
 * $2 of the per-kind queries the extension members to leave out (extensionMembersQuery).
 */

/** Oldest server the queries support (pg_trigger.tgparentid arrived in 13). */
export const MIN_SERVER_VERSION_NUM = 130000;

export const serverInfoQuery = `
select (pg_control_system()).system_identifier::text as system_identifier,
       current_setting('server_version') as server_version,
       current_setting('server_version_num')::int as server_version_num,
       current_database() as database,
       current_user::text as current_user,
       session_user::text as session_user,
       pg_is_in_recovery() as in_recovery,
       to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as taken_at`;

/**
 * The effective ACL as aclitem text (`grantee=privileges/grantor`), parsed by acl.ts. NULL means
 * the built-in default, so `acldefault` makes the effective privileges explicit and comparable.
 * Text is far cheaper for the server than aclexplode per row.
 */
function aclText(aclExpression: string, kind: "n" | "r" | "s" | "f", ownerExpression: string): string {
  return `coalesce(${aclExpression}, acldefault('${kind}', ${ownerExpression}))::text[]`;
}

/**
 * Objects that belong to an extension, per catalog: left out, since the extension itself is what
 * the snapshot records. Read once and passed to the other queries as an oid array, because a
 * pg_depend scan in every (partitioned) query would cost more than the query itself. A member's
 * entry (deptype 'e') always references its pg_extension row; saying so lets the planner use
 * pg_depend_reference_index instead of scanning all of pg_depend (with 10,000 tables: 85 ms and a
 * parallel worker in a fresh backend, against 10 ms), on the path before any table is read.
 */
export const extensionMembersQuery = `
select coalesce(array_agg(d.objid) filter (where d.classid = 'pg_class'::regclass), '{}') as relations,
       coalesce(array_agg(d.objid) filter (where d.classid = 'pg_type'::regclass), '{}') as types,
       coalesce(array_agg(d.objid) filter (where d.classid = 'pg_proc'::regclass), '{}') as routines
  from pg_depend d
 where d.refclassid = 'pg_extension'::regclass and d.deptype = 'e' and d.objsubid = 0
   and d.classid in ('pg_class'::regclass, 'pg_type'::regclass, 'pg_proc'::regclass)`;

/**
 * Tables in scope (as alias c): ordinary, partitioned and foreign; $4 the extension members left
 * out. $2/$3 split the tables into $2 partitions by a hash of the oid and keep partition $3, so
 * that several connections sharing one exported snapshot can each read a part.
 */
const tableFilter = `c.relnamespace = any($1::oid[]) and c.relkind in ('r', 'p', 'f') and c.oid <> all($4::oid[])
   and (hashoid(c.oid) & 2147483647) % $2::int = $3::int`;

/** Exported so that worker connections read the very same snapshot (SET TRANSACTION SNAPSHOT). */
export const exportSnapshotQuery = "select pg_export_snapshot() as id";

/**
 * $1: requested schema names, or NULL for every non-system schema. The pg_ prefix is reserved,
 * so `!~ '^pg_'` drops pg_catalog, pg_toast and the temporary schemas.
 */
const namespaceFilter = `case when $1::text[] is null then n.nspname <> 'information_schema' and n.nspname !~ '^pg_'
            else n.nspname = any($1::text[]) end`;

export const namespacesQuery = `
select n.oid, n.nspname as name, pg_get_userbyid(n.nspowner)::text as owner,
       ${aclText("n.nspacl", "n", "n.nspowner")} as acl
  from pg_namespace n
 where ${namespaceFilter}`;

/** How many tables the scope ($1 as for namespacesQuery) holds, to decide whether reading in parallel pays. */
export const tableCountQuery = `
select count(*)::int as count
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p', 'f') and ${namespaceFilter}`;

export const tablesQuery = `
select c.oid, n.nspname as schema, c.relname as name, c.relkind as kind, c.relpersistence as persistence,
       pg_get_userbyid(c.relowner)::text as owner, c.relrowsecurity as row_security,
       c.relforcerowsecurity as force_row_security,
       case when c.relispartition then
         (select pn.nspname || '.' || p.relname
            from pg_inherits i join pg_class p on p.oid = i.inhparent join pg_namespace pn on pn.oid = p.relnamespace
           where i.inhrelid = c.oid limit 1)
       end as partition_of,
       ${aclText("c.relacl", "r", "c.relowner")} as acl
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where ${tableFilter}`;

/**
 * Columns. Defaults and generation expressions come from defaultsQuery and the collation name is
 * looked up only where it differs from the type's: joins per column cost more than they save.
 */
export const columnsQuery = `
select a.attrelid as table_oid, a.attnum as position, a.attname as name,
       format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null,
       -- 0 for a domain: GetDefaultOpClass looks through it to the base type, which is left to the server.
       case when ty.typtype = 'd' then 0 else a.atttypid end as type_oid, a.attcollation as collation_oid,
       case when ty.typtype = 'b' and ty.typelem = 0 then ty.typcategory end as plain_category,
       a.attidentity as identity, a.attgenerated as generated_kind,
       case when a.attcollation <> 0 and a.attcollation <> ty.typcollation then
         (select case when co.collnamespace = 'pg_catalog'::regnamespace then co.collname::text
                      else cn.nspname || '.' || co.collname end
            from pg_collation co join pg_namespace cn on cn.oid = co.collnamespace
           where co.oid = a.attcollation)
       end as collation
  from pg_attribute a
  join pg_class c on c.oid = a.attrelid
  join pg_type ty on ty.oid = a.atttypid
 where ${tableFilter} and a.attnum > 0 and not a.attisdropped`;

/**
 * Column defaults and generation expressions (pg_attrdef), attached to the columns by position.
 * Only an expression that refers to columns (a Var node: generation expressions) needs its table
 * for deparsing; for the others relid 0 prints the same text without opening the table, which in
 * a fresh backend costs five times as much as the deparsing.
 */
export const defaultsQuery = `
select d.adrelid as table_oid, d.adnum as position,
       pg_get_expr(d.adbin, case when strpos(d.adbin::text, '{VAR ') > 0 then d.adrelid else 0 end) as expression
  from pg_attrdef d
  join pg_class c on c.oid = d.adrelid
 where ${tableFilter}`;

/**
 * Constraints with raw key numbers (as text, "1 2": cheaper than arrays through pg's parser) and
 * oids; names of columns, referenced tables and backing indexes are resolved from what the other
 * queries read (one pass, no per-row subqueries).
 * NOT NULL rows (contype 'n', PostgreSQL 18) are reported as the column's notNull only; clones
 * that partitions inherit (conparentid <> 0) belong to the parent's constraint.
 */
export function constraintsQuery(versionNum: number): string {
  // Composed on the client (definitions.ts) unless one of these applies; null definition = composed.
  const special = [
    "co.contype not in ('p', 'u', 'f')",
    ...(versionNum >= 150000 ? ["co.confdelsetcols is not null"] : []),
    // Temporal keys (WITHOUT OVERLAPS, PERIOD) and NOT ENFORCED arrived in 18.
    ...(versionNum >= 180000 ? ["co.conperiod", "not co.conenforced"] : []),
  ].join(" or ");
  return `
select co.oid, co.conrelid as table_oid, co.conname as name, co.contype as type,
       case when ${special} then pg_get_constraintdef(co.oid) end as definition, array_to_string(co.conkey, ' ') as key,
       co.condeferrable as deferrable, co.condeferred as initially_deferred, co.convalidated as validated,
       co.confrelid as ref_oid, array_to_string(co.confkey, ' ') as ref_key,
       co.confupdtype as on_update, co.confdeltype as on_delete, co.confmatchtype as match,
       co.conindid as index_oid
  from pg_constraint co
  join pg_class c on c.oid = co.conrelid
 where ${tableFilter} and co.contype in ('p', 'f', 'u', 'c', 'x', 't') and co.conparentid = 0`;
}

/** Indexes attached to a partitioned parent's index are clones, like the constraints above. */
export function indexesQuery(versionNum: number): string {
  // UNIQUE NULLS NOT DISTINCT arrived in 15.
  const nullsNotDistinct = versionNum >= 150000 ? "i.indnullsnotdistinct" : "false";
  return `
select i.indrelid as table_oid, i.indexrelid as oid, ic.relname as name,
       case when i.indexprs is not null or i.indpred is not null or ic.reloptions is not null
                 or am.amname not in ('btree', 'hash')
                 -- operator class options on a column (the opclass is then always printed)
                 or exists (select from pg_attribute ia where ia.attrelid = i.indexrelid and ia.attoptions is not null)
            then pg_get_indexdef(i.indexrelid) end as definition,
       i.indisunique as unique, i.indisprimary as primary, i.indisvalid as valid,
       ${nullsNotDistinct} as nulls_not_distinct,
       am.amname as am, ic.relkind = 'I' as partitioned, i.indnkeyatts as key_count, i.indkey::text as key,
       i.indclass::text as opclasses, i.indcollation::text as collations, i.indoption::text as options
  from pg_index i
  join pg_class c on c.oid = i.indrelid
  join pg_class ic on ic.oid = i.indexrelid
  join pg_am am on am.oid = ic.relam
 where ${tableFilter} and not ic.relispartition`;
}

/**
 * What definitions.ts needs from the server, in one round trip: the keywords quote_identifier
 * quotes, the default operator classes of btree and hash, and the implicit binary-coercible casts.
 * Oids as int8: json_build_object prints an oid as a string.
 */
export const definitionFactsQuery = `
select array(select word::text from pg_get_keywords() where catcode <> 'U') as keywords,
       (select coalesce(json_agg(json_build_object(
                  'oid', oc.oid::int8, 'am', am.amname, 'inputType', oc.opcintype::int8,
                  'pseudoInput', case when ty.typtype = 'p' then ty.typname::text end,
                  'inputCategory', ty.typcategory, 'inputPreferred', ty.typispreferred)), '[]')
          from pg_opclass oc join pg_am am on am.oid = oc.opcmethod join pg_type ty on ty.oid = oc.opcintype
         where oc.opcdefault and am.amname in ('btree', 'hash')) as default_opclasses,
       (select coalesce(json_agg(json_build_object('source', ca.castsource::int8, 'target', ca.casttarget::int8)), '[]')
          from pg_cast ca where ca.castmethod = 'b' and ca.castcontext = 'i') as binary_casts`;

/**
 * The server's own text for the indexes ($1) and constraints ($2) definitions.ts did not compose.
 * Joined with unnest rather than `= any`: with thousands of oids, `= any` compares each catalog row
 * with the whole array.
 */
export const serverDefinitionsQuery = `
select 'i' as kind, i.indexrelid as oid, pg_get_indexdef(i.indexrelid) as definition
  from unnest($1::oid[]) o(oid) join pg_index i on i.indexrelid = o.oid
union all
select 'c', co.oid, pg_get_constraintdef(co.oid)
  from unnest($2::oid[]) o(oid) join pg_constraint co on co.oid = o.oid`;

/** Names of relations outside the scope that foreign keys reference ($1: their oids). */
export const referencedRelationsQuery = `
select c.oid, n.nspname as schema, c.relname as name,
       array(select a.attnum from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 order by a.attnum) as positions,
       array(select a.attname::text from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 order by a.attnum) as names
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where c.oid = any($1::oid[])`;

/**
 * Output-affecting settings fixed for the snapshot, so the text of definitions, types and defaults
 * does not depend on the session: with search_path = pg_catalog every user object is qualified,
 * and constants in defaults print the same whatever the role's DateStyle or TimeZone.
 */
export function sessionSettingsSql(statementTimeoutMs: number, lockTimeoutMs: number | null): string {
  return [
    `SET LOCAL statement_timeout = ${statementTimeoutMs}`,
    ...(lockTimeoutMs === null ? [] : [`SET LOCAL lock_timeout = ${lockTimeoutMs}`]),
    "SET LOCAL search_path = pg_catalog",
    "SET LOCAL quote_all_identifiers = off",
    "SET LOCAL DateStyle = ISO",
    "SET LOCAL IntervalStyle = postgres",
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL extra_float_digits = 3",
    "SET LOCAL bytea_output = hex",
    "SET LOCAL lc_monetary = 'C'",
  ].join("; ");
}

/** User triggers: no internal (FK) triggers, no clones on partitions (tgparentid, 13+). */
export const triggersQuery = `
select t.tgrelid as table_oid, t.tgname as name, pg_get_triggerdef(t.oid) as definition, t.tgenabled as enabled
  from pg_trigger t
  join pg_class c on c.oid = t.tgrelid
 where ${tableFilter} and not t.tgisinternal and t.tgparentid = 0`;

export const viewsQuery = `
select n.nspname as schema, c.relname as name, c.relkind as kind, pg_get_userbyid(c.relowner)::text as owner,
       pg_get_viewdef(c.oid) as definition,
       ${aclText("c.relacl", "r", "c.relowner")} as acl
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where c.relnamespace = any($1::oid[]) and c.relkind in ('v', 'm') and c.oid <> all($2::oid[])`;

/** The owning column comes from the sequence's auto ('a', serial) or internal ('i', identity) dependency. */
export const sequencesQuery = `
select n.nspname as schema, c.relname as name, pg_get_userbyid(c.relowner)::text as owner,
       format_type(s.seqtypid, null) as data_type, s.seqstart::text as start, s.seqincrement::text as increment,
       s.seqmin::text as min, s.seqmax::text as max, s.seqcycle as cycle,
       ob.schema as owned_schema, ob.table as owned_table, ob.column as owned_column,
       ${aclText("c.relacl", "s", "c.relowner")} as acl
  from pg_sequence s
  join pg_class c on c.oid = s.seqrelid
  join pg_namespace n on n.oid = c.relnamespace
  left join lateral (
    select tn.nspname as schema, tc.relname as table, ta.attname as column
      from pg_depend d
      join pg_class tc on tc.oid = d.refobjid
      join pg_namespace tn on tn.oid = tc.relnamespace
      join pg_attribute ta on ta.attrelid = d.refobjid and ta.attnum = d.refobjsubid
     where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.objsubid = 0
       and d.refclassid = 'pg_class'::regclass and d.refobjsubid > 0 and d.deptype in ('a', 'i')
     limit 1) ob on true
 where c.relnamespace = any($1::oid[]) and c.oid <> all($2::oid[])`;

export const enumsQuery = `
select n.nspname as schema, t.typname as name, pg_get_userbyid(t.typowner)::text as owner,
       array(select e.enumlabel::text from pg_enum e where e.enumtypid = t.oid order by e.enumsortorder) as labels
  from pg_type t join pg_namespace n on n.oid = t.typnamespace
 where t.typnamespace = any($1::oid[]) and t.typtype = 'e' and t.oid <> all($2::oid[])`;

/** Domain NOT NULL is typnotnull (17+ also stores it as contype 'n', left out here). */
export const domainsQuery = `
select n.nspname as schema, t.typname as name, pg_get_userbyid(t.typowner)::text as owner,
       format_type(t.typbasetype, t.typtypmod) as base_type, t.typnotnull as not_null, t.typdefault as "default",
       coalesce((select json_agg(json_build_object('name', co.conname, 'definition', pg_get_constraintdef(co.oid)))
                   from pg_constraint co where co.contypid = t.oid and co.contype = 'c'), '[]'::json) as checks
  from pg_type t join pg_namespace n on n.oid = t.typnamespace
 where t.typnamespace = any($1::oid[]) and t.typtype = 'd' and t.oid <> all($2::oid[])`;

/** Stand-alone composite types only (relkind 'c'), not the row types of tables and views. */
export const compositeTypesQuery = `
select n.nspname as schema, t.typname as name, pg_get_userbyid(t.typowner)::text as owner,
       coalesce((select json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod))
                                 order by a.attnum)
                   from pg_attribute a where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped),
                '[]'::json) as attributes
  from pg_type t
  join pg_namespace n on n.oid = t.typnamespace
  join pg_class c on c.oid = t.typrelid and c.relkind = 'c'
 where t.typnamespace = any($1::oid[]) and t.typtype = 'c' and t.oid <> all($2::oid[])`;

/** Bodies are hashed on the server: they can be large and only a change matters. */
export function routinesQuery(versionNum: number): string {
  // SQL-standard bodies (BEGIN ATOMIC, 14+) live in prosqlbody with an empty prosrc.
  const body = versionNum >= 140000 ? "coalesce(pg_get_function_sqlbody(p.oid), p.prosrc)" : "p.prosrc";
  return `
select n.nspname as schema, p.proname as name, pg_get_function_identity_arguments(p.oid) as identity_arguments,
       p.prokind as kind, case when p.prokind <> 'p' then pg_get_function_result(p.oid) end as returns,
       l.lanname as language, p.provolatile as volatility, p.prosecdef as security_definer,
       pg_get_userbyid(p.proowner)::text as owner,
       encode(sha256(convert_to(coalesce(${body}, ''), 'UTF8')), 'hex') as body_sha256,
       ${aclText("p.proacl", "f", "p.proowner")} as acl
  from pg_proc p
  join pg_namespace n on n.oid = p.pronamespace
  join pg_language l on l.oid = p.prolang
 where p.pronamespace = any($1::oid[]) and p.oid <> all($2::oid[])`;
}

/** $2 true: every extension of the database (unscoped snapshot); else those installed in scope. */
export const extensionsQuery = `
select e.extname as name, e.extversion as version, n.nspname as schema
  from pg_extension e join pg_namespace n on n.oid = e.extnamespace
 where $2::boolean or e.extnamespace = any($1::oid[])`;

/** $1: role names; $2: in-scope namespace oids. */
export const rolesQuery = `
select r.name, ro.oid is not null as exists, coalesce(ro.rolcanlogin, false) as can_login,
       coalesce(ro.rolsuper, false) as superuser,
       array(select distinct g.rolname::text from pg_auth_members m join pg_roles g on g.oid = m.roleid
              where m.member = ro.oid) as member_of,
       case when ro.oid is null then '[]'::json else
         coalesce((select json_agg(json_build_object('schema', n.nspname,
                                                     'usage', has_schema_privilege(ro.oid, n.oid, 'USAGE'),
                                                     'create', has_schema_privilege(ro.oid, n.oid, 'CREATE')))
                     from pg_namespace n where n.oid = any($2::oid[])), '[]'::json)
       end as schema_privileges
  from unnest($1::text[]) r(name)
  left join pg_roles ro on ro.rolname = r.name`;
