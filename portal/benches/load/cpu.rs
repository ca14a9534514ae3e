//! Who spent the CPU during a level: the portal's runtime threads, the database (SQLite's
//! worker threads here, or the PostgreSQL server's processes) and the load generator, read
//! from `/proc` (Linux).
//!
//! Why a module of its own: on a 2-core machine the server and the load generator share the
//! CPU, so the per-exchange CPU split is what tells a server limit from a generator limit.

/// CPU time (seconds) of the parts of this run: the portal's runtime threads, the database
/// (SQLite's worker threads in this process, or the PostgreSQL server's processes), and the
/// load generator's runtime threads. From `/proc` (Linux), in USER_HZ ticks (100 per second).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Cpu {
    pub(super) portal: f64,
    pub(super) database: f64,
    pub(super) loadgen: f64,
}

impl std::ops::Sub for Cpu {
    type Output = Cpu;
    fn sub(self, o: Cpu) -> Cpu {
        Cpu {
            portal: self.portal - o.portal,
            database: self.database - o.database,
            loadgen: self.loadgen - o.loadgen,
        }
    }
}

/// `(comm, utime + stime in seconds)` from a `/proc/.../stat` file.
fn stat_cpu(path: &std::path::Path) -> Option<(String, f64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text[open + 1..close].to_string();
    let fields: Vec<&str> = text[close + 1..].split_whitespace().collect();
    // After the name: state is field 3, utime field 14, stime field 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((comm, (utime + stime) / 100.0))
}

pub(super) fn cpu_now() -> Cpu {
    let mut cpu = Cpu::default();
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            if let Some((comm, secs)) = stat_cpu(&t.path().join("stat")) {
                if comm.starts_with("portal") {
                    cpu.portal += secs;
                } else if comm.starts_with("sqlx-sqlite") {
                    cpu.database += secs;
                } else if comm.starts_with("loadgen") {
                    cpu.loadgen += secs;
                }
            }
        }
    }
    if let Ok(procs) = std::fs::read_dir("/proc") {
        for p in procs.flatten() {
            if p.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
                && let Some((comm, secs)) = stat_cpu(&p.path().join("stat"))
                && comm == "postgres"
            {
                cpu.database += secs;
            }
        }
    }
    cpu
}
