#!/usr/bin/env bash
# The Điều 44 procedure by hand, with the six tools and pipes (what `dieu44 run` does, step by step).
#
#   examples/ws-q5-pipeline.sh PLAN.json OUT_DIR
#
# Connection: the apply role's libpq environment (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD
# or ~/.pgpass). Each step stops the script on failure (exit code of the tool that failed).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tool() { node "$root/packages/$1/bin/$1.js" "${@:2}"; }
plan=$(realpath "$1")
out=$2
mkdir -p "$out"
# Plan fields (node is there wherever these tools run).
field() { node -p "const p = require(process.argv[1]); $1" "$plan"; }
schema=$(field 'p.target.schema')
role=$(field 'p.applyRole')
sysid=$(field 'p.target.systemIdentifier')
sha=$(field 'p.artifact.sha256')
artifact=$(field 'require("path").resolve(require("path").dirname(process.argv[1]), p.artifact.path)')
tables=$(field 'p.target.tables.join(",")')

echo "P1 read-only preflight" >&2
tool catalog-snapshot --schema "$schema" --privileges-for "$role" --out "$out/snapshot-before.json"
node -e '
  const [file, sysid, schema, role, tables] = process.argv.slice(1);
  const s = require(file);
  const fail = (why) => { console.error("P1 failed: " + why); process.exit(1); };
  if (s.server.systemIdentifier !== sysid) fail("system_identifier " + s.server.systemIdentifier);
  if (!s.schemas.some((x) => x.name === schema && x.exists)) fail("schema " + schema + " missing");
  const present = s.tables.filter((t) => t.schema === schema && tables.split(",").includes(t.name));
  if (present.length) fail("target tables present: " + present.map((t) => t.name).join(", "));
  const r = s.roles.find((x) => x.name === role);
  const p = r && r.schemaPrivileges.find((x) => x.schema === schema);
  if (!r || !r.exists || !r.canLogin || !p || !p.usage || !p.create) fail(role + " cannot log in with USAGE and CREATE on " + schema);
' "$(realpath "$out/snapshot-before.json")" "$sysid" "$schema" "$role" "$tables"

echo "P2 fresh backup" >&2
tool backup-marker create --out-dir "$out/backups" --label ws-q5-pipeline > "$out/backup-marker.json"
tool backup-marker verify "$out/backup-marker.json" --max-age 1h --expect-system-identifier "$sysid" > "$out/backup-verification.json"

echo "P3 command integrity" >&2
tool sql-lint "$artifact" --policy "$root/sql/fixtures/ws-q5/sql-lint-policy.json" > "$out/lint-report.json"
tool sql-lint "$artifact" --policy "$root/sql/fixtures/ws-q5/sql-lint-policy.json" --emit-expect --scope-schema "$schema" \
  > "$out/expected-delta.json"
[ "${PGUSER:-}" = "$role" ] || { echo "P3 failed: connecting as ${PGUSER:-?}, not the apply role $role" >&2; exit 1; }

echo "apply as $role, expected delta checked before COMMIT" >&2
fingerprint=$(node -p 'require(process.argv[1]).fingerprint' "$(realpath "$out/snapshot-before.json")")
tool tx-apply "$artifact" --role "$role" --expect-system-identifier "$sysid" --sha256 "$sha" \
  --expect-fingerprint "$fingerprint" --schema "$schema" --privileges-for "$role" \
  --verify-before-commit "$out/expected-delta.json" > "$out/apply-log.json"

echo "verification" >&2
tool catalog-snapshot --schema "$schema" --privileges-for "$role" \
  | tee "$out/snapshot-after.json" \
  | tool drift-diff "$out/snapshot-before.json" - --scope-schema "$schema" --expect "$out/expected-delta.json" \
  > "$out/expectation-result.json"
tool report-render --data "$out/expectation-result.json" --out "$out/verification-result.md"
echo "PASS: evidence in $out" >&2
