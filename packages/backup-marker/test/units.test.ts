import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "@dieu44/plumbing/exit";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { majorOf, serverMajor } from "../src/client-tools.js";
import { BackupMarkerSchema, detectFormat, formatDuration, parseDuration } from "../src/index.js";
import { removeTempDirs, tempDir } from "./helpers.js";

afterAll(removeTempDirs);

describe("the checked-in JSON Schema", () => {
  it("equals the one generated from the zod schema (regenerate: node packages/backup-marker/scripts/gen-json-schema.mjs)", () => {
    const checkedIn = JSON.parse(readFileSync(join(import.meta.dirname, "..", "schema", "backup-marker.schema.json"), "utf8"));
    expect(checkedIn).toEqual(z.toJSONSchema(BackupMarkerSchema));
  });
});

describe("parseDuration", () => {
  it("reads units and compounds", () => {
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("15m")).toBe(900_000);
    expect(parseDuration("1h")).toBe(3_600_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("1h 30m")).toBe(5_400_000);
    expect(parseDuration("2d")).toBe(172_800_000);
    expect(parseDuration("1w")).toBe(604_800_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1.5h")).toBe(5_400_000);
  });

  it("refuses bare numbers, unknown units and nothing", () => {
    for (const bad of ["60", "1y", "", "h", "1h-", "0s"]) expect(() => parseDuration(bad), bad).toThrow(InputError);
  });

  it("formats for check details", () => {
    expect(formatDuration(7_200_000)).toBe("2h");
    expect(formatDuration(5_430_000)).toBe("1h 30m 30s");
    expect(formatDuration(0)).toBe("0s");
  });
});

describe("versions", () => {
  it("compares pg_dump and server majors on the same scale", () => {
    expect(majorOf("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)")).toBe(15);
    expect(majorOf("pg_dump (PostgreSQL) 9.6.24")).toBe(9.6);
    expect(majorOf("pg_dump (PostgreSQL) 18beta1")).toBe(18);
    expect(serverMajor(180001)).toBe(18);
    expect(serverMajor(90624)).toBe(9.6);
  });
});

describe("detectFormat", () => {
  it("recognises custom archives, gzip, SQL scripts and anything else", async () => {
    const dir = tempDir();
    const cases: [string, Buffer, string][] = [
      ["a.dump", Buffer.from("PGDMP\u0001\u000e\u0000"), "custom"],
      ["a.gz", Buffer.from([0x1f, 0x8b, 8, 0]), "gzip"],
      ["a.sql", Buffer.from("--\n-- PostgreSQL database dump\n--\nSET statement_timeout = 0;\n"), "plain"],
      ["a.bin", Buffer.from([0, 1, 2, 3]), "unknown"],
    ];
    for (const [name, bytes, format] of cases) {
      writeFileSync(join(dir, name), bytes);
      expect(await detectFormat(join(dir, name)), name).toBe(format);
    }
  });
});
