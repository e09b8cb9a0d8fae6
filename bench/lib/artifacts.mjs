// The SQL artifacts the sql-lint and tx-apply pairs use (psql scripts, as the real ones are).

/**
 * sql-lint's artifact: exactly `statements` statements (default 20,000): BEGIN, DDL, COMMIT. The
 * DDL mixes what real artifacts hold: CREATE TABLE with inline and table-level PRIMARY KEY, UNIQUE,
 * FOREIGN KEY and CHECK, ALTER TABLE ... ADD CONSTRAINT, CREATE INDEX and COMMENT ON (with a
 * `CREATE TABLE` inside its string literal), with comments between statements; every name is
 * schema-qualified.
 */
export function lintArtifact(statements) {
  const lines = ["-- generated benchmark artifact", "\\set ON_ERROR_STOP on", "", "BEGIN;", ""];
  const body = statements - 2;
  for (let i = 0; i < body; i++) {
    const n = Math.floor(i / 4);
    const table = `bench.t${n}`;
    switch (i % 4) {
      case 0:
        lines.push(
          `-- table ${n}`,
          `CREATE TABLE ${table} (`,
          "  id bigint PRIMARY KEY,",
          "  parent_id bigint REFERENCES bench.t0 (id),",
          "  code text NOT NULL UNIQUE,",
          "  label text NOT NULL,",
          "  created_at timestamptz NOT NULL,",
          `  CONSTRAINT t${n}_label_check CHECK (label <> '')`,
          ");",
        );
        break;
      case 1:
        lines.push(`ALTER TABLE ${table} ADD CONSTRAINT t${n}_parent_fk FOREIGN KEY (parent_id) REFERENCES bench.t0 (id);`);
        break;
      case 2:
        lines.push(`CREATE INDEX t${n}_label_idx ON ${table} (label);`);
        break;
      default:
        lines.push(`COMMENT ON TABLE ${table} IS 'benchmark table ${n}; CREATE TABLE in a literal is not a statement';`, "");
    }
  }
  lines.push("COMMIT;", "");
  return lines.join("\n");
}

/**
 * tx-apply's artifact: `\set ON_ERROR_STOP on`, BEGIN, then per table CREATE TABLE (4 columns, PK,
 * UNIQUE), ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY to the previous table, CREATE INDEX and
 * COMMENT ON TABLE, then COMMIT: `statements` (a multiple of 4) statements between BEGIN and COMMIT.
 */
export function applyArtifact(statements) {
  const tables = statements / 4;
  const name = (i) => `bench.item_${String(i).padStart(4, "0")}`;
  const lines = ["-- generated benchmark artifact", "\\set ON_ERROR_STOP on", "", "BEGIN;", ""];
  for (let i = 0; i < tables; i++) {
    lines.push(
      `CREATE TABLE ${name(i)} (\n  id bigint NOT NULL,\n  parent_id bigint,\n  code text NOT NULL,\n  created_at timestamptz NOT NULL,\n` +
        `  CONSTRAINT item_${i}_pkey PRIMARY KEY (id),\n  CONSTRAINT item_${i}_code_key UNIQUE (code)\n);`,
      `ALTER TABLE ${name(i)} ADD CONSTRAINT item_${i}_parent_fk FOREIGN KEY (parent_id) REFERENCES ${name(Math.max(0, i - 1))} (id);`,
      `CREATE INDEX item_${i}_parent_idx ON ${name(i)} (parent_id);`,
      `COMMENT ON TABLE ${name(i)} IS 'benchmark table ${i}; generated';`,
      "",
    );
  }
  lines.push("COMMIT;", "");
  return lines.join("\n");
}
