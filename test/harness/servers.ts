/** What the global setup hands to tests about each server it started. */
export interface ServerInfo {
  label: string;
  /** True when the server came from DIEU44_TEST_PG_URL rather than the harness. */
  external: boolean;
  /** Superuser URL (contains the password: for tests only). */
  url: string;
  host: string;
  port: number;
  superuser: string;
  superuserPassword: string;
  serverVersionNum: number;
  serverVersion: string;
  major: number;
  systemIdentifier: string;
}

/** Login roles of the ws-q5 fixture, created cluster-wide by the global setup with these passwords. */
export const FIXTURE_ROLES = [
  { name: "workflow_admin", password: "wa-test-secret-4711" },
  { name: "directus", password: "directus-test-secret-0815" },
] as const;

export type FixtureRole = (typeof FIXTURE_ROLES)[number]["name"];

export function rolePassword(role: string): string | undefined {
  return FIXTURE_ROLES.find((entry) => entry.name === role)?.password;
}

declare module "vitest" {
  export interface ProvidedContext {
    dieu44Servers: ServerInfo[];
  }
}
