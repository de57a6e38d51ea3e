//! The Python tools `cargo xtask` runs (schemathesis, and the Python client's generator and
//! gates), pinned in `xtask/tools/requirements.txt` and installed into `target/tool-venv`, which
//! is rebuilt when that file changes. Nothing here ships.

use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::Command;

fn requirements() -> PathBuf {
    crate::root().join("xtask").join("tools").join("requirements.txt")
}

/// The venv's `bin` directory, created or updated to the pinned requirements; `None` (with a
/// printed note) when Python is missing outside CI.
pub fn venv() -> anyhow::Result<Option<PathBuf>> {
    let venv = crate::target_dir().join("tool-venv");
    let bin = venv.join("bin");
    let wanted = crate::read(&requirements())?;
    let stamp = venv.join("requirements.installed");
    if std::fs::read_to_string(&stamp).is_ok_and(|installed| installed == wanted) {
        return Ok(Some(bin));
    }
    let created = Command::new("python3").arg("-m").arg("venv").arg(&venv).status();
    match created {
        Ok(status) if status.success() => {}
        Ok(status) => bail!("python3 -m venv {} failed ({status})", venv.display()),
        Err(error) if std::env::var_os("CI").is_none() => {
            println!("note: python3 is not available ({error}): the checks that need Python tools are skipped");
            return Ok(None);
        }
        Err(error) => return Err(error).context("running python3 -m venv"),
    }
    println!("installing the pinned Python tools into {}", venv.display());
    let status = Command::new(bin.join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(requirements())
        .status()
        .context("running pip install")?;
    if !status.success() {
        bail!("pip install -r {} failed ({status})", requirements().display());
    }
    std::fs::write(&stamp, wanted).with_context(|| format!("writing {}", stamp.display()))?;
    Ok(Some(bin))
}
