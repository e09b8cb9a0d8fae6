// Writes a psql DDL artifact with exactly N statements (default 20,000): BEGIN, N-2 DDL statements, COMMIT.
//   node bench/sql-lint/generate.mjs [N] > artifact.sql
// The DDL mixes what real artifacts hold: CREATE TABLE with inline and table-level PRIMARY KEY,
// UNIQUE, FOREIGN KEY and CHECK, ALTER TABLE ... ADD CONSTRAINT, CREATE INDEX and COMMENT ON,
// with comments between statements. Every name is schema-qualified.
export function generateArtifact(statements = 20000) {
  const lines = ["-- generated benchmark artifact", "\\set ON_ERROR_STOP on", "", "BEGIN;", ""];
  const body = statements - 2;
  for (let i = 0; i < body; i++) {
    const table = `bench.t${Math.floor(i / 4)}`;
    switch (i % 4) {
      case 0:
        lines.push(
          `-- table ${i / 4}`,
          `CREATE TABLE ${table} (`,
          "  id bigint PRIMARY KEY,",
          "  parent_id bigint REFERENCES bench.t0 (id),",
          "  code text NOT NULL UNIQUE,",
          "  label text NOT NULL,",
          "  created_at timestamptz NOT NULL,",
          `  CONSTRAINT t${i / 4}_label_check CHECK (label <> '')`,
          ");",
        );
        break;
      case 1:
        lines.push(
          `ALTER TABLE ${table} ADD CONSTRAINT t${Math.floor(i / 4)}_parent_fk FOREIGN KEY (parent_id) REFERENCES bench.t0 (id);`,
        );
        break;
      case 2:
        lines.push(`CREATE INDEX t${Math.floor(i / 4)}_label_idx ON ${table} (label);`);
        break;
      default:
        lines.push(
          `COMMENT ON TABLE ${table} IS 'benchmark table ${Math.floor(i / 4)}; CREATE TABLE in a literal is not a statement';`,
          "",
        );
    }
  }
  lines.push("COMMIT;", "");
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(generateArtifact(Number(process.argv[2] ?? 20000)));
}
