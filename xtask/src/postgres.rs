//! A throwaway PostgreSQL cluster for `cargo xtask test` on a machine that has the server
//! binaries but no `NEXUS_TEST_DATABASE_URL`: initialised in `target/`, on a free loopback port,
//! with trust authentication, stopped and removed when dropped.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PrivateCluster {
    pub url: String,
    bin: PathBuf,
    dir: PathBuf,
    as_postgres: bool,
}

/// The newest installed server's `bin` directory (Debian's layout), if any.
fn server_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

impl PrivateCluster {
    /// `Ok(None)` when no PostgreSQL server binaries are installed.
    pub fn start() -> anyhow::Result<Option<Self>> {
        let Some(bin) = server_bin() else {
            return Ok(None);
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .context("finding a free port")?
            .port();
        let dir = crate::root()
            .join("target")
            .join(format!("nexus-test-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        // PostgreSQL refuses to run as root: hand the directory to the `postgres` user.
        let as_postgres = running_as_root();
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()?;
            if !status.success() {
                bail!("could not give {} to the postgres user", dir.display());
            }
        }
        let cluster = Self {
            url: format!("postgres://postgres@127.0.0.1:{port}/nexus_test"),
            bin,
            dir,
            as_postgres,
        };
        let data = cluster.dir.join("data");
        cluster.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "--auth=trust".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            cluster.dir.display()
        );
        let log = cluster.dir.join("postgres.log");
        cluster.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-w".as_ref(),
                "-o".as_ref(),
                options.as_ref(),
                "start".as_ref(),
            ],
        )?;
        cluster.run(
            "createdb",
            &[
                "-h".as_ref(),
                "127.0.0.1".as_ref(),
                "-p".as_ref(),
                port.to_string().as_ref(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "nexus_test".as_ref(),
            ],
        )?;
        Ok(Some(cluster))
    }

    fn run(&self, tool: &str, args: &[&std::ffi::OsStr]) -> anyhow::Result<()> {
        let program = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        let output = command
            .args(args)
            .current_dir(&self.dir)
            .output()
            .with_context(|| format!("running {}", program.display()))?;
        if !output.status.success() {
            bail!(
                "{tool} failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                "immediate".as_ref(),
                "stop".as_ref(),
            ],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A database of its own on the local server (127.0.0.1, `PGPORT` or 5432, user `postgres`, trust
/// authentication), dropped with everything in it when dropped.
pub struct ScratchDatabase {
    name: String,
    url: String,
}

impl ScratchDatabase {
    pub fn create(prefix: &str) -> anyhow::Result<Self> {
        let name = format!("{prefix}_{}", std::process::id());
        let port = std::env::var("PGPORT").unwrap_or_else(|_| "5432".to_owned());
        run_psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"), "postgres")?;
        run_psql(&format!("CREATE DATABASE {name}"), "postgres")?;
        Ok(Self {
            url: format!("postgres://postgres@127.0.0.1:{port}/{name}"),
            name,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `sql` in this database.
    pub fn psql(&self, sql: &str) -> anyhow::Result<()> {
        run_psql(sql, &self.name)
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let _ = run_psql(
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            "postgres",
        );
    }
}

fn run_psql(sql: &str, database: &str) -> anyhow::Result<()> {
    let status = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qc", sql])
        .status()
        .context("running psql (PostgreSQL on 127.0.0.1 with trust auth)")?;
    if !status.success() {
        bail!("psql failed: {sql}");
    }
    Ok(())
}
